"""Documents in and out: the narrative a unit uploads (.txt UTF-8 or .docx), and the summary report of a unit and
its sub-units as PDF (core.pdf), editable .docx (python-docx) and XLSX (openpyxl).

Both summary formats are rendered from one list of blocks (`summary_blocks`), so they always say the same thing in
the usual order: 一、组织领导 二、宣传形式与主要做法 三、工作成效 四、存在问题及下一步.
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _

from govrisk.campaigns.queries import Rollup, Total, TotalRow, activity_type_titles
from govrisk.core.charts import bar_chart
from govrisk.core.errors import UserError

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
CN_ORDINALS = "一二三四五六七八九十"

# --------------------------------------------------------------------------------------------
# reading an uploaded narrative
# --------------------------------------------------------------------------------------------


def normalize_text(text: str) -> str:
    """One newline convention, so offsets found in a text stay valid after a browser sends it back (CRLF)."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n")


def text_from_upload(filename: str, data: bytes) -> str:
    """The text of an uploaded .txt (UTF-8) or .docx; anything else is refused with a reason."""
    name = (filename or "").lower()
    if not data:
        raise UserError(_("上传的文件为空。"), field="file")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UserError(_("文件过大（%(size)s KB），上限为 %(limit)s KB。", size=len(data) // 1024,
                          limit=MAX_UPLOAD_BYTES // 1024), field="file")
    if name.endswith(".docx"):
        return normalize_text(_docx_text(data))
    if name.endswith(".doc") or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise UserError(_("不支持旧版 Word（.doc）文件：请在 Word/WPS 中另存为 .docx，或直接粘贴文字。"), field="file")
    if not name.endswith(".txt"):
        raise UserError(_("只支持 .txt（UTF-8 编码）或 .docx 文件。"), field="file")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UserError(_("文件是 UTF-16 编码：请另存为 UTF-8 编码的文本后再上传。"), field="file")
    if b"\x00" in data[:4096]:
        raise UserError(_("该文件不是文本文件：请上传 .txt（UTF-8 编码）或 .docx 文件。"), field="file")
    try:
        return normalize_text(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise UserError(_("文件不是 UTF-8 编码（可能是 GBK/GB2312）：请在记事本或 WPS 中“另存为”UTF-8 编码后再上传，"
                          "或直接把文字粘贴到文本框中。"), field="file") from None


def source_text(pasted: str | None, upload) -> str:
    """The narrative to analyse: the uploaded file when there is one, else the pasted text."""
    if upload is not None and getattr(upload, "filename", ""):
        text = text_from_upload(upload.filename, upload.read(MAX_UPLOAD_BYTES + 1))
    else:
        text = normalize_text(pasted)
    if not text.strip():
        raise UserError(_("请粘贴总结文字，或上传 .txt / .docx 文件。"), field="narrative")
    return text


def mention_rows(text: str) -> dict:
    """Form data for confirming the figures found in a text: each kept, with its indicator, value and flags."""
    from govrisk.campaigns.extraction import find_mentions

    rows = [{"keep": True, "indicator": m.rule.key, "label": "", "value": fmt_number(m.figure.value),
             "unit": m.figure.unit, "is_approx": m.figure.approx, "is_total": m.is_total,
             "phrase": text[m.start:m.end], "start": m.start, "end": m.end} for m in find_mentions(text)]
    return {"narrative": text, "rows": rows}


def segments(text: str, spans) -> list[tuple[str, object]]:
    """The text cut into (piece, payload) around the (start, end, payload) spans; payload None between them.

    Spans outside the text or overlapping an earlier one are left out, so a tampered form cannot break the page.
    """
    out, pos = [], 0
    for start, end, payload in sorted((s for s in spans if s[0] is not None and s[1] is not None),
                                      key=lambda s: (s[0], s[1])):
        if not (pos <= start < end <= len(text)):
            continue
        if start > pos:
            out.append((text[pos:start], None))
        out.append((text[start:end], payload))
        pos = end
    if pos < len(text):
        out.append((text[pos:], None))
    return out


def _docx_text(data: bytes) -> str:
    from docx import Document
    from docx.oxml.ns import qn

    try:
        document = Document(io.BytesIO(data))
    except Exception:
        raise UserError(_("无法读取该 .docx 文件：文件已损坏或不是 Word 文档。"), field="file") from None
    lines = []
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            lines.append("".join(t.text or "" for t in child.iter(qn("w:t"))))
        elif child.tag == qn("w:tbl"):
            for row in child.iter(qn("w:tr")):
                cells = ["".join(t.text or "" for t in cell.iter(qn("w:t"))) for cell in row.iter(qn("w:tc"))]
                lines.append("\t".join(cells))
    return "\n".join(lines).strip()


# --------------------------------------------------------------------------------------------
# figures as words
# --------------------------------------------------------------------------------------------


def fmt_number(value: Decimal | None) -> str:
    """1500 → '1500', 1.50 → '1.5'."""
    if value is None:
        return ""
    value = Decimal(value)
    if value == value.to_integral_value():
        return f"{int(value)}"
    return f"{value.normalize():f}"


def fmt_total(total: Total | None, unit: str = "") -> str:
    """A total as Chinese reports write it: 3000余份 for a lower bound."""
    if total is None:
        return "—"
    return f"{fmt_number(total.value)}{'余' if total.approx else ''}{unit}"


def fmt_change(row: TotalRow) -> str:
    if row.change is None:
        return "—"
    sign = "+" if row.change > 0 else ""
    pct = f"（{row.change_pct:+.0f}%）" if row.change_pct is not None else ""
    return f"{sign}{fmt_number(row.change)}{pct}"


def bucket_name(rollup: Rollup, bucket) -> str:
    return dict(rollup.buckets).get(bucket, "本级" if bucket is None else str(bucket))


# --------------------------------------------------------------------------------------------
# charts (core.charts): by indicator, and by unit for one indicator
# --------------------------------------------------------------------------------------------


def indicator_chart(rollup: Rollup, *, width: float = 480):
    """Bars of every counted indicator's total (amounts of money left out: another scale)."""
    items = [(f"{row.title}（{row.unit}）" if row.unit else row.title, float(row.total.value))
             for row in rollup.rows_for_chart()]
    return bar_chart(items, title="各项指标完成情况", horizontal=True, width=width)


def unit_chart(rollup: Rollup, row: TotalRow, *, width: float = 480):
    """Bars of one indicator per direct sub-unit (and the unit itself)."""
    items = [(bucket_name(rollup, bucket), float(total.value)) for bucket, total in row.by_bucket.items()
             if total.value > 0]
    items.sort(key=lambda item: -item[1])
    return bar_chart(items, title=f"分单位情况：{row.title}（{row.unit}）", horizontal=True, width=width)


def chart_rows(rollup: Rollup, limit: int = 3) -> list[TotalRow]:
    """The indicators most units contributed to: the ones worth a by-unit chart."""
    rows = [r for r in rollup.rows_for_chart() if len(r.by_bucket) > 1]
    return sorted(rows, key=lambda r: (-len(r.by_bucket), -r.total.value))[:limit]


# --------------------------------------------------------------------------------------------
# the summary as blocks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    kind: str  # title, meta, h1, h2, p, table, chart, note
    text: str = ""
    rows: tuple = ()
    drawing: object = None


def summary_title(rollup: Rollup) -> str:
    return f"{rollup.unit.name}{rollup.campaign.full_name}工作总结"


def _paragraphs(text: str, empty: str) -> list[Block]:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return [Block("p", line) for line in lines] or [Block("note", empty)]


def _meta(rollup: Rollup) -> str:
    c = rollup.campaign
    parts = []
    if c.theme:
        parts.append(f"活动主题：{c.theme}")
    period = f"活动期间：{c.start_on:%Y年%m月%d日}至{c.end_on:%Y年%m月%d日}"
    parts.append(period + (f"（集中宣传日：{c.central_day_on:%m月%d日}）" if c.central_day_on else ""))
    if c.plan_doc_no:
        parts.append(f"依据：{c.issuing_body}{c.plan_doc_no}")
    counted = "已报送和已采纳" if rollup.include_submitted else "已采纳"
    parts.append(f"统计范围：本级报告及下级单位{counted}的报告，共 {rollup.reports_counted} 份")
    return "；".join(parts) + "。"


def _activity_blocks(activities) -> list[Block]:
    if not activities:
        return [Block("note", "（暂无活动记录。）")]
    titles = activity_type_titles()
    order = {key: i for i, key in enumerate(titles)}
    blocks, current = [], None
    for activity, unit_name in sorted(activities, key=lambda pair: order.get(pair[0].activity_type, len(order))):
        if activity.activity_type != current:
            current = activity.activity_type
            n = sum(1 for b in blocks if b.kind == "h2")
            ordinal = CN_ORDINALS[n] if n < len(CN_ORDINALS) else str(n + 1)
            blocks.append(Block("h2", f"（{ordinal}）{titles.get(current, current)}"))
        when = f"{activity.held_on.month}月{activity.held_on.day}日，" if activity.held_on else ""
        where = "；".join(x for x in (f"地点：{activity.venue}" if activity.venue else "",
                                      f"对象：{activity.audience}" if activity.audience else "") if x)
        blocks.append(Block("p", f"{when}{unit_name}{f'（{where}）' if where else ''}：{activity.description}"))
    return blocks


def _effect_sentence(rollup: Rollup) -> str:
    rows = [r for r in rollup.rows if r.total.value > 0]
    if not rows:
        return "本期暂无统计数据。"
    parts = "，".join(f"{r.title}{fmt_total(r.total, r.unit)}" for r in rows)
    return f"据统计，本期活动{parts}。"


def indicator_table(rollup: Rollup) -> list[list]:
    has_previous = rollup.previous_campaign is not None
    head = ["指标", "计量单位", "本期"] + (["上年同期", "增减"] if has_previous else [])
    body = []
    for row in rollup.rows:
        line = [row.title, row.unit, fmt_total(row.total)]
        if has_previous:
            line += [fmt_total(row.previous), fmt_change(row)]
        body.append(line)
    return [head] + body


def coverage_table(rollup: Rollup) -> list[list]:
    rows = [["单位", "单位数", "已采纳", "已报送", "草稿/退回", "未报送"]]
    for c in rollup.coverage:
        name = c.name + ("（本级）" if c.unit_id == rollup.unit.id else "")
        rows.append([name, c.units, c.counts.get("accepted", 0), c.counts.get("submitted", 0),
                     c.counts.get("draft", 0) + c.counts.get("returned", 0), c.counts.get("none", 0)])
    return rows


def summary_blocks(rollup: Rollup, activities, *, charts: bool = True) -> list[Block]:
    """The summary of a unit and its sub-units, in the usual four parts."""
    own = rollup.own_report
    blocks = [Block("title", summary_title(rollup)), Block("meta", _meta(rollup))]
    blocks.append(Block("h1", "一、组织领导"))
    blocks += _paragraphs(own.leadership if own else "", "（本单位尚未填写组织领导情况。）")
    blocks.append(Block("h1", "二、宣传形式与主要做法"))
    blocks += _activity_blocks(activities)
    blocks.append(Block("h1", "三、工作成效"))
    blocks.append(Block("p", _effect_sentence(rollup)))
    blocks.append(Block("table", rows=tuple(tuple(r) for r in indicator_table(rollup))))
    if any(r.total.approx for r in rollup.rows):
        blocks.append(Block("note", "注：带“余”的数字为下限（原文为“余”“多”“近”“约”等），合计同样为下限。"))
    if rollup.previous_campaign is not None:
        blocks.append(Block("note", f"上年同期为“{rollup.previous_campaign.full_name}”按同一口径的统计。"))
    if charts and rollup.rows_for_chart():
        blocks.append(Block("chart", drawing=indicator_chart(rollup)))
        blocks += [Block("chart", drawing=unit_chart(rollup, row)) for row in chart_rows(rollup)]
    blocks.append(Block("p", "各单位报送情况如下："))
    blocks.append(Block("table", rows=tuple(tuple(r) for r in coverage_table(rollup))))
    blocks.append(Block("h1", "四、存在问题及下一步"))
    blocks += _paragraphs(own.problems if own else "", "（本单位尚未填写存在问题及下一步工作。）")
    return blocks


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------


def summary_pdf(rollup: Rollup, activities) -> bytes:
    """The summary as a PDF with the embedded CJK font."""
    from xml.sax.saxutils import escape

    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, Spacer

    from govrisk.core.pdf import build_pdf, drawing_flowable, styles, table

    st = styles()
    body = ParagraphStyle("indented", parent=st["body"], firstLineIndent=21)
    frame_width = 481
    story = []
    for block in summary_blocks(rollup, activities):
        if block.kind == "table":
            story += [table([list(r) for r in block.rows]), Spacer(1, 6)]
        elif block.kind == "chart":
            story += [drawing_flowable(block.drawing, frame_width), Spacer(1, 6)]
        else:
            style = {"title": st["title"], "meta": st["small"], "h1": st["h1"], "h2": st["h2"], "p": body,
                     "note": st["small"]}[block.kind]
            story.append(Paragraph(escape(block.text), style))
    return build_pdf(story, title=summary_title(rollup), subject=rollup.campaign.name)


# --------------------------------------------------------------------------------------------
# DOCX (editable)
# --------------------------------------------------------------------------------------------

BODY_FONT, HEADING_FONT = "仿宋", "黑体"
NO_CHARTS_NOTE = "（统计图见 PDF 版本：本机的 ReportLab 没有可用的位图绘制组件 renderPM，上表已列出全部数据。）"


def drawing_png(drawing) -> bytes | None:
    """The chart as PNG through ReportLab's renderPM, or None where no renderPM backend is installed."""
    try:
        from reportlab.graphics import renderPM

        return renderPM.drawToString(drawing, fmt="PNG", dpi=150)
    except Exception:  # renderPM needs rlPyCairo (or the old _renderPM); without it the .docx keeps the tables
        return None


def _set_font(target, name: str, size: float | None = None, bold: bool | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    target.font.name = name
    element = target.element if hasattr(target, "element") else target._element
    r_pr = element.get_or_add_rPr()
    r_pr.get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if size:
        target.font.size = Pt(size)
    if bold is not None:
        target.font.bold = bold


def _docx_document():
    from docx import Document
    from docx.shared import Mm, RGBColor

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(26)
    section.top_margin, section.bottom_margin = Mm(30), Mm(28)
    _set_font(document.styles["Normal"], BODY_FONT, 14)
    for name, size in (("Title", 20), ("Heading 1", 15), ("Heading 2", 14)):
        style = document.styles[name]
        _set_font(style, HEADING_FONT if name != "Title" else "宋体", size, bold=name != "Heading 2")
        style.font.color.rgb = RGBColor(0, 0, 0)
    return document


def _docx_table(document, rows) -> None:
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            cell = table.cell(r, c)
            cell.text = "" if value is None else str(value)
            for run in cell.paragraphs[0].runs:
                _set_font(run, BODY_FONT, 11, bold=r == 0)


def summary_docx(rollup: Rollup, activities) -> bytes:
    """The summary as an editable Word document (.docx), charts as pictures where renderPM can draw them."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    document = _docx_document()
    charts_noted = False
    for block in summary_blocks(rollup, activities):
        if block.kind == "title":
            document.add_paragraph(block.text, style="Title").alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif block.kind in ("h1", "h2"):
            document.add_heading(block.text, level=1 if block.kind == "h1" else 2)
        elif block.kind == "table":
            _docx_table(document, block.rows)
        elif block.kind == "chart":
            png = drawing_png(block.drawing)
            if png is not None:
                document.add_picture(io.BytesIO(png), width=Mm(150))
            elif not charts_noted:
                charts_noted = True
                document.add_paragraph(NO_CHARTS_NOTE)
        else:
            paragraph = document.add_paragraph(block.text)
            if block.kind == "p":
                paragraph.paragraph_format.first_line_indent = Pt(28)
            else:
                for run in paragraph.runs:
                    _set_font(run, BODY_FONT, 11)
    buffer = io.BytesIO()
    document.core_properties.title = summary_title(rollup)
    document.core_properties.author = "govrisk"
    document.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------------


def rollup_xlsx(rollup: Rollup) -> bytes:
    """The roll-up as a workbook: totals per indicator (by sub-unit, with last year) and the reporting status."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "指标汇总"
    names = [name for _bucket, name in rollup.buckets]
    sheet.append(["指标", "计量单位", "本期合计", "是否下限", "上年同期", "增减"] + names)
    for row in rollup.rows:
        previous = float(row.previous.value) if row.previous is not None else None
        by_bucket = [float(row.by_bucket[b].value) if b in row.by_bucket else None for b, _ in rollup.buckets]
        sheet.append([row.title, row.unit, float(row.total.value), "是" if row.total.approx else "否", previous,
                      float(row.change) if row.change is not None else None] + by_bucket)
    status = workbook.create_sheet("报送情况")
    for line in coverage_table(rollup):
        status.append(line)
    for ws in (sheet, status):
        ws.freeze_panes = "A2"
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for column in ws.columns:
            width = max(len(str(c.value or "")) for c in column)
            ws.column_dimensions[column[0].column_letter].width = min(max(10, width * 2 + 2), 50)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
