"""The 廉政风险点登记表: one layout for the XLSX export, the PDF (landscape) and the import (preview, all or nothing).

The twelve columns of the form come first; the export adds the columns the form does not carry (scores, codes),
and the import reads them when present, so an exported file imports back unchanged.
"""

from __future__ import annotations

import io
import re
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_pgettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from reportlab.platypus import CondPageBreak, Paragraph, Spacer

from govrisk.catalog.models import Power
from govrisk.core.errors import UserError
from govrisk.core.importer import Importer, ImportFileError, ImportRow
from govrisk.core.pdf import build_pdf, styles, table
from govrisk.extensions import db
from govrisk.org.models import Department, Person, Post
from govrisk.org.queries import subtree_ids
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
MEASURE_LINE = re.compile(r"^\s*(?:[(（]?\d+[)）.、．]\s*)?(?:【(?P<type>[^】]+)】)?\s*(?P<text>.*)$")


def unit_label(point: RiskPoint) -> str:
    section = point.post.section if point.post is not None and point.post.section is not None else None
    return f"{point.department.name}/{section.name}" if section else point.department.name


def measure_lines(point: RiskPoint, type_names: dict[str, str]) -> str:
    return "\n".join(f"{i}.【{type_names.get(m.measure_type, m.measure_type)}】{m.description}"
                     for i, m in enumerate(point.measures, start=1))


def register_row(index: int, point: RiskPoint, names: dict) -> list:
    """One line of the 登记表 (the twelve columns, then the extra ones)."""
    methods = "、".join(names["methods"].get(k, k) for k in point.method_keys)
    return [index, unit_label(point), point.post.name if point.post else "", point.power.name,
            point.step.name if point.step else "", point.name, point.manifestation,
            names["types"].get(point.risk_type, point.risk_type), level_title_zh(point.level),
            measure_lines(point, names["measures"]), point.responsible.name if point.responsible else "",
            point.supervisor.name if point.supervisor else "",
            point.likelihood, point.severity, point.discretion.zh if point.discretion else "", methods, point.indicator,
            point.power.code, point.step_key or "", point.code, point.state.zh]


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
    """The 登记表 of a department (sub-units included) or of everything in scope, as a workbook."""
    names, workbook = _names(), Workbook(write_only=True)
    sheet = workbook.create_sheet("廉政风险点登记表")
    for i, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    sheet.freeze_panes = "A3"
    sheet.append([_cell(sheet, f"{scope_title(department_id)}廉政风险点登记表", title=True)])
    sheet.append([_cell(sheet, c, head=True) for c in (*COLUMNS, *EXTRA_COLUMNS)])
    for index, point in enumerate(queries.register_rows(visible_ids, department_id=department_id), start=1):
        sheet.append([_cell(sheet, v) for v in register_row(index, point, names)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


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

    for point in queries.register_rows(visible_ids, department_id=department_id):
        if point.department_id != department:
            flush()
            department = point.department_id
            if point.department_id != department_id:  # the title already names a single department
                story += [CondPageBreak(90), Paragraph(point.department.name, st["h2"])]
        rows.append(register_row(len(rows) + 1, point, names)[:len(COLUMNS)])
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
        lookups = _Lookups(self.actor)
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
                clean = ops.check_risk_data(data, actor=self.actor, point=point)
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
        for row in sorted(rows, key=lambda r: r.line):
            values = row.data["values"]
            if row.data["point_id"] is None:
                point = ops.create_risk_point(values, actor=actor)
            else:
                point = db.session.get(RiskPoint, row.data["point_id"])
                ops.update_risk_point(point, {**values, "version": point.version}, actor=actor)
            for measure in row.data["measures"]:
                ops.create_measure(point, measure, actor=actor)


def _action(point: RiskPoint | None, clean: dict, measures: list) -> str:
    if point is None:
        return "create"
    current = {k: getattr(point, k) for k in clean}
    return "unchanged" if current == clean and not measures else "update"


def _new_measures(measures: list[dict], point: RiskPoint | None) -> list[dict]:
    existing = {m.description for m in point.measures} if point is not None else set()
    return [m for m in measures if m["description"] not in existing]


class _Lookups:
    """Names in the file → records, within what the importing user may see."""

    def __init__(self, actor):
        self.actor = actor
        self.visible = actor.visible_department_ids() if actor is not None else None
        stmt = sa.select(Department).where(Department.is_retired.is_(False))
        if self.visible is not None:
            stmt = stmt.where(Department.id.in_(sorted(self.visible) or [-1]))
        self.departments = list(db.session.scalars(stmt))
        self.types = _by_name_or_key("risk_type")
        self.methods = _by_name_or_key("identification_method")
        self.measure_types = _by_name_or_key("measure_type")

    def department(self, text: str) -> Department | None:
        head = text.split("/", 1)[0].strip()
        return next((d for d in self.departments if head in (d.name, d.code)), None)

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
        conds = [Power.department_id == department.id, Power.state != RegisterState.RETIRED]
        first = text.split(" ", 1)[0]
        candidates = list(db.session.scalars(sa.select(Power).where(
            *conds, sa.or_(Power.code.in_([c for c in (code, first) if c]), Power.name == text.strip()))))
        by_code = [p for p in candidates if p.code in (code, first)]
        found = by_code or candidates
        if len(found) == 1:
            return found[0]
        row.errors.append(_("职权“%(text)s”在%(department)s不存在", text=code or text, department=department.name)
                          if not found else _("职权名称“%(text)s”有多项，请填写职权编码", text=text))
        return None

    def _existing(self, power: Power, code: str, name: str, row: ImportRow) -> RiskPoint | None:
        if code:
            point = db.session.scalar(sa.select(RiskPoint).where(RiskPoint.code == code))
            if point is None or point.power_id != power.id:
                row.errors.append(_("风险点编码“%(code)s”不存在或不属于该职权", code=code))
            return point
        return db.session.scalar(sa.select(RiskPoint).where(RiskPoint.power_id == power.id, RiskPoint.name == name,
                                                            RiskPoint.state != RegisterState.RETIRED).limit(1))

    @staticmethod
    def _step(power: Power, key: str, name: str, row: ImportRow) -> int | None:
        if not (key or name):
            return None
        for flow in queries.power_flows(power.id):
            for step in flow.steps:
                if (key and step.key == key) or (not key and step.name == name):
                    return step.id
        row.errors.append(_("环节“%(name)s”不在该职权的流程图中", name=key or name))
        return None

    @staticmethod
    def _post(power: Power, name: str, row: ImportRow) -> int | None:
        if not name:
            return None
        post = db.session.scalar(sa.select(Post).where(Post.department_id == power.department_id, Post.name == name,
                                                       Post.is_retired.is_(False)).limit(1))
        if post is None:
            row.errors.append(_("岗位“%(name)s”不是该职权责任单位的岗位", name=name))
            return None
        return post.id

    @staticmethod
    def _person(power: Power, name: str, row: ImportRow, *, anywhere: bool) -> int | None:
        if not name:
            return None
        stmt = sa.select(Person.id).where(Person.name == name, Person.is_retired.is_(False))
        own = list(db.session.scalars(stmt.where(Person.department_id.in_(sorted(subtree_ids(power.department_id))))))
        found = own or (list(db.session.scalars(stmt)) if anywhere else [])
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
