"""The 廉政风险点登记表: one layout for the XLSX export, the PDF (landscape) and the import (preview, all or nothing).

The twelve columns of the form come first; the export adds the columns the form does not carry (scores, codes),
and the import reads them when present, so an exported file imports back unchanged.
"""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_pgettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from reportlab.platypus import CondPageBreak, Paragraph, Spacer
from sqlalchemy.orm import selectinload

from govrisk.catalog.models import Power
from govrisk.core.audit import audit_batch
from govrisk.core.errors import UserError
from govrisk.core.importer import Importer, ImportFileError, ImportRow
from govrisk.core.pdf import build_pdf, styles, table
from govrisk.core.xlsx import save_streamed
from govrisk.extensions import db
from govrisk.org.models import Department, Person, Post
from govrisk.risks import operations as ops
from govrisk.risks import queries
from govrisk.risks.models import EDITABLE_STATES, Discretion, RiskPoint
from govrisk.workflow.register import RegisterState

COLUMNS = ("序号", "单位/科室", "岗位", "职权", "环节", "风险点", "表现形式", "风险类型", "风险等级", "防控措施",
           "责任人", "监督人")
EXTRA_COLUMNS = ("发生几率", "危害程度", "自由裁量空间", "排查方法", "监控指标", "职权编码", "环节编号", "风险点编码",
                 "状态")
WIDTHS = (6, 22, 14, 24, 12, 28, 36, 14, 9, 44, 10, 10, 9, 9, 11, 18, 24, 16, 12, 20, 12)
PDF_WIDTHS = ["4%", "9%", "7%", "10%", "6%", "10%", "14%", "7%", "6%", "15%", "6%", "6%"]
MAX_PDF_ROWS = 3000
LEVEL_WORDS = {"一级": 1, "二级": 2, "三级": 3, "1": 1, "2": 2, "3": 3, "一": 1, "二": 2, "三": 3}
DISCRETION_WORDS = {d.zh: d.value for d in Discretion} | {d.value: d.value for d in Discretion}
# Columns beyond the twelve of the form: when a file lacks one, an updated point keeps its value.
KEPT_WITHOUT_COLUMN = {"发生几率": "likelihood", "危害程度": "severity", "自由裁量空间": "discretion",
                       "排查方法": "methods", "监控指标": "indicator"}
DEFAULT_MEASURE_TYPE = "institution"  # 制度, for a measure line without 【类型】
WRITE_BATCH = 1000  # import rows written per flush and per run of audit entries
LOOKUP_CHUNK = 500  # values per IN (…) when the import reads what its rows name
MEASURE_LINE = re.compile(r"^\s*(?:[(（]?\d+[)）.、．]\s*)?(?:【(?P<type>[^】]+)】)?\s*(?P<text>.*)$")


def unit_label(line: queries.RegisterLine) -> str:
    return f"{line.department_name}/{line.section_name}" if line.section_name else line.department_name


def measure_lines(line: queries.RegisterLine, type_names: dict[str, str]) -> str:
    return "\n".join(f"{i}.【{type_names.get(measure_type, measure_type)}】{description}"
                     for i, (measure_type, description) in enumerate(line.measures, start=1))


def register_row(index: int, line: queries.RegisterLine, names: dict) -> list:
    """One line of the 登记表 (the twelve columns, then the extra ones)."""
    methods = "、".join(names["methods"].get(k, k) for k in line.method_keys)
    return [index, unit_label(line), line.post_name or "", line.power_name, line.step_name or "", line.name,
            line.manifestation, names["types"].get(line.risk_type, line.risk_type), level_title_zh(line.level),
            measure_lines(line, names["measures"]), line.responsible_name or "", line.supervisor_name or "",
            line.likelihood, line.severity, line.discretion.zh if line.discretion else "", methods, line.indicator,
            line.power_code, line.step_key or "", line.code, line.state.zh]


def level_title_zh(level) -> str:
    return {1: "一级", 2: "二级", 3: "三级"}.get(level, "")


def _names() -> dict:
    return {"types": queries.zh_names("risk_type"), "measures": queries.zh_names("measure_type"),
            "methods": queries.zh_names("identification_method")}


def scope_title(department_id: int | None) -> str:
    department = db.session.get(Department, department_id) if department_id else None
    return department.name if department is not None else "全市"


def _cell(sheet, value, *, head: bool = False, title: bool = False):
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # a text starting with "=" must stay text, never a formula
    cell.alignment = Alignment(wrap_text=not title, vertical="center" if head else "top",
                               horizontal="center" if head else None)
    if head:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F3350")
        cell.border = Border(*(Side(style="thin", color="8795A1"),) * 4)
    if title:
        cell.font = Font(bold=True, size=16)
    return cell


def register_xlsx(visible_ids, *, department_id: int | None = None) -> bytes:
    """The 登记表 of a department (sub-units included) or of everything in scope, as a workbook: title and
    header through openpyxl, the points streamed (`save_streamed`) — a whole city in seconds."""
    names, workbook = _names(), Workbook(write_only=True)
    sheet = workbook.create_sheet("廉政风险点登记表")
    for i, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    sheet.freeze_panes = "A3"
    sheet.append([_cell(sheet, f"{scope_title(department_id)}廉政风险点登记表", title=True)])
    sheet.append([_cell(sheet, c, head=True) for c in (*COLUMNS, *EXTRA_COLUMNS)])
    lines = queries.register_lines(visible_ids, department_id=department_id)
    rows = (register_row(index, line, names) for index, line in enumerate(lines, start=1))
    return save_streamed(workbook, sheet, rows, style_cell=lambda value: _cell(sheet, value))


def register_pdf(visible_ids, *, department_id: int | None = None, today: date | None = None) -> bytes:
    """The 登记表 as a landscape PDF, one table per department."""
    total = queries.count_register(visible_ids, department_id=department_id)
    if total > MAX_PDF_ROWS:
        raise UserError(_("所选范围共有 %(n)s 个风险点，超过单份 PDF 的上限 %(max)s 个，请按单位导出。", n=total,
                          max=MAX_PDF_ROWS))
    st, names = styles(), _names()
    st["h2"].keepWithNext = 0  # a department's table may start on the page of its heading (CondPageBreak below)
    title = f"{scope_title(department_id)}廉政风险点登记表"
    story = [Paragraph(title, st["title"]),
             Paragraph(f"截至 {(today or date.today()).isoformat()}，共 {total} 个风险点（不含已停用）。"
                       "风险等级：已确认的为纪检确认等级，其余为单位拟定等级。", st["small"]), Spacer(1, 4)]
    department, rows = None, []

    def flush():
        if rows:
            story.append(table([list(COLUMNS), *rows], col_widths=PDF_WIDTHS))
            story.append(Spacer(1, 6))
        rows.clear()

    for line in queries.register_lines(visible_ids, department_id=department_id):
        if line.department_id != department:
            flush()
            department = line.department_id
            if line.department_id != department_id:  # the title already names a single department
                story += [CondPageBreak(90), Paragraph(line.department_name, st["h2"])]
        rows.append(register_row(len(rows) + 1, line, names)[:len(COLUMNS)])
    flush()
    if not total:
        story.append(Paragraph("所选范围内还没有登记风险点。", st["body"]))
    return build_pdf(story, title=title, subject="廉政风险点登记表", landscape=True)


# ---------------------------------------------------------------- import


class RiskRegisterImporter(Importer):
    """Risk points from the 登记表 layout: new ones become drafts; ones already there (by code, or by power and
    name) are updated while still editable; measures listed that the point lacks are added as planned."""

    kind = "risk_points"
    title = lazy_pgettext("import", "廉政风险点")
    columns = tuple(c.lower() for c in (*COLUMNS, *EXTRA_COLUMNS[:8]))
    required = ("单位/科室", "职权", "风险点", "风险类型")

    def __init__(self, actor=None):
        self.actor = actor
        self._lookups: _Lookups | None = None  # of the last check, used by the write that follows it

    def rows_from(self, table_rows: list[list[str]]) -> list[ImportRow]:
        """Skip the title line(s) above the header (the export has one)."""
        for index, row in enumerate(table_rows[:10]):
            cells = {c.strip() for c in row}
            if "风险点" in cells and "职权" in cells:
                rows = super().rows_from(table_rows[index:])
                for r in rows:
                    r.line += index
                return rows
        raise ImportFileError(_("找不到表头行（应包含“职权”“风险点”等列，与登记表导出的格式相同）。"))

    def check(self, rows: list[ImportRow]) -> None:
        lookups = self._lookups = _Lookups(self.actor)
        lookups.load(rows)
        seen: dict[tuple, int] = {}
        for row in rows:
            data, point, measures = lookups.resolve(row)
            if row.errors:
                continue
            key = (data["power_id"], data["name"])
            if key in seen:
                row.errors.append(_("与第 %(line)s 行是同一职权的同一风险点", line=seen[key]))
                continue
            seen[key] = row.line
            try:
                clean = ops.check_risk_data(data, actor=self.actor, point=point, lookups=lookups.checks)
            except ops.RiskDataError as exc:
                row.errors += [m for messages in exc.details["errors"].values() for m in messages]
                continue
            row.data = {"values": data, "point_id": point.id if point else None,
                        "measures": _new_measures(measures, point)}
            row.action = _action(point, clean, row.data["measures"])
            if row.action == "update" and point.state not in EDITABLE_STATES:
                row.errors.append(_("风险点 %(code)s 当前为“%(state)s”，不能通过导入修改", code=point.code,
                                    state=point.state.title))

    def write(self, rows: list[ImportRow], *, actor) -> None:
        """In batches of WRITE_BATCH rows: updates through `ops.update_risk_point`, new points and new measures
        through `ops.RiskBatch` (multi-row INSERTs); one flush and one run of audit entries per batch — the rows,
        ids and audit entries, in their order, that writing row by row gives."""
        lookups = self._lookups.checks if self._lookups is not None else ops.Lookups()
        ordered = sorted(rows, key=lambda r: r.line)
        for start in range(0, len(ordered), WRITE_BATCH):
            with audit_batch():
                batch = ops.RiskBatch(actor=actor, lookups=lookups)
                for row in ordered[start:start + WRITE_BATCH]:
                    values = row.data["values"]
                    if row.data["point_id"] is None:
                        batch.create_point(values, row.data["measures"])
                        continue
                    point = lookups.get(RiskPoint, row.data["point_id"])
                    ops.update_risk_point(point, {**values, "version": point.version}, actor=actor, lookups=lookups)
                    batch.add_measures(point, row.data["measures"])
                batch.insert()


def _action(point: RiskPoint | None, clean: dict, measures: list) -> str:
    if point is None:
        return "create"
    current = {k: getattr(point, k) for k in clean}
    return "unchanged" if current == clean and not measures else "update"


def _new_measures(measures: list[dict], point: RiskPoint | None) -> list[dict]:
    existing = {m.description for m in point.measures} if point is not None else set()
    return [m for m in measures if m["description"] not in existing]


def _chunks(values):
    values, size = sorted(values), LOOKUP_CHUNK
    for start in range(0, len(values), size):
        yield values[start:start + size]


class _Lookups:
    """Names in the file → records, within what the importing user may see. `load` reads what all the rows name
    in a few queries (by chunks of LOOKUP_CHUNK values); `resolve` then answers each row from memory, as the
    row-by-row queries did (where those took "the first" of several matches, the lowest id is taken)."""

    def __init__(self, actor):
        self.actor = actor
        self.visible = actor.visible_department_ids() if actor is not None else None
        stmt = sa.select(Department).where(Department.is_retired.is_(False))
        if self.visible is not None:
            stmt = stmt.where(Department.id.in_(sorted(self.visible) or [-1]))
        self.departments = list(db.session.scalars(stmt))
        self.department_by_word: dict[str, Department] = {}
        for department in self.departments:  # the first department with that name or code
            for word in (department.name, department.code):
                self.department_by_word.setdefault(word, department)
        self.types = _by_name_or_key("risk_type")
        self.methods = _by_name_or_key("identification_method")
        self.measure_types = _by_name_or_key("measure_type")
        self.checks = ops.Lookups()  # what check_risk_data and the operations look up, shared with them
        self.checks.add(self.departments)
        self.power_by_code: dict[str, Power] = {}
        self.powers_by_name: dict[str, list[Power]] = {}
        self.point_by_code: dict[str, RiskPoint] = {}
        self.point_by_name: dict[tuple[int, str], int] = {}
        self.steps: dict[int, tuple[dict, dict]] = {}  # power id → ({step key: id}, {step name: id}), first ones
        self.post_by_name: dict[tuple[int, str], int] = {}
        self.people_by_name: dict[str, list[ops.PersonRef]] = {}

    def department(self, text: str) -> Department | None:
        return self.department_by_word.get(text.split("/", 1)[0].strip())

    def load(self, rows: list[ImportRow]) -> None:
        """Everything the rows can name: their powers, the steps, posts and people around those powers, and the
        risk points they may update."""
        codes, names, department_ids = set(), set(), set()
        for row in rows:
            v = row.values
            department = self.department(v.get("单位/科室", ""))
            if department is None:
                continue
            department_ids.add(department.id)
            text = v.get("职权", "")
            codes.update(c for c in (v.get("职权编码", ""), text.split(" ", 1)[0]) if c)
            names.add(text.strip())
        if not department_ids:
            return
        powers: dict[int, Power] = {}
        conds = (Power.department_id.in_(sorted(department_ids)), Power.state != RegisterState.RETIRED)
        for column, values in ((Power.code, codes), (Power.name, names)):
            for chunk in _chunks(values):
                powers.update((p.id, p) for p in db.session.scalars(sa.select(Power).where(*conds, column.in_(chunk))))
        for power in sorted(powers.values(), key=lambda p: p.id):
            self.power_by_code[power.code] = power
            self.powers_by_name.setdefault(power.name, []).append(power)
        self.checks.add(powers.values())
        self._load_steps(powers, rows)
        self._load_posts({p.department_id for p in powers.values()}, rows)
        self._load_people(rows)
        self._load_points(powers, rows)

    def _load_steps(self, powers: dict[int, Power], rows: list[ImportRow]) -> None:
        """The steps of the powers' live flow charts, in the order `queries.power_flows` gives them."""
        from govrisk.flows.models import Flow, FlowKind, FlowStep
        from govrisk.flows.queries import LIVE

        if not any(r.values.get("环节编号") or r.values.get("环节") for r in rows):
            return
        flows: dict[int, list] = {}  # power id → [(kind, number, [step rows])] in SQL order
        for chunk in _chunks(powers):
            stmt = (sa.select(Flow.power_id, Flow.id, Flow.kind, Flow.number, FlowStep.id, FlowStep.key, FlowStep.name,
                              FlowStep.post_id)
                    .join(FlowStep, FlowStep.flow_id == Flow.id).where(Flow.power_id.in_(chunk), LIVE)
                    .order_by(Flow.power_id, Flow.kind, Flow.number.desc(), Flow.id, FlowStep.position, FlowStep.id))
            last_flow = None
            for row in db.session.execute(stmt):
                if row[1] != last_flow:
                    flows.setdefault(row[0], []).append((row[2], row[3], []))
                    last_flow = row[1]
                flows[row[0]][-1][2].append(row)
        refs = []  # the steps a row can name: the first with each key and the first with each name
        for power_id, power_flows in flows.items():
            by_key, by_name = {}, {}
            for _kind, _number, steps in sorted(power_flows, key=lambda f: (f[0] is not FlowKind.INTERNAL, -f[1])):
                for _power_id, _flow_id, _kind, _number, step_id, key, name, post_id in steps:
                    first_key, first_name = key not in by_key, name not in by_name
                    if first_key:
                        by_key[key] = step_id
                    if first_name:
                        by_name[name] = step_id
                    if first_key or first_name:
                        refs.append(ops.StepRef(step_id, key, power_id, post_id))
            self.steps[power_id] = (by_key, by_name)
        self.checks.add_steps(refs)

    def _load_posts(self, department_ids: set[int], rows: list[ImportRow]) -> None:
        refs = []
        for chunk in _chunks(department_ids):
            stmt = sa.select(Post.id, Post.department_id, Post.name, Post.is_retired).where(
                Post.department_id.in_(chunk)).order_by(Post.id)
            for post_id, department_id, name, is_retired in db.session.execute(stmt):
                refs.append(ops.PostRef(post_id, department_id))
                if not is_retired:
                    self.post_by_name.setdefault((department_id, name), post_id)
        self.checks.add_posts(refs)

    def _load_people(self, rows: list[ImportRow]) -> None:
        names = {n for r in rows for n in (r.values.get("责任人"), r.values.get("监督人")) if n}
        refs = []
        for chunk in _chunks(names):
            stmt = sa.select(Person.id, Person.department_id, Person.is_retired, Person.name).where(
                Person.name.in_(chunk)).order_by(Person.id)
            for person_id, department_id, is_retired, name in db.session.execute(stmt):
                ref = ops.PersonRef(person_id, department_id, is_retired)
                refs.append(ref)
                if not is_retired:
                    self.people_by_name.setdefault(name, []).append(ref)
        self.checks.add_people(refs)

    def _load_points(self, powers: dict[int, Power], rows: list[ImportRow]) -> None:
        """The points named by code, and the live points of the powers that have the name of a row without code;
        with their measures."""
        codes = {r.values["风险点编码"] for r in rows if r.values.get("风险点编码")}
        names = {r.values.get("风险点", "") for r in rows if not r.values.get("风险点编码")}
        ids = set()
        for chunk in _chunks(codes):
            ids.update(db.session.scalars(sa.select(RiskPoint.id).where(RiskPoint.code.in_(chunk))))
        if names:
            for chunk in _chunks(powers):
                stmt = sa.select(RiskPoint.id, RiskPoint.power_id, RiskPoint.name).where(
                    RiskPoint.power_id.in_(chunk), RiskPoint.state != RegisterState.RETIRED).order_by(RiskPoint.id)
                for point_id, power_id, name in db.session.execute(stmt):
                    if name in names and (power_id, name) not in self.point_by_name:
                        self.point_by_name[power_id, name] = point_id
                        ids.add(point_id)
        for chunk in _chunks(ids):
            points = list(db.session.scalars(sa.select(RiskPoint).where(RiskPoint.id.in_(chunk))
                                             .options(selectinload(RiskPoint.measures))))
            self.checks.add(points)
            self.point_by_code.update((p.code, p) for p in points)

    def resolve(self, row: ImportRow) -> tuple[dict, RiskPoint | None, list[dict]]:
        """The row as form data, the risk point it updates (or None) and the measures it lists."""
        v = row.values
        department = self.department(v.get("单位/科室", ""))
        if department is None:
            row.errors.append(_("单位“%(name)s”不存在或不在您的管理范围内", name=v.get("单位/科室", "")))
            return {}, None, []
        power = self._power(department, v.get("职权编码", ""), v.get("职权", ""), row)
        if power is None:
            return {}, None, []
        data = {"power_id": power.id, "name": v.get("风险点", ""), "manifestation": v.get("表现形式", ""),
                "indicator": v.get("监控指标", ""),
                "risk_type": self.types.get(v.get("风险类型", ""), v.get("风险类型")),
                "methods": self._methods(v.get("排查方法", ""), row),
                "likelihood": v.get("发生几率") or None, "severity": v.get("危害程度") or None,
                "discretion": self._discretion(v.get("自由裁量空间", ""), row),
                "proposed_level": self._level(v.get("风险等级", ""), row),
                "step_id": self._step(power, v.get("环节编号", ""), v.get("环节", ""), row),
                "post_id": self._post(power, v.get("岗位", ""), row),
                "responsible_id": self._person(power, v.get("责任人", ""), row, anywhere=False),
                "supervisor_id": self._person(power, v.get("监督人", ""), row, anywhere=True)}
        measures = self._measures(v.get("防控措施", ""), row)
        point = self._existing(power, v.get("风险点编码", ""), data["name"], row)
        if point is not None:  # what the file has no column for stays as it is
            for column, name in KEPT_WITHOUT_COLUMN.items():
                if column not in v:
                    value = getattr(point, name)
                    data[name] = value.value if hasattr(value, "value") else value
        return data, point, measures

    def _power(self, department: Department, code: str, text: str, row: ImportRow) -> Power | None:
        first = text.split(" ", 1)[0]
        by_code = [p for c in dict.fromkeys(c for c in (code, first) if c)
                   if (p := self.power_by_code.get(c)) is not None and p.department_id == department.id]
        by_name = [p for p in self.powers_by_name.get(text.strip(), ())
                   if p.department_id == department.id and p not in by_code]
        found = by_code or by_name
        if len(found) == 1:
            return found[0]
        row.errors.append(_("职权“%(text)s”在%(department)s不存在", text=code or text, department=department.name)
                          if not found else _("职权名称“%(text)s”有多项，请填写职权编码", text=text))
        return None

    def _existing(self, power: Power, code: str, name: str, row: ImportRow) -> RiskPoint | None:
        if code:
            point = self.point_by_code.get(code)
            if point is None or point.power_id != power.id:
                row.errors.append(_("风险点编码“%(code)s”不存在或不属于该职权", code=code))
            return point
        point_id = self.point_by_name.get((power.id, name))
        return self.checks.get(RiskPoint, point_id) if point_id is not None else None

    def _step(self, power: Power, key: str, name: str, row: ImportRow) -> int | None:
        if not (key or name):
            return None
        by_key, by_name = self.steps.get(power.id, ({}, {}))
        step_id = by_key.get(key) if key else by_name.get(name)
        if step_id is None:
            row.errors.append(_("环节“%(name)s”不在该职权的流程图中", name=key or name))
        return step_id

    def _post(self, power: Power, name: str, row: ImportRow) -> int | None:
        if not name:
            return None
        post_id = self.post_by_name.get((power.department_id, name))
        if post_id is None:
            row.errors.append(_("岗位“%(name)s”不是该职权责任单位的岗位", name=name))
        return post_id

    def _person(self, power: Power, name: str, row: ImportRow, *, anywhere: bool) -> int | None:
        if not name:
            return None
        people = self.people_by_name.get(name, [])
        departments = self.checks.subtree(power.department_id)
        own = [p.id for p in people if p.department_id in departments]
        found = own or ([p.id for p in people] if anywhere else [])
        if len(found) == 1:
            return found[0]
        row.errors.append(_("人员“%(name)s”找不到", name=name) if not found
                          else _("人员“%(name)s”有重名，请在系统中选择", name=name))
        return None

    @staticmethod
    def _level(text: str, row: ImportRow) -> int | None:
        text = text.strip().replace("风险", "")
        if not text:
            return None
        if text not in LEVEL_WORDS:
            row.errors.append(_("风险等级“%(text)s”应为一级、二级或三级", text=text))
            return None
        return LEVEL_WORDS[text]

    @staticmethod
    def _discretion(text: str, row: ImportRow) -> str | None:
        if not text.strip():
            return None
        value = DISCRETION_WORDS.get(text.strip())
        if value is None:
            row.errors.append(_("自由裁量空间“%(text)s”应为大、中或小", text=text))
        return value

    def _methods(self, text: str, row: ImportRow) -> list[str]:
        words = [w.strip() for w in re.split(r"[、,，;；\s]+", text) if w.strip()]
        unknown = [w for w in words if w not in self.methods]
        if unknown:
            row.errors.append(_("排查方法“%(m)s”无效", m="、".join(unknown)))
        return [self.methods[w] for w in words if w in self.methods]

    def _measures(self, text: str, row: ImportRow) -> list[dict]:
        out = []
        for line in (text or "").splitlines():
            match = MEASURE_LINE.match(line)
            body = match.group("text").strip() if match else line.strip()
            if not body:
                continue
            type_name = (match.group("type") or "").strip() if match else ""
            measure_type = self.measure_types.get(type_name or DEFAULT_MEASURE_TYPE)
            if measure_type is None:
                row.errors.append(_("措施类型“%(t)s”无效", t=type_name))
                continue
            out.append({"measure_type": measure_type, "description": body})
        return out


def _by_name_or_key(kind: str) -> dict[str, str]:
    out = {}
    for key, name in queries.zh_names(kind).items():
        out[name], out[key] = key, key
    return out
