"""core.charts: one Drawing per chart, rendered as responsive SVG and embedded in PDFs, with Chinese text."""

import re
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportlab.graphics.shapes import Drawing, Rect, String, UserNode, mmult, transformPoint
from reportlab.lib import colors

from govrisk.core import charts, pdf

PDFTOTEXT = shutil.which("pdftotext")

COUNTS = {(1, 1): 3, (2, 3): 7, (3, 2): 12, (4, 4): 2, (5, 5): 1, (3, 5): 123}
DEPTS = [("市发展和改革委员会", 42), ("市财政局", 35), ("市自然资源和规划局", 51), ("市卫生健康委员会", 19.5)]


@pytest.fixture(autouse=True)
def _no_font_override(monkeypatch):
    monkeypatch.delenv(pdf.FONT_ENV_VAR, raising=False)


def texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def walk(node, matrix=(1, 0, 0, 1, 0, 0)):
    """Every shape in a drawing with its absolute transform (widgets expanded)."""
    if isinstance(node, UserNode):
        node = node.provideNode()
    matrix = mmult(matrix, getattr(node, "transform", None) or (1, 0, 0, 1, 0, 0))
    for child in getattr(node, "contents", []):
        if isinstance(child, UserNode):
            child = child.provideNode()
        yield child, matrix
        yield from walk(child, matrix)


def text_heights(drawing: Drawing) -> dict[str, float]:
    """Text → absolute y in the drawing (bigger is higher up)."""
    return {n.text: transformPoint(m, (n.x, n.y))[1] for n, m in walk(drawing) if isinstance(n, String)}


def rect_fills(drawing: Drawing) -> list:
    return [n.fillColor for n, _ in walk(drawing) if isinstance(n, Rect)]


def pdf_text(drawing: Drawing, tmp_path) -> str:
    data = pdf.build_pdf([pdf.drawing_flowable(drawing, 480)], title="图表")
    path = tmp_path / "chart.pdf"
    path.write_bytes(data)
    out = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True).stdout
    return "".join(out.decode("utf-8").split())


# --------------------------------------------------------------------------------------------
# drawing_to_svg
# --------------------------------------------------------------------------------------------


def test_drawing_to_svg_keeps_its_contract_for_plain_drawings():
    d = Drawing(200, 100)
    d.add(String(10, 10, "hello", fontName="Helvetica", fontSize=10))
    svg = charts.drawing_to_svg(d)
    assert svg.startswith("<svg") and "<?xml" not in svg and "<!DOCTYPE" not in svg
    assert svg.rstrip().endswith("</svg>")
    assert "hello" in svg and "font-family: Helvetica" in svg


def test_svg_is_responsive_and_uses_a_browser_cjk_font_stack():
    svg = charts.drawing_to_svg(charts.bar_chart(DEPTS, title="各单位风险点"))
    root = svg[: svg.index(">")]
    assert 'width="100%"' in root and 'viewBox="0 0 480 ' in root and "height=" not in root
    assert charts.CJK_CSS_FONT_STACK in svg
    assert pdf.cjk_font_name() not in svg  # the ReportLab font name means nothing to a browser
    assert "<title>各单位风险点</title>" in svg and 'aria-label="各单位风险点"' in svg
    assert "<title>...</title>" not in svg and "<desc>" not in svg


def test_svg_ids_do_not_clash_between_charts():
    a = charts.drawing_to_svg(charts.bar_chart(DEPTS))
    b = charts.drawing_to_svg(charts.heat_map(COUNTS))
    ids_a, ids_b = set(re.findall(r'id="([^"]+)"', a)), set(re.findall(r'id="([^"]+)"', b))
    assert ids_a and ids_b and not ids_a & ids_b
    for svg in (a, b):
        clip = re.search(r"url\(#([^)]+)\)", svg).group(1)
        assert f'id="{clip}"' in svg


def test_output_is_deterministic():
    def build():
        return [
            charts.heat_map(COUNTS, title="热力图", link="/r?l={likelihood}&s={severity}"),
            charts.bar_chart(DEPTS, title="柱状图"),
            charts.bar_chart(DEPTS, horizontal=True),
            charts.stacked_bars(["甲", "乙"], {"一级": [1, 2], "二级": [3, 4]}),
            charts.trend_line([("1月", 3), ("2月", 5)]),
        ]

    assert [charts.drawing_to_svg(d) for d in build()] == [charts.drawing_to_svg(d) for d in build()]
    story1 = [pdf.drawing_flowable(d, 480) for d in build()]
    story2 = [pdf.drawing_flowable(d, 480) for d in build()]
    assert pdf.build_pdf(story1, title="图") == pdf.build_pdf(story2, title="图")


# --------------------------------------------------------------------------------------------
# heat map
# --------------------------------------------------------------------------------------------


def test_heat_map_svg_shows_every_count_and_the_axis_labels():
    svg = charts.drawing_to_svg(charts.heat_map(COUNTS, title="风险分布"))
    shown = texts(svg)
    for n in COUNTS.values():
        assert str(n) in shown
    assert shown.count("0") >= 25 - len(COUNTS)  # empty cells show 0
    assert "可能性 →" in shown
    assert all(ch in shown for ch in "严重程度")
    assert "风险分布" in shown


def test_heat_map_colours_follow_likelihood_times_severity():
    low, mid, high = charts.risk_color(1), charts.risk_color(5), charts.risk_color(25)
    assert low.green > low.red  # green
    assert mid.red > 0.9 and mid.green > 0.8  # yellow
    assert high.red > high.green  # red
    fills = rect_fills(charts.heat_map({(5, 5): 1}))
    assert high in fills and low in fills


def test_heat_map_links_each_cell_in_svg():
    svg = charts.drawing_to_svg(charts.heat_map(COUNTS, link="/risks?likelihood={likelihood}&severity={severity}"))
    assert svg.count("<a ") == 25
    assert 'xlink:href="/risks?likelihood=3&amp;severity=2"' in svg
    assert "可能性 3 × 严重程度 2：12 项" in svg
    by_callable = charts.drawing_to_svg(charts.heat_map(COUNTS, link=lambda x, y: f"/cell/{x}/{y}"))
    assert 'xlink:href="/cell/5/5"' in by_callable


def test_heat_map_ignores_bad_keys_and_negative_counts():
    svg = charts.drawing_to_svg(charts.heat_map({(9, 9): 4, (0, 1): 2, "x": 1, (2, 2): -3, (1, 1): 6}))
    shown = texts(svg)
    assert "6" in shown and "-3" not in shown
    assert shown.count("4") == 2  # the two axis ticks only, no cell shows 4


@pytest.mark.parametrize("counts", [{}, {(1, 1): 0}, {(7, 7): 5}, None])
def test_heat_map_without_data_says_so(counts):
    d = charts.heat_map(counts, title="空")
    assert isinstance(d, Drawing)
    assert charts.NO_DATA in texts(charts.drawing_to_svg(d))


@pytest.mark.skipif(not PDFTOTEXT, reason="poppler-utils not installed")
def test_heat_map_in_pdf_has_chinese_labels(tmp_path):
    text = pdf_text(charts.heat_map(COUNTS, title="廉政风险热力图"), tmp_path)
    assert "廉政风险热力图" in text and "可能性" in text and "123" in text


# --------------------------------------------------------------------------------------------
# bars and lines
# --------------------------------------------------------------------------------------------


def test_bar_chart_with_chinese_labels_and_values():
    svg = charts.drawing_to_svg(charts.bar_chart(DEPTS, title="各单位风险点数量"))
    joined = "".join(texts(svg))
    for label in ("市财政局", "各单位风险点数量", "42", "19.5"):
        assert label in joined


def test_horizontal_bars_read_top_down_in_the_given_order():
    pos = text_heights(charts.bar_chart([("第一", 1), ("第二", 2), ("第三", 3)], horizontal=True))
    assert pos["第一"] > pos["第二"] > pos["第三"]


def test_long_labels_wrap_or_shorten():
    label = "市住房和城乡建设局城市管理综合行政执法支队第三大队" * 3
    svg = charts.drawing_to_svg(charts.bar_chart([(label, 5), ("短", 3)]))
    shown = texts(svg)
    assert label not in shown
    assert any(t.endswith("…") for t in shown)


def test_many_bars_stay_within_the_drawing():
    items = [(f"单位{i}", i) for i in range(80)]
    d = charts.bar_chart(items)
    x0, y0, x1, y1 = d.getBounds()
    assert x0 >= -1 and y0 >= -1 and x1 <= d.width + 1
    tall = charts.bar_chart(items, horizontal=True)
    assert tall.height > 80 * 15


def test_negative_and_odd_values_do_not_break_bars():
    d = charts.bar_chart([("增加", 12), ("减少", -7), ("无效", float("nan")), ("无穷", float("inf")), ("文本", "x")])
    shown = texts(charts.drawing_to_svg(d))
    assert "-7" in shown and "12" in shown


def test_stacked_bars_legend_totals_and_level_colours():
    d = charts.stacked_bars(
        ["发改委", "财政局"], {"一级": [1, 2], "二级": [3, 4], "三级": [5, 6], "其他": [1]}, title="等级构成"
    )
    shown = texts(charts.drawing_to_svg(d))
    for name in ("一级", "二级", "三级", "其他", "发改委", "财政局", "10", "12"):
        assert name in shown
    fills = rect_fills(d)
    for hexval in charts.RISK_LEVEL_COLORS.values():
        assert colors.HexColor(hexval) in fills
    custom = charts.stacked_bars(["甲"], {"A": [1]}, series_colors={"A": "#123456"}, horizontal=True)
    assert colors.HexColor("#123456") in rect_fills(custom)


def test_trend_line_labels_and_thinning():
    svg = charts.drawing_to_svg(charts.trend_line([(f"2024-{m:02d}", m * 2) for m in range(1, 13)], title="趋势"))
    shown = texts(svg)
    assert "趋势" in shown and "2024-01" in shown and "24" in shown
    many = texts(charts.drawing_to_svg(charts.trend_line([(f"2020-{i:03d}", i) for i in range(120)])))
    assert 0 < sum(t.startswith("2020-") for t in many) < 40


@pytest.mark.parametrize(
    "drawing",
    [
        lambda: charts.bar_chart([], title="空柱状图"),
        lambda: charts.bar_chart([], horizontal=True),
        lambda: charts.stacked_bars([], {}),
        lambda: charts.stacked_bars(["甲"], {}),
        lambda: charts.stacked_bars(["甲"], {"一级": [0]}),
        lambda: charts.trend_line([]),
    ],
)
def test_empty_inputs_give_a_no_data_drawing(drawing):
    d = drawing()
    assert isinstance(d, Drawing) and d.width > 0 and d.height > 0
    assert charts.NO_DATA in texts(charts.drawing_to_svg(d))
    assert pdf.build_pdf([d], title="空").startswith(b"%PDF")


@pytest.mark.skipif(not PDFTOTEXT, reason="poppler-utils not installed")
def test_bar_chart_in_pdf_keeps_chinese_text(tmp_path):
    text = pdf_text(charts.bar_chart(DEPTS, title="各单位风险点数量", horizontal=True), tmp_path)
    assert "各单位风险点数量" in text and "市财政局" in text


def test_explicit_font_name_is_used():
    svg = charts.drawing_to_svg(charts.bar_chart([("a", 1)], font_name="Helvetica"))
    assert "font-family: Helvetica" in svg and charts.CJK_CSS_FONT_STACK not in svg


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

keys = st.tuples(st.integers(-3, 8), st.integers(-3, 8))
count_dicts = st.dictionaries(keys, st.integers(-10, 10**15), max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(count_dicts)
def test_heat_map_never_raises(counts):
    d = charts.heat_map(counts)
    svg = charts.drawing_to_svg(d)
    valid = {k: v for k, v in counts.items() if 1 <= k[0] <= 5 and 1 <= k[1] <= 5 and v > 0}
    if valid:
        shown = texts(svg)
        assert all(charts._fmt(v) in shown for v in valid.values())
    else:
        assert charts.NO_DATA in texts(svg)


numbers = st.one_of(st.integers(-(10**12), 10**12), st.floats(allow_nan=True, allow_infinity=True))
labels = st.text(min_size=0, max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(labels, numbers), max_size=25), st.booleans())
def test_bar_chart_never_raises(items, horizontal):
    charts.drawing_to_svg(charts.bar_chart(items, horizontal=horizontal))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(labels, numbers), max_size=40))
def test_trend_line_never_raises(points):
    charts.drawing_to_svg(charts.trend_line(points))
