"""Risk points: checks on create and edit, the workflow by role, grading decisions with snapshots, bulk
confirmation, method versions and the re-grade preview."""

import json

import pytest
import sqlalchemy as sa

from govrisk.core.audit import AuditEntry
from govrisk.core.errors import Forbidden, StaleEditError, UserError, WorkflowError
from govrisk.extensions import db
from govrisk.risks import operations as ops
from govrisk.risks import queries
from govrisk.risks.grading import default_rules
from govrisk.risks.models import GradeKind, GradingMethod, RiskGrade, RiskPoint
from govrisk.workflow.engine import history_for
from govrisk.workflow.register import RegisterState as S
from tests.risks.conftest import advance, make_point, risk_data


def test_create_links_power_step_post_and_department(unit):
    point = make_point(unit)
    assert point.state is S.DRAFT
    assert (point.department_id, point.power_id, point.step_key) == (unit.department.id, unit.power.id, "decide")
    assert point.code == f"FX-{unit.department.code}-0001"
    assert make_point(unit, name="第二个").code == f"FX-{unit.department.code}-0002"
    assert point.method_keys == ["self_check", "case_analysis"]
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "risks.point.create",
                                                          AuditEntry.target_id == point.id))
    assert json.loads(entry.changes)["name"] == [None, "违规作出许可决定"]


def test_step_brings_its_post_when_none_is_chosen(unit):
    point = make_point(unit, step_id=unit.step("review").id, post_id="")
    assert point.post_id == unit.step("review").post_id == unit.posts["审查岗"].id


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"likelihood": 6}, "likelihood", "发生几率应为 1–5"),
    ({"likelihood": 0}, "likelihood", "发生几率应为 1–5"),
    ({"severity": "x"}, "severity", "危害程度应为 1–5"),
    ({"proposed_level": 4}, "proposed_level", "拟定等级"),
    ({"discretion": "huge"}, "discretion", "自由裁量空间"),
    ({"risk_type": "nope"}, "risk_type", "风险类型“nope”无效"),
    ({"methods": ["guessing"]}, "methods", "排查方法"),
    ({"name": ""}, "name", "请填写风险点"),
    ({"name": "长" * 301}, "name", "不能超过 300 个字"),
    ({"power_id": ""}, "power_id", "请选择职权"),
    ({"power_id": 999999}, "power_id", "请选择职权"),
])
def test_bad_input_is_refused_under_its_field(unit, overrides, field, message):
    with pytest.raises(ops.RiskDataError) as exc:
        make_point(unit, **overrides)
    assert any(message in m for m in exc.value.details["errors"][field])
    assert db.session.scalar(sa.select(sa.func.count(RiskPoint.id))) == 0


def test_step_of_another_power_and_post_of_another_department_are_refused(unit, other_unit):
    with pytest.raises(ops.RiskDataError) as exc:
        make_point(unit, step_id=other_unit.step("decide").id, post_id=other_unit.posts["审查岗"].id,
                   responsible_id=other_unit.people["张"].id)
    errors = exc.value.details["errors"]
    assert "该环节不属于所选职权的流程图" in errors["step_id"]
    assert "岗位不属于该职权的责任单位" in errors["post_id"]
    assert "责任人应为该单位（或下属单位）的人员" in errors["responsible_id"]


def test_department_user_cannot_register_on_another_departments_power(unit, other_unit):
    with pytest.raises(ops.RiskDataError) as exc:
        ops.create_risk_point(risk_data(other_unit), actor=unit.editor)
    assert "只能为本单位及下属单位的职权登记风险点" in exc.value.details["errors"]["power_id"]


def test_parent_department_users_see_sub_units(make_unit):
    parent = make_unit()
    child = make_unit(parent=parent.department)
    point = make_point(child)
    assert point.can_view(parent.head) and not point.can_view(make_unit().head)


def test_edit_with_stale_version_changes_nothing(unit):
    point = make_point(unit)
    ops.update_risk_point(point, risk_data(unit, name="新名称", version=1), actor=unit.editor)
    assert point.version == 2
    with pytest.raises(StaleEditError):
        ops.update_risk_point(point, risk_data(unit, name="另一个名称", version=1), actor=unit.editor)
    assert point.name == "新名称"


def test_only_drafts_and_returned_points_are_editable(unit, inspector):
    point = advance(make_point(unit), "submitted", unit, inspector)
    with pytest.raises(Forbidden):
        ops.update_risk_point(point, risk_data(unit, name="改", version=point.version), actor=unit.editor)
    ops.transition_risk_point(point, "return", actor=unit.head, comment="请补充表现形式")
    ops.update_risk_point(point, risk_data(unit, name="改", version=point.version), actor=unit.editor)
    assert point.name == "改" and point.state is S.RETURNED


# ---------------------------------------------------------------- the workflow by role

ROLES = ("editor", "head", "inspector", "other_editor")
# (transition, from state, roles that may fire it)
TRANSITIONS = [
    ("submit", "draft", {"editor"}),
    ("submit", "returned", {"editor"}),
    ("approve", "submitted", {"head"}),
    ("return", "submitted", {"head", "inspector"}),
    ("return", "dept_approved", {"head", "inspector"}),
    ("retire", "draft", {"head", "inspector"}),
    ("retire", "confirmed", {"head", "inspector"}),
    ("approve", "draft", set()),
    ("submit", "confirmed", set()),
]


@pytest.mark.parametrize(("name", "state", "allowed"), TRANSITIONS)
@pytest.mark.parametrize("role", ROLES)
def test_transition_by_role(unit, other_unit, inspector, name, state, allowed, role):
    point = make_point(unit)
    if state != "draft":
        advance(point, state, unit, inspector)
    actor = {"editor": unit.editor, "head": unit.head, "inspector": inspector, "other_editor": other_unit.editor}[role]
    before = point.state
    if role in allowed:
        ops.transition_risk_point(point, name, actor=actor, comment="理由")
        assert point.state is not before
        assert history_for(point)[-1].transition == name
    else:
        with pytest.raises(WorkflowError):
            ops.transition_risk_point(point, name, actor=actor, comment="理由")
        assert point.state is before


@pytest.mark.parametrize("role", ROLES)
def test_confirm_by_role(unit, other_unit, inspector, role):
    point = advance(make_point(unit), "dept_approved", unit, inspector)
    actor = {"editor": unit.editor, "head": unit.head, "inspector": inspector, "other_editor": other_unit.editor}[role]
    if role == "inspector":
        ops.confirm_risk_point(point, 2, "", actor=actor)
        assert point.state is S.CONFIRMED
    else:
        with pytest.raises(WorkflowError):
            ops.confirm_risk_point(point, 2, "", actor=actor)
        assert point.state is S.DEPT_APPROVED and point.confirmed_level is None


def test_confirm_is_not_a_bare_button(unit, inspector):
    point = advance(make_point(unit), "dept_approved", unit, inspector)
    with pytest.raises(UserError, match="纪检确认”表单"):
        ops.transition_risk_point(point, "confirm", actor=inspector)


def test_submit_needs_the_grading_inputs(unit):
    point = make_point(unit, likelihood="", proposed_level="")
    with pytest.raises(WorkflowError, match="发生几率、拟定等级"):
        ops.transition_risk_point(point, "submit", actor=unit.editor)
    assert point.state is S.DRAFT


def test_return_needs_a_comment(unit, inspector):
    point = advance(make_point(unit), "submitted", unit, inspector)
    with pytest.raises(WorkflowError, match="必须填写意见"):
        ops.transition_risk_point(point, "return", actor=unit.head, comment=" ")


# ---------------------------------------------------------------- grading decisions


def test_submit_records_the_proposal_with_inputs_and_method(unit, inspector):
    point = advance(make_point(unit, likelihood=3, severity=4, proposed_level=1, proposal_note="三重一大事项"),
                    "submitted", unit, inspector)
    (grade,) = queries.grades_of(point.id)
    assert grade.kind is GradeKind.PROPOSAL and grade.level == 1 and grade.suggested_level == 2
    assert grade.method_number == 1 and grade.reason == "三重一大事项"
    assert (grade.inputs["likelihood"], grade.inputs["severity"], grade.inputs["step"]) == (3, 4, "决定")
    assert any("发生几率 3 ≥ 3" in w for w in grade.why)
    assert queries.active_method().number == 1  # v1 stored on first use


def test_inspector_confirms_the_proposal_without_a_reason(unit, inspector):
    point = advance(make_point(unit), "dept_approved", unit, inspector)
    grade = ops.confirm_risk_point(point, 2, "", actor=inspector)
    assert grade.kind is GradeKind.CONFIRMATION and point.confirmed_level == 2 and not point.disagrees


def test_changing_the_level_requires_a_reason_and_nothing_changes_without(unit, inspector):
    point = advance(make_point(unit), "dept_approved", unit, inspector)
    version = point.version
    with pytest.raises(UserError, match="必须填写调整理由") as exc:
        ops.confirm_risk_point(point, 1, "  ", actor=inspector)
    assert exc.value.field == "reason"
    assert (point.state, point.confirmed_level, point.version) == (S.DEPT_APPROVED, None, version)
    grade = ops.confirm_risk_point(point, 1, "可能构成受贿犯罪", actor=inspector, expected_version=version)
    assert grade.kind is GradeKind.CHANGE and grade.previous_level == 2 and grade.reason == "可能构成受贿犯罪"
    assert point.disagrees and point.confirmed_reason == "可能构成受贿犯罪"
    assert history_for(point)[-1].comment == "可能构成受贿犯罪"


@pytest.mark.parametrize("level", [0, 4, "x", None])
def test_confirm_refuses_a_level_that_is_not_one_two_or_three(unit, inspector, level):
    point = advance(make_point(unit), "dept_approved", unit, inspector)
    with pytest.raises(UserError, match="一级、二级或三级"):
        ops.confirm_risk_point(point, level, "理由", actor=inspector)
    assert point.state is S.DEPT_APPROVED


def test_confirm_refuses_a_stale_page(unit, inspector):
    point = advance(make_point(unit), "dept_approved", unit, inspector)
    with pytest.raises(StaleEditError):
        ops.confirm_risk_point(point, 2, "", actor=inspector, expected_version=point.version - 1)


def test_bulk_confirm_is_all_or_nothing(unit, other_unit, inspector):
    ready = [advance(make_point(unit, name=f"点{i}"), "dept_approved", unit, inspector) for i in range(3)]
    draft = make_point(unit, name="草稿")
    with pytest.raises(UserError) as exc:
        ops.bulk_confirm([p.id for p in ready] + [draft.id], "proposed", "集中审核确认", actor=inspector)
    assert draft.code in exc.value.message and "单位已审定" in exc.value.message
    assert all(p.state is S.DEPT_APPROVED and p.confirmed_level is None for p in ready)
    assert db.session.scalar(sa.select(sa.func.count(RiskGrade.id)).where(RiskGrade.kind.in_(["confirmation",
                                                                                                "change"]))) == 0
    confirmed = ops.bulk_confirm([p.id for p in ready], "proposed", "集中审核确认", actor=inspector)
    assert [p.state for p in confirmed] == [S.CONFIRMED] * 3
    assert all(history_for(p)[-1].comment == "集中审核确认" for p in ready)


def test_bulk_confirm_at_another_level_and_its_refusals(unit, inspector):
    points = [advance(make_point(unit, name=f"点{i}"), "dept_approved", unit, inspector) for i in range(2)]
    with pytest.raises(UserError, match="确认意见"):
        ops.bulk_confirm([p.id for p in points], "proposed", "", actor=inspector)
    with pytest.raises(UserError, match="至少勾选"):
        ops.bulk_confirm([], "proposed", "理由", actor=inspector)
    with pytest.raises(UserError, match="#999999"):
        ops.bulk_confirm([points[0].id, 999999], "proposed", "理由", actor=inspector)
    with pytest.raises(UserError, match="不能确认"):
        ops.bulk_confirm([p.id for p in points], "proposed", "理由", actor=unit.head)
    ops.bulk_confirm([p.id for p in points], "1", "统一上调为一级", actor=inspector)
    assert {p.confirmed_level for p in points} == {1} and all(p.disagrees for p in points)


def test_a_new_method_version_changes_no_existing_grade(app, unit, inspector):
    point = advance(make_point(unit, likelihood=3, severity=3, proposed_level=2), "confirmed", unit, inspector)
    rules = default_rules()
    rules["levels"][1]["when_any"][0]["value"] = 4  # 二级 needs likelihood 4 now
    method = ops.create_method({"name": "收紧版", "rules": json.dumps(rules)}, actor=inspector)
    assert method.number == 2 and not method.is_active
    with app.test_request_context("/"):
        page, counts = queries.regrade_preview(method.rules, None)
    assert [(p.id, new) for p, new in page.items] == [(point.id, 3)] and counts == [(2, 3, 1)]
    ops.activate_method(method, actor=inspector)
    assert queries.active_method().number == 2
    db.session.refresh(point)
    assert point.confirmed_level == 2
    assert [g.method_number for g in queries.grades_of(point.id)] == [1, 1]
    assert queries.suggestion_for(point).level == 3
    old = db.session.scalar(sa.select(GradingMethod).where(GradingMethod.number == 1))
    assert not old.is_active
    with pytest.raises(UserError, match="已经在使用中"):
        ops.activate_method(method, actor=inspector)


def test_invalid_method_is_refused(inspector):
    with pytest.raises(UserError, match="规则有误") as exc:
        ops.create_method({"name": "坏", "rules": "{\"levels\": []}"}, actor=inspector)
    assert exc.value.field == "rules"
    assert db.session.scalar(sa.select(sa.func.count(GradingMethod.id))) == 1  # only v1, stored on first use
