"""Flow charts (DESIGN §6): layered Drawings rendered to SVG (and PDF), readable at 40 steps."""

import random
import re
from pathlib import Path

from reportlab.graphics import renderPDF

from govrisk.core.charts import drawing_to_svg
from govrisk.flows.drawing import BOX_W, PAD, flow_drawing, text_width, wrap_text
from govrisk.flows.validation import ROLES, Edge, FlowDoc, Step, parse_flow, validate_flow

EXAMPLE = Path(__file__).resolve().parents[2] / "seed" / "flows" / "example-licensing.json"


def big_flow(n: int = 40, seed: int = 7) -> FlowDoc:
    rnd = random.Random(seed)
    steps = tuple(Step(f"s{i}", f"第{i}步办理", f"岗位{i % 6}", ROLES[i % 5], i % 4) for i in range(n))
    edges = [Edge(f"s{rnd.randrange(max(0, i - 3), i)}", f"s{i}") for i in range(1, n)]
    edges += [Edge(f"s{i}", f"s{i - rnd.randrange(1, 6)}", loop=True, label=f"退回{i}") for i in range(10, n, 10)]
    edges += [Edge("s1", "s12", label="简易程序")]
    return FlowDoc("XK-BIG", "internal", 60, steps, tuple(edges))


def example() -> FlowDoc:
    doc, _ = parse_flow(EXAMPLE.read_text(encoding="utf-8"))
    return doc


def test_forty_steps_render_every_name_post_and_limit():
    doc = big_flow()
    svg = drawing_to_svg(flow_drawing(doc))
    assert svg.startswith("<svg")
    for step in doc.steps:
        assert f">{step.name}<" in svg
        assert f">{step.post}<" in svg
    assert "3 工作日" in svg


def test_loop_edges_render_dashed_with_their_labels():
    svg = drawing_to_svg(flow_drawing(example()))
    assert ">补正<" in svg
    assert len(_dashed_paths(svg)) == 1
    assert re.search(r' C [\d.]+ [\d.]+ [\d.]+ [\d.]+ [\d.]+ [\d.]+', _dashed_paths(svg)[0])  # a curve
    no_loops = FlowDoc("X", "internal", None, example().steps, tuple(e for e in example().edges if not e.loop))
    assert _dashed_paths(drawing_to_svg(flow_drawing(no_loops))) == []


def _dashed_paths(svg: str) -> list[str]:
    return [p for p in re.findall(r"<path [^>]*>", svg) if "stroke-dasharray" in p and " C " in p]


def test_loop_labels_of_a_big_flow_render():
    svg = drawing_to_svg(flow_drawing(big_flow()))
    for i in range(10, 40, 10):
        assert f">退回{i}<" in svg
    assert ">简易程序<" in svg


def test_highlight_draws_a_thick_red_border():
    doc = example()
    plain = drawing_to_svg(flow_drawing(doc))
    marked = drawing_to_svg(flow_drawing(doc, highlight={"review"}))
    assert plain != marked
    assert "stroke-width: 3" not in plain
    assert marked.count("stroke-width: 3;") == 1
    assert "rgb(82%,18%,18%); stroke-linecap: butt; stroke-width: 3" in marked


def test_highlight_from_findings():
    doc = big_flow()
    report = validate_flow(doc, time_limit_days=5)
    steps = {s for f in report.findings for s in f.steps}
    assert steps
    svg = drawing_to_svg(flow_drawing(doc, highlight=steps))
    assert svg.count("stroke-width: 3;") == len(steps)


def test_risk_badges():
    svg = drawing_to_svg(flow_drawing(example(), badges={"decide": 1, "review": 2, "accept": 3, "deliver": 9}))
    assert svg.count(">一级<") == 1 and svg.count(">二级<") == 1 and svg.count(">三级<") == 1
    assert "<circle" in svg
    assert "<circle" not in drawing_to_svg(flow_drawing(example()))


def test_legend_names_every_role():
    svg = drawing_to_svg(flow_drawing(example()))
    for title in ("受理", "审查", "决定", "执行", "监督"):
        assert f">{title}<" in svg


def test_width_scales_with_the_widest_layer():
    steps = (Step("a", "受理", "窗口", "acceptance", 1), *(Step(f"b{i}", f"审查{i}", "审查岗", "review", 1)
                                                        for i in range(10)), Step("c", "决定", "领导", "decision", 1))
    edges = (*(Edge("a", f"b{i}") for i in range(10)), *(Edge(f"b{i}", "c") for i in range(10)))
    wide = flow_drawing(FlowDoc("W", "internal", None, steps, edges))
    chain = flow_drawing(example())
    assert wide.width >= 10 * BOX_W > chain.width
    assert wide.height < chain.height * 1.5


def test_long_names_wrap_inside_the_box():
    name = "对申请人提交的全部申请材料进行实质性审查，必要时组织现场核查，并在规定期限内出具书面审查意见及处理建议"
    doc = FlowDoc("L", "internal", None, (Step("a", name, "审查岗", "review", 3),), ())
    svg = drawing_to_svg(flow_drawing(doc))
    lines = wrap_text(name, BOX_W - 2 * PAD, "Helvetica", 9, 3)
    assert len(lines) == 3 and lines[-1].endswith("…")
    assert all(text_width(line, "Helvetica", 9) <= BOX_W - 2 * PAD for line in lines)
    assert all(f">{line}<" in svg for line in lines)
    assert "".join(lines).rstrip("…") == name[: len("".join(lines)) - 1]


def test_wrap_keeps_latin_words_whole():
    lines = wrap_text("Review of application materials submitted", 80, "Helvetica", 9, 5)
    assert len(lines) > 1
    assert all(word in " ".join(lines).split() for word in ("Review", "application", "materials", "submitted"))


def test_cyclic_and_broken_flows_still_draw():
    steps = (Step("a", "甲", "岗", "review", 1), Step("b", "乙", None, "decision", None),
             Step("c", "丙", "岗", "execution", 2))
    edges = (Edge("a", "b"), Edge("b", "a"), Edge("b", "b"), Edge("c", "c", loop=True), Edge("b", "zz"))
    cyclic = FlowDoc("C", "internal", None, steps, edges)
    svg = drawing_to_svg(flow_drawing(cyclic))
    assert all(f">{n}<" in svg for n in ("甲", "乙", "丙"))
    assert "（未设岗位）" in svg
    assert drawing_to_svg(flow_drawing(FlowDoc("E", "internal", None, (), ()))).startswith("<svg")


def test_drawing_renders_to_pdf_too():
    pdf = renderPDF.drawToString(flow_drawing(big_flow(), highlight={"s3"}, badges={"s5": 1}))
    assert pdf.startswith(b"%PDF")


def test_boxes_do_not_overlap_at_forty_steps():
    svg = drawing_to_svg(flow_drawing(big_flow()))
    boxes = [tuple(map(float, m)) for m in re.findall(
        r'<rect x="([\d.]+)" y="([\d.]+)" width="(140\.0)" height="([\d.]+)" rx="5"', svg)]
    assert len(boxes) == 40
    for i, (x1, y1, w1, h1) in enumerate(boxes):
        for x2, y2, w2, h2 in boxes[i + 1:]:
            assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1
