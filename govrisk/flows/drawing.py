"""Flow charts as ReportLab Drawings (DESIGN §6): layered top-to-bottom layout from the networkx layers."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Path, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from govrisk.flows.validation import ROLE_TITLES, ROLES, Edge, FlowDoc, Step, layers

BOX_W, H_GAP, V_GAP, MARGIN, LANE = 140, 28, 46, 16, 14
PAD, NAME_SIZE, NAME_LEAD, DETAIL_SIZE, DETAIL_LEAD, LABEL_SIZE = 6, 9, 11, 7.5, 9.5, 7
MAX_NAME_LINES = 3
ROLE_COLOURS = {  # (fill, stroke)
    "acceptance": ("#E3F2FD", "#1565C0"),
    "review": ("#E8F5E9", "#2E7D32"),
    "decision": ("#F3E5F5", "#6A1B9A"),
    "execution": ("#E0F2F1", "#00695C"),
    "supervision": ("#ECEFF1", "#455A64"),
}
BADGES = {1: ("一级", "#D32F2F", "#FFFFFF"), 2: ("二级", "#F57C00", "#FFFFFF"), 3: ("三级", "#FBC02D", "#212121")}
HIGHLIGHT = colors.HexColor("#D32F2F")
EDGE_COLOUR, LOOP_COLOUR = colors.HexColor("#424242"), colors.HexColor("#8D6E63")


@dataclass
class Box:
    """A rectangle: left, bottom (top in BPMN's y-down diagrams), width, height."""

    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w


@dataclass
class _Box(Box):
    step: Step | None = None
    layer: int = 0


@lru_cache(maxsize=16384)
def _char_width(char: str, font_name: str, size: float) -> float:
    wide = unicodedata.east_asian_width(char) in "WF"
    return max(stringWidth(char, font_name, size), size if wide else 0)


def text_width(text: str, font_name: str, size: float) -> float:
    """Width of text, counting wide (CJK) characters as a full em even in fonts without those glyphs."""
    return sum(_char_width(char, font_name, size) for char in text)


def wrap_text(text: str, width: float, font_name: str, size: float, max_lines: int) -> list[str]:
    """Greedy wrap: Latin words stay whole when they fit, CJK breaks anywhere; the last line ends in … if cut."""
    lines, line, used = [], "", 0.0
    for token in re.findall(r"[A-Za-z0-9_.\-]+|\s+|.", " ".join(text.split())):
        pieces = [token] if text_width(token, font_name, size) <= width else list(token)
        for piece in pieces:
            piece_width = text_width(piece, font_name, size)
            if line and used + piece_width > width:
                lines.append(line.rstrip())
                line = piece.lstrip()
                used = text_width(line, font_name, size)
            else:
                line += piece
                used += piece_width
    lines.append(line.rstrip())
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and text_width(last + "…", font_name, size) > width:
            last = last[:-1]
        lines = lines[: max_lines - 1] + [last + "…"]
    return lines


def _ordered_layers(doc: FlowDoc) -> list[list[str]]:
    """Layers with a barycenter sweep down and up, so edges cross less."""
    rows = layers(doc)
    preds: dict[str, list[str]] = {}
    succs: dict[str, list[str]] = {}
    for edge in doc.edges:
        if not edge.loop:
            preds.setdefault(edge.target, []).append(edge.source)
            succs.setdefault(edge.source, []).append(edge.target)
    for sweep, neighbours in ((range(1, len(rows)), preds), (range(len(rows) - 2, -1, -1), succs)):
        for index in sweep:
            rows[index] = _barycenter_sort(rows[index], rows, neighbours)
    return rows


def ordered_layers(doc: FlowDoc) -> list[list[str]]:
    """The chart's rows (topological generations) in drawing order; the BPMN export uses them as its columns."""
    return _ordered_layers(doc)


def _barycenter_sort(row: list[str], rows: list[list[str]], neighbours: dict[str, list[str]]) -> list[str]:
    position = {node: i - (len(r) - 1) / 2 for r in rows for i, node in enumerate(r)}
    own = {node: i - (len(row) - 1) / 2 for i, node in enumerate(row)}

    def key(node: str) -> float:
        known = [position[n] for n in neighbours.get(node, ()) if n in position and n not in own]
        return sum(known) / len(known) if known else own[node]

    return sorted(row, key=key)


def _box_height(doc: FlowDoc, font_name: str) -> float:
    name_lines = max((len(wrap_text(s.name, BOX_W - 2 * PAD, font_name, NAME_SIZE, MAX_NAME_LINES)) for s in doc.steps),
                     default=1)
    return 2 * PAD + name_lines * NAME_LEAD + 2 * DETAIL_LEAD + 2


def _place(doc: FlowDoc, rows: list[list[str]], box_h: float, left: float, top: float) -> dict[str, _Box]:
    steps = doc.step_map()
    widest = max((len(r) for r in rows), default=1)
    content_w = widest * (BOX_W + H_GAP) - H_GAP
    boxes = {}
    for layer, row in enumerate(rows):
        row_w = len(row) * (BOX_W + H_GAP) - H_GAP
        x0, y = left + (content_w - row_w) / 2, top - layer * (box_h + V_GAP) - box_h
        for i, node in enumerate(row):
            boxes[node] = _Box(x0 + i * (BOX_W + H_GAP), y, BOX_W, box_h, step=steps[node], layer=layer)
    return boxes


def _string(x: float, y: float, text: str, font_name: str, size: float, colour, anchor: str = "middle") -> String:
    return String(x, y, text, fontName=font_name, fontSize=size, fillColor=colour, textAnchor=anchor)


def _step_group(box: _Box, font_name: str, highlighted: bool) -> Group:
    fill, stroke = ROLE_COLOURS[box.step.role]
    group = Group(Rect(box.x, box.y, box.w, box.h, rx=5, ry=5, fillColor=colors.HexColor(fill),
                       strokeColor=HIGHLIGHT if highlighted else colors.HexColor(stroke),
                       strokeWidth=3 if highlighted else 1))
    y = box.y + box.h - PAD - NAME_SIZE
    for line in wrap_text(box.step.name, box.w - 2 * PAD, font_name, NAME_SIZE, MAX_NAME_LINES):
        group.add(_string(box.cx, y, line, font_name, NAME_SIZE, colors.black))
        y -= NAME_LEAD
    post = (box.step.post or "").strip()
    post_text = wrap_text(post, box.w - 2 * PAD, font_name, DETAIL_SIZE, 1)[0] if post else "（未设岗位）"
    detail_y = box.y + PAD + DETAIL_LEAD
    group.add(_string(box.cx, detail_y, post_text, font_name, DETAIL_SIZE,
                      colors.HexColor("#424242") if post else HIGHLIGHT))
    if box.step.time_limit_days is not None:
        group.add(_string(box.cx, box.y + PAD, f"{box.step.time_limit_days} 工作日", font_name, DETAIL_SIZE,
                          colors.HexColor("#616161")))
    return group


def _badge(box: _Box, level: int, font_name: str) -> Group | None:
    if level not in BADGES:
        return None
    text, fill, ink = BADGES[level]
    x, y = box.x + box.w - 2, box.y + box.h - 2
    return Group(Circle(x, y, 11, fillColor=colors.HexColor(fill), strokeColor=colors.white, strokeWidth=1.5),
                 _string(x, y - 2.5, text, font_name, 6.5, colors.HexColor(ink)))


Point = tuple[float, float]
Segment = tuple[Point, Point, Point]  # the two control points and the end of one cubic


@dataclass
class _Wire:
    """One edge as a chain of cubic segments, with where its label goes."""

    edge: Edge
    start: Point
    segments: list[Segment]
    label_at: Point

    def path(self, colour, width: float) -> Path:
        path = Path(fillColor=None, strokeColor=colour, strokeWidth=width,
                    strokeDashArray=[4, 3] if self.edge.loop else None)
        path.moveTo(*self.start)
        for c1, c2, end in self.segments:
            path.curveTo(*c1, *c2, *end)
        return path

    def arrowhead(self, colour) -> Polygon:
        c1, c2, tip = self.segments[-1]
        before = c2 if c2 != tip else c1
        return _arrowhead(tip, before, colour)


def _arrowhead(tip: Point, before: Point, colour) -> Polygon:
    angle = math.atan2(tip[1] - before[1], tip[0] - before[0])
    size, spread = 7, 0.4
    left = (tip[0] - size * math.cos(angle - spread), tip[1] - size * math.sin(angle - spread))
    right = (tip[0] - size * math.cos(angle + spread), tip[1] - size * math.sin(angle + spread))
    return Polygon([*tip, *left, *right], fillColor=colour, strokeColor=colour, strokeWidth=0.5)


def _line(a: Point, b: Point) -> Segment:
    return _towards(a, b, math.dist(a, b) / 3), _towards(a, b, 2 * math.dist(a, b) / 3), b


def _rounded(points: list[Point], radius: float = 6) -> list[Segment]:
    """An orthogonal polyline through points, its corners rounded."""
    segments, cursor = [], points[0]
    for corner, after in zip(points[1:-1], points[2:], strict=False):
        r_in = min(radius, math.dist(cursor, corner) / 2)
        r_out = min(radius, math.dist(corner, after) / 2)
        enter, leave = _towards(corner, cursor, r_in), _towards(corner, after, r_out)
        segments += [_line(cursor, enter), (corner, corner, leave)]
        cursor = leave
    return segments + [_line(cursor, points[-1])]


def _towards(a: Point, b: Point, distance: float) -> Point:
    length = math.dist(a, b) or 1
    return a[0] + (b[0] - a[0]) * distance / length, a[1] + (b[1] - a[1]) * distance / length


def _arc(edge: Edge, start: Point, end: Point, lane_x: float) -> _Wire:
    """A cubic from start to end whose midpoint lies on lane_x (the control points are pushed out to get there)."""
    control_x = (lane_x - 0.125 * (start[0] + end[0])) / 0.75
    c1, c2 = (control_x, start[1]), (control_x, end[1])
    mid = ((start[0] + 3 * c1[0] + 3 * c2[0] + end[0]) / 8, (start[1] + end[1]) / 2)
    return _Wire(edge, start, [(c1, c2, end)], mid)


def _s_curve(edge: Edge, src: _Box, tgt: _Box) -> _Wire:
    start, end = (src.cx, src.y), (tgt.cx, tgt.y + tgt.h)
    mid_y = (start[1] + end[1]) / 2
    return _Wire(edge, start, [((src.cx, mid_y), (tgt.cx, mid_y), end)], ((src.cx + tgt.cx) / 2, mid_y))


def _self_loop(edge: Edge, box: _Box) -> _Wire:
    right, reach = box.x + box.w, box.x + box.w + 30
    segment = ((reach, box.cy + 20), (reach, box.cy - 20), (right, box.cy - 6))
    return _Wire(edge, (right, box.cy + 6), [segment], (right + 22, box.cy))


def _sideways(edge: Edge, src: _Box, tgt: _Box) -> _Wire:
    rise = src.y + src.h + V_GAP * 0.55
    start, end = (src.cx, src.y + src.h), (tgt.cx, tgt.y + tgt.h)
    return _Wire(edge, start, [((src.cx, rise), (tgt.cx, rise), end)], ((src.cx + tgt.cx) / 2, rise - V_GAP * 0.1))


def _channel(edge: Edge, src: _Box, tgt: _Box, lane_x: float, lane: int) -> _Wire:
    """Out of the box into the gap between rows, along the gap to the lane, along the lane, and back in."""
    gap = V_GAP * 0.2 + 3 * (lane % 4)
    side = 0.7 if lane_x > src.x else 0.3
    down = tgt.layer > src.layer
    sx, tx = src.x + src.w * side, tgt.x + tgt.w * side
    s_edge, t_edge = (src.y, tgt.y + tgt.h) if down else (src.y + src.h, tgt.y)
    s_gap, t_gap = (s_edge - gap, t_edge + gap) if down else (s_edge + gap, t_edge - gap)
    points = [(sx, s_edge), (sx, s_gap), (lane_x, s_gap), (lane_x, t_gap), (tx, t_gap), (tx, t_edge)]
    return _Wire(edge, points[0], _rounded(points), (lane_x, (s_gap + t_gap) / 2))


def _outer_sides(boxes: dict[str, _Box], right: bool) -> dict[int, float]:
    """Per layer, how far its row reaches out on one side (negated for the left, so larger is further out)."""
    reach: dict[int, float] = {}
    for box in boxes.values():
        side = box.x + box.w if right else -box.x
        reach[box.layer] = max(reach.get(box.layer, side), side)
    return reach


def _side_wire(edge: Edge, src: _Box, tgt: _Box, lane: int, lane_x: float, reach: dict[int, float],
               right: bool) -> _Wire:
    """An arc between the boxes' outer sides when no row in between sticks out further, else a channel route."""
    ends = [b.x + b.w if right else -b.x for b in (src, tgt)]
    between = range(min(src.layer, tgt.layer) + 1, max(src.layer, tgt.layer))
    if ends == [reach[src.layer], reach[tgt.layer]] and all(reach[layer] <= min(ends) for layer in between):
        return _arc(edge, (abs(ends[0]), src.cy), (abs(ends[1]), tgt.cy), lane_x)
    return _channel(edge, src, tgt, lane_x, lane)


@dataclass
class _Routes:
    wires: list[_Wire]
    left_lanes: int
    right_lanes: int


def _route(doc: FlowDoc, boxes: dict[str, _Box], content_left: float, content_right: float) -> _Routes:
    """Forward edges as S-curves, longer ones in lanes on the left, loops and other back edges in lanes on the right."""
    drawable = [e for e in doc.edges if e.source in boxes and e.target in boxes]
    span = {id(e): boxes[e.target].layer - boxes[e.source].layer for e in drawable}
    forward = [e for e in drawable if not e.loop and span[id(e)] == 1]
    wires = [_s_curve(e, boxes[e.source], boxes[e.target]) for e in forward]
    long = sorted((e for e in drawable if not e.loop and span[id(e)] > 1), key=lambda e: span[id(e)])
    reach = _outer_sides(boxes, right=False)
    for lane, edge in enumerate(long, 1):
        lane_x = content_left - 6 - lane * LANE
        wires.append(_side_wire(edge, boxes[edge.source], boxes[edge.target], lane, lane_x, reach, right=False))
    back = sorted((e for e in drawable if e not in forward and e not in long), key=lambda e: abs(span[id(e)]))
    reach, right_lanes = _outer_sides(boxes, right=True), 0
    for edge in back:
        src, tgt = boxes[edge.source], boxes[edge.target]
        if src is tgt:
            wires.append(_self_loop(edge, src))
        elif src.layer == tgt.layer:
            wires.append(_sideways(edge, src, tgt))
        else:
            right_lanes += 1
            lane_x = content_right + 6 + right_lanes * LANE
            wires.append(_side_wire(edge, src, tgt, right_lanes, lane_x, reach, right=True))
    return _Routes(wires, len(long), right_lanes)


def _edge_label(edge: Edge, at: tuple[float, float], font_name: str) -> Group:
    width = text_width(edge.label, font_name, LABEL_SIZE) + 4
    x, y = at
    return Group(Rect(x - width / 2, y - 3, width, LABEL_SIZE + 3, fillColor=colors.white, strokeColor=None),
                 _string(x, y - 0.5, edge.label, font_name, LABEL_SIZE, LOOP_COLOUR if edge.loop else EDGE_COLOUR))


def _legend(x: float, y: float, font_name: str, *, highlight: bool, badges: bool) -> tuple[Group, float]:
    group, cursor = Group(), x
    for role in ROLES:
        fill, stroke = ROLE_COLOURS[role]
        group.add(Rect(cursor, y, 12, 9, fillColor=colors.HexColor(fill), strokeColor=colors.HexColor(stroke)))
        group.add(_string(cursor + 16, y + 1, ROLE_TITLES[role], font_name, 8, colors.black, "start"))
        cursor += 22 + text_width(ROLE_TITLES[role], font_name, 8)
    group.add(Line(cursor, y + 4, cursor + 22, y + 4, strokeColor=LOOP_COLOUR, strokeDashArray=[4, 3]))
    group.add(_string(cursor + 26, y + 1, "退回", font_name, 8, colors.black, "start"))
    cursor += 34 + text_width("退回", font_name, 8)
    if highlight:
        group.add(Rect(cursor, y, 12, 9, fillColor=colors.white, strokeColor=HIGHLIGHT, strokeWidth=2))
        group.add(_string(cursor + 16, y + 1, "存在问题", font_name, 8, colors.black, "start"))
        cursor += 22 + text_width("存在问题", font_name, 8)
    if badges:
        for text, fill, _ink in BADGES.values():
            group.add(Circle(cursor + 5, y + 4.5, 5, fillColor=colors.HexColor(fill), strokeColor=None))
            group.add(_string(cursor + 13, y + 1, text + "风险", font_name, 8, colors.black, "start"))
            cursor += 18 + text_width(text + "风险", font_name, 8)
    return group, cursor - x


def flow_drawing(doc: FlowDoc, *, highlight: set[str] = frozenset(), badges: dict[str, int] | None = None,
                 font_name: str = "Helvetica") -> Drawing:
    """Draw the flow top to bottom, one row per layer, with role colours, loop arcs, highlights and risk badges."""
    badges = badges or {}
    rows = _ordered_layers(doc)
    box_h = _box_height(doc, font_name)
    widest = max((len(r) for r in rows), default=1)
    content_w = widest * (BOX_W + H_GAP) - H_GAP
    probe = _route(doc, _place(doc, rows, box_h, 0, 0), 0, content_w)
    labels = [e.label for e in doc.edges if e.label]
    label_room = max((text_width(t, font_name, LABEL_SIZE) for t in labels), default=0) / 2 + 8
    left = MARGIN + (6 + probe.left_lanes * LANE + label_room if probe.left_lanes else 0)
    legend_h = 34
    top = MARGIN + legend_h + 14 + max(len(rows) * (box_h + V_GAP) - V_GAP, 0)
    boxes = _place(doc, rows, box_h, left, top)
    routes = _route(doc, boxes, left, left + content_w)
    legend, legend_w = _legend(MARGIN, MARGIN, font_name, highlight=bool(highlight), badges=bool(badges))
    width = max(left + content_w + 6 + routes.right_lanes * LANE + label_room + MARGIN, legend_w + 2 * MARGIN)
    drawing = Drawing(width, top + MARGIN)
    for wire in routes.wires:
        colour = LOOP_COLOUR if wire.edge.loop else EDGE_COLOUR
        drawing.add(wire.path(colour, 1.2))
        drawing.add(wire.arrowhead(colour))
    for node, box in boxes.items():
        drawing.add(_step_group(box, font_name, node in highlight))
        badge = _badge(box, badges.get(node, 0), font_name)
        if badge is not None:
            drawing.add(badge)
    for wire in routes.wires:
        if wire.edge.label:
            drawing.add(_edge_label(wire.edge, wire.label_at, font_name))
    drawing.add(legend)
    return drawing
