"""The catalog as a spreadsheet (re-importable) and as a PDF booklet (职权目录), both streamed from SQL."""

import io
from datetime import date

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from reportlab.platypus import Paragraph, Spacer

from govrisk.catalog import queries
from govrisk.catalog.operations import PowerImporter, format_legal_basis_text
from govrisk.core.errors import UserError
from govrisk.core.pdf import build_pdf, styles, table
from govrisk.flows.queries import flow_flowables

MAX_BOOKLET_POWERS = 3000
EXTRA_COLUMNS = ("责任单位名称", "状态", "已发布版本", "职权依据类别", "行使层级", "收费", "咨询电话", "办理地点")


def _cell(sheet, value, *, bold: bool = False):
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text stays text: "=…" in a field must never become a formula
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    if bold:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F3350")
    return cell


def powers_xlsx(filters, visible_ids) -> bytes:
    """The filtered working copies; the first nine columns are the import columns (DESIGN §7.4)."""
    names = queries.reference_names("power_category")
    sources, levels = queries.reference_names("power_source"), queries.reference_names("power_level")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("职权目录")
    for letter, width in zip("ABCDEFGHIJKLMNOPQ", (22, 36, 12, 16, 60, 10, 10, 10, 8, 28, 10, 10, 14, 10, 20, 16, 30),
                             strict=False):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    sheet.append([_cell(sheet, c, bold=True) for c in (*PowerImporter.columns, *EXTRA_COLUMNS)])
    for power in queries.iter_powers(filters, visible_ids):
        row = [
            power.code, power.name, names.get(power.category, power.category), power.department.code,
            format_legal_basis_text([b.as_dict() for b in power.legal_bases]), power.statutory_days,
            power.promised_days, "是" if power.is_major_matter else "否", "是" if power.is_public else "否",
            power.department.name, power.state.zh, power.published_number, sources.get(power.source, ""),
            levels.get(power.level, ""), "是" if power.is_fee_charged else "否", power.phone, power.place,
        ]
        sheet.append([_cell(sheet, v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _days(statutory, promised) -> str:
    if statutory is None and promised is None:
        return "—"
    return f"{'—' if statutory is None else statutory} / {'—' if promised is None else promised}"


def booklet_pdf(filters, visible_ids, *, public_only: bool, title: str = "职权目录",
                today: date | None = None) -> bytes:
    """The published catalog grouped by department and category, with discretion standards."""
    total = queries.count_published(filters, visible_ids, public_only=public_only)
    if total > MAX_BOOKLET_POWERS:
        raise UserError(_("所选范围共有 %(n)s 项职权，超过单本目录的上限 %(max)s 项，请按单位或类别筛选后再导出。",
                          n=total, max=MAX_BOOKLET_POWERS))
    st = styles()
    story = [Paragraph(title, st["title"]),
             Paragraph(f"截至 {(today or date.today()).isoformat()} 已发布的职权事项，共 {total} 项。"
                       "时限以工作日计（法定 / 承诺）。", st["small"]), Spacer(1, 6)]
    department, category, rows, tiers = None, None, [], []
    charts = []  # the flow charts of the powers in `rows` (issue 4)

    def flush():
        if rows:
            story.append(table([["序号", "编码", "职权名称", "法律依据", "时限", "三重一大"], *rows],
                               col_widths=["6%", "20%", "23%", "31%", "10%", "10%"]))
            for name, tier_rows in tiers:
                story.append(Spacer(1, 4))
                story.append(Paragraph(f"裁量基准：{name}", st["small"]))
                story.append(table([["档次", "适用情形", "处理措施", "幅度"], *tier_rows],
                                   col_widths=["10%", "50%", "20%", "20%"]))
            story.extend(charts)
            story.append(Spacer(1, 6))
        rows.clear()
        tiers.clear()
        charts.clear()

    for version in queries.iter_published(filters, visible_ids, public_only=public_only):
        data = version.data
        if version.department_id != department:
            flush()
            department, category = version.department_id, None
            story.append(Paragraph(data["department_name"], st["h1"]))
        if version.category != category:
            flush()
            category = version.category
            story.append(Paragraph(data["category_name"], st["h2"]))
        basis = "\n".join(f"《{b['law']}》{b['article']}" for b in data["legal_bases"])
        name = data["name"] + ("" if data["is_public"] else "（内部事项）")
        rows.append([len(rows) + 1, data["code"], name, basis, _days(data["statutory_days"], data["promised_days"]),
                     "是" if data["is_major_matter"] else ""])
        charts.extend(flow_flowables(version.power_id, public=public_only))
        if data.get("discretion_tiers"):
            tiers.append((f"{data['code']} {data['name']}", [
                [t["name"], t["conditions"], t["measure"], f"{t['min']}–{t['max']} {t['unit']}"]
                for t in data["discretion_tiers"]]))
    flush()
    if not total:
        story.append(Paragraph("所选范围内没有已发布的职权。", st["body"]))
    return build_pdf(story, title=title, subject="职权目录")
