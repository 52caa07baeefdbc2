"""Flow document checks (DESIGN §7.1): one broken flow per finding code, parsing errors, and properties."""

import itertools
import json
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govrisk.flows.validation import (
    CODE_ORDER,
    ROLES,
    SEVERITIES,
    Edge,
    FlowDoc,
    Step,
    check_document,
    layers,
    parse_flow,
    required_steps,
    validate_flow,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "seed" / "flows" / "example-licensing.json"


def flow(steps, edges, time_limit=None) -> FlowDoc:
    """steps: (id, role[, post[, days]]); edges: (from, to[, loop])."""
    built = []
    for sid, role, *rest in steps:
        post = rest[0] if rest else f"{sid}岗"
        days = rest[1] if len(rest) > 1 else 1
        built.append(Step(sid, f"环节{sid}", post, role, days))
    return FlowDoc("XK-T", "internal", time_limit, tuple(built), tuple(Edge(*e) for e in edges))


def summary(report) -> list[tuple]:
    return [(f.code, f.severity, f.steps) for f in report.findings]


CHAIN = [("a", "acceptance"), ("b", "review"), ("c", "execution")]

CASES = {
    "duplicate_step": (
        flow([("a", "acceptance"), ("b", "review"), ("a", "execution")], [("a", "b")]),
        [("duplicate_step", "error", ("a",))],
    ),
    "unknown_step": (
        flow(CHAIN, [("a", "b"), ("b", "c"), ("c", "zz")]),
        [("unknown_step", "error", ("zz",))],
    ),
    "unknown_step_in_loop_edge": (
        flow(CHAIN, [("a", "b"), ("b", "c"), ("yy", "a", True)]),
        [("unknown_step", "error", ("yy",))],
    ),
    "no_start_empty": (flow([], []), [("no_start", "error", ()), ("no_end", "error", ())]),
    "no_start_cycle": (
        flow(CHAIN[:2], [("a", "b"), ("b", "a")]),
        [("no_start", "error", ()), ("no_end", "error", ()), ("cycle", "error", ("a", "b"))],
    ),
    "multiple_starts": (
        flow(CHAIN, [("a", "c"), ("b", "c")]),
        [("multiple_starts", "warning", ("a", "b"))],
    ),
    "no_end": (
        flow(CHAIN, [("a", "b"), ("b", "c"), ("c", "b")]),
        [("no_end", "error", ()), ("cycle", "error", ("b", "c"))],
    ),
    "unreachable_step": (
        flow([*CHAIN[:2], ("c", "execution"), ("d", "execution")], [("a", "b"), ("c", "d"), ("d", "c")]),
        [("unreachable_step", "error", ("c",)), ("unreachable_step", "error", ("d",)),
         ("dead_end", "error", ("c",)), ("dead_end", "error", ("d",)), ("cycle", "error", ("c", "d"))],
    ),
    "dead_end": (
        flow([*CHAIN, ("d", "execution")], [("a", "b"), ("a", "c"), ("c", "d"), ("d", "c")]),
        [("dead_end", "error", ("c",)), ("dead_end", "error", ("d",)), ("cycle", "error", ("c", "d"))],
    ),
    "cycle_self_edge": (
        flow(CHAIN, [("a", "b"), ("b", "b"), ("b", "c")]),
        [("cycle", "error", ("b",))],
    ),
    "time_limit_exceeded": (
        flow([("a", "acceptance", "甲岗", 3), ("b", "review", "乙岗", 4), ("c", "execution", "丙岗", 5)],
             [("a", "b"), ("b", "c"), ("a", "c")], time_limit=10),
        [("time_limit_exceeded", "error", ("a", "b", "c"))],
    ),
    "sod_review_decision": (
        flow([("a", "acceptance"), ("b", "review", "审查岗"), ("c", "decision", "审查岗")], [("a", "b"), ("b", "c")]),
        [("sod_conflict", "warning", ("b", "c"))],
    ),
    "sod_decision_supervision": (
        flow([("a", "decision", "局长"), ("b", "execution"), ("c", "supervision", "局长")], [("a", "b"), ("b", "c")]),
        [("sod_conflict", "warning", ("a", "c"))],
    ),
    "sod_execution_supervision": (
        flow([("a", "acceptance"), ("b", "supervision", "科员"), ("c", "execution", "科员")], [("a", "b"), ("b", "c")]),
        [("sod_conflict", "warning", ("c", "b"))],
    ),
    "missing_post": (
        flow([("a", "acceptance", None), ("b", "review", ""), ("c", "execution", "  ")], [("a", "b"), ("b", "c")]),
        [("missing_post", "warning", ("a",)), ("missing_post", "warning", ("b",)),
         ("missing_post", "warning", ("c",))],
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_each_finding_code(name):
    doc, expected = CASES[name]
    assert summary(validate_flow(doc)) == expected


@pytest.mark.parametrize("name", CASES)
def test_ok_means_no_error(name):
    doc, expected = CASES[name]
    assert validate_flow(doc).ok is not any(severity == "error" for _code, severity, _steps in expected)


def test_every_code_is_covered_by_a_case():
    covered = {code for _doc, expected in CASES.values() for code, _s, _st in expected}
    assert covered | {"invalid_document", "uncovered_key_step"} == set(CODE_ORDER)
    assert set(SEVERITIES) == set(CODE_ORDER)


def test_uncovered_key_step_only_when_risk_points_are_known():
    doc = flow([("a", "acceptance"), ("d1", "decision"), ("d2", "decision")], [("a", "d1"), ("d1", "d2")])
    assert summary(validate_flow(doc)) == []
    assert summary(validate_flow(doc, risk_step_ids={"d1", "a"})) == [("uncovered_key_step", "warning", ("d2",))]
    assert summary(validate_flow(doc, risk_step_ids=set())) == [
        ("uncovered_key_step", "warning", ("d1",)), ("uncovered_key_step", "warning", ("d2",))]


def test_sod_message_names_post_duties_and_steps():
    doc, _ = CASES["sod_review_decision"]
    (finding,) = validate_flow(doc).findings
    assert finding.message == "岗位“审查岗”同时承担审查与决定职责（步骤 b、c），违反分权制衡"


def test_acceptance_and_execution_may_share_a_post():
    doc = flow([("a", "acceptance", "窗口"), ("b", "execution", "窗口")], [("a", "b")])
    assert summary(validate_flow(doc)) == []


def test_example_from_design_is_clean():
    assert check_document(EXAMPLE.read_text(encoding="utf-8")) == {"ok": True, "critical_path_days": 18,
                                                                  "findings": []}
    doc, problems = parse_flow(EXAMPLE.read_bytes())
    assert problems == [] and doc.power_code == "XK-0001"
    report = validate_flow(doc)
    assert report.critical_path == ("accept", "review", "decide", "deliver")


def test_time_limit_override_and_boundary():
    doc, _ = parse_flow(EXAMPLE.read_text(encoding="utf-8"))
    assert validate_flow(doc, time_limit_days=18).ok
    report = validate_flow(doc, time_limit_days=17)
    assert summary(report) == [("time_limit_exceeded", "error", ("accept", "review", "decide", "deliver"))]
    assert "18" in report.findings[0].message and "17" in report.findings[0].message


def test_no_time_limit_means_no_time_check():
    doc = flow([("a", "acceptance", "甲", 400)], [])
    report = validate_flow(doc)
    assert report.ok and report.critical_path_days == 400


def test_critical_path_skipped_when_cyclic():
    doc, _ = CASES["no_end"]
    report = validate_flow(doc)
    assert report.critical_path_days is None and report.critical_path == ()


def test_loop_edge_closing_a_cycle_is_not_a_cycle():
    doc = flow(CHAIN, [("a", "b"), ("b", "c"), ("c", "a", True), ("b", "b", True)])
    assert summary(validate_flow(doc)) == []


def test_risk_decision_steps_from_the_example():
    result = check_document(EXAMPLE.read_text(encoding="utf-8"), risk_step_ids=set())
    assert result["ok"] is True
    assert [(f["code"], f["steps"]) for f in result["findings"]] == [("uncovered_key_step", ["decide"])]


def test_findings_are_ordered_by_code_then_steps():
    doc = flow([("a", "acceptance", None), ("b", "review", "P"), ("c", "decision", "P"), ("z", "review", None),
                ("a", "execution")], [("a", "b"), ("b", "c"), ("z", "c"), ("c", "q")])
    codes = [f.code for f in validate_flow(doc).findings]
    assert codes == ["duplicate_step", "unknown_step", "multiple_starts", "sod_conflict", "missing_post",
                     "missing_post"]
    assert [f.steps for f in validate_flow(doc).findings][-2:] == [("a",), ("z",)]


def _doc(**changes) -> dict:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    for path, value in changes.items():
        target, *keys = path.split("__")
        node = data
        for key in [target, *keys][:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        last = [target, *keys][-1]
        if value is _DELETE:
            node.pop(int(last) if isinstance(node, list) else last)
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return data


_DELETE = object()

INVALID = [
    ("{", "不是有效的 JSON"),
    (b"\xff\xfe\xfa", "不是有效的 JSON"),
    ("[]", "必须是 JSON 对象"),
    ('"text"', "必须是 JSON 对象"),
    (_doc(power_code=_DELETE), "power_code 必须是非空字符串（缺失）"),
    (_doc(power_code=""), "power_code 必须是非空字符串"),
    (_doc(kind="public"), "kind 必须是 internal、external 之一"),
    (_doc(time_limit_days=-1), "time_limit_days 必须是不小于 0 的整数"),
    (_doc(time_limit_days=2.5), "time_limit_days"),
    (_doc(time_limit_days=True), "time_limit_days"),
    (_doc(time_limit_days="20"), "time_limit_days"),
    (_doc(steps={"a": 1}), "steps 必须是数组"),
    (_doc(edges=_DELETE), "edges 必须是数组（缺失）"),
    (_doc(steps__1="review"), "steps[1] 必须是 JSON 对象"),
    (_doc(steps__1__role="approve"), "steps[1]（review）.role 必须是"),
    (_doc(steps__2__time_limit_days=-3), "steps[2]（decide）.time_limit_days"),
    (_doc(steps__0__id=_DELETE), "steps[0].id 必须是非空字符串"),
    (_doc(steps__0__name=7), "steps[0]（accept）.name"),
    (_doc(steps__0__post=["a"]), "steps[0]（accept）.post"),
    (_doc(steps__0__documents="申请书"), "steps[0]（accept）.documents"),
    (_doc(edges__0__from=_DELETE), "edges[0].from"),
    (_doc(edges__3__to=None), "edges[3].to"),
    (_doc(edges__2__loop="yes"), "edges[2].loop 必须是 true 或 false"),
    (_doc(edges__2__label=3), "edges[2].label"),
    (_doc(edges__1=["review", "decide"]), "edges[1] 必须是 JSON 对象"),
    ("[" * 100_000, "不是有效的 JSON"),
]


@pytest.mark.parametrize(("raw", "fragment"), INVALID)
def test_invalid_documents_say_which_field(raw, fragment):
    doc, problems = parse_flow(raw)
    assert doc is None and problems
    assert all(p.code == "invalid_document" and p.severity == "error" for p in problems)
    assert any(fragment in p.message for p in problems), [p.message for p in problems]
    result = check_document(raw)
    assert result["ok"] is False and result["critical_path_days"] is None
    assert [f["message"] for f in result["findings"]] == [p.message for p in problems]


def test_invalid_step_names_its_step_id():
    _doc_, problems = parse_flow(_doc(steps__1__role="approve", steps__2__time_limit_days=-1))
    assert [p.steps for p in problems] == [("review",), ("decide",)]


def test_every_bad_field_is_reported():
    _doc_, problems = parse_flow({"power_code": 1, "kind": None, "steps": [{"id": "a"}], "edges": [{}]})
    assert len(problems) == 2 + 2 + 2  # header, steps[0] name+role, edges[0] from+to


@pytest.mark.parametrize("raw", [
    _doc(time_limit_days=None),
    _doc(steps__0__post=_DELETE),
    _doc(steps__0__time_limit_days=None),
    _doc(edges__2__label=None),
    _doc(edges__0__loop=False),
    _doc(steps__0__documents=["申请书", "身份证明"]),
    "\ufeff" + EXAMPLE.read_text(encoding="utf-8"),
])
def test_optional_fields(raw):
    doc, problems = parse_flow(raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False))
    assert problems == [] and doc is not None


def test_integral_float_days_are_read_as_int():
    doc, _ = parse_flow(_doc(time_limit_days=20.0))
    assert doc.time_limit_days == 20 and isinstance(doc.time_limit_days, int)


def test_missing_post_from_document():
    result = check_document(_doc(steps__3__post=None))
    assert result["ok"] is True
    assert [(f["code"], f["severity"], f["steps"]) for f in result["findings"]] == [
        ("missing_post", "warning", ["deliver"])]


def test_round_trip_and_edge_keys():
    doc, _ = parse_flow(EXAMPLE.read_text(encoding="utf-8"))
    data = doc.to_dict()
    assert data["edges"][2] == {"from": "review", "to": "accept", "loop": True, "label": "补正"}
    assert parse_flow(data) == (doc, [])
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data


def test_required_steps_and_layers():
    doc, _ = parse_flow(EXAMPLE.read_text(encoding="utf-8"))
    assert required_steps(doc) == {"accept", "review", "decide", "deliver"}
    assert layers(doc) == [["accept"], ["review"], ["decide"], ["deliver"]]
    diamond = flow([("a", "acceptance"), ("b", "review"), ("c", "review"), ("d", "decision")],
                   [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "a", True)])
    assert required_steps(diamond) == {"a", "d"}
    assert layers(diamond) == [["a"], ["b", "c"], ["d"]]
    two_starts = flow(CHAIN, [("a", "c"), ("b", "c")])
    assert required_steps(two_starts) == {"c"}


def test_layers_survive_cycles():
    doc, _ = CASES["unreachable_step"]
    rows = layers(doc)
    assert sorted(itertools.chain.from_iterable(rows)) == ["a", "b", "c", "d"]


# ---------------------------------------------------------------- properties

IDS = [f"s{i}" for i in range(8)]


@st.composite
def flows(draw, max_steps=8):
    n = draw(st.integers(1, max_steps))
    steps = tuple(Step(IDS[i], f"环节{i}", draw(st.sampled_from(["甲岗", "乙岗", "丙岗", None])),
                       draw(st.sampled_from(ROLES)), draw(st.none() | st.integers(0, 10))) for i in range(n))
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.booleans())
    edges = tuple(Edge(IDS[a], IDS[b], loop) for a, b, loop in draw(st.lists(pairs, max_size=3 * n)))
    return FlowDoc("XK-P", draw(st.sampled_from(["internal", "external"])), draw(st.none() | st.integers(0, 40)),
                   steps, edges)


def _plain(doc: FlowDoc) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(s.id for s in doc.steps)
    graph.add_edges_from((e.source, e.target) for e in doc.edges if not e.loop)
    return graph


def _start_end_paths(doc: FlowDoc) -> list[list[str]]:
    graph = _plain(doc)
    starts = [n for n in graph if graph.in_degree(n) == 0]
    ends = [n for n in graph if graph.out_degree(n) == 0]
    paths = [[s] for s in starts if s in ends]
    for s, e in itertools.product(starts, ends):
        paths += list(nx.all_simple_paths(graph, s, e)) if s != e else []
    return paths


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(flows())
def test_check_document_never_raises_and_ok_matches_errors(doc):
    result = check_document(doc.to_dict())
    assert set(result) == {"ok", "critical_path_days", "findings"}
    assert result["ok"] is not any(f["severity"] == "error" for f in result["findings"])
    assert all(SEVERITIES[f["code"]] == f["severity"] for f in result["findings"])
    json.dumps(result, ensure_ascii=False)


@settings(max_examples=300)
@given(flows())
def test_critical_path_is_the_longest_path(doc):
    report = validate_flow(doc)
    if report.critical_path_days is None:
        assert not nx.is_directed_acyclic_graph(_plain(doc))
        return
    days = {s.id: s.time_limit_days or 0 for s in doc.steps}
    path = report.critical_path
    assert report.critical_path_days == sum(days[s] for s in path)
    assert report.critical_path_days >= max(days[s] for s in path)
    assert path in {tuple(p) for p in _start_end_paths(doc)}
    assert report.critical_path_days == max(sum(days[s] for s in p) for p in _start_end_paths(doc))


@settings(max_examples=300)
@given(flows(), st.data())
def test_adding_a_loop_edge_changes_nothing(doc, data):
    a, b = data.draw(st.sampled_from([s.id for s in doc.steps])), data.draw(st.sampled_from([s.id for s in doc.steps]))
    label = data.draw(st.sampled_from(["", "补正", "退回"]))
    looped = FlowDoc(doc.power_code, doc.kind, doc.time_limit_days, doc.steps, (*doc.edges, Edge(a, b, True, label)))
    before, after = validate_flow(doc), validate_flow(looped)
    assert after == before
    assert not any(f.code == "cycle" for f in after.findings) or any(f.code == "cycle" for f in before.findings)


@settings(max_examples=300)
@given(flows())
def test_ok_flows_are_connected_from_start_to_end(doc):
    report = validate_flow(doc)
    if not report.ok:
        return
    graph = _plain(doc)
    starts = [n for n in graph if graph.in_degree(n) == 0]
    ends = {n for n in graph if graph.out_degree(n) == 0}
    assert starts
    reached = set(starts).union(*(nx.descendants(graph, s) for s in starts))
    assert reached == set(graph)
    assert all(n in ends or nx.descendants(graph, n) & ends for n in graph)


@settings(max_examples=200)
@given(flows())
def test_required_steps_lie_on_every_path(doc):
    paths = _start_end_paths(doc)
    expected = set.intersection(*(set(p) for p in paths)) if paths else set()
    assert required_steps(doc) == expected


@settings(max_examples=200)
@given(flows())
def test_layers_place_every_step_once_and_respect_edges(doc):
    rows = layers(doc)
    flat = list(itertools.chain.from_iterable(rows))
    assert sorted(flat) == sorted({s.id for s in doc.steps}) and len(flat) == len(set(flat))
    if nx.is_directed_acyclic_graph(_plain(doc)):
        depth = {n: i for i, row in enumerate(rows) for n in row}
        assert all(depth[e.source] < depth[e.target] for e in doc.edges if not e.loop)


@settings(max_examples=200)
@given(flows())
def test_round_trip(doc):
    assert parse_flow(json.dumps(doc.to_dict(), ensure_ascii=False)) == (doc, [])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)
FIELD_PATHS = ["power_code", "kind", "time_limit_days", "steps", "edges", "steps__0", "steps__1__role",
               "steps__2__time_limit_days", "steps__0__id", "steps__3__post", "edges__0", "edges__2__loop",
               "edges__1__to", "edges__2__label", "steps__1__documents", "edges__1__label"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    json_values,
    st.text(),
    st.binary(),
    st.builds(lambda path, value: _doc(**{path: value}), st.sampled_from(FIELD_PATHS), json_values),
    st.builds(lambda path: _doc(**{path: _DELETE}), st.sampled_from(FIELD_PATHS[:-2])),
))
def test_malformed_documents_never_raise(raw):
    result = check_document(raw)
    assert isinstance(result["ok"], bool)
    if not result["ok"] and result["critical_path_days"] is None and result["findings"]:
        assert all(isinstance(f["message"], str) and f["message"] for f in result["findings"])
    if not isinstance(raw, dict):
        try:
            parsed = json.loads(raw)
        except (ValueError, TypeError):
            parsed = None
        if not isinstance(parsed, dict):
            assert result["findings"][0]["code"] == "invalid_document"
