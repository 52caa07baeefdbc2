"""PDF toolkit shared by every report (DESIGN §6).

- ``cjk_font_name()`` registers an embeddable CJK TrueType font with ReportLab, once per process.
  The font comes from ``GOVRISK_PDF_FONT`` (a .ttf/.ttc file) or else from the installed font
  package (``paperang-p2-fonts-cjk``: WenQuanYi Micro Hei, TrueType outlines, Apache-2.0).
- ``styles()`` gives paragraph styles in that font with CJK line breaking.
- ``build_pdf()`` lays a story out on A4 with a running header and a "第 N 页 / 共 M 页" footer.
  Output is byte-for-byte reproducible for the same story (ReportLab invariant mode: fixed
  timestamps and document id; set ``SOURCE_DATE_EPOCH`` to stamp another creation date).
- ``table()`` and ``drawing_flowable()`` are the two helpers reports use most.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.metadata
import math
import os
import re
import threading
from collections.abc import Iterable, Sequence
from io import BytesIO
from numbers import Number
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing, Group
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.pagesizes import landscape as _landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph, Spacer, Table, TableStyle

__all__ = [
    "FONT_ENV_VAR",
    "FONT_PACKAGES",
    "build_pdf",
    "cjk_bold_font_name",
    "cjk_font_name",
    "drawing_flowable",
    "styles",
    "table",
]

FONT_ENV_VAR = "GOVRISK_PDF_FONT"
#: Distributions searched, in order, for a bundled font file (first .ttc/.ttf found wins).
FONT_PACKAGES: tuple[str, ...] = ("paperang-p2-fonts-cjk",)
_FONT_SUFFIXES = (".ttc", ".ttf")
_BASE_NAME = "GovriskCJK"

NAVY = colors.HexColor("#1f3350")
RED = colors.HexColor("#9b1b1b")
GRID = colors.HexColor("#9aa5b1")
ZEBRA = colors.HexColor("#f3f5f8")
MUTED = colors.HexColor("#5c6670")

# Chinese punctuation that must not start a line (GB/T 15834). ReportLab's kinsoku list is
# Japanese-oriented and lacks e.g. the full-width comma, so a line could begin with "，".
_CJK_CANNOT_START = "，：；？！）》〉”’』」】〕〗…—·％"


def _extend_line_breaking() -> None:
    from reportlab.lib import textsplit
    from reportlab.platypus import paragraph

    missing = "".join(ch for ch in _CJK_CANNOT_START if ch not in textsplit.ALL_CANNOT_START)
    if missing:
        textsplit.ALL_CANNOT_START += missing
    paragraph.ALL_CANNOT_START = textsplit.ALL_CANNOT_START


_extend_line_breaking()

_lock = threading.Lock()
_registered: dict[str, str] = {}  # resolved font path -> registered font name


# --------------------------------------------------------------------------------------------
# font
# --------------------------------------------------------------------------------------------


def _packaged_font() -> Path | None:
    """Locate the font file shipped by an installed font package (via its installed-files record)."""
    for dist_name in FONT_PACKAGES:
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError:
            continue
        for entry in sorted(dist.files or (), key=str):
            if entry.suffix.lower() in _FONT_SUFFIXES:
                path = Path(dist.locate_file(entry))
                if path.is_file():
                    return path
    return None


def _font_name_for(path: Path, packaged: bool) -> str:
    if packaged:
        return _BASE_NAME
    digest = hashlib.sha1(str(path).encode("utf-8")).hexdigest()[:8]
    stem = re.sub(r"[^A-Za-z0-9]+", "", path.stem)[:24] or "font"
    return f"{_BASE_NAME}-{stem}-{digest}"


def _register(path: Path, name: str) -> None:
    try:
        font = TTFont(name, str(path), subfontIndex=0)
    except Exception as exc:  # TTFError, OSError, struct errors from a broken file …
        raise RuntimeError(
            f"cannot use {path} as the PDF font ({exc}); {FONT_ENV_VAR} must name a TrueType "
            f".ttf or .ttc file with glyf outlines (CFF/.otf fonts cannot be embedded by ReportLab)"
        ) from exc
    pdfmetrics.registerFont(font)
    # The face has no bold: register a bold *name* on the same face. ReportLab maps a second
    # font of an already registered face onto the first one, so both names share one subset.
    bold = copy.copy(font)
    bold.fontName = f"{name}-Bold"
    bold.state = type(font.state)()
    pdfmetrics.registerFont(bold)
    pdfmetrics.registerFontFamily(name, normal=name, bold=bold.fontName, italic=name, boldItalic=bold.fontName)


def cjk_font_name() -> str:
    """Register the CJK font with ReportLab (once per file) and return its registered name.

    ``GOVRISK_PDF_FONT`` (path to a .ttf/.ttc; subfont 0 of a collection) wins over the font
    package. Raises ``RuntimeError`` naming the variable when no usable font is found.
    """
    env = os.environ.get(FONT_ENV_VAR, "").strip()
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise RuntimeError(f"{FONT_ENV_VAR}={env!r} does not name a font file")
        packaged = False
    else:
        found = _packaged_font()
        if found is None:
            raise RuntimeError(
                "no CJK font for PDFs: install the font package (pip install --require-hashes "
                f"-r requirements/fonts.txt) or set {FONT_ENV_VAR} to a TrueType .ttf/.ttc file"
            )
        path, packaged = found, True
    key = str(path.resolve())
    with _lock:
        name = _registered.get(key)
        if name is None:
            name = _font_name_for(Path(key), packaged)
            _register(Path(key), name)
            _registered[key] = name
    return name


def cjk_bold_font_name() -> str:
    """The bold name registered alongside :func:`cjk_font_name` (same face when the font has no bold)."""
    return f"{cjk_font_name()}-Bold"


# --------------------------------------------------------------------------------------------
# styles
# --------------------------------------------------------------------------------------------


def styles() -> dict[str, ParagraphStyle]:
    """Paragraph styles in the CJK font: title, h1, h2, body, small, cell, cell_head, cell_num.

    Fresh objects on every call, so callers may adjust them freely.
    """
    font = cjk_font_name()
    bold = f"{font}-Bold"
    base = ParagraphStyle(
        "body", fontName=font, fontSize=10.5, leading=16, textColor=colors.black, wordWrap="CJK",
        spaceAfter=4, allowWidows=0, allowOrphans=0,
    )
    return {
        "title": ParagraphStyle(
            "title", parent=base, fontName=bold, fontSize=18, leading=26, alignment=TA_CENTER,
            textColor=NAVY, spaceBefore=0, spaceAfter=12,
        ),
        "h1": ParagraphStyle(
            "h1", parent=base, fontName=bold, fontSize=14, leading=20, textColor=NAVY, spaceBefore=10,
            spaceAfter=6, keepWithNext=1,
        ),
        "h2": ParagraphStyle(
            "h2", parent=base, fontName=bold, fontSize=12, leading=17, textColor=NAVY, spaceBefore=8,
            spaceAfter=4, keepWithNext=1,
        ),
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=12, textColor=MUTED, spaceAfter=2),
        # rightIndent leaves room for punctuation that hangs past the line end (，。 never start a line)
        "cell": ParagraphStyle(
            "cell", parent=base, fontSize=9, leading=12.5, spaceAfter=0, alignment=TA_LEFT, rightIndent=4,
        ),
        "cell_head": ParagraphStyle(
            "cell_head", parent=base, fontName=bold, fontSize=9, leading=12.5, spaceAfter=0,
            alignment=TA_CENTER, textColor=colors.white,
        ),
        "cell_num": ParagraphStyle("cell_num", parent=base, fontSize=9, leading=12.5, spaceAfter=0, alignment=TA_RIGHT),
    }


# --------------------------------------------------------------------------------------------
# document
# --------------------------------------------------------------------------------------------

_MARGINS = {"left": 20 * mm, "right": 20 * mm, "top": 22 * mm, "bottom": 20 * mm}


def _fit(text: str, font: str, size: float, width: float) -> str:
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


class _NumberedCanvas(Canvas):
    """Two-pass canvas: pages are kept until save(), when the total page count is known."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._page_states: list[dict] = []

    def showPage(self):  # noqa: N802 (ReportLab API)
        self._page_states.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._page_states)
        for state in self._page_states:
            self.__dict__.update(state)
            self._draw_footer(total)
            super().showPage()
        super().save()

    def _draw_footer(self, total: int) -> None:
        font = cjk_font_name()
        width, _height = self._pagesize
        self.saveState()
        self.setFont(font, 9)
        self.setFillColor(MUTED)
        self.drawCentredString(width / 2, _MARGINS["bottom"] / 2, f"第 {self._pageNumber} 页 / 共 {total} 页")
        self.restoreState()


def _draw_header(canv: Canvas, doc: BaseDocTemplate, *, title: str) -> None:
    font = cjk_font_name()
    width, height = doc.pagesize
    left, right = doc.leftMargin, width - doc.rightMargin
    y = height - _MARGINS["top"] + 6 * mm
    canv.saveState()
    canv.setFont(font, 9)
    canv.setFillColor(MUTED)
    canv.drawString(left, y + 2, _fit(title, font, 9, right - left))
    canv.setStrokeColor(RED)
    canv.setLineWidth(0.8)
    canv.line(left, y - 2, right, y - 2)
    canv.restoreState()


def build_pdf(
    story: Iterable[Flowable],
    *,
    title: str,
    author: str = "govrisk",
    subject: str = "",
    landscape: bool = False,
) -> bytes:
    """Lay ``story`` out on A4 (portrait or landscape) and return the PDF bytes.

    Every page carries ``title`` in the header and "第 N 页 / 共 M 页" in the footer; the PDF
    metadata holds title, author, subject, creator and language. Same story → same bytes.
    Flowables are consumed by layout: build a fresh story for each call.
    """
    font = cjk_font_name()  # fail early, with the clear error, before ReportLab starts
    pagesize = _landscape(A4) if landscape else A4
    buf = BytesIO()
    doc = BaseDocTemplate(
        buf,
        pagesize=pagesize,
        leftMargin=_MARGINS["left"],
        rightMargin=_MARGINS["right"],
        topMargin=_MARGINS["top"],
        bottomMargin=_MARGINS["bottom"],
        title=title,
        author=author,
        subject=subject,
        creator="govrisk",
        invariant=1,
        lang="zh-CN",
        displayDocTitle=1,
        initialFontName=font,
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body", leftPadding=0,
                  rightPadding=0, topPadding=0, bottomPadding=0)

    def on_page(canv, doc_):
        _draw_header(canv, doc_, title=title)

    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=on_page)])
    flowables = list(story) or [Spacer(1, 1)]
    doc.build(flowables, canvasmaker=_NumberedCanvas)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# table
# --------------------------------------------------------------------------------------------

_NO_DATA = "暂无数据"
#: A row is split across pages only when at least this many points of it fit on each side.
_SPLIT_IN_ROW = 60


def _cell_text(value) -> tuple[str, bool]:
    """Paragraph markup for a cell value and whether it is numeric."""
    if value is None:
        return "", False
    if isinstance(value, bool):
        return ("是" if value else "否"), False
    if isinstance(value, Number):
        if isinstance(value, float) and not math.isfinite(value):
            return "—", True
        return escape(str(value)), True
    text = escape(str(value))
    return text.replace("\r\n", "\n").replace("\n", "<br/>"), False


def _natural_width(value, font: str, size: float) -> float:
    if value is None or isinstance(value, Flowable):
        return 0.0
    lines = str(value).splitlines() or [""]
    return max(pdfmetrics.stringWidth(line, font, size) for line in lines)


def _auto_widths(rows: list[list], header_rows: int, font: str, size: float, padding: float) -> list[str]:
    """Column widths as percentages of the frame, from the content.

    Header texts and numbers should not wrap (their width is a column's minimum, capped); the
    rest of a portrait A4 frame is shared in proportion to how much wider each column would like
    to be. Percentages keep the proportions on a landscape page.
    """
    ref = A4[0] - _MARGINS["left"] - _MARGINS["right"]
    ncols = len(rows[0])
    mins, nats = [], []
    for c in range(ncols):
        head = [_natural_width(row[c], font, size) for row in rows[:header_rows]]
        nums = [_natural_width(row[c], font, size) for row in rows[header_rows:]
                if isinstance(row[c], Number) and not isinstance(row[c], bool)]
        body = [_natural_width(row[c], font, size) for row in rows[header_rows:]]
        low = min(max(head + nums + [2 * size]) + padding + 4, 110.0)  # +4: slack against rounding
        mins.append(low)
        nats.append(max(min(max(head + body + [0.0]) + padding, 300.0), low))
    total_min, total_nat = sum(mins), sum(nats)
    if total_nat <= ref:
        widths = [n * ref / total_nat for n in nats]
    elif total_min < ref:
        share = (ref - total_min) / (total_nat - total_min)
        widths = [m + (n - m) * share for m, n in zip(mins, nats, strict=True)]
    else:
        widths = mins
    total = sum(widths)
    pcts = [round(100.0 * w / total, 3) for w in widths]
    pcts[-1] = round(100.0 - sum(pcts[:-1]), 3)
    return [f"{p}%" for p in pcts]


def table(
    rows: Sequence[Sequence],
    *,
    col_widths: Sequence[float | str | None] | None = None,
    header_rows: int = 1,
    zebra: bool = True,
) -> Table:
    """A grid table in the CJK font; header rows repeat on every page.

    Cells may be text (escaped, newlines kept), numbers (right-aligned), booleans (是/否),
    ``None`` (empty) or ready-made flowables. ``col_widths`` are points or percentage strings
    ("30%"); by default columns share the frame width in proportion to their content.
    """
    st = styles()
    data = [list(r) for r in rows]
    if not data or not any(data):
        data, header_rows = [[_NO_DATA]], 0
    ncols = max(len(r) for r in data)
    data = [r + [""] * (ncols - len(r)) for r in data]
    header_rows = max(0, min(header_rows, len(data)))
    cells = []
    for i, row in enumerate(data):
        out = []
        for value in row:
            if isinstance(value, Flowable):
                out.append([value])
                continue
            text, numeric = _cell_text(value)
            style = st["cell_head"] if i < header_rows else (st["cell_num"] if numeric else st["cell"])
            # a list per cell: ReportLab can only split a row across pages through flowable lists
            out.append([Paragraph(text, style)])
        cells.append(out)
    padding = 8.0
    if col_widths is None:
        widths = _auto_widths(data, header_rows, st["cell"].fontName, st["cell"].fontSize, padding)
    else:
        widths = list(col_widths)
        if len(widths) != ncols:
            raise ValueError(f"col_widths has {len(widths)} entries for {ncols} columns")
    commands = [
        ("FONTNAME", (0, 0), (-1, -1), st["cell"].fontName),  # else ReportLab references Helvetica
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("BOX", (0, 0), (-1, -1), 0.9, NAVY),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),  # body rows top-aligned: ReportLab splits tall rows correctly only so
        ("LEFTPADDING", (0, 0), (-1, -1), padding / 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), padding / 2),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header_rows:
        commands.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), NAVY))
        commands.append(("VALIGN", (0, 0), (-1, header_rows - 1), "MIDDLE"))
    if zebra and len(data) > header_rows:
        commands.append(("ROWBACKGROUNDS", (0, header_rows), (-1, -1), [colors.white, ZEBRA]))
    return Table(
        cells,
        colWidths=widths,
        repeatRows=header_rows,
        style=TableStyle(commands),
        hAlign="CENTER",
        splitInRow=_SPLIT_IN_ROW,
    )


# --------------------------------------------------------------------------------------------
# drawings
# --------------------------------------------------------------------------------------------


def drawing_flowable(drawing: Drawing, max_width: float, *, max_height: float | None = None) -> Drawing:
    """A flowable of ``drawing`` scaled down (never up) to fit ``max_width`` (and ``max_height``).

    The original drawing is left untouched, so it can still be rendered as SVG.
    """
    scale = 1.0
    if drawing.width > max_width > 0:
        scale = max_width / drawing.width
    if max_height and drawing.height * scale > max_height > 0:
        scale = max_height / drawing.height
    out = Drawing(drawing.width * scale, drawing.height * scale,
                  initialFontName=getattr(drawing, "initialFontName", None) or cjk_font_name())
    inner = Group(*([drawing.background] if drawing.background is not None else []), *drawing.contents)
    inner.transform = tuple(v * scale for v in drawing.transform[:4]) + tuple(v * scale for v in drawing.transform[4:])
    out.add(inner)
    out.hAlign = "CENTER"
    return out
