"""The one chart stack: ReportLab Drawings rendered as SVG for pages and as vector graphics in PDFs.

Every chart function returns a ``Drawing`` (put it in a PDF story directly or through
``core.pdf.drawing_flowable``; turn it into inline SVG with ``drawing_to_svg``). Text uses the
CJK PDF font; in SVG that font name becomes a CSS font stack browsers can render Chinese with.
Empty input gives a "暂无数据" drawing of the same size. Output is deterministic.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from xml.sax.saxutils import escape

from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Group, Line, Rect, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.attrmap import AttrMap, AttrMapValue
from reportlab.lib.validators import isString
from reportlab.pdfbase import pdfmetrics

__all__ = [
    "CJK_CSS_FONT_STACK",
    "NO_DATA",
    "PALETTE",
    "RISK_LEVEL_COLORS",
    "bar_chart",
    "drawing_to_svg",
    "heat_map",
    "risk_color",
    "stacked_bars",
    "trend_line",
]

CJK_CSS_FONT_STACK = (
    "'WenQuanYi Micro Hei','Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',"
    "'Hiragino Sans GB',sans-serif"
)
NO_DATA = "暂无数据"

TEXT = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#5c6670")
FAINT = colors.HexColor("#9aa5b1")
GRIDLINE = colors.HexColor("#dde2e8")
AXIS = colors.HexColor("#8795a1")
NAVY = colors.HexColor("#1f3350")
#: Series colours, in order; none of them is a risk-level colour.
PALETTE = ("#2b4c7e", "#5d8aa8", "#7f8c8d", "#27ae60", "#8e44ad", "#16a085", "#a0522d", "#34495e")
#: Risk-level colours, the same as the web badges (一级 red, 二级 orange, 三级 yellow).
RISK_LEVEL_COLORS = {"一级": "#c0392b", "二级": "#e67e22", "三级": "#f1c40f"}

_ZERO = colors.Color(0.12, 0.16, 0.2, alpha=0.45)  # zero counts: present but quiet
_GREEN, _YELLOW, _RED = colors.HexColor("#63be7b"), colors.HexColor("#ffe08a"), colors.HexColor("#e8605a")


def _font(font_name: str | None) -> str:
    if font_name:
        return font_name
    from govrisk.core.pdf import cjk_font_name  # core.pdf registers the font on first use

    return cjk_font_name()


# --------------------------------------------------------------------------------------------
# SVG
# --------------------------------------------------------------------------------------------

_STYLE_FONT = re.compile(r"font-family: ([^;\"]+);")


def _css_family(name: str) -> str:
    name = name.strip()
    try:
        font = pdfmetrics.getFont(name)
    except Exception:  # not registered: leave the name to the browser
        return name
    # embedded TrueType fonts (the CJK font) are unknown to browsers by their ReportLab name
    return CJK_CSS_FONT_STACK if getattr(font, "_dynamicFont", 0) else name


def drawing_to_svg(drawing: Drawing) -> str:
    """Render a Drawing as an inline SVG string (no XML declaration).

    The SVG scales with its container (``width="100%"`` and a ``viewBox``), carries the chart
    title as ``<title>``, names fonts with a CSS stack that renders Chinese, and uses element ids
    derived from its content, so several charts can share one page.
    """
    svg = renderSVG.drawToString(drawing, use_fp_str=True)
    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else svg
    svg = _STYLE_FONT.sub(lambda m: f"font-family: {_css_family(m.group(1))};", svg)
    title = getattr(drawing, "_govrisk_title", "") or ""
    svg = svg.replace("<title>...</title>", f"<title>{escape(title)}</title>" if title else "", 1)
    svg = svg.replace("<desc>...</desc>", "", 1)
    uid = "c" + hashlib.sha1(svg.encode("utf-8")).hexdigest()[:10]
    svg = svg.replace('id="clip"', f'id="{uid}-clip"').replace("url(#clip)", f"url(#{uid}-clip)")
    svg = svg.replace('id="group"', f'id="{uid}-group"')
    head_end = svg.find(">")
    head = svg[:head_end]
    head = re.sub(r'\swidth="[^"]*"', ' width="100%"', head, count=1)
    head = re.sub(r'\sheight="[^"]*"', "", head, count=1)
    head += ' role="img"'
    if title:
        head += f' aria-label="{escape(title, {chr(34): "&quot;"})}"'
    return head + svg[head_end:]


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


class _LinkRect(Rect):
    """A Rect the SVG renderer wraps in ``<a xlink:href>`` (the PDF renderer ignores the link)."""

    _attrMap = AttrMap(
        BASE=Rect,
        hrefURL=AttrMapValue(isString, desc="link target in SVG"),
        hrefTitle=AttrMapValue(isString, desc="link tooltip in SVG"),
    )


_LIMIT = 1e15  # beyond any real count or amount; keeps axis arithmetic finite
_EPSILON = 1e-9  # below this a value plots as zero (sub-normal floats make NaN coordinates)


def _num(value) -> float:
    """A finite float for plotting: non-numbers and NaN/inf read as 0, magnitudes kept in [1e-9, 1e15]."""
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    if not math.isfinite(v) or abs(v) < _EPSILON:
        return 0.0
    return min(max(v, -_LIMIT), _LIMIT)


def _fmt(value: float) -> str:
    v = _num(value)
    if v.is_integer() and abs(v) < 1e12:
        return f"{int(v):d}"
    if abs(v) >= 1e12:
        return f"{v:.3g}"
    return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}".rstrip("0").rstrip(".")


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / max(ticks, 1)
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _nice_axis(lo: float, hi: float, *, integer: bool = False) -> tuple[float, float, float]:
    """A value axis (min, max, step) with round ticks that includes zero and [lo, hi]."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo <= 0:
        hi = lo + 1.0
    step = _nice_step(hi - lo)
    if integer:
        step = max(1.0, math.ceil(step))
    return math.floor(lo / step) * step, math.ceil(hi / step) * step, step


def _width(text: str, font: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, font, size)


def _wrap(text: str, font: str, size: float, max_width: float, max_lines: int = 2) -> str:
    """Break a label into at most ``max_lines`` lines of ``max_width`` (character-wise), with … if cut."""
    text = " ".join(str(text).split())
    lines: list[str] = []
    current = ""
    for ch in text:
        if current and _width(current + ch, font, size) > max_width:
            lines.append(current)
            current = ch.lstrip()
            if len(lines) == max_lines:
                break
        else:
            current += ch
    else:
        if current:
            lines.append(current)
        return "\n".join(lines)
    last = lines[-1]
    while last and _width(last + "…", font, size) > max_width:
        last = last[:-1]
    lines[-1] = last + "…"
    return "\n".join(lines)


def _frame(width: float, height: float, title: str, font: str) -> tuple[Drawing, float]:
    """An empty drawing with the title at the top; returns it and the y below the title."""
    d = Drawing(width, height, initialFontName=font)
    d._govrisk_title = title
    top = height - 6
    if title:
        fitted = _wrap(title, font, 12, width - 16, max_lines=1)
        d.add(String(8, height - 18, fitted, fontName=font, fontSize=12, fillColor=NAVY))
        top = height - 28
    return d, top


def _placeholder(width: float, height: float, title: str, font: str, message: str = NO_DATA) -> Drawing:
    d, top = _frame(width, height, title, font)
    d.add(Rect(8, 8, width - 16, top - 12, fillColor=colors.HexColor("#f7f8fa"), strokeColor=GRIDLINE,
               strokeWidth=1, strokeDashArray=[4, 3]))
    d.add(String(width / 2, 8 + (top - 12) / 2 - 5, message, fontName=font, fontSize=13, fillColor=FAINT,
                 textAnchor="middle"))
    return d


def _color(value) -> colors.Color:
    if isinstance(value, colors.Color):
        return value
    return colors.toColor(value)


# --------------------------------------------------------------------------------------------
# heat map
# --------------------------------------------------------------------------------------------


def risk_color(score: float) -> colors.Color:
    """Cell colour for a risk score (likelihood × severity, 1–25): green → yellow → red.

    On a log scale, so the corners (1, 5, 25) are green, yellow and red and the matrix is balanced.
    """
    t = math.log(min(max(_num(score), 1.0), 25.0)) / math.log(25.0)
    if t <= 0.5:
        return colors.linearlyInterpolatedColor(_GREEN, _YELLOW, 0, 0.5, t)
    return colors.linearlyInterpolatedColor(_YELLOW, _RED, 0.5, 1, t)


def _link_for(link, likelihood: int, severity: int) -> str:
    if callable(link):
        return str(link(likelihood, severity))
    return str(link).format(likelihood=likelihood, severity=severity)


def heat_map(
    counts: Mapping[tuple[int, int], int],
    *,
    title: str = "",
    link: str | Callable[[int, int], str] | None = None,
    font_name: str | None = None,
    width: float = 420,
    height: float = 380,
) -> Drawing:
    """A 5 × 5 risk matrix: likelihood (可能性) 1–5 across, severity (严重程度) 1–5 up.

    ``counts`` maps (likelihood, severity) to a number of risk points; each cell shows its count
    and is coloured by likelihood × severity. Keys outside 1–5 are ignored, negative counts read
    as 0. ``link`` (a format string with ``{likelihood}`` and ``{severity}``, or a callable
    ``(likelihood, severity) -> url``) makes each cell a link in the SVG.
    """
    font = _font(font_name)
    grid = {(x, y): 0 for x in range(1, 6) for y in range(1, 6)}
    for key, value in (counts or {}).items():
        try:
            x, y = (int(k) for k in key)
        except (TypeError, ValueError, OverflowError):
            continue
        if (x, y) in grid:
            grid[(x, y)] += max(0, int(_num(value)))
    if not any(grid.values()):
        return _placeholder(width, height, title, font)

    d, top = _frame(width, height, title, font)
    left, right, bottom = 54.0, 64.0, 46.0
    cell = max(min((width - left - right) / 5, (top - 6 - bottom) / 5), 8.0)
    gx = left + max(0.0, (width - left - right - 5 * cell) / 2)
    gy = bottom + max(0.0, (top - 6 - bottom - 5 * cell) / 2)

    cells = Group()
    for (x, y), n in grid.items():
        x0, y0 = gx + (x - 1) * cell, gy + (y - 1) * cell
        cells.add(Rect(x0, y0, cell, cell, fillColor=risk_color(x * y), strokeColor=colors.white, strokeWidth=2))
        label = _fmt(n)
        size = min(cell * 0.34, 16.0) if n else min(cell * 0.22, 10.0)
        while size > 5 and _width(label, font, size) > cell * 0.84:
            size -= 0.5
        cells.add(String(x0 + cell / 2, y0 + cell / 2 - size * 0.36, label, fontName=font, fontSize=size,
                         fillColor=TEXT if n else _ZERO, textAnchor="middle"))
    d.add(cells)

    tick = 10
    for i in range(1, 6):
        d.add(String(gx + (i - 0.5) * cell, gy - 14, str(i), fontName=font, fontSize=tick, fillColor=MUTED,
                     textAnchor="middle"))
        d.add(String(gx - 8, gy + (i - 0.5) * cell - tick * 0.36, str(i), fontName=font, fontSize=tick,
                     fillColor=MUTED, textAnchor="end"))
    d.add(String(gx + 2.5 * cell, gy - 34, "可能性 →", fontName=font, fontSize=11, fillColor=TEXT,
                 textAnchor="middle"))
    # vertical label, one character per line (readable without turning the head), arrow on top
    label = "↑严重程度"
    step = 14
    y_start = gy + 2.5 * cell + (len(label) - 1) * step / 2
    for i, ch in enumerate(label):
        d.add(String(gx - 34, y_start - i * step - 4, ch, fontName=font, fontSize=11, fillColor=TEXT,
                     textAnchor="middle"))

    # colour key: risk score 1 … 25
    kx, kw = gx + 5 * cell + 18, 10.0
    kh = 5 * cell * 0.8
    ky = gy + (5 * cell - kh) / 2
    slices = 24
    for i in range(slices):
        score = math.exp(math.log(25) * (i + 0.5) / slices)
        d.add(Rect(kx, ky + i * kh / slices, kw, kh / slices + 0.3, fillColor=risk_color(score),
                   strokeColor=None, strokeWidth=0))
    d.add(Rect(kx, ky, kw, kh, fillColor=None, strokeColor=FAINT, strokeWidth=0.5))
    d.add(String(kx + kw + 4, ky + kh - 7, "高", fontName=font, fontSize=9, fillColor=MUTED))
    d.add(String(kx + kw + 4, ky, "低", fontName=font, fontSize=9, fillColor=MUTED))
    d.add(String(kx + kw / 2, ky + kh + 6, "风险值", fontName=font, fontSize=9, fillColor=MUTED, textAnchor="middle"))

    if link:
        overlay = Group()
        clear = colors.Color(1, 1, 1, alpha=0)
        for (x, y), n in grid.items():
            r = _LinkRect(gx + (x - 1) * cell, gy + (y - 1) * cell, cell, cell, fillColor=clear, strokeColor=None,
                          strokeWidth=0)
            r.hrefURL = _link_for(link, x, y)
            r.hrefTitle = f"可能性 {x} × 严重程度 {y}：{n} 项"
            overlay.add(r)
        d.add(overlay)
    return d


# --------------------------------------------------------------------------------------------
# bars
# --------------------------------------------------------------------------------------------


def _legend(d: Drawing, names: Sequence[str], fills: Sequence[colors.Color], font: str, width: float, y: float) -> None:
    """One centred row (or more) of colour keys, starting at baseline ``y`` and going down."""
    size, box, gap = 9.0, 8.0, 14.0
    entries = [(name, box + 4 + _width(name, font, size)) for name in names]
    rows: list[list[int]] = [[]]
    used = 0.0
    for i, (_name, w) in enumerate(entries):
        if rows[-1] and used + gap + w > width - 16:
            rows.append([])
            used = 0.0
        used += (gap if rows[-1] else 0) + w
        rows[-1].append(i)
    for r, row in enumerate(rows):
        total = sum(entries[i][1] for i in row) + gap * (len(row) - 1)
        x = (width - total) / 2
        yy = y - r * 14
        for i in row:
            d.add(Rect(x, yy - 1, box, box, fillColor=fills[i], strokeColor=None, strokeWidth=0))
            d.add(String(x + box + 4, yy, entries[i][0], fontName=font, fontSize=size, fillColor=TEXT))
            x += entries[i][1] + gap


def _legend_rows(names: Sequence[str], font: str, width: float) -> int:
    size, box, gap = 9.0, 8.0, 14.0
    rows, used = 1, 0.0
    for name in names:
        w = box + 4 + _width(name, font, size)
        if used and used + gap + w > width - 16:
            rows, used = rows + 1, 0.0
        used += (gap if used else 0) + w
    return rows


def _series_fills(names: Sequence[str], chosen: Mapping[str, object] | None) -> list[colors.Color]:
    """Colours per series: as chosen, else the risk-level colour for 一级/二级/三级, else the next
    palette colour not already taken."""
    fixed = {name: (chosen or {}).get(name) or RISK_LEVEL_COLORS.get(name) for name in names}
    taken = {_color(c).hexval() for c in fixed.values() if c}
    free = [c for c in PALETTE if _color(c).hexval() not in taken] or list(PALETTE)
    fills, k = [], 0
    for name in names:
        if fixed[name]:
            fills.append(_color(fixed[name]))
        else:
            fills.append(_color(free[k % len(free)]))
            k += 1
    return fills


def _style_value_axis(axis, font: str, lo: float, hi: float, step: float) -> None:
    axis.valueMin, axis.valueMax, axis.valueStep = lo, hi, step
    axis.labels.fontName = font
    axis.labels.fontSize = 8
    axis.labels.fillColor = MUTED
    axis.labelTextFormat = _fmt
    axis.visibleGrid = 1
    axis.gridStrokeColor = GRIDLINE
    axis.gridStrokeWidth = 0.5
    axis.visibleAxis = 0
    axis.visibleTicks = 0


def _style_category_axis(axis, font: str) -> None:
    axis.labels.fontName = font
    axis.labels.fontSize = 9
    axis.labels.fillColor = TEXT
    axis.strokeColor = AXIS
    axis.strokeWidth = 0.8
    axis.visibleTicks = 0


def _bars(
    categories: Sequence[str],
    data: list[list[float]],
    names: Sequence[str],
    fills: Sequence[colors.Color],
    *,
    title: str,
    horizontal: bool,
    stacked: bool,
    font: str,
    width: float,
    height: float | None,
    value_labels: bool,
) -> Drawing:
    n = len(categories)
    legend = len(names) > 1
    totals = [sum(v for v in col if v > 0) for col in zip(*data, strict=True)] if stacked else []
    negatives = [sum(v for v in col if v < 0) for col in zip(*data, strict=True)] if stacked else []
    flat = [v for series in data for v in series]
    lo, hi = (min(negatives), max(totals)) if stacked else (min(flat), max(flat))
    integer = all(float(v).is_integer() for v in flat)
    vmin, vmax, vstep = _nice_axis(lo, hi, integer=integer)
    legend_h = 14.0 * _legend_rows(names, font, width) + 8 if legend else 0.0

    if horizontal:
        if height is None:
            height = max(140.0, 28.0 + (28 if title else 0) + legend_h + 24 + n * (22 if len(data) == 1 or stacked
                                                                                    else 10 + 12 * len(data)))
        d, top = _frame(width, height, title, font)
        label_w = min(max(_width(str(c), font, 9) for c in categories), width * 0.32)
        chart = HorizontalBarChart()
        chart.x = label_w + 16
        chart.y = 20 + legend_h
        chart.width = max(width - chart.x - 28, 10.0)
        chart.height = max(top - 6 - chart.y, 10.0)
        # ReportLab draws the first category at the bottom: reverse so the list reads top-down
        chart.data = [list(reversed(series)) for series in data]
        chart.categoryAxis.categoryNames = [_wrap(c, font, 9, label_w, max_lines=2) for c in reversed(categories)]
        _style_category_axis(chart.categoryAxis, font)
        chart.categoryAxis.labels.boxAnchor = "e"
        chart.categoryAxis.labels.dx = -6
        chart.categoryAxis.labels.textAnchor = "end"
        _style_value_axis(chart.valueAxis, font, vmin, vmax, vstep)
    else:
        slot = (width - 60) / max(n, 1)
        rotate = slot < 24  # too many categories for level labels: turn them, one line each
        rot_size = max(5.0, min(8.0, slot - 1))
        if rotate:
            every = max(1, math.ceil((rot_size + 1) / slot))  # thin out what cannot stand side by side
            wrapped = [_wrap(c, font, rot_size, 90, max_lines=1) if i % every == 0 else ""
                       for i, c in enumerate(categories)]
            label_h = max(_width(w, font, rot_size) for w in wrapped) + 8
            value_labels = value_labels and slot >= 14
        else:
            wrapped = [_wrap(c, font, 9, max(slot - 4, 18), max_lines=2) for c in categories]
            label_h = max(w.count("\n") + 1 for w in wrapped) * 11 + 6
        if height is None:
            height = 260.0 + legend_h + (label_h - 28 if rotate else 0)
        d, top = _frame(width, height, title, font)
        chart = VerticalBarChart()
        axis_w = max(_width(_fmt(v), font, 8) for v in (vmin, vmax)) + 10
        chart.x = axis_w + 6
        chart.y = 10 + legend_h + label_h
        chart.width = max(width - chart.x - 10, 10.0)
        chart.height = max(top - 14 - chart.y, 10.0)
        chart.data = data
        chart.categoryAxis.categoryNames = wrapped
        _style_category_axis(chart.categoryAxis, font)
        chart.categoryAxis.labels.boxAnchor = "n"
        chart.categoryAxis.labels.dy = -4
        chart.categoryAxis.labels.leading = 11
        if rotate:
            chart.categoryAxis.labels.angle = 90
            chart.categoryAxis.labels.boxAnchor = "e"
            chart.categoryAxis.labels.fontSize = rot_size
        _style_value_axis(chart.valueAxis, font, vmin, vmax, vstep)

    chart.categoryAxis.style = "stacked" if stacked else "parallel"
    if vmin < 0:
        chart.categoryAxis.labelAxisMode = "low"  # labels below the plot, not on the zero line
    if len(data) == 1 or stacked:
        chart.groupSpacing = max(2.0, (chart.height if horizontal else chart.width) / max(n, 1) * 0.35)
        chart.barSpacing = 0
    else:
        chart.groupSpacing = max(2.0, (chart.height if horizontal else chart.width) / max(n, 1) * 0.25)
        chart.barSpacing = 1
    chart.strokeColor = None
    for i, fill in enumerate(fills):
        chart.bars[i].fillColor = fill
        chart.bars[i].strokeColor = None
        chart.bars[i].strokeWidth = 0
    if value_labels and not stacked:
        chart.barLabelFormat = _fmt
        chart.barLabels.fontName = font
        chart.barLabels.fontSize = 8
        chart.barLabels.fillColor = TEXT
        chart.barLabels.nudge = 7
        chart.barLabels.boxAnchor = "w" if horizontal else "s"
        chart.barLabels.boxTarget = "normal"  # at the end of the bar, on the side away from zero
        for r, row in enumerate(chart.data):
            for c, value in enumerate(row):
                if value < 0:
                    chart.barLabels[(r, c)].boxAnchor = "e" if horizontal else "n"
    d.add(chart)

    if value_labels and stacked and n:
        # totals at the end of each stack
        span = vmax - vmin
        for i, total in enumerate(totals):
            if horizontal:
                slot = chart.height / n
                pos_y = chart.y + chart.height - (i + 0.5) * slot - 3
                pos_x = chart.x + (total - vmin) / span * chart.width + 4
                d.add(String(pos_x, pos_y, _fmt(total), fontName=font, fontSize=8, fillColor=TEXT))
            else:
                slot = chart.width / n
                pos_x = chart.x + (i + 0.5) * slot
                pos_y = chart.y + (total - vmin) / span * chart.height + 3
                d.add(String(pos_x, pos_y, _fmt(total), fontName=font, fontSize=8, fillColor=TEXT,
                             textAnchor="middle"))
    if legend:
        _legend(d, names, fills, font, width, legend_h - 12)
    return d


def bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    title: str = "",
    horizontal: bool = False,
    font_name: str | None = None,
    width: float = 480,
    height: float | None = None,
    color: str | colors.Color = PALETTE[0],
    value_labels: bool = True,
) -> Drawing:
    """One bar per (label, value). Horizontal bars read top-down in the given order and grow
    with the number of items when ``height`` is None. Long labels wrap onto two lines, then "…"."""
    font = _font(font_name)
    items = [(str(label), _num(value)) for label, value in (items or [])]
    if not items:
        return _placeholder(width, height or 260.0, title, font)
    return _bars(
        [label for label, _ in items], [[v for _, v in items]], [""], [_color(color)],
        title=title, horizontal=horizontal, stacked=False, font=font, width=width, height=height,
        value_labels=value_labels,
    )


def stacked_bars(
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    title: str = "",
    horizontal: bool = False,
    font_name: str | None = None,
    width: float = 480,
    height: float | None = None,
    series_colors: Mapping[str, str | colors.Color] | None = None,
    value_labels: bool = True,
) -> Drawing:
    """Stacked bars: one bar per category, one segment per series, a legend, totals on top.

    Series named 一级/二级/三级 get the risk-level colours unless ``series_colors`` says otherwise;
    series shorter than ``categories`` are padded with zeros.
    """
    font = _font(font_name)
    cats = [str(c) for c in (categories or [])]
    names = [str(name) for name in (series or {})]
    if not cats or not names:
        return _placeholder(width, height or 260.0, title, font)
    data = []
    for values in (series or {}).values():
        row = [_num(v) for v in list(values)[: len(cats)]]
        data.append(row + [0.0] * (len(cats) - len(row)))
    if not any(v for row in data for v in row):
        return _placeholder(width, height or 260.0, title, font)
    return _bars(
        cats, data, names, _series_fills(names, series_colors),
        title=title, horizontal=horizontal, stacked=True, font=font, width=width, height=height,
        value_labels=value_labels,
    )


# --------------------------------------------------------------------------------------------
# trend
# --------------------------------------------------------------------------------------------


def trend_line(
    points: Sequence[tuple[str, float]],
    *,
    title: str = "",
    font_name: str | None = None,
    width: float = 480,
    height: float = 240,
    color: str | colors.Color = PALETTE[0],
    value_labels: bool | None = None,
) -> Drawing:
    """A line over labelled points (e.g. months). Labels thin out when there are many points;
    values are printed at the points when there are 12 or fewer (``value_labels`` overrides)."""
    font = _font(font_name)
    pts = [(str(label), _num(value)) for label, value in (points or [])]
    if not pts:
        return _placeholder(width, height, title, font)
    values = [v for _, v in pts]
    n = len(pts)
    vmin, vmax, vstep = _nice_axis(min(values), max(values), integer=all(v.is_integer() for v in values))
    d, top = _frame(width, height, title, font)

    chart = HorizontalLineChart()
    axis_w = max(_width(_fmt(v), font, 8) for v in (vmin, vmax)) + 10
    chart.x = axis_w + 6
    chart.y = 30
    chart.width = max(width - chart.x - 14, 10.0)
    chart.height = max(top - 14 - chart.y, 10.0)
    chart.data = [values]
    chart.joinedLines = 1
    slot = chart.width / n
    label_w = max(_width(label, font, 9) for label, _ in pts) + 6
    every = max(1, math.ceil(label_w / slot))
    chart.categoryAxis.categoryNames = [label if i % every == 0 else "" for i, (label, _) in enumerate(pts)]
    _style_category_axis(chart.categoryAxis, font)
    chart.categoryAxis.labels.boxAnchor = "n"
    chart.categoryAxis.labels.dy = -4
    _style_value_axis(chart.valueAxis, font, vmin, vmax, vstep)
    line = chart.lines[0]
    line.strokeColor = _color(color)
    line.strokeWidth = 2
    marker = makeMarker("FilledCircle")
    marker.size = 5
    marker.fillColor = _color(color)
    marker.strokeColor = colors.white
    marker.strokeWidth = 0.8
    line.symbol = marker
    show = (n <= 12) if value_labels is None else value_labels
    if show:
        chart.lineLabelFormat = _fmt
        chart.lineLabels.fontName = font
        chart.lineLabels.fontSize = 8
        chart.lineLabels.fillColor = TEXT
        chart.lineLabels.dy = 8
    d.add(chart)
    d.add(Line(chart.x, chart.y, chart.x + chart.width, chart.y, strokeColor=AXIS, strokeWidth=0.8))
    return d
