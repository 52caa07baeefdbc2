"""Spreadsheet and PDF output of electronic supervision: the alert list (XLSX) and the statistics report (PDF)."""

import io

from flask_babel import gettext as _
from flask_babel import pgettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from reportlab.platypus import Paragraph, Spacer

from govrisk.core.calendar import SHANGHAI
from govrisk.core.pdf import build_pdf, drawing_flowable, styles, table
from govrisk.supervision import queries

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def _cell(sheet, value, *, bold: bool = False):
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text stays text: "=…" in a field must never become a formula
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    if bold:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F3350")
    return cell


def _local(moment) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment is not None else ""


def alerts_xlsx(filters, visible_ids) -> bytes:
    """The filtered alerts, one row each, with the sentence that explains them."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("预警"))
    widths = (8, 14, 22, 26, 16, 24, 12, 12, 60, 18, 18, 12)
    for letter, width in zip("ABCDEFGHIJKL", widths, strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    header = (_("编号"), _("类型"), _("案件编号"), _("职权"), _("责任单位"), _("环节"), _("用时（工作日）"), _("时限"),
              _("说明"), _("发生时间"), _("发现时间"), _("状态"))
    sheet.append([_cell(sheet, h, bold=True) for h in header])
    batch: list = []

    def flush():
        messages = queries.messages_for(batch)
        for alert in batch:
            power = alert.power
            row = (alert.id, alert.title, alert.case_ref, f"{power.code} {power.name}" if power else "",
                   alert.department.name if alert.department else "", alert.step_key,
                   round(alert.used_days, 2) if alert.used_days is not None else None, alert.limit_days,
                   messages[alert.id], _local(alert.occurred_at), _local(alert.detected_at), alert.state.title)
            sheet.append([_cell(sheet, v) for v in row])
        batch.clear()

    for alert in queries.iter_alerts(filters, visible_ids):
        batch.append(alert)
        if len(batch) >= 500:
            flush()
    flush()
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _number(text: str):
    return Paragraph(text, styles()["cell_num"])


def _rate(value):
    return _number("—" if value is None else f"{100 * value:.1f}%")


def _days(value):
    return _number("—" if value is None else f"{value:.1f}")


def figures_row(label: str, f, *, cards: bool = True) -> list:
    """One table row: the label and the dashboard columns (open cards only where they belong)."""
    row = [label, f.received, f.completed, _rate(f.on_time_rate), _rate(f.early_rate), _days(f.average_days)]
    return row + [f.yellow, f.red] if cards else row


def figures_header(first: str, *, cards: bool = True) -> list[str]:
    row = [first, pgettext("stats", "受理"), _("办结"), _("按时办结率"), _("提前办结率"), _("平均用时（工作日）")]
    return row + [_("黄牌"), _("红牌")] if cards else row


def dashboard_pdf(visible_ids, year: int, month: int | None = None) -> bytes:
    """The statistics report: per-department table, totals and the monthly trend charts."""
    rows = queries.department_rows(visible_ids, year, month)
    trend = queries.monthly_trend(visible_ids, year)
    st = styles()
    when = _("%(year)s 年 %(month)s 月", year=year, month=month) if month else _("%(year)s 年", year=year)
    title = _("电子监察办件情况统计（%(when)s）", when=when)
    story = [Paragraph(title, st["title"])]
    scan = queries.last_scan()
    if scan is not None:
        note = _("数据截至最近一次扫描：%(at)s。黄牌、红牌为当前未办结处置的张数。", at=_local(scan.at))
        story.append(Paragraph(note, st["small"]))
    body = [figures_header(_("单位"))] + [figures_row(d.name, f) for d, f in rows]
    body.append(figures_row(_("合计"), queries.total(rows)))
    months = [figures_header(_("月份"), cards=False)] + [
        figures_row(_("%(y)s 年 %(m)s 月", y=m // 100, m=m % 100), f, cards=False)
        for m, f in trend if f.received or f.completed]
    story += [Paragraph(_("各单位办件情况"), st["h1"]), table(body), Spacer(1, 8),
              Paragraph(_("逐月情况"), st["h1"]), table(months), Spacer(1, 8), Paragraph(_("月度趋势"), st["h1"])]
    for drawing in queries.trend_drawings(trend, year).values():
        story += [drawing_flowable(drawing, 460), Spacer(1, 6)]
    return build_pdf(story, title=title, subject=_("电子监察"))
