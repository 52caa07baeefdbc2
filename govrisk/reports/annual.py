"""The annual assessment report (年度检查考核报告) as a PDF, and the workbook of every score and indicator value.

The register figures come from the cycle's frozen snapshot (`review.snapshot`), the scores and the year's
findings, rectifications and accountability actions from the results (frozen when the cycle closes). Nothing
reads the clock: the same inputs give the same bytes. Departments are streamed one at a time: only one
department's results and snapshot summary are read at once, and the per-department section is laid out from them.
Text is Chinese (a document), built with `force_locale("zh_CN")` so an English session does not mix languages.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, PageBreak, Paragraph, Spacer

from govrisk.core.charts import bar_chart, heat_map, stacked_bars
from govrisk.core.pdf import build_pdf, drawing_flowable, styles, table
from govrisk.core.reference import ReferenceItem
from govrisk.extensions import db
from govrisk.review import indicators as ind
from govrisk.review import queries, snapshot
from govrisk.review.models import CycleDepartment, Grade, ReviewCycle
from govrisk.review.operations import results_for
from govrisk.review.workflow import CycleState

FRAME_WIDTH = 170 * mm
LEVELS = (("1", "一级"), ("2", "二级"), ("3", "三级"), ("none", "未定级"))
GRADE_ZH = {g.value: g.zh for g in Grade}
FINDING_STATES = {"open": "已登记", "rectifying": "整改中", "closed": "已办结", "dismissed": "不予立项"}
RECT_STATES = {"ordered": "已下达", "planned": "整改中", "reported": "待验收", "verified": "已验收"}
ACTION_STATES = {"proposed": "拟处理", "decided": "已决定", "completed": "已执行完毕", "revoked": "已撤销"}
CATEGORY_ZH = {"admonishing": "诫勉谈话", "rectification": "限期整改", "organisational": "组织处理",
               "party": "党纪处分", "government": "政务处分"}
MEASURE_STATES = {"planned": "计划", "in_progress": "落实中", "implemented": "已落实", "verified": "已验证有效",
                  "ineffective": "验证无效"}
SELF_CHECK_STATES = {"draft": "填写中", "submitted": "待负责人签署", "signed": "已签署"}


def _names(kind: str) -> dict[str, str]:
    rows = db.session.execute(sa.select(ReferenceItem.key, ReferenceItem.name_zh).where(ReferenceItem.kind == kind))
    return dict(rows.all())


def _score(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def _day(value) -> str:
    return value.date().isoformat() if value is not None else "—"


@dataclass
class Scope:
    """What one report covers: the cycle, its participants in order, the previous cycle to compare with."""

    cycle: ReviewCycle
    participants: list[CycleDepartment]
    previous: ReviewCycle | None
    department: CycleDepartment | None = None

    @property
    def title(self) -> str:
        who = self.department.department.name if self.department else "全市"
        return f"{who}{self.cycle.year}年度廉政风险防控检查考核报告"


def scope_for(cycle: ReviewCycle, department: CycleDepartment | None = None) -> Scope:
    """Participants ordered by rank (unranked last), then code."""
    ordered = sorted(cycle.departments, key=lambda cd: (cd.rank is None, cd.rank or 0, cd.department.code))
    chosen = [department] if department is not None else ordered
    return Scope(cycle, chosen, queries.previous_cycle(cycle), department)


def _department_data(scope: Scope) -> Iterator[tuple[CycleDepartment, dict, dict]]:
    """(participant, results, snapshot summary) one department at a time."""
    for cd in scope.participants:
        yield cd, results_for(cd), snapshot.summary(scope.cycle.id, cd.department_id) or {}


# ---------------------------------------------------------------- PDF


def annual_report_pdf(cycle: ReviewCycle, department: CycleDepartment | None = None) -> bytes:
    """The annual assessment report of the city (or of one participating department)."""
    scope = scope_for(cycle, department)
    with force_locale("zh_CN"):
        return build_pdf(_story(scope), title=scope.title, author="纪检监察机关", subject=f"{cycle.year}年度检查考核")


def _story(scope: Scope) -> list:
    st = styles()
    st["h2"].keepWithNext = 1
    names = {"types": _names("risk_type"), "sources": _names("finding_source"),
             "actions": _names("accountability_action"), "measures": _names("measure_type")}
    totals = _Totals()
    sections, appendix_rows = [], {"register": [], "findings": [], "actions": []}
    for index, (cd, results, summary) in enumerate(_department_data(scope), start=1):
        totals.add(cd, results, summary)
        sections += _department_section(index, cd, results, summary, st, names)
        appendix_rows["register"].append(_register_row(cd, summary))
        appendix_rows["findings"] += [[cd.department.name, f["code"], f["title"], names["sources"].get(f["source"],
                                       f["source"]), f["found_on"], FINDING_STATES.get(f["state"], f["state"])]
                                      for f in results.get("findings", [])]
        appendix_rows["actions"] += [[cd.department.name, a["code"], a["person"], CATEGORY_ZH.get(a["category"], ""),
                                      names["actions"].get(a["action_type"], a["action_type"]), a["decision_no"] or "—",
                                      a["decided_on"], ACTION_STATES.get(a["state"], a["state"])]
                                     for a in results.get("actions", [])]
    story = _cover(scope, st)
    story += _summary(scope, totals, st)
    story += _ranking(scope, st)
    story += [PageBreak(), Paragraph("三、各单位情况", st["h1"])] + sections
    story += _year_over_year(scope, st)
    story += _appendix(appendix_rows, st)
    story += _sign_off(scope, st)
    return story


def _cover(scope: Scope, st) -> list:
    cycle = scope.cycle
    title = st["title"].clone("cover_title", fontSize=24, leading=36, spaceBefore=60 * mm, spaceAfter=14 * mm)
    sub = st["body"].clone("cover_sub", alignment=1, fontSize=13, leading=22)
    stage = {CycleState.PUBLISHED: "考核结果已公布", CycleState.CLOSED: "考核结果已归档（冻结）"}.get(
        cycle.state, f"考核进行中（{cycle.state.zh}阶段），得分为当前结果，以公布为准")
    who = scope.department.department.name if scope.department else f"全市 {len(scope.participants)} 个单位"
    lines = [f"考核范围：{who}", f"考核周期：{cycle.title}", f"状态：{stage}",
             f"登记快照冻结日期：{_day(cycle.snapshot_at)}"]
    if cycle.closed_at:
        lines.append(f"考核结果冻结日期：{_day(cycle.closed_at)}")
    return [Paragraph(f"{'全市' if not scope.department else scope.department.department.name}<br/>"
                      f"{cycle.year}年度廉政风险防控规范权力运行<br/>检查考核报告", title),
            *[Paragraph(line, sub) for line in lines], Spacer(1, 40 * mm),
            Paragraph("纪检监察机关 编制", sub), PageBreak()]


@dataclass
class _Totals:
    departments: int = 0
    scored: int = 0
    total_sum: float = 0.0
    powers: int = 0
    flows: int = 0
    risks: int = 0
    measures: int = 0
    measures_overdue: int = 0
    findings: int = 0
    rectifications: int = 0
    rectifications_overdue: int = 0
    actions: int = 0

    def __post_init__(self):
        self.levels = dict.fromkeys([k for k, _ in LEVELS], 0)
        self.grades = dict.fromkeys(GRADE_ZH, 0)
        self.commended: list[str] = []
        self.chart: list[tuple[str, list[int]]] = []

    def add(self, cd: CycleDepartment, results: dict, summary: dict) -> None:
        self.departments += 1
        if results.get("total") is not None:
            self.scored += 1
            self.total_sum += results["total"]
            self.grades[results["grade"]] += 1
        if results.get("commended"):
            self.commended.append(cd.department.name)
        self.powers += summary.get("powers", 0)
        self.flows += summary.get("flows", 0)
        self.risks += summary.get("risks", 0)
        self.measures += summary.get("measures", 0)
        self.measures_overdue += summary.get("measures_overdue", 0)
        by_level = summary.get("by_level", {})
        for key, _title in LEVELS:
            self.levels[key] += by_level.get(key, 0)
        self.chart.append((cd.department.name, [by_level.get(k, 0) for k, _ in LEVELS[:3]]))
        self.findings += len(results.get("findings", []))
        self.rectifications += len(results.get("rectifications", []))
        self.rectifications_overdue += sum(1 for r in results.get("rectifications", []) if r.get("overdue"))
        self.actions += len(results.get("actions", []))


def _summary(scope: Scope, t: _Totals, st) -> list:
    average = f"{t.total_sum / t.scored:.2f}" if t.scored else "—"
    grades = "，".join(f"“{GRADE_ZH[g]}”{n} 个" for g, n in t.grades.items() if n) or "尚未评定"
    levels = "，".join(f"{title} {t.levels[key]} 个" for key, title in LEVELS)
    story = [Paragraph("一、总体情况", st["h1"]),
             Paragraph(f"{scope.cycle.year}年度参加检查考核的单位共 {t.departments} 个（含下属单位），"
                       f"已评分 {t.scored} 个，平均得分 {average}；考核等级：{grades}。"
                       + (f"建议表彰单位：{'、'.join(t.commended)}。" if t.commended else ""), st["body"]),
             Paragraph(f"开启考核时冻结的登记快照显示：在用职权 {t.powers} 项，流程图 {t.flows} 张，"
                       f"廉政风险点 {t.risks} 个（{levels}），防控措施 {t.measures} 项，"
                       f"其中逾期未落实 {t.measures_overdue} 项。", st["body"]),
             Paragraph(f"本年度登记问题 {t.findings} 个，下达限期整改 {t.rectifications} 项（其中曾逾期 "
                       f"{t.rectifications_overdue} 项），责任追究 {t.actions} 人次。", st["body"])]
    if len(t.chart) > 1 and t.risks:
        drawing = stacked_bars([name for name, _ in t.chart],
                               {title: [v[i] for _, v in t.chart] for i, (_, title) in enumerate(LEVELS[:3])},
                               title="各单位廉政风险点等级分布（快照）", horizontal=True, width=480)
        story += [Spacer(1, 4), drawing_flowable(drawing, FRAME_WIDTH, max_height=200 * mm)]
    return story


def _ranking(scope: Scope, st) -> list:
    cycle = scope.cycle
    indicators = queries.active_indicators(cycle)
    matrix = queries.score_matrix(cycle)
    ranked = sorted(cycle.departments, key=lambda cd: (cd.rank is None, cd.rank or 0, cd.department.code))
    shown = [scope.department] if scope.department else ranked
    story = [PageBreak(), Paragraph("二、考核得分与排名", st["h1"])]
    limits = cycle.thresholds
    story.append(Paragraph(
        f"总分 = Σ(权重 × 指标得分) ÷ Σ(有数据指标的权重)；等级标准：好 ≥ {limits['good']:g}，"
        f"较好 ≥ {limits['fairly_good']:g}，一般 ≥ {limits['average']:g}，其余为差。"
        "某项指标无数据时其权重按比例分给其他指标。",
        st["small"]))
    if scope.department is not None:
        cd = scope.department
        grade = GRADE_ZH.get(getattr(cd.grade, "value", ""), "—")
        story.append(Paragraph(f"{cd.department.name}总分 {_score(cd.total)}，等级“{grade}”，"
                               f"在参加考核的 {len(ranked)} 个单位中排第 {cd.rank or '—'} 名。", st["body"]))
    rows = [["名次", "单位", "总分", "等级", "表彰"]]
    rows += [[cd.rank or "—", cd.department.name, _score(cd.total), GRADE_ZH.get(getattr(cd.grade, "value", ""), "—"),
              "建议表彰" if cd.is_commended else ""] for cd in shown]
    story.append(table(rows, col_widths=["10%", "46%", "14%", "12%", "18%"]))
    if scope.department is None and any(cd.total is not None for cd in ranked):
        chart = bar_chart([(cd.department.name, cd.total) for cd in ranked if cd.total is not None], title="考核总分",
                     horizontal=True, width=480)
        story += [Spacer(1, 6), drawing_flowable(chart, FRAME_WIDTH, max_height=200 * mm)]
    if indicators:
        head = ["单位", *[f"{i.name}（{i.weight:g}）" for i in indicators], "总分"]
        body = []
        for cd in shown:
            scores = matrix.get(cd.id, {})
            body.append([cd.department.name, *[_score(scores[i.id].final) if i.id in scores else "—"
                                               for i in indicators], _score(cd.total)])
        share = round(70.0 / len(indicators), 3)
        widths = ["20%", *[f"{share}%" for _ in indicators], f"{round(80.0 - share * len(indicators), 3)}%"]
        story += [Spacer(1, 6), Paragraph("各项指标得分", st["h2"]), table([head, *body], col_widths=widths)]
    return story


def _department_section(index: int, cd: CycleDepartment, results: dict, summary: dict, st, names: dict) -> list:
    name = cd.department.name
    story = [CondPageBreak(120 * mm) if index > 1 else Spacer(1, 2), Paragraph(f"（{index}）{name}", st["h1"])]
    check = SELF_CHECK_STATES.get(results.get("self_check") or "", "—")
    signed = f"，{results['signed_at']} 签署" if results.get("signed_at") else ""
    story.append(Paragraph(
        f"总分 {_score(results.get('total'))}，等级“{GRADE_ZH.get(results.get('grade') or '', '—')}”，"
        f"名次 {results.get('rank') or '—'}{'，建议表彰' if results.get('commended') else ''}。"
        f"年度自查：{check}{signed}；社会评议得分：{_score(results.get('appraisal_score'))}。", st["body"]))
    if results.get("scores"):
        rows = [["指标", "权重", "得分", "得分依据"]]
        for s in results["scores"]:
            basis = ind.explain(s["method"], s["figures"], s.get("params"))
            if s.get("adjusted") is not None:
                basis += (f"（纪检监察员将计算得分 {_score(s['computed'])} 调整为 {_score(s['adjusted'])}，"
                          f"理由：{s['reason']}）")
            rows.append([s["name"], f"{s['weight']:g}", _score(s["final"]), basis])
        story += [Paragraph("考核得分", st["h2"]), table(rows, col_widths=["20%", "8%", "10%", "62%"])]
    story += _risk_statistics(summary, st, names)
    story += _year_lists(results, st, names)
    if results.get("notes"):
        story.append(Paragraph("年度检查记录", st["h2"]))
        story += [Paragraph(f"{n['on']}（{n['author']}）：{_escape(n['text'])}", st["body"]) for n in results["notes"]]
    return story


def _escape(text: str) -> str:
    from xml.sax.saxutils import escape

    return escape(text or "").replace("\n", "<br/>")


def _risk_statistics(summary: dict, st, names: dict) -> list:
    if not summary:
        return [Paragraph("本单位没有登记快照。", st["small"])]
    by_level, by_type = summary.get("by_level", {}), summary.get("by_type", {})
    type_levels = summary.get("type_levels", {})
    type_names = {**summary.get("type_names", {}), **names["types"]}
    story = [Paragraph("风险统计（登记快照）", st["h2"]),
             Paragraph(f"在用职权 {summary.get('powers', 0)} 项（三重一大 {summary.get('powers_major', 0)} 项，已发布 "
                       f"{summary.get('powers_published', 0)} 项），流程图 {summary.get('flows', 0)} 张（有校验错误 "
                       f"{summary.get('flows_with_errors', 0)} 张），决策环节 {summary.get('decision_steps', 0)} 个"
                       f"（已查找风险点 {summary.get('decision_covered', 0)} 个），"
                       f"廉政风险点 {summary.get('risks', 0)} 个。",
                       st["body"])]
    if not summary.get("risks"):
        story.append(Paragraph("登记快照中没有廉政风险点。", st["body"]))
        by_type = {}
    rows = [["风险类型", *[title for _, title in LEVELS], "合计"]]
    for key in sorted(by_type):
        rows.append([type_names.get(key, key), *[type_levels.get(f"{key}|{lv}", 0) for lv, _ in LEVELS], by_type[key]])
    if by_type:
        rows.append(["合计", *[by_level.get(lv, 0) for lv, _ in LEVELS], summary.get("risks", 0)])
        story.append(table(rows, col_widths=["32%", "13%", "13%", "13%", "14%", "15%"]))
    heat = {tuple(int(x) for x in key.split(",")): n for key, n in summary.get("heat", {}).items()}
    if heat:
        story += [Spacer(1, 4), drawing_flowable(heat_map(heat, title="风险矩阵（可能性 × 严重程度）", width=360,
                                                          height=300), FRAME_WIDTH, max_height=70 * mm)]
    statuses = summary.get("measures_by_status", {})
    story += [Paragraph("防控措施", st["h2"]),
              Paragraph(f"防控措施 {summary.get('measures', 0)} 项：" + ("，".join(
                  f"{MEASURE_STATES.get(k, k)} {v} 项" for k, v in sorted(statuses.items())) or "无")
                  + f"；逾期未落实 {summary.get('measures_overdue', 0)} 项。", st["body"])]
    return story


def _year_lists(results: dict, st, names: dict) -> list:
    story = [Paragraph("问题整改", st["h2"])]
    rects = results.get("rectifications", [])
    if rects:
        rows = [["编号", "问题", "整改要求", "期限", "完成", "状态"]]
        rows += [[r["code"], r["finding"], r["requirement"], r["due_on"], r["completed_on"] or "—",
                  RECT_STATES.get(r["state"], r["state"]) + ("（曾逾期）" if r.get("overdue") else "")] for r in rects]
        story.append(table(rows, col_widths=["14%", "14%", "34%", "12%", "12%", "14%"]))
    else:
        story.append(Paragraph("本年度没有限期整改事项。", st["body"]))
    story.append(Paragraph("责任追究", st["h2"]))
    actions = results.get("actions", [])
    if actions:
        rows = [["编号", "人员", "类别", "方式", "决定文号", "日期", "状态"]]
        rows += [[a["code"], a["person"], CATEGORY_ZH.get(a["category"], ""),
                  names["actions"].get(a["action_type"], a["action_type"]), a["decision_no"] or "—", a["decided_on"],
                  ACTION_STATES.get(a["state"], a["state"])] for a in actions]
        story.append(table(rows))
    else:
        story.append(Paragraph("本年度没有责任追究。", st["body"]))
    return story


def _year_over_year(scope: Scope, st) -> list:
    story = [PageBreak(), Paragraph("四、与上年度比较", st["h1"])]
    if scope.previous is None:
        return story + [Paragraph("没有上年度的登记快照，本年度不作比较。", st["body"])]
    story.append(Paragraph(f"比较 {scope.previous.year} 年度与 {scope.cycle.year} 年度开启考核时冻结的登记快照"
                           "（此后登记簿的变化不影响本比较）。", st["small"]))
    ids = [cd.department_id for cd in scope.participants]
    changes = {c.department_id: c for c in snapshot.compare_cycles(scope.previous, scope.cycle, ids)}
    keys = snapshot.YOY_KEYS
    rows = [["单位", *[str(snapshot.YOY_TITLES[k]) for k in keys]]]
    sums = dict.fromkeys(keys, 0)
    for cd in scope.participants:
        change = changes.get(cd.department_id)
        counts = change.counts if change else {}
        rows.append([cd.department.name, *[counts.get(k, 0) for k in keys]])
        for k in keys:
            sums[k] += counts.get(k, 0)
    if len(scope.participants) > 1:
        rows.append(["合计", *[sums[k] for k in keys]])
    share = round(78.0 / len(keys), 3)
    return story + [table(rows, col_widths=["22%", *[f"{share}%" for _ in keys[:-1]],
                                            f"{round(78.0 - share * (len(keys) - 1), 3)}%"])]


def _register_row(cd: CycleDepartment, s: dict) -> list:
    levels = s.get("by_level", {})
    return [cd.department.name, s.get("powers", 0), s.get("flows", 0), s.get("risks", 0),
            *[levels.get(k, 0) for k, _ in LEVELS], s.get("measures", 0), s.get("measures_overdue", 0)]


def _appendix(rows: dict, st) -> list:
    head = ["单位", "职权", "流程图", "风险点", *[t for _, t in LEVELS], "措施", "逾期措施"]
    story = [PageBreak(), Paragraph("附表", st["h1"]), Paragraph("附表1　各单位登记情况（登记快照）", st["h2"]),
             table([head, *rows["register"]])]
    story += [Paragraph("附表2　问题清单", st["h2"])]
    story.append(table([["单位", "编号", "问题", "来源", "发现日期", "状态"], *rows["findings"]]) if rows["findings"]
                 else Paragraph("无。", st["body"]))
    story += [Paragraph("附表3　责任追究清单", st["h2"])]
    story.append(table([["单位", "编号", "人员", "类别", "方式", "决定文号", "日期", "状态"], *rows["actions"]])
                 if rows["actions"] else Paragraph("无。", st["body"]))
    return story


def _sign_off(scope: Scope, st) -> list:
    cycle = scope.cycle
    results = f"和 {_day(cycle.closed_at)} 冻结的考核结果" if cycle.closed_at else "和当前考核结果"
    basis = f"本报告依据 {_day(cycle.snapshot_at)} 冻结的登记快照{results}生成；输入相同，内容相同。"
    blank = "　" * 12
    rows = [["编制单位", "纪检监察机关（考核工作组）"], ["经办人", blank], ["审核人", blank], ["签发人", blank],
            ["签发日期", "　　　　年　　月　　日"]]
    return [PageBreak(), Paragraph("签发", st["h1"]), Paragraph(basis, st["body"]), Spacer(1, 8),
            table(rows, col_widths=["30%", "70%"], header_rows=0, zebra=False), Spacer(1, 20 * mm),
            Paragraph("（盖章）", st["body"].clone("seal", alignment=2))]


# ---------------------------------------------------------------- XLSX


def _cell(sheet, value, *, head: bool = False):
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text stays text, never a formula
    cell.alignment = Alignment(wrap_text=True, vertical="center" if head else "top")
    if head:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F3350")
    return cell


def scores_xlsx(cycle: ReviewCycle) -> bytes:
    """Every participant's total, grade and rank, and every indicator's figures, in one workbook."""
    with force_locale("zh_CN"):
        workbook = Workbook(write_only=True)
        ranking, detail = workbook.create_sheet("得分与排名"), workbook.create_sheet("指标明细")
        indicators = queries.active_indicators(cycle)
        ranking.append([_cell(ranking, v, head=True) for v in (
            "名次", "单位代码", "单位", *[f"{i.name}（权重{i.weight:g}）" for i in indicators], "总分", "等级",
            "建议表彰")])
        detail.append([_cell(detail, v, head=True) for v in (
            "单位代码", "单位", "指标", "权重", "实际权重(%)", "计算得分", "调整后得分", "调整理由", "最终得分",
            "得分依据", "原始数据")])
        for width_sheet, widths in ((ranking, [6, 14, 28]), (detail, [14, 28, 22, 8, 10, 10, 10, 30, 10, 60, 40])):
            for i, width in enumerate(widths):
                width_sheet.column_dimensions[chr(ord("A") + i)].width = width
        for cd, results, _summary in _department_data(scope_for(cycle)):
            by_key = {s["key"]: s for s in results.get("scores", [])}
            ranking.append([_cell(ranking, v) for v in (
                cd.rank, cd.department.code, cd.department.name,
                *[by_key[i.key]["final"] if i.key in by_key else None for i in indicators],
                results.get("total"), GRADE_ZH.get(results.get("grade") or "", ""), "是" if results.get("commended")
                else "")])
            for s in results.get("scores", []):
                detail.append([_cell(detail, v) for v in (
                    cd.department.code, cd.department.name, s["name"], s["weight"], s["effective_weight"],
                    s["computed"], s["adjusted"], s["reason"], s["final"],
                    ind.explain(s["method"], s["figures"], s.get("params")),
                    json.dumps(s["figures"], ensure_ascii=False, sort_keys=True))])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
