"""Read side of flow charts: documents and reports of stored flows, lists, coverage, and the risk-point hook.

Risk points (issue 5) plug in here without this domain importing theirs: the risks domain calls
`register_risk_provider(RiskProvider(step_levels=..., uncovered_counts=...))` once at import time.

- `step_levels(flow)` → {step key: highest risk level (1 = 一级)} for the steps of that flow that have risk points;
  it turns on `uncovered_key_step` findings and the level badges on the chart.
- `uncovered_counts(department_ids)` → {department id: decision steps without a risk point}, counted in SQL over
  the flows that are not retired; it fills the last column of the coverage view.

Until a provider is registered `risk_step_ids(flow)` is None, so `uncovered_key_step` is never reported (DESIGN
§7.1: "only when risk points are known") and the coverage column shows "—".
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from govrisk.catalog.models import Power
from govrisk.core.pagination import paginate
from govrisk.extensions import db
from govrisk.flows.models import Flow, FlowEdge, FlowKind, FlowStep
from govrisk.flows.validation import Edge, FlowDoc, FlowReport, Step, validate_flow
from govrisk.org.models import Department
from govrisk.workflow.register import OPEN_STATES, RegisterState

LIVE = Flow.state != RegisterState.RETIRED


# ---------------------------------------------------------------- risk points hook


@dataclass(frozen=True)
class RiskProvider:
    step_levels: Callable[[Flow], dict[str, int]]
    uncovered_counts: Callable[[list[int]], dict[int, int]]


_risk_provider: RiskProvider | None = None


def register_risk_provider(provider: RiskProvider | None) -> None:
    """Plug in (or, with None, remove) what the risks domain knows about flow steps."""
    global _risk_provider
    _risk_provider = provider


def step_risk_levels(flow: Flow) -> dict[str, int]:
    """Risk level per step key, for the badges (empty while risk points are unknown)."""
    return dict(_risk_provider.step_levels(flow)) if _risk_provider and flow.id else {}


def risk_step_ids(flow: Flow) -> set[str] | None:
    """The step keys that have a risk point, or None while risk points are unknown."""
    if _risk_provider is None:
        return None
    return set(step_risk_levels(flow))


def uncovered_counts(department_ids: list[int]) -> dict[int, int] | None:
    """Decision steps without a risk point per department, or None while risk points are unknown."""
    return None if _risk_provider is None else dict(_risk_provider.uncovered_counts(department_ids))


# ---------------------------------------------------------------- documents


def flow_doc(flow: Flow) -> FlowDoc:
    """The stored flow as a §7.1 document."""
    steps = tuple(Step(s.key, s.name, s.post_name or None, s.role, s.time_limit_days, tuple(s.documents))
                  for s in flow.steps)
    edges = tuple(Edge(e.source_key, e.target_key, e.is_loop, e.label) for e in flow.edges)
    return FlowDoc(flow.power.code, flow.kind.value, flow.time_limit_days, steps, edges)


def stored_documents(*, batch: int = 2000):
    """Every flow that is not retired as (id, stored summary, document, limit): batches of three queries each.

    Steps and edges are read as plain Core rows (no ORM loading): at city scale that is most of the recheck's time.
    """
    summary = (Flow.step_count, Flow.decision_step_count, Flow.error_count, Flow.warning_count,
               Flow.critical_path_days, Flow.findings_json)
    step_columns, edge_columns = FlowStep.__table__.c, FlowEdge.__table__.c
    last_id = 0
    while True:
        flows = db.session.execute(
            sa.select(Flow.id, Flow.kind, Flow.time_limit_days, Power.code, Power.promised_days, *summary)
            .join(Power, Power.id == Flow.power_id).where(LIVE, Flow.id > last_id).order_by(Flow.id).limit(batch)).all()
        if not flows:
            return
        ids = [row.id for row in flows]
        steps, edges = defaultdict(list), defaultdict(list)
        connection = db.session.connection()
        for flow_id, key, name, post, role, days, documents in connection.execute(
                sa.select(step_columns.flow_id, step_columns.key, step_columns.name, step_columns.post_name,
                          step_columns.role, step_columns.time_limit_days, step_columns.documents_json)
                .where(step_columns.flow_id.in_(ids)).order_by(step_columns.flow_id, step_columns.position)).all():
            steps[flow_id].append(Step(key, name, post or None, role, days,
                                       tuple(json.loads(documents)) if documents and documents != "[]" else ()))
        for flow_id, source, target, is_loop, label in connection.execute(
                sa.select(edge_columns.flow_id, edge_columns.source_key, edge_columns.target_key, edge_columns.is_loop,
                          edge_columns.label)
                .where(edge_columns.flow_id.in_(ids)).order_by(edge_columns.flow_id, edge_columns.position)).all():
            edges[flow_id].append(Edge(source, target, is_loop, label))
        yield [(row.id, {c.key: getattr(row, c.key) for c in summary},
                FlowDoc(row.code, row.kind.value, row.time_limit_days, tuple(steps[row.id]), tuple(edges[row.id])),
                row.promised_days if row.promised_days is not None else row.time_limit_days) for row in flows]
        last_id = ids[-1]


def effective_limit(power: Power, document_limit: int | None) -> int | None:
    """The limit the critical path is held to: the power's promised days, else the document's own."""
    return power.promised_days if power.promised_days is not None else document_limit


def report_for(doc: FlowDoc, power: Power, flow: Flow | None = None) -> FlowReport:
    """Validate a document against the power's promised limit and, given the stored flow, its known risk points."""
    risks = risk_step_ids(flow) if flow is not None else None
    return validate_flow(doc, time_limit_days=effective_limit(power, doc.time_limit_days), risk_step_ids=risks)


def flow_report(flow: Flow) -> FlowReport:
    """The stored flow validated now (the power's limit or the risk points may have changed since it was saved)."""
    return report_for(flow_doc(flow), flow.power, flow)


def flagged_steps(report: FlowReport) -> set[str]:
    """The steps the findings name, to highlight on the chart."""
    return {step for f in report.findings for step in f.steps}


# ---------------------------------------------------------------- single flows


def get_flow(flow_id: int) -> Flow | None:
    return db.session.get(Flow, flow_id)


def open_flow(power_id: int, kind: FlowKind) -> Flow | None:
    """The version being worked on (draft, submitted, approved or returned), if any."""
    stmt = sa.select(Flow).where(Flow.power_id == power_id, Flow.kind == kind,
                                 Flow.state.in_(OPEN_STATES))
    return db.session.scalar(stmt.order_by(Flow.number.desc()).limit(1))


def published_flow(power_id: int, kind: FlowKind) -> Flow | None:
    """The published version of this kind of chart (at most one)."""
    stmt = sa.select(Flow).where(Flow.power_id == power_id, Flow.kind == kind, Flow.state == RegisterState.PUBLISHED)
    return db.session.scalar(stmt.order_by(Flow.number.desc()).limit(1))


def public_flow(power: Power) -> Flow | None:
    """The external flow the public page shows: published, of a public power. Internal flows never."""
    if power is None or not power.is_public:
        return None
    return published_flow(power.id, FlowKind.EXTERNAL)


def next_number(power_id: int, kind: FlowKind) -> int:
    stmt = sa.select(sa.func.max(Flow.number)).where(Flow.power_id == power_id, Flow.kind == kind)
    return (db.session.scalar(stmt) or 0) + 1


def versions_of(power_id: int, kind: FlowKind) -> list[Flow]:
    """Every version of one chart, newest first."""
    stmt = sa.select(Flow).where(Flow.power_id == power_id, Flow.kind == kind).order_by(Flow.number.desc())
    return list(db.session.scalars(stmt))


def flows_of_power(power_id: int) -> list[Flow]:
    """The versions that are not retired, internal first."""
    stmt = sa.select(Flow).where(Flow.power_id == power_id, LIVE).order_by(Flow.kind, Flow.number.desc())
    return list(db.session.scalars(stmt))


def visible_power(power_id: int | None, user) -> Power | None:
    power = db.session.get(Power, power_id) if power_id else None
    return power if power is not None and power.can_view(user) else None


def department_posts(department_id: int) -> list:
    from govrisk.org.queries import posts_of

    return posts_of(department_id)


# ---------------------------------------------------------------- lists


def search_flows(*, visible_ids=None, q: str = "", kind: str = "", state: str = "", validity: str = "",
                 department_id: int | None = None, include_retired: bool = False):
    """A page of flow versions the caller may see, filtered, by power code."""
    stmt = sa.select(Flow).join(Power, Flow.power_id == Power.id).options(
        selectinload(Flow.power).selectinload(Power.department))
    if visible_ids is not None:
        stmt = stmt.where(Power.department_id.in_(visible_ids or {-1}))
    if department_id:
        stmt = stmt.where(Power.department_id == department_id)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(sa.or_(sa.func.lower(Power.code).like(like), Power.name.like(f"%{q}%")))
    if kind in {k.value for k in FlowKind}:
        stmt = stmt.where(Flow.kind == FlowKind(kind))
    if state in {s.value for s in RegisterState}:
        stmt = stmt.where(Flow.state == RegisterState(state))
    elif not include_retired:
        stmt = stmt.where(LIVE)
    if validity == "errors":
        stmt = stmt.where(Flow.error_count > 0)
    elif validity == "ok":
        stmt = stmt.where(Flow.error_count == 0)
    return paginate(stmt.order_by(Power.code, Flow.kind, Flow.number.desc()))


def _has_flow(kind: FlowKind):
    return sa.exists().where(Flow.power_id == Power.id, Flow.kind == kind, LIVE)


_INVALID = sa.exists().where(Flow.power_id == Power.id, LIVE, Flow.error_count > 0)
_LIVE_POWER = Power.state != RegisterState.RETIRED


def coverage(*, visible_ids=None, q: str = "", page: int | None = None, per_page: int | None = None):
    """A page of departments with, per department, its powers and those lacking or failing flow charts (in SQL)."""
    stmt = sa.select(Department).where(Department.is_retired.is_(False))
    if visible_ids is not None:
        stmt = stmt.where(Department.id.in_(visible_ids or {-1}))
    if q:
        stmt = stmt.where(sa.or_(Department.name.like(f"%{q}%"), Department.code.like(f"%{q}%")))
    page = paginate(stmt.order_by(Department.path), page=page, per_page=per_page)
    ids = [d.id for d in page.items]
    counts = {d: {"powers": 0, "no_internal": 0, "no_external": 0, "invalid": 0} for d in ids}
    if ids:
        def flag(condition):
            return sa.func.sum(sa.case((condition, 1), else_=0))

        rows = db.session.execute(
            sa.select(Power.department_id, sa.func.count(), flag(~_has_flow(FlowKind.INTERNAL)),
                      flag(~_has_flow(FlowKind.EXTERNAL)), flag(_INVALID))
            .where(Power.department_id.in_(ids), _LIVE_POWER).group_by(Power.department_id))
        for dept_id, total, no_internal, no_external, invalid in rows:
            counts[dept_id] = {"powers": total, "no_internal": int(no_internal or 0),
                               "no_external": int(no_external or 0), "invalid": int(invalid or 0)}
    uncovered = uncovered_counts(ids)
    for dept_id in ids:
        counts[dept_id]["uncovered"] = None if uncovered is None else uncovered.get(dept_id, 0)
    return page, counts


COVERAGE_STATUSES = {
    "no_internal": lambda: ~_has_flow(FlowKind.INTERNAL),
    "no_external": lambda: ~_has_flow(FlowKind.EXTERNAL),
    "invalid": lambda: _INVALID,
}


def coverage_powers(*, visible_ids=None, department_id: int | None = None, status: str = "", q: str = ""):
    """A page of powers (not retired) with a coverage problem, and their live flows by power id."""
    stmt = sa.select(Power).where(_LIVE_POWER)
    if visible_ids is not None:
        stmt = stmt.where(Power.department_id.in_(visible_ids or {-1}))
    if department_id:
        stmt = stmt.where(Power.department_id == department_id)
    if status in COVERAGE_STATUSES:
        stmt = stmt.where(COVERAGE_STATUSES[status]())
    if q:
        stmt = stmt.where(sa.or_(Power.code.like(f"%{q}%"), Power.name.like(f"%{q}%")))
    page = paginate(stmt.order_by(Power.code))
    flows: dict[int, list[Flow]] = {p.id: [] for p in page.items}
    if flows:
        for flow in db.session.scalars(sa.select(Flow).where(Flow.power_id.in_(flows), LIVE)
                                       .order_by(Flow.kind, Flow.number.desc())):
            flows[flow.power_id].append(flow)
    return page, flows


# ---------------------------------------------------------------- pictures


def chart_svg(doc: FlowDoc, report: FlowReport | None = None, *, badges: dict[str, int] | None = None) -> str:
    """The chart as inline SVG, the steps that findings name highlighted."""
    from govrisk.core.charts import drawing_to_svg
    from govrisk.core.pdf import cjk_font_name
    from govrisk.flows.drawing import flow_drawing

    highlight = flagged_steps(report) if report is not None else set()
    drawing = flow_drawing(doc, highlight=highlight, badges=badges, font_name=cjk_font_name())
    # as wide as drawn (a 4-step chart must not blow up to the page width), narrower when the page is
    return drawing_to_svg(drawing).replace("<svg", f'<svg style="max-width:{round(drawing.width * 1.25)}px"', 1)


def _chart_flowable(flow: Flow, max_width: float, max_height: float, *, badges: bool = True):
    from govrisk.core.pdf import cjk_font_name, drawing_flowable
    from govrisk.flows.drawing import flow_drawing

    levels = step_risk_levels(flow) if badges else None
    drawing = flow_drawing(flow_doc(flow), badges=levels, font_name=cjk_font_name())
    return drawing_flowable(drawing, max_width, max_height=max_height)


def flow_chart_for(power_code: str, *, public: bool):
    """The charts of a power as HTML (Markup), or None: the hook behind the catalog and portal power pages.

    public=True (the portal): only the published external flow of a power that is public and on the portal, drawn
    plainly (no findings, no risk badges) — internal flows never. public=False (inside, for a user already allowed
    to see the power): the version of each kind being worked on, else the published one, with findings highlighted
    and risk badges, and links to create the charts that are missing.
    """
    from flask import render_template
    from markupsafe import Markup

    from govrisk.catalog.queries import get_power_by_code

    power = get_power_by_code(power_code)
    if power is None:
        return None
    charts, missing = [], []
    if public:
        flow = public_flow(power) if power.is_on_portal else None
        if flow is None:
            return None
        charts.append((flow, Markup(chart_svg(flow_doc(flow)))))
    else:
        for kind in (FlowKind.INTERNAL, FlowKind.EXTERNAL):
            flow = open_flow(power.id, kind) or published_flow(power.id, kind)
            if flow is None:
                missing.append(kind)
                continue
            svg = chart_svg(flow_doc(flow), flow_report(flow), badges=step_risk_levels(flow))
            charts.append((flow, Markup(svg)))
    return Markup(render_template("flows/_power_charts.html", power=power, charts=charts, missing=missing,
                                  public=public))


def coverage_xlsx(*, visible_ids=None, q: str = "") -> bytes:
    """The whole coverage table as a workbook (Excel/WPS): one row per department, counts as numbers."""
    from io import BytesIO

    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "流程图覆盖情况"
    sheet.append(["单位代码", "单位", "职权数", "缺内部流程图", "缺外部流程图", "流程图未通过校验", "决定环节无风险点"])
    for cell in sheet[1]:
        cell.font, cell.fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F3350")
    for letter, width in zip("ABCDEFG", (16, 36, 10, 14, 14, 18, 18), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    number = 1
    while True:
        page, counts = coverage(visible_ids=visible_ids, q=q, page=number, per_page=200)
        for department in page.items:
            c = counts[department.id]
            sheet.append([department.code, department.name, c["powers"], c["no_internal"], c["no_external"],
                          c["invalid"], c["uncovered"]])
        if not page.has_next:
            break
        number += 1
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def flow_flowables(power_id: int, *, public: bool, max_width: float = 480, max_height: float = 360) -> list:
    """PDF flowables for the catalog booklet: each published chart of the power, a heading kept with its vector
    drawing. public=True (a booklet for the public) gives the external chart only; internal charts stay inside."""
    from reportlab.platypus import KeepTogether, Paragraph

    from govrisk.core.pdf import styles

    style = styles()
    kinds = (FlowKind.EXTERNAL,) if public else (FlowKind.EXTERNAL, FlowKind.INTERNAL)
    out = []
    for kind in kinds:
        flow = published_flow(power_id, kind)
        if flow is not None and (not public or flow.power.is_public):
            title = f"{flow.power.code} {flow.power.name} · {kind.zh}（第 {flow.number} 版）"
            heading = Paragraph(title, style["small"])
            out.append(KeepTogether([heading, _chart_flowable(flow, max_width, max_height, badges=not public)]))
    return out


def flow_pdf(flow: Flow) -> bytes:
    """One flow version on A4: the chart (vector) and the table of its steps."""
    from reportlab.platypus import Paragraph

    from govrisk.core.pdf import build_pdf, styles, table
    from govrisk.flows.validation import ROLE_TITLES

    style, doc = styles(), flow_doc(flow)
    story = [Paragraph(f"{flow.power.code} {flow.power.name}", style["title"]),
             Paragraph(f"{flow.kind.zh}（第 {flow.number} 版，{flow.state.zh}）", style["h2"]),
             _chart_flowable(flow, 480, 560), Paragraph("环节一览", style["h2"])]
    rows = [["编号", "环节", "职责", "责任岗位", "时限（工作日）", "文书"]]
    rows += [[s.id, s.name, ROLE_TITLES[s.role], s.post or "—", s.time_limit_days, "、".join(s.documents)]
             for s in doc.steps]
    story.append(table(rows))
    return build_pdf(story, title=f"{flow.power.name} · {flow.kind.zh}（第 {flow.number} 版）")
