"""Flow documents (DESIGN §7.1): parsing, structural checks, critical path and separation of duties."""

from __future__ import annotations

import json
import math
from collections import Counter, deque
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import networkx as nx

KINDS = ("internal", "external")
ROLES = ("acceptance", "review", "decision", "execution", "supervision")
ROLE_TITLES = {"acceptance": "受理", "review": "审查", "decision": "决定", "execution": "执行", "supervision": "监督"}
# 分权制衡: pairs of duties one post must not hold together
SOD_PAIRS = (("review", "decision"), ("decision", "supervision"), ("execution", "supervision"))

ERROR, WARNING = "error", "warning"
SEVERITIES = {
    "invalid_document": ERROR,
    "duplicate_step": ERROR,
    "unknown_step": ERROR,
    "no_start": ERROR,
    "multiple_starts": WARNING,
    "no_end": ERROR,
    "unreachable_step": ERROR,
    "dead_end": ERROR,
    "cycle": ERROR,
    "time_limit_exceeded": ERROR,
    "sod_conflict": WARNING,
    "missing_post": WARNING,
    "uncovered_key_step": WARNING,
}
CODE_ORDER = tuple(SEVERITIES)

_SUPER_START = ("__start__",)  # tuples never collide with the string step ids
_SUPER_END = ("__end__",)


@dataclass(frozen=True)
class Step:
    id: str
    name: str
    post: str | None
    role: str
    time_limit_days: int | None
    documents: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The step as §7.1 JSON."""
        out: dict[str, Any] = {"id": self.id, "name": self.name, "post": self.post, "role": self.role,
                               "time_limit_days": self.time_limit_days}
        if self.documents:
            out["documents"] = list(self.documents)
        return out


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    loop: bool = False
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The edge as §7.1 JSON (keys "from"/"to")."""
        out: dict[str, Any] = {"from": self.source, "to": self.target}
        if self.loop:
            out["loop"] = True
        if self.label:
            out["label"] = self.label
        return out


@dataclass(frozen=True)
class FlowDoc:
    power_code: str
    kind: str
    time_limit_days: int | None
    steps: tuple[Step, ...]
    edges: tuple[Edge, ...]

    def to_dict(self) -> dict[str, Any]:
        """The flow as §7.1 JSON."""
        return {"power_code": self.power_code, "kind": self.kind, "time_limit_days": self.time_limit_days,
                "steps": [s.to_dict() for s in self.steps], "edges": [e.to_dict() for e in self.edges]}

    def step_map(self) -> dict[str, Step]:
        """Steps by id; the first occurrence wins when ids repeat (computed once: every check asks; do not mutate)."""
        return self._steps_by_id

    @cached_property
    def _steps_by_id(self) -> dict[str, Step]:
        out: dict[str, Step] = {}
        for step in self.steps:
            out.setdefault(step.id, step)
        return out


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    steps: tuple[str, ...]
    message: str

    def to_dict(self) -> dict[str, Any]:
        """The finding as §7.1 JSON."""
        return {"code": self.code, "severity": self.severity, "steps": list(self.steps), "message": self.message}


@dataclass(frozen=True)
class FlowReport:
    ok: bool
    critical_path_days: int | None
    critical_path: tuple[str, ...]
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The §7.1 check output."""
        return {"ok": self.ok, "critical_path_days": self.critical_path_days,
                "findings": [f.to_dict() for f in self.findings]}


def finding(code: str, steps: tuple[str, ...] | list[str], message: str) -> Finding:
    """A finding with the severity §7.1 fixes for its code."""
    return Finding(code, SEVERITIES[code], tuple(steps), message)


# ---------------------------------------------------------------- parsing


class _Invalid(Exception):
    """One structural problem; the message says where."""


def _load(raw: str | bytes | dict) -> Any:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str | bytes | bytearray):
        if isinstance(raw, str):
            raw = raw.lstrip("\ufeff")  # files saved by Windows editors start with a BOM
        try:
            return json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise _Invalid(f"不是有效的 JSON：{exc}") from None
    raise _Invalid(f"文档必须是 JSON 文本或对象（实际为 {type(raw).__name__}）")


def _type_name(value: Any) -> str:
    names = {dict: "对象", list: "数组", str: "字符串", bool: "布尔值", int: "整数", float: "数字", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _got(obj: dict, key: str) -> str:
    if key not in obj:
        return "缺失"
    value = obj[key]
    try:
        text = repr(value) if isinstance(value, float) else json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError, RecursionError):  # dicts built in Python may hold anything
        text = type(value).__name__
    return f"实际为{_type_name(value)} {text if len(text) <= 40 else text[:37] + '...'}"


def _text(obj: dict, key: str, path: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"{path} 必须是非空字符串（{_got(obj, key)}）")
    return value


def _optional_text(obj: dict, key: str, path: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise _Invalid(f"{path} 必须是字符串或 null（{_got(obj, key)}）")
    return value


def _days(obj: dict, key: str, path: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Invalid(f"{path} 必须是不小于 0 的整数工作日或 null（{_got(obj, key)}）")
    return value


def _kind(obj: dict, key: str, path: str) -> str:
    return _choice(obj, key, path, KINDS)


def _role(obj: dict, key: str, path: str) -> str:
    return _choice(obj, key, path, ROLES)


def _choice(obj: dict, key: str, path: str, allowed: tuple[str, ...]) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or value not in allowed:
        raise _Invalid(f"{path} 必须是 {'、'.join(allowed)} 之一（{_got(obj, key)}）")
    return value


def _array(obj: dict, key: str, path: str) -> list:
    value = obj.get(key)
    if not isinstance(value, list):
        raise _Invalid(f"{path} 必须是数组（{_got(obj, key)}）")
    return value


def _documents(obj: dict, key: str, path: str) -> tuple[str, ...]:
    value = obj.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
        raise _Invalid(f"{path} 必须是字符串数组（{_got(obj, key)}）")
    return tuple(value)


def _flag(obj: dict, key: str, path: str) -> bool:
    value = obj.get(key)
    if value is not None and not isinstance(value, bool):
        raise _Invalid(f"{path} 必须是 true 或 false（{_got(obj, key)}）")
    return bool(value)


_HEADER = (("power_code", _text), ("kind", _kind), ("time_limit_days", _days), ("steps", _array), ("edges", _array))
_STEP = (("id", _text), ("name", _text), ("post", _optional_text), ("role", _role), ("time_limit_days", _days),
         ("documents", _documents))
_EDGE = (("from", _text), ("to", _text), ("loop", _flag), ("label", _optional_text))


def _read(obj: Any, where: str, spec: tuple, steps: tuple[str, ...], problems: list[Finding]) -> dict | None:
    """The fields of spec that read well, recording each bad one; None when obj is not an object."""
    if not isinstance(obj, dict):
        message = f"{where or '文档'} 必须是 JSON 对象（实际为{_type_name(obj)}）"
        problems.append(finding("invalid_document", steps, message))
        return None
    values = {}
    for key, reader in spec:
        try:
            values[key] = reader(obj, key, f"{where}.{key}" if where else key)
        except _Invalid as exc:
            problems.append(finding("invalid_document", steps, str(exc)))
    return values


def _step_id(item: Any) -> tuple[str, ...]:
    step_id = item.get("id") if isinstance(item, dict) else None
    return (step_id,) if isinstance(step_id, str) and step_id.strip() else ()


def _parse_steps(items: list, problems: list[Finding]) -> list[Step]:
    steps = []
    for index, item in enumerate(items):
        sid = _step_id(item)
        values = _read(item, f"steps[{index}]" + (f"（{sid[0]}）" if sid else ""), _STEP, sid, problems)
        if values is not None and len(values) == len(_STEP):
            steps.append(Step(values["id"], values["name"], values["post"], values["role"],
                              values["time_limit_days"], values["documents"]))
    return steps


def _parse_edges(items: list, problems: list[Finding]) -> list[Edge]:
    edges = []
    for index, item in enumerate(items):
        values = _read(item, f"edges[{index}]", _EDGE, (), problems)
        if values is not None and len(values) == len(_EDGE):
            edges.append(Edge(values["from"], values["to"], values["loop"], values["label"] or ""))
    return edges


def parse_flow(raw: str | bytes | dict) -> tuple[FlowDoc | None, list[Finding]]:
    """Parse §7.1 JSON text or a dict; on any structural problem return (None, invalid_document findings)."""
    try:
        data = _load(raw)
    except _Invalid as exc:
        return None, [finding("invalid_document", (), str(exc))]
    problems: list[Finding] = []
    header = _read(data, "", _HEADER, (), problems)
    if header is None:
        return None, problems
    steps = _parse_steps(header.get("steps", []), problems)
    edges = _parse_edges(header.get("edges", []), problems)
    if problems:
        return None, problems
    return FlowDoc(header["power_code"], header["kind"], header["time_limit_days"], tuple(steps), tuple(edges)), []


# ---------------------------------------------------------------- graph helpers


def flow_graph(doc: FlowDoc, *, include_loops: bool = False) -> nx.DiGraph:
    """The flow as a DiGraph over its known steps (non-loop edges unless include_loops); edges keep loop/label."""
    graph = nx.DiGraph()
    steps = doc.step_map()
    graph.add_nodes_from(steps)
    graph.add_edges_from((edge.source, edge.target, {"loop": edge.loop, "label": edge.label}) for edge in doc.edges
                         if edge.source in steps and edge.target in steps and (include_loops or not edge.loop))
    return graph


class _Adjacency:
    """Plain successor and predecessor lists of a flow graph, in node order.

    The checks walk every edge a few times; networkx's views cost more than the walks themselves when 20,000 flows
    are validated at once, so the walks read these lists (networkx still builds the graph and finds the cycles).
    """

    __slots__ = ("succ", "pred")

    def __init__(self, graph: nx.DiGraph):
        self.succ: dict[Any, list] = {node: list(nbrs) for node, nbrs in graph.adjacency()}
        self.pred: dict[Any, list] = {node: [] for node in self.succ}
        for node, nbrs in self.succ.items():
            for nxt in nbrs:
                self.pred[nxt].append(node)

    def starts(self) -> list:
        return [node for node, before in self.pred.items() if not before]

    def ends(self) -> list:
        return [node for node, after in self.succ.items() if not after]


def _topological_order(adjacency: _Adjacency) -> list[str] | None:
    """Kahn's algorithm over the graph (cheaper than networkx's generators at city scale); None when cyclic."""
    indegree = {node: len(before) for node, before in adjacency.pred.items()}
    ready = [node for node, degree in indegree.items() if degree == 0]
    order = []
    while ready:
        node = ready.pop()
        order.append(node)
        for succ in adjacency.succ[node]:
            indegree[succ] -= 1
            if indegree[succ] == 0:
                ready.append(succ)
    return order if len(order) == len(indegree) else None


def _order(doc: FlowDoc) -> dict[str, int]:
    return {step_id: index for index, step_id in enumerate(doc.step_map())}


def starts(graph: nx.DiGraph) -> list[str]:
    """Steps with no incoming non-loop edge (graph from flow_graph)."""
    return [n for n, nbrs in graph.pred.items() if not nbrs]


def ends(graph: nx.DiGraph) -> list[str]:
    """Steps with no outgoing non-loop edge (graph from flow_graph)."""
    return [n for n, nbrs in graph.succ.items() if not nbrs]


def _reach(adjacency, sources: list[str]) -> set[str]:
    """Everything reachable from sources along graph.succ (or, backwards, graph.pred)."""
    seen, stack = set(sources), list(sources)
    while stack:
        for nxt in adjacency[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def required_steps(doc: FlowDoc) -> set[str]:
    """Steps that every start→end path over non-loop edges passes through (empty when there is no such path)."""
    graph = flow_graph(doc)
    first, last = starts(graph), ends(graph)
    if not first or not last:
        return set()
    graph.add_edges_from((_SUPER_START, s) for s in first)
    graph.add_edges_from((e, _SUPER_END) for e in last)
    if not nx.has_path(graph, _SUPER_START, _SUPER_END):
        return set()
    idom = nx.immediate_dominators(graph, _SUPER_START)
    required, node = set(), idom[_SUPER_END]
    while node != _SUPER_START:
        required.add(node)
        node = idom[node]
    return required


def layers(doc: FlowDoc) -> list[list[str]]:
    """Topological generations over non-loop edges, in document order; BFS depth when there is a cycle."""
    graph, order = flow_graph(doc), _order(doc)
    if nx.is_directed_acyclic_graph(graph):
        return [sorted(gen, key=order.__getitem__) for gen in nx.topological_generations(graph)]
    depth: dict[str, int] = {}
    for seed in starts(graph) + list(order):
        if seed in depth:
            continue
        depth[seed] = 0
        queue = deque([seed])
        while queue:
            node = queue.popleft()
            for succ in sorted(graph.successors(node), key=order.__getitem__):
                if succ not in depth:
                    depth[succ] = depth[node] + 1
                    queue.append(succ)
    rows: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node in order:
        rows[depth[node]].append(node)
    return [row for row in rows if row]


def critical_path(doc: FlowDoc) -> tuple[int, tuple[str, ...]] | None:
    """The longest start→end path over non-loop edges by summed step days; None if the graph is empty or cyclic."""
    adjacency = _Adjacency(flow_graph(doc))
    return _longest_path(doc, adjacency, _topological_order(adjacency))


def _longest_path(doc: FlowDoc, adjacency: _Adjacency, order: list[str] | None) -> tuple[int, tuple[str, ...]] | None:
    if not adjacency.succ or order is None:
        return None
    steps, pred_of = doc.step_map(), adjacency.pred
    best: dict[str, tuple[int, str | None]] = {}
    for node in order:  # any topological order: ties are broken by step id, so the result does not depend on it
        pred = min(pred_of[node], key=lambda p: (-best[p][0], p), default=None)
        best[node] = ((best[pred][0] if pred is not None else 0) + (steps[node].time_limit_days or 0), pred)
    cursor: str | None = min(adjacency.ends(), key=lambda n: (-best[n][0], n))
    days, path = best[cursor][0], []
    while cursor is not None:
        path.append(cursor)
        cursor = best[cursor][1]
    return days, tuple(reversed(path))


# ---------------------------------------------------------------- checks


def _check_ids(doc: FlowDoc) -> list[Finding]:
    counts = Counter(step.id for step in doc.steps)
    out = [finding("duplicate_step", (sid,), f"步骤编号“{sid}”重复出现 {n} 次") for sid, n in counts.items() if n > 1]
    known = set(counts)
    for index, edge in enumerate(doc.edges):
        missing = sorted({edge.source, edge.target} - known)
        if missing:
            names = "、".join(f"“{m}”" for m in missing)
            out.append(finding("unknown_step", missing,
                               f"连线 edges[{index}]（{edge.source} → {edge.target}）引用了不存在的步骤 {names}"))
    return out


def _label(step: Step) -> str:
    return f"{step.id}（{step.name}）"


def _check_shape(doc: FlowDoc, adjacency: _Adjacency, first: list[str], last: list[str]) -> list[Finding]:
    steps, out = doc.step_map(), []
    if not first:
        out.append(finding("no_start", (), "流程没有起始环节：每个步骤都有前序步骤"))
    elif len(first) > 1:
        out.append(finding("multiple_starts", sorted(first),
                           f"流程有 {len(first)} 个起始环节：{'、'.join(_label(steps[s]) for s in first)}"))
    if not last:
        out.append(finding("no_end", (), "流程没有结束环节：每个步骤都有后续步骤"))
    # with no start (or no end) at all, every step would be flagged; no_start/no_end already says it
    if first:
        reached = _reach(adjacency.succ, first)
        out += [finding("unreachable_step", (n,), f"步骤 {_label(steps[n])}无法从任何起始环节到达")
                for n in adjacency.succ if n not in reached]
    if last:
        reaching = _reach(adjacency.pred, last)
        out += [finding("dead_end", (n,), f"从步骤 {_label(steps[n])}出发无法到达任何结束环节")
                for n in adjacency.succ if n not in reaching]
    return out


def _check_cycles(graph: nx.DiGraph) -> list[Finding]:
    out = []
    for component in nx.strongly_connected_components(graph):
        node = min(component)
        if len(component) == 1 and not graph.has_edge(node, node):
            continue
        cycle = nx.find_cycle(graph.subgraph(component), source=node)
        route = " → ".join([u for u, _v in cycle] + [cycle[0][0]])
        hint = "（如为退回补正，请将该连线标记为 loop）"
        out.append(finding("cycle", sorted(component), f"非退回连线构成循环：{route}{hint}"))
    return out


def _check_time(path: tuple[int, tuple[str, ...]] | None, limit: int | None) -> list[Finding]:
    if path is None or limit is None or path[0] <= limit:
        return []
    days, route = path
    return [finding("time_limit_exceeded", route,
                    f"最长办理路径 {' → '.join(route)} 合计 {days} 个工作日，超过时限 {limit} 个工作日")]


def _check_sod(doc: FlowDoc) -> list[Finding]:
    by_post: dict[str, dict[str, list[str]]] = {}
    for step in doc.step_map().values():
        if step.post and step.post.strip():
            by_post.setdefault(step.post.strip(), {}).setdefault(step.role, []).append(step.id)
    out = []
    for post, roles in by_post.items():
        for first, second in SOD_PAIRS:
            if first in roles and second in roles:
                ids = roles[first] + roles[second]
                out.append(finding("sod_conflict", ids,
                                   f"岗位“{post}”同时承担{ROLE_TITLES[first]}与{ROLE_TITLES[second]}职责"
                                   f"（步骤 {'、'.join(ids)}），违反分权制衡"))
    return out


def _check_posts(doc: FlowDoc, risk_step_ids: set[str] | None) -> list[Finding]:
    steps = doc.step_map().values()
    out = [finding("missing_post", (s.id,), f"步骤 {_label(s)}未指定责任岗位") for s in steps
           if not (s.post and s.post.strip())]
    if risk_step_ids is not None:
        out += [finding("uncovered_key_step", (s.id,), f"决定环节 {_label(s)}尚未登记廉政风险点") for s in steps
                if s.role == "decision" and s.id not in risk_step_ids]
    return out


def validate_flow(doc: FlowDoc, *, time_limit_days: int | None = None,
                  risk_step_ids: set[str] | None = None) -> FlowReport:
    """Run every §7.1 check; time_limit_days overrides the document's limit when given."""
    graph = flow_graph(doc)
    adjacency = _Adjacency(graph)
    order, first, last = _topological_order(adjacency), adjacency.starts(), adjacency.ends()
    path = _longest_path(doc, adjacency, order)
    limit = time_limit_days if time_limit_days is not None else doc.time_limit_days
    cycles = _check_cycles(graph) if order is None else []  # a topological order exists only without cycles
    findings = (_check_ids(doc) + _check_shape(doc, adjacency, first, last) + cycles + _check_time(path, limit)
                + _check_sod(doc) + _check_posts(doc, risk_step_ids))
    findings.sort(key=lambda f: (CODE_ORDER.index(f.code), f.steps, f.message))
    ok = not any(f.severity == ERROR for f in findings)
    return FlowReport(ok, path[0] if path else None, path[1] if path else (), findings)


def check_document(raw: str | bytes | dict, *, risk_step_ids: set[str] | None = None,
                   time_limit_days: int | None = None) -> dict[str, Any]:
    """Parse and validate a flow document, returning the §7.1 check output."""
    doc, problems = parse_flow(raw)
    if doc is None:
        return FlowReport(False, None, (), problems).to_dict()
    return validate_flow(doc, time_limit_days=time_limit_days, risk_step_ids=risk_step_ids).to_dict()
