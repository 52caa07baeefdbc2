"""Storing flows: well-formed documents only, posts of the department, versions, publication, import, audit."""

import json

import pytest
import sqlalchemy as sa

from govrisk.core.audit import AuditEntry
from govrisk.core.errors import UserError, WorkflowError
from govrisk.core.permissions import Role
from govrisk.extensions import db
from govrisk.flows import operations as ops
from govrisk.flows import queries
from govrisk.flows.models import Flow, FlowEdge, FlowKind, FlowStep
from govrisk.flows.validation import parse_flow
from govrisk.workflow.register import RegisterState
from tests.flows.conftest import example_dict


def doc_of(data: dict):
    doc, problems = parse_flow(data)
    assert doc is not None, problems
    return doc


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Flow, FlowStep, FlowEdge))


def test_create_stores_steps_edges_posts_and_summary(licensing):
    _department, posts, power = licensing
    flow = ops.create_flow(power, FlowKind.INTERNAL, doc_of(example_dict()), actor=None)
    assert (flow.number, flow.state, flow.step_count, flow.decision_step_count) == (1, RegisterState.DRAFT, 4, 1)
    assert [s.key for s in flow.steps] == ["accept", "review", "decide", "deliver"]
    assert flow.steps[1].post_id == posts["审查岗"].id and flow.steps[1].post_name == "审查岗"
    loop = flow.edges[2]
    assert (loop.source_key, loop.target_key, loop.is_loop, loop.label) == ("review", "accept", True, "补正")
    assert (flow.error_count, flow.warning_count, flow.critical_path_days) == (0, 0, 18)
    assert queries.flow_doc(flow).to_dict() == doc_of(example_dict()).to_dict()


@pytest.mark.parametrize("mutate, code", [
    (lambda d: d["steps"].append(dict(d["steps"][0])), "duplicate_step"),
    (lambda d: d["edges"].append({"from": "review", "to": "nowhere"}), "unknown_step"),
    (lambda d: d["steps"][0].update(id="x" * 61), "invalid_document"),
    (lambda d: d["steps"][1].update(name="审\x07查"), "invalid_document"),
    (lambda d: d["edges"][0].update(label="条" * 201), "invalid_document"),
    (lambda d: d["steps"][2].update(post="不存在的岗位"), "invalid_document"),
])
def test_malformed_documents_store_nothing(licensing, mutate, code):
    _department, _posts, power = licensing
    data = example_dict()
    mutate(data)
    before = counts()
    with pytest.raises(ops.FlowDocumentError) as caught:
        ops.create_flow(power, FlowKind.INTERNAL, doc_of(data), actor=None)
    assert code in {f["code"] for f in caught.value.details["findings"]}
    assert caught.value.message.startswith("流程图未保存")
    assert counts() == before


def test_saving_a_malformed_document_leaves_the_stored_one_untouched(licensing):
    _department, _posts, power = licensing
    flow = ops.create_flow(power, FlowKind.INTERNAL, doc_of(example_dict()), actor=None)
    bad = example_dict()
    bad["edges"].append({"from": "ghost", "to": "accept"})
    with pytest.raises(ops.FlowDocumentError, match="ghost"):
        ops.save_flow(flow, doc_of(bad), actor=None)
    db.session.expire_all()
    assert queries.flow_doc(flow).to_dict() == doc_of(example_dict()).to_dict() and flow.version == 1


def test_internal_posts_must_belong_to_the_power_department(licensing, create_department, create_post):
    _department, _posts, power = licensing
    other = create_department(name="别的局")
    create_post(other, name="外单位岗")
    data = example_dict()
    data["steps"][1]["post"] = "外单位岗"
    with pytest.raises(ops.FlowDocumentError, match="外单位岗.*不是市场监督管理局的岗位"):
        ops.create_flow(power, FlowKind.INTERNAL, doc_of(data), actor=None)
    external = {**data, "kind": "external"}  # external flows name anyone: 申请人, 窗口, another bureau
    flow = ops.create_flow(power, FlowKind.EXTERNAL, doc_of(external), actor=None)
    assert flow.steps[1].post_id is None and flow.steps[1].post_name == "外单位岗"


def test_posts_may_be_named_by_code_and_are_stored_by_name(licensing):
    _department, posts, power = licensing
    data = example_dict()
    data["steps"][1]["post"] = posts["审查岗"].code
    flow = ops.create_flow(power, FlowKind.INTERNAL, doc_of(data), actor=None)
    assert flow.steps[1].post_name == "审查岗" and flow.steps[1].post_id == posts["审查岗"].id


def test_document_must_match_the_flow_power_and_kind(licensing):
    _department, _posts, power = licensing
    with pytest.raises(UserError, match="不一致"):
        ops.create_flow(power, FlowKind.INTERNAL, doc_of(example_dict("XK-9999")), actor=None)
    with pytest.raises(UserError, match="外部流程图"):
        ops.create_flow(power, FlowKind.INTERNAL, doc_of({**example_dict(), "kind": "external"}), actor=None)


def test_draft_with_errors_is_saved_but_cannot_be_submitted(licensing, create_user):
    department, _posts, power = licensing
    editor = create_user(Role.DEPT_EDITOR, department=department)
    data = example_dict()
    data["edges"][2]["loop"] = False  # the 补正 edge without its loop flag is a cycle
    flow = ops.create_flow(power, FlowKind.INTERNAL, doc_of(data), actor=editor)
    assert flow.error_count >= 1 and "cycle" in {f["code"] for f in flow.findings}
    with pytest.raises(WorkflowError, match="cycle"):
        ops.transition_flow(flow, "submit", actor=editor)
    assert flow.state is RegisterState.DRAFT
    ops.save_flow(flow, doc_of(example_dict()), actor=editor, expected_version=flow.version)
    ops.transition_flow(flow, "submit", actor=editor)
    assert flow.state is RegisterState.SUBMITTED


def test_the_submit_guard_uses_the_power_limit_as_it_is_now(licensing, create_user):
    department, _posts, power = licensing
    editor = create_user(Role.DEPT_EDITOR, department=department)
    flow = ops.create_flow(power, FlowKind.INTERNAL, doc_of(example_dict()), actor=editor)
    power.promised_days = 15  # the catalog shortened the promise after the flow was saved
    with pytest.raises(WorkflowError, match="time_limit_exceeded"):
        ops.transition_flow(flow, "submit", actor=editor)
    assert ops.recheck_flows() == 1 and flow.error_count == 1


def test_time_limit_uses_promised_days_then_the_document(licensing, create_power):
    department, _posts, power = licensing
    data = example_dict()
    data["time_limit_days"] = 5  # the power's 20 promised days win
    flow = ops.create_flow(power, FlowKind.INTERNAL, doc_of(data), actor=None)
    assert flow.error_count == 0
    no_promise = create_power(department, promised_days=None)
    data = {**example_dict(no_promise.code), "time_limit_days": 5}
    flow = ops.create_flow(no_promise, FlowKind.INTERNAL, doc_of(data), actor=None)
    assert [f["code"] for f in flow.findings] == ["time_limit_exceeded"]


def test_stale_save_is_refused(licensing):
    _department, _posts, power = licensing
    flow = ops.create_flow(power, FlowKind.INTERNAL, doc_of(example_dict()), actor=None)
    changed = example_dict()
    changed["steps"][0]["name"] = "窗口受理"
    ops.save_flow(flow, doc_of(changed), actor=None, expected_version=1)
    with pytest.raises(UserError, match="已被他人修改"):
        ops.save_flow(flow, doc_of(example_dict()), actor=None, expected_version=1)


def test_saving_keeps_step_rows_and_audits_field_changes(licensing, create_user):
    department, _posts, power = licensing
    editor = create_user(Role.DEPT_EDITOR, department=department)
    flow = ops.create_flow(power, FlowKind.INTERNAL, doc_of(example_dict()), actor=editor)
    review_row = flow.steps[1].id
    data = example_dict()
    data["steps"][1]["time_limit_days"] = 8
    data["steps"].append({"id": "archive", "name": "归档", "post": "窗口受理岗", "role": "execution",
                          "time_limit_days": 1})
    data["edges"].append({"from": "deliver", "to": "archive"})
    ops.save_flow(flow, doc_of(data), actor=editor)
    assert flow.steps[1].id == review_row and flow.version == 2
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "flows.flow.update")).one()
    changes = json.loads(entry.changes)
    assert changes["steps.review"][0]["time_limit_days"] == 10 and changes["steps.review"][1]["time_limit_days"] == 8
    assert changes["steps.archive"][0] is None and "deliver→archive" in changes["edges"][1]
    assert entry.actor_id == editor.id
    ops.save_flow(flow, doc_of(data), actor=editor)  # no change: no new version, no audit entry
    assert flow.version == 2
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "flows.flow.update")) == 1


def test_only_one_open_version_per_power_and_kind(licensing):
    _department, _posts, power = licensing
    ops.create_flow(power, FlowKind.INTERNAL, doc_of(example_dict()), actor=None)
    with pytest.raises(UserError, match="正在办理的第 1 版"):
        ops.create_flow(power, FlowKind.INTERNAL, doc_of(example_dict()), actor=None)
    ops.create_flow(power, FlowKind.EXTERNAL, doc_of({**example_dict(), "kind": "external"}), actor=None)


def publish(flow, department, create_user):
    editor = create_user(Role.DEPT_EDITOR, department=department)
    head = create_user(Role.DEPT_HEAD, department=department)
    inspector = create_user(Role.INSPECTOR)
    ops.transition_flow(flow, "submit", actor=editor)
    ops.transition_flow(flow, "approve", actor=head)
    ops.transition_flow(flow, "publish", actor=inspector)
    return editor, inspector


def test_publishing_a_new_version_retires_the_old_one(licensing, create_user):
    department, _posts, power = licensing
    v1 = ops.create_flow(power, FlowKind.EXTERNAL, doc_of({**example_dict(), "kind": "external"}), actor=None)
    editor, _inspector = publish(v1, department, create_user)
    assert queries.public_flow(power) is v1
    with pytest.raises(UserError, match="不能修改"):
        ops.save_flow(v1, doc_of({**example_dict(), "kind": "external"}), actor=editor)
    v2 = ops.revise_flow(v1, actor=editor)
    assert (v2.number, v2.state) == (2, RegisterState.DRAFT) and queries.public_flow(power) is v1
    publish(v2, department, create_user)
    assert v1.state is RegisterState.RETIRED and queries.public_flow(power) is v2
    assert [f.number for f in queries.versions_of(power.id, FlowKind.EXTERNAL)] == [2, 1]


def test_internal_and_unpublished_flows_are_never_public(licensing, create_user, create_power):
    department, _posts, power = licensing
    internal = ops.create_flow(power, FlowKind.INTERNAL, doc_of(example_dict()), actor=None)
    publish(internal, department, create_user)
    external = ops.create_flow(power, FlowKind.EXTERNAL, doc_of({**example_dict(), "kind": "external"}), actor=None)
    assert queries.public_flow(power) is None  # internal published, external still a draft
    publish(external, department, create_user)
    assert queries.public_flow(power) is external
    power.is_public = False
    assert queries.public_flow(power) is None


def test_import_attaches_to_the_power_and_is_idempotent(licensing, create_user):
    department, _posts, _power = licensing
    editor = create_user(Role.DEPT_EDITOR, department=department)
    raw = json.dumps(example_dict(), ensure_ascii=False).encode()
    flow, action = ops.import_flow(raw, "licensing.json", actor=editor)
    assert action == "create" and flow.step_count == 4
    before = (counts(), db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)))
    again, action = ops.import_flow(raw, "licensing.json", actor=editor)
    assert (again, action) == (flow, "unchanged")
    assert (counts(), db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))) == before
    changed = example_dict()
    changed["steps"][3]["name"] = "制证送达"
    flow2, action = ops.import_flow(json.dumps(changed).encode(), "licensing.json", actor=editor)
    assert (flow2, action, flow.steps[3].name) == (flow, "update", "制证送达")


def test_import_of_a_published_flow_starts_a_new_version_unless_unchanged(licensing, create_user):
    department, _posts, _power = licensing
    raw = json.dumps({**example_dict(), "kind": "external"}).encode()
    flow, _ = ops.import_flow(raw, "f.json", actor=None)
    publish(flow, department, create_user)
    assert ops.import_flow(raw, "f.json", actor=None) == (flow, "unchanged")
    changed = {**example_dict(), "kind": "external", "time_limit_days": 19}
    new, action = ops.import_flow(json.dumps(changed).encode(), "f.json", actor=None)
    assert action == "create" and new.number == 2 and flow.state is RegisterState.PUBLISHED


@pytest.mark.parametrize("raw, message", [
    (json.dumps(example_dict("NO-SUCH")).encode(), "职权编码“NO-SUCH”不存在"),
    (b"{not json", "不是有效的 JSON"),
    (b"\xff\xfe\x00garbage", "UTF-8"),
    (json.dumps({**example_dict(), "steps": "none"}).encode(), "steps 必须是数组"),
    (b"<definitions/>", "根元素必须是 BPMN 2.0"),
])
def test_bad_imports_are_refused_and_store_nothing(licensing, raw, message):
    before = counts()
    with pytest.raises(UserError, match=message):
        ops.import_flow(raw, "upload", actor=None)
    assert counts() == before


def test_import_refuses_another_department_power(licensing, create_user, create_department):
    other = create_user(Role.DEPT_EDITOR, department=create_department(name="别的局"))
    with pytest.raises(UserError, match="只能导入本单位"):
        ops.import_flow(json.dumps(example_dict()).encode(), "f.json", actor=other)


def test_import_refuses_a_version_under_review(licensing, create_user):
    department, _posts, _power = licensing
    editor = create_user(Role.DEPT_EDITOR, department=department)
    flow, _ = ops.import_flow(json.dumps(example_dict()).encode(), "f.json", actor=editor)
    ops.transition_flow(flow, "submit", actor=editor)
    changed = example_dict()
    changed["steps"][0]["name"] = "收件"
    with pytest.raises(UserError, match="已报送"):
        ops.import_flow(json.dumps(changed).encode(), "f.json", actor=editor)
    assert flow.steps[0].name == "受理"


def test_risk_provider_turns_on_uncovered_key_steps(licensing):
    _department, _posts, power = licensing
    flow = ops.create_flow(power, FlowKind.INTERNAL, doc_of(example_dict()), actor=None)
    assert queries.risk_step_ids(flow) is None
    assert "uncovered_key_step" not in {f.code for f in queries.flow_report(flow).findings}
    provider = queries.RiskProvider(step_levels=lambda f: {"review": 2}, uncovered_counts=lambda ids: {})
    queries.register_risk_provider(provider)
    try:
        report = queries.flow_report(flow)
        assert [f.steps for f in report.findings if f.code == "uncovered_key_step"] == [("decide",)]
        assert queries.step_risk_levels(flow) == {"review": 2}
        changed = example_dict()
        changed["steps"][0]["name"] = "收件"
        ops.save_flow(flow, doc_of(changed), actor=None)
        assert flow.warning_count == 0  # risk points change on their own: stored counts leave them out
    finally:
        queries.register_risk_provider(None)


def test_a_step_that_a_risk_point_points_at_cannot_be_removed(licensing):
    risks = pytest.importorskip("govrisk.risks.models")
    department, _posts, power = licensing
    flow = ops.create_flow(power, FlowKind.INTERNAL, doc_of(example_dict()), actor=None)
    decide = flow.steps[2]
    db.session.add(risks.RiskPoint(code="FX-T-1", department_id=department.id, power_id=power.id, step_id=decide.id,
                                   step_key=decide.key, name="违规审批", risk_type="post"))
    db.session.flush()
    data = example_dict()
    data["steps"] = [s for s in data["steps"] if s["id"] != "decide"]
    data["edges"] = [e for e in data["edges"] if "decide" not in (e["from"], e["to"])]
    with pytest.raises(UserError, match="步骤 decide 已被其他登记事项（risk_points）引用"):
        ops.save_flow(flow, doc_of(data), actor=None)
    db.session.expire_all()
    assert [s.key for s in flow.steps] == ["accept", "review", "decide", "deliver"]
    renamed = example_dict()
    renamed["steps"][2]["name"] = "集体决定"  # editing the step keeps its row, so the risk point stays attached
    ops.save_flow(flow, doc_of(renamed), actor=None)
    assert flow.steps[2].id == decide.id and flow.steps[2].name == "集体决定"
