"""BPMN 2.0 export and import: schema-valid, loadable (and runnable) by SpiffWorkflow, round trip, refusals."""

import os
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govrisk.flows.bpmn import BPMN, BPMNDI, DC, bpmn_to_flow, flow_to_bpmn
from govrisk.flows.validation import ROLES, Edge, FlowDoc, Step, parse_flow
from tests.flows.conftest import example_dict

lxml_etree = pytest.importorskip("lxml.etree")
spiff_parser = pytest.importorskip("SpiffWorkflow.bpmn.parser.BpmnParser")
SCHEMA_DIR = os.path.join(os.path.dirname(spiff_parser.__file__), "schema")
_SCHEMA = []


def schema():
    """The BPMN 2.0 XSD shipped inside SpiffWorkflow (BPMN20.xsd imports Semantic, BPMNDI, DI and DC)."""
    if not _SCHEMA:
        _SCHEMA.append(lxml_etree.XMLSchema(lxml_etree.parse(os.path.join(SCHEMA_DIR, "BPMN20.xsd"))))
    return _SCHEMA[0]


def assert_schema_valid(xml: bytes) -> None:
    xsd = schema()
    assert xsd.validate(lxml_etree.fromstring(xml)), xsd.error_log


def example():
    doc, _ = parse_flow(example_dict())
    return doc


def q(ns, tag):
    return f"{{{ns}}}{tag}"


def test_export_validates_against_the_bpmn_schema():
    assert_schema_valid(flow_to_bpmn(example()))


def test_export_has_lanes_per_post_user_tasks_conditions_and_a_diagram():
    root = ET.fromstring(flow_to_bpmn(example()))
    process = root.find(q(BPMN, "process"))
    lanes = {lane.get("name"): [r.text for r in lane.findall(q(BPMN, "flowNodeRef"))]
             for lane in process.iter(q(BPMN, "lane"))}
    assert list(lanes) == ["窗口受理岗", "审查岗", "分管领导"]
    tasks = {t.get("id"): t.get("name") for t in process.findall(q(BPMN, "userTask"))}
    assert sorted(tasks.values()) == sorted(["受理", "审查", "决定", "送达"])
    assert {tasks[r] for r in lanes["窗口受理岗"] if r in tasks} == {"受理", "送达"}
    loop = [f for f in process.findall(q(BPMN, "sequenceFlow")) if f.get("name") == "补正"]
    assert len(loop) == 1 and loop[0].find(q(BPMN, "conditionExpression")).text == 'outcome == "补正"'
    shapes = root.findall(f".//{q(BPMNDI, 'BPMNShape')}")
    edges = root.findall(f".//{q(BPMNDI, 'BPMNEdge')}")
    shaped = {s.get("bpmnElement") for s in shapes}
    assert set(tasks) <= shaped and {"Participant_1", "StartEvent_1", "EndEvent_1"} <= shaped
    assert len(edges) == len(process.findall(q(BPMN, "sequenceFlow")))
    assert all(s.find(q(DC, "Bounds")) is not None for s in shapes)


def test_layout_follows_the_chart_layers_left_to_right():
    root = ET.fromstring(flow_to_bpmn(example()))
    x = {s.get("bpmnElement"): float(s.find(q(DC, "Bounds")).get("x")) for s in root.iter(q(BPMNDI, "BPMNShape"))}
    names = {t.get("name"): t.get("id") for t in root.iter(q(BPMN, "userTask"))}
    order = [x[names[n]] for n in ("受理", "审查", "决定", "送达")]
    assert order == sorted(order) and len(set(order)) == 4
    assert x["StartEvent_1"] < order[0] and x["EndEvent_1"] > order[-1]


def test_spiffworkflow_loads_and_runs_the_export_through_the_bupzheng_loop():
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser, BpmnValidator
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    parser = BpmnParser(validator=BpmnValidator())
    parser.add_bpmn_xml(lxml_etree.fromstring(flow_to_bpmn(example())), filename="licensing.bpmn")
    workflow = BpmnWorkflow(parser.get_spec("Process_1"))
    workflow.do_engine_steps()
    visited, outcomes = [], iter(["补正", ""])
    while not workflow.is_completed() and len(visited) < 20:
        task = workflow.get_tasks(state=TaskState.READY)[0]
        visited.append((task.task_spec.bpmn_name, task.task_spec.lane))
        task.data["outcome"] = next(outcomes) if task.task_spec.bpmn_name == "审查" else ""
        task.run()
        workflow.do_engine_steps()
    assert workflow.is_completed()
    assert [name for name, _ in visited] == ["受理", "审查", "受理", "审查", "决定", "送达"]
    assert visited[0][1] == "窗口受理岗" and visited[4][1] == "分管领导"


def test_round_trip_preserves_the_document():
    doc = example()
    back, problems = bpmn_to_flow(flow_to_bpmn(doc))
    assert problems == [] and back.to_dict() == doc.to_dict()


_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=12).filter(str.strip)


@st.composite
def documents(draw):
    ids = draw(st.lists(_TEXT, min_size=0, max_size=9, unique=True))
    posts = draw(st.lists(_TEXT, min_size=1, max_size=4))
    steps = tuple(Step(i, draw(_TEXT), draw(st.none() | st.sampled_from(posts)), draw(st.sampled_from(ROLES)),
                       draw(st.none() | st.integers(0, 400)), tuple(draw(st.lists(_TEXT, max_size=2)))) for i in ids)
    edges = ()
    if ids:
        pairs = st.tuples(st.sampled_from(ids), st.sampled_from(ids), st.booleans(), st.just("") | _TEXT)
        edges = tuple(Edge(a, b, loop, label) for a, b, loop, label in draw(st.lists(pairs, max_size=14)))
    kind = draw(st.sampled_from(("internal", "external")))
    return FlowDoc(draw(_TEXT), kind, draw(st.none() | st.integers(0, 999)), steps, edges)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_round_trip_property_json_bpmn_json(doc):
    xml = flow_to_bpmn(doc)
    back, problems = bpmn_to_flow(xml)
    assert problems == [], problems
    assert back.to_dict() == doc.to_dict()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_every_export_is_schema_valid(doc):
    assert_schema_valid(flow_to_bpmn(doc))


def test_foreign_bpmn_without_govrisk_attributes_is_read_with_guessed_roles():
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{BPMN}" id="d" targetNamespace="x">
  <process id="p" isExecutable="false">
    <laneSet id="ls"><lane id="l1" name="窗口"><flowNodeRef>a</flowNodeRef></lane>
      <lane id="l2" name="科长"><flowNodeRef>b</flowNodeRef><flowNodeRef>c</flowNodeRef></lane></laneSet>
    <startEvent id="s"/><task id="a" name="受理申请"/>
    <userTask id="b" name="审核材料"/><userTask id="c" name="审批决定"/>
    <exclusiveGateway id="g"/><endEvent id="e"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="a"/><sequenceFlow id="f2" sourceRef="a" targetRef="b"/>
    <sequenceFlow id="f3" sourceRef="b" targetRef="g"/><sequenceFlow id="f4" sourceRef="g" targetRef="c" name="通过"/>
    <sequenceFlow id="f5" sourceRef="g" targetRef="a" name="补正"/><sequenceFlow id="f6" sourceRef="c" targetRef="e"/>
  </process>
</definitions>""".encode()
    doc, problems = bpmn_to_flow(xml, power_code="XK-0001", kind="external")
    assert problems == []
    assert [(s.id, s.post, s.role) for s in doc.steps] == [("a", "窗口", "acceptance"), ("b", "科长", "review"),
                                                           ("c", "科长", "decision")]
    assert [(e.source, e.target, e.label) for e in doc.edges] == [("a", "b", ""), ("b", "c", "通过"),
                                                                  ("b", "a", "补正")]
    assert (doc.power_code, doc.kind) == ("XK-0001", "external")


@pytest.mark.parametrize("xml, message", [
    (b"not xml at all", "不是有效的 XML"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "DOCTYPE"),
    (b"<flow/>", "根元素必须是 BPMN 2.0"),
    (f'<definitions xmlns="{BPMN}"/>'.encode(), "恰好包含一个流程"),
    (f'<definitions xmlns="{BPMN}"><process id="p"/><process id="q"/></definitions>'.encode(), "实际为 2 个"),
    (f'<definitions xmlns="{BPMN}"><process id="p"><sequenceFlow id="f" sourceRef="a" targetRef="b"/></process>'
     f"</definitions>".encode(), "引用了不存在的元素"),
    (f'<definitions xmlns="{BPMN}"><process id="p"><userTask id="a"/></process></definitions>'.encode(),
     "name 必须是非空字符串"),
])
def test_malformed_bpmn_gives_an_invalid_document_finding(xml, message):
    doc, problems = bpmn_to_flow(xml, power_code="XK-0001", kind="internal")
    assert doc is None and [p.code for p in problems] == ["invalid_document"] * len(problems)
    assert message in " ".join(p.message for p in problems)


def test_unsupported_elements_are_refused_with_the_list_found():
    xml = f"""<definitions xmlns="{BPMN}"><process id="p">
      <userTask id="a" name="受理"><multiInstanceLoopCharacteristics/></userTask>
      <serviceTask id="b" name="自动"/><serviceTask id="c" name="自动2"/>
      <boundaryEvent id="t" attachedToRef="a"><timerEventDefinition/></boundaryEvent>
      <subProcess id="sp"/></process></definitions>""".encode()
    doc, problems = bpmn_to_flow(xml, power_code="XK-0001", kind="internal")
    assert doc is None
    message = problems[0].message
    for found in ("boundaryEvent ×1", "multiInstanceLoopCharacteristics ×1", "serviceTask ×2", "subProcess ×1"):
        assert found in message


def test_control_characters_never_reach_the_xml():
    doc = FlowDoc("XK-1", "internal", None, (Step("a", "受\x01理", None, "acceptance", 1),), ())
    xml = flow_to_bpmn(doc)
    assert_schema_valid(xml)
    assert bpmn_to_flow(xml)[0].steps[0].name == "受理"
