"""BPMN 2.0 export and import of flow documents (pure: no database).

Export: one pool, one lane per responsible post, a userTask per step, sequenceFlows (a step with several outgoing
edges goes through an exclusive gateway, whose flows carry a conditionExpression `outcome == "label"`; the label is
also the flow's name), one start and one end event, and a BPMNDI diagram laid out from the chart's own layers
(columns left to right, lanes top to bottom), so standard modelers open it with its layout. What BPMN has no
attribute for (step id, role, time limits, the loop flag, documents) travels in `govrisk:` attributes and
extension elements, which BPMN allows on every element.

Import reads the same subset back: lanes → posts, userTask/task → steps, sequenceFlows → edges (gateways are
followed through, events dropped). Any other BPMN element is refused with the list of what was found.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass

from govrisk.flows.drawing import Box, ordered_layers
from govrisk.flows.validation import Finding, FlowDoc, finding, parse_flow

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
GOVRISK = "urn:govrisk:flow:1"
PREFIXES = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI, "xsi": XSI, "govrisk": GOVRISK}
for _prefix, _uri in PREFIXES.items():
    ET.register_namespace(_prefix, _uri)

#: The BPMN elements import understands; everything else in the BPMN namespace is refused.
SUPPORTED = frozenset({
    "definitions", "collaboration", "participant", "process", "laneSet", "lane", "flowNodeRef", "startEvent",
    "endEvent", "userTask", "task", "exclusiveGateway", "parallelGateway", "sequenceFlow", "conditionExpression",
    "incoming", "outgoing", "documentation", "extensionElements",
})
TASKS = ("userTask", "task")
GATEWAYS = ("exclusiveGateway", "parallelGateway")
MAX_BYTES = 5 * 1024 * 1024

# guessing a role from a step's name, for BPMN drawn elsewhere (without govrisk:role)
_ROLE_WORDS = (
    ("supervision", ("监督", "督查", "回访", "评议")),
    ("decision", ("决定", "审批", "批准", "签发", "审定")),
    ("review", ("审查", "审核", "初审", "复核", "核查", "勘验")),
    ("acceptance", ("受理", "接件", "申请", "登记")),
)
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _clean(text: str) -> str:
    """Text with the characters XML 1.0 cannot hold removed."""
    return _NOT_XML.sub("", text)


# ---------------------------------------------------------------- layout

TASK_W, TASK_H, EVENT, GATE = 100, 80, 36, 50
COL_W, ROW_H, LANE_PAD, POOL_X, POOL_Y, POOL_LABEL = 190, 110, 30, 160, 80, 30


@dataclass
class _Layout:
    lanes: list[tuple[str | None, Box]]
    pool: Box
    tasks: dict[str, Box]
    start: Box
    end: Box


def _post(doc: FlowDoc, step_id: str) -> str | None:
    post = doc.step_map()[step_id].post
    return post if post and post.strip() else None


def _layout(doc: FlowDoc, columns: list[list[str]], starts: list[str], ends: list[str]) -> _Layout:
    """Columns are the chart's layers; each post gets a lane as tall as its busiest column needs."""
    lane_of: dict[str | None, list[int]] = {}  # post → rows needed per column
    slot: dict[str, tuple[str | None, int, int]] = {}
    for col, column in enumerate(columns):
        for step_id in column:
            post = _post(doc, step_id)
            rows = lane_of.setdefault(post, [0] * len(columns))
            slot[step_id] = (post, col, rows[col])
            rows[col] += 1
    if not lane_of:
        lane_of[None] = [1]
    first_x = POOL_X + POOL_LABEL + 40
    width = POOL_LABEL + 40 + EVENT + 60 + len(columns) * COL_W + EVENT + 50
    lanes, y = [], POOL_Y
    for post, rows in lane_of.items():
        height = max(rows, default=1) * ROW_H + LANE_PAD
        lanes.append((post, Box(POOL_X + POOL_LABEL, y, width - POOL_LABEL, height)))
        y += height
    lane_box = dict(lanes)
    tasks = {step_id: Box(first_x + EVENT + 60 + col * COL_W, lane_box[post].y + LANE_PAD + row * ROW_H, TASK_W,
                           TASK_H) for step_id, (post, col, row) in slot.items()}

    def event_at(x: float, step_ids: list[str]) -> Box:
        lane = lane_box[slot[step_ids[0]][0]] if step_ids else lanes[0][1]
        return Box(x, lane.y + LANE_PAD + (TASK_H - EVENT) / 2, EVENT, EVENT)

    end_x = first_x + EVENT + 60 + len(columns) * COL_W
    return _Layout(lanes, Box(POOL_X, POOL_Y, width, y - POOL_Y), tasks, event_at(first_x, starts),
                   event_at(end_x, ends))


def _waypoints(src: Box, tgt: Box, back_lane: int) -> list[tuple[float, float]]:
    if tgt.x >= src.right:  # forward: out of the right side, into the left side
        if abs(src.cy - tgt.cy) < 1:
            return [(src.right, src.cy), (tgt.x, tgt.cy)]
        mid = src.right + min(30, (tgt.x - src.right) / 2)
        return [(src.right, src.cy), (mid, src.cy), (mid, tgt.cy), (tgt.x, tgt.cy)]
    top = min(src.y, tgt.y) - 10 - 6 * (back_lane % 3)  # back edges (补正/退回) arc over the top
    return [(src.cx, src.y), (src.cx, top), (tgt.cx, top), (tgt.cx, tgt.y)]


# ---------------------------------------------------------------- export


class _Writer:
    def __init__(self, doc: FlowDoc):
        self.doc = doc
        self.task_ids = {s.id: f"Step_{i}" for i, s in enumerate(doc.step_map().values(), 1)}
        self.flows: list[tuple[str, str, str, str, bool, str | None]] = []  # id, src, tgt, label, loop, condition
        self.shapes: dict[str, Box] = {}

    def add_flow(self, source: str, target: str, label: str = "", loop: bool = False,
                 condition: str | None = None) -> str:
        flow_id = f"Flow_{len(self.flows) + 1}"
        self.flows.append((flow_id, source, target, label, loop, condition))
        return flow_id


def _outgoing(doc: FlowDoc, known: set[str]) -> dict[str, list]:
    out: dict[str, list] = {step_id: [] for step_id in known}
    for edge in doc.edges:
        if edge.source in known and edge.target in known:
            out[edge.source].append(edge)
    return out


def _condition(value: str) -> str:
    return 'outcome == "' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _plan_flows(writer: _Writer, starts: list[str], ends: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Sequence flows in edge order; a step with several ways out gets an exclusive gateway.

    Returns step id → gateway id, and gateway id → its default flow (the unlabelled way on).
    """
    doc, ids = writer.doc, writer.task_ids
    out = _outgoing(doc, set(ids))
    gateways = {s: f"Gateway_{ids[s].split('_')[1]}" for s, edges in out.items() if len(edges) + (s in ends) > 1}
    for step_id in starts:
        writer.add_flow("StartEvent_1", ids[step_id])
    if not starts and not ids:
        writer.add_flow("StartEvent_1", "EndEvent_1")
    for step_id in gateways:
        writer.add_flow(ids[step_id], gateways[step_id])
    defaults: dict[str, str] = {}
    for edge in doc.edges:
        if edge.source not in ids or edge.target not in ids:
            continue
        gateway = gateways.get(edge.source)
        if gateway is None:
            writer.add_flow(ids[edge.source], ids[edge.target], edge.label, edge.loop,
                            _condition(edge.label) if edge.label else None)
        elif not edge.label and not edge.loop and gateway not in defaults:
            defaults[gateway] = writer.add_flow(gateway, ids[edge.target], "", False)
        else:
            writer.add_flow(gateway, ids[edge.target], edge.label, edge.loop, _condition(edge.label or edge.target))
    for step_id in sorted(ends, key=list(ids).index):
        gateway = gateways.get(step_id)
        if gateway is None:
            writer.add_flow(ids[step_id], "EndEvent_1")
        elif gateway not in defaults:
            defaults[gateway] = writer.add_flow(gateway, "EndEvent_1")
        else:
            writer.add_flow(gateway, "EndEvent_1", condition=_condition("办结"))
    return gateways, defaults


def _sub(parent: ET.Element, ns: str, tag: str, attrs: dict | None = None, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, _q(ns, tag), {k: _clean(str(v)) for k, v in (attrs or {}).items()})
    if text is not None:
        element.text = _clean(text)
    return element


def _gov(name: str) -> str:
    return _q(GOVRISK, name)


def flow_to_bpmn(doc: FlowDoc, *, name: str | None = None) -> bytes:
    """The flow as BPMN 2.0 XML (UTF-8, with a BPMNDI diagram)."""
    from govrisk.flows.validation import ROLE_TITLES, ends, flow_graph, starts

    graph = flow_graph(doc)
    known = list(doc.step_map())
    first = [s for s in known if s in set(starts(graph))]
    last = [s for s in known if s in set(ends(graph))]
    writer = _Writer(doc)
    gateways, defaults = _plan_flows(writer, first, set(last))
    layout = _layout(doc, ordered_layers(doc), first, last)
    title = name or f"{doc.power_code} {'内部流程图' if doc.kind == 'internal' else '外部流程图'}"

    root = ET.Element(_q(BPMN, "definitions"), {"id": "Definitions_1", "targetNamespace": GOVRISK,
                                                "exporter": "govrisk", "exporterVersion": "1"})
    collaboration = _sub(root, BPMN, "collaboration", {"id": "Collaboration_1"})
    _sub(collaboration, BPMN, "participant", {"id": "Participant_1", "name": title, "processRef": "Process_1"})
    process_attrs = {"id": "Process_1", "name": title, "isExecutable": "true", _gov("powerCode"): doc.power_code,
                     _gov("kind"): doc.kind}
    if doc.time_limit_days is not None:
        process_attrs[_gov("timeLimitDays")] = doc.time_limit_days
    process = _sub(root, BPMN, "process", process_attrs)
    lane_set = _sub(process, BPMN, "laneSet", {"id": "LaneSet_1"})
    lane_ids = {}
    for index, (post, _box) in enumerate(layout.lanes, 1):
        lane_ids[post] = f"Lane_{index}"
        lane = _sub(lane_set, BPMN, "lane", {"id": lane_ids[post], **({"name": post} if post is not None else {})})
        for step_id in known:
            if _post(doc, step_id) == post:
                _sub(lane, BPMN, "flowNodeRef", text=writer.task_ids[step_id])
                if step_id in gateways:
                    _sub(lane, BPMN, "flowNodeRef", text=gateways[step_id])

    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for flow_id, source, target, *_ in writer.flows:
        outgoing.setdefault(source, []).append(flow_id)
        incoming.setdefault(target, []).append(flow_id)

    def node(tag: str, node_id: str, attrs: dict, before=()) -> ET.Element:
        element = _sub(process, BPMN, tag, {"id": node_id, **attrs})
        for child in before:
            element.append(child)
        for flow_id in incoming.get(node_id, []):
            _sub(element, BPMN, "incoming", text=flow_id)
        for flow_id in outgoing.get(node_id, []):
            _sub(element, BPMN, "outgoing", text=flow_id)
        return element

    node("startEvent", "StartEvent_1", {"name": "开始"})
    for step in doc.step_map().values():
        attrs = {"name": step.name, _gov("stepId"): step.id, _gov("role"): step.role}
        if step.time_limit_days is not None:
            attrs[_gov("timeLimitDays")] = step.time_limit_days
        summary = f"职责：{ROLE_TITLES[step.role]}；岗位：{step.post or '未设'}；时限：" + \
            (f"{step.time_limit_days} 个工作日" if step.time_limit_days is not None else "未设")
        before = [ET.Element(_q(BPMN, "documentation"))]
        before[0].text = _clean(summary)
        if step.documents:
            extension = ET.Element(_q(BPMN, "extensionElements"))
            for document in step.documents:
                ET.SubElement(extension, _gov("document")).text = _clean(document)
            before.append(extension)
        node("userTask", writer.task_ids[step.id], attrs, before)
        if step.id in gateways:
            gateway_id = gateways[step.id]
            node("exclusiveGateway", gateway_id, {"default": defaults[gateway_id]} if gateway_id in defaults else {})
    node("endEvent", "EndEvent_1", {"name": "办结"})
    for flow_id, source, target, label, loop, condition in writer.flows:
        attrs = {"id": flow_id, "sourceRef": source, "targetRef": target}
        if label:
            attrs["name"] = label
        if loop:
            attrs[_gov("loop")] = "true"
        flow = _sub(process, BPMN, "sequenceFlow", attrs)
        if condition:
            _sub(flow, BPMN, "conditionExpression", {_q(XSI, "type"): "bpmn:tFormalExpression"}, condition)

    _diagram(root, writer, layout, lane_ids, gateways)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def _bounds(parent: ET.Element, box: Box) -> None:
    _sub(parent, DC, "Bounds", {"x": _n(box.x), "y": _n(box.y), "width": _n(box.w), "height": _n(box.h)})


def _n(value: float) -> str:
    return str(int(round(value)))


def _diagram(root: ET.Element, writer: _Writer, layout: _Layout, lane_ids: dict, gateway_of: dict[str, str]) -> None:
    diagram = _sub(root, BPMNDI, "BPMNDiagram", {"id": "BPMNDiagram_1"})
    plane = _sub(diagram, BPMNDI, "BPMNPlane", {"id": "BPMNPlane_1", "bpmnElement": "Collaboration_1"})
    boxes: dict[str, Box] = {"StartEvent_1": layout.start, "EndEvent_1": layout.end}

    def shape(element_id: str, box: Box, horizontal: bool = False) -> None:
        attrs = {"id": f"{element_id}_di", "bpmnElement": element_id}
        if horizontal:
            attrs["isHorizontal"] = "true"
        _bounds(_sub(plane, BPMNDI, "BPMNShape", attrs), box)
        boxes[element_id] = box

    shape("Participant_1", layout.pool, horizontal=True)
    for post, box in layout.lanes:
        shape(lane_ids[post], box, horizontal=True)
    for step_id, task_id in writer.task_ids.items():
        task = layout.tasks[step_id]
        shape(task_id, task)
        if step_id in gateway_of:
            shape(gateway_of[step_id], Box(task.right + 22, task.cy - GATE / 2, GATE, GATE))
    shape("StartEvent_1", layout.start)
    shape("EndEvent_1", layout.end)
    back = 0
    for flow_id, source, target, label, *_ in writer.flows:
        src, tgt = boxes[source], boxes[target]
        back += tgt.x < src.right
        points = _waypoints(src, tgt, back)
        edge = _sub(plane, BPMNDI, "BPMNEdge", {"id": f"{flow_id}_di", "bpmnElement": flow_id})
        for x, y in points:
            _sub(edge, DI, "waypoint", {"x": _n(x), "y": _n(y)})
        if label:
            (x1, y1), (x2, y2) = points[len(points) // 2 - 1], points[len(points) // 2]
            width = 14 * len(label) + 8
            _bounds(_sub(edge, BPMNDI, "BPMNLabel"), Box((x1 + x2) / 2 - width / 2, (y1 + y2) / 2 - 16, width, 14))


# ---------------------------------------------------------------- import


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _unsupported(root: ET.Element) -> Counter:
    found: Counter = Counter()

    def walk(element: ET.Element) -> None:
        for child in element:
            if not isinstance(child.tag, str):  # comments, processing instructions
                continue
            ns, local = _local(child.tag)
            if ns == BPMN:
                if local not in SUPPORTED:
                    found[local] += 1
                    continue
                if local == "extensionElements":
                    continue
            walk(child)

    walk(root)
    return found


def _guess_role(name: str) -> str:
    for role, words in _ROLE_WORDS:
        if any(word in name for word in words):
            return role
    return "execution"


def _days(value: str | None):
    """An attribute's number of days; text that is not a whole number is passed on for parse_flow to refuse."""
    if value is None or not value.strip():
        return None
    return int(value) if re.fullmatch(r"\s*\d{1,9}\s*", value) else value


class _Refused(Exception):
    pass


def _read_xml(data: bytes | str) -> ET.Element:
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_BYTES:
        raise _Refused(f"BPMN 文件过大（{len(raw) // 1024} KB），上限为 {MAX_BYTES // 1024} KB")
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise _Refused("BPMN 文件不能包含 DOCTYPE 或实体声明")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise _Refused(f"不是有效的 XML：{exc}") from None
    if root.tag != _q(BPMN, "definitions"):
        raise _Refused(f"根元素必须是 BPMN 2.0 的 definitions（实际为 {root.tag}）")
    found = _unsupported(root)
    if found:
        listed = "、".join(f"{name} ×{count}" for name, count in sorted(found.items()))
        raise _Refused(f"包含不支持的 BPMN 元素：{listed}。只支持泳道、开始/结束事件、用户任务（userTask/task）、"
                       f"排他/并行网关和顺序流")
    return root


def _steps(process: ET.Element) -> tuple[list[dict], dict[str, str]]:
    lane_of = {}
    for lane in process.iter(_q(BPMN, "lane")):
        for ref in lane.findall(_q(BPMN, "flowNodeRef")):
            lane_of[(ref.text or "").strip()] = lane.get("name")
    steps, ids = [], {}
    for element in process:
        if _local(element.tag)[1] not in TASKS:
            continue
        element_id = element.get("id", "")
        name = element.get("name")
        ids[element_id] = element.get(_gov("stepId")) or element_id
        documents = [d.text or "" for d in element.iter(_gov("document"))]
        steps.append({"id": ids[element_id], "name": name, "post": lane_of.get(element_id),
                      "role": element.get(_gov("role")) or _guess_role(name or ""),
                      "time_limit_days": _days(element.get(_gov("timeLimitDays"))),
                      **({"documents": documents} if documents else {})})
    return steps, ids


def _edges(process: ET.Element, ids: dict[str, str]) -> list[dict]:
    """Edges between tasks, in the order of the flows that enter them, following gateways backwards."""
    kinds = {e.get("id"): _local(e.tag)[1] for e in process}
    flows = [f for f in process if _local(f.tag)[1] == "sequenceFlow"]
    for flow in flows:
        for end in ("sourceRef", "targetRef"):
            if flow.get(end) not in kinds:
                raise _Refused(f"顺序流 {flow.get('id')} 的 {end} 引用了不存在的元素“{flow.get(end)}”")
    into: dict[str, list[ET.Element]] = {}
    for flow in flows:
        into.setdefault(flow.get("targetRef"), []).append(flow)

    def origins(node_id: str, seen: frozenset) -> list[tuple[str, str]]:
        """(task, label of the first flow) pairs that reach node_id through gateways."""
        kind = kinds[node_id]
        if kind in TASKS:
            return [(node_id, "")]
        if kind not in GATEWAYS or node_id in seen:
            return []
        out = []
        for flow in into.get(node_id, []):
            out += [(task, label or (flow.get("name") or "")) for task, label in
                    origins(flow.get("sourceRef"), seen | {node_id})]
        return out

    edges = []
    for flow in flows:
        target = flow.get("targetRef")
        if kinds[target] not in TASKS:
            continue
        for source, first_label in origins(flow.get("sourceRef"), frozenset()):
            label = flow.get("name") or first_label
            edge = {"from": ids[source], "to": ids[target]}
            if flow.get(_gov("loop")) == "true":
                edge["loop"] = True
            if label:
                edge["label"] = label
            edges.append(edge)
    return edges


def bpmn_to_flow(data: bytes | str, *, power_code: str | None = None,
                 kind: str | None = None) -> tuple[FlowDoc | None, list[Finding]]:
    """Read BPMN 2.0 XML of the supported subset into a flow document; (None, invalid_document findings) if not.

    power_code and kind fill in what a BPMN file drawn elsewhere does not say (govrisk's own files carry both).
    """
    try:
        root = _read_xml(data)
        processes = root.findall(_q(BPMN, "process"))
        if len(processes) != 1:
            raise _Refused(f"BPMN 文件必须恰好包含一个流程（process），实际为 {len(processes)} 个")
        process = processes[0]
        steps, ids = _steps(process)
        edges = _edges(process, ids)
    except _Refused as exc:
        return None, [finding("invalid_document", (), str(exc))]
    limit = _days(process.get(_gov("timeLimitDays")))
    document = {"power_code": process.get(_gov("powerCode")) or power_code, "kind": process.get(_gov("kind")) or kind,
                "time_limit_days": limit, "steps": steps, "edges": edges}
    return parse_flow(document)


def is_bpmn(data: bytes, filename: str = "") -> bool:
    """Whether an upload is XML (BPMN) rather than flow JSON."""
    if filename.lower().endswith((".bpmn", ".xml")):
        return True
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<"

