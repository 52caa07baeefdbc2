"""Findings and rectification by a deadline: evidence is required, overdue ones escalate through `govrisk tick`
(department head, then inspectors), idempotently."""

from datetime import date

import pytest
import sqlalchemy as sa

from govrisk.accountability import operations as ops
from govrisk.accountability.models import Finding, Rectification
from govrisk.accountability.workflow import FindingState, RectificationState
from govrisk.core.errors import UserError
from govrisk.extensions import db
from govrisk.review.warnings import todo_for
from govrisk.workflow import history_for
from govrisk.workflow.engine import run_deadlines

R = RectificationState


@pytest.fixture
def finding(city, create_person):
    person = create_person(city.a.department, name="张三")
    return ops.create_finding({"source": "supervision_inspection", "department_id": city.a.department.id,
                               "title": "审查环节把关不严", "power_id": city.a.register.powers[0].id,
                               "risk_point_id": city.a.register.points[0].id, "person_ids": [person.id],
                               "found_on": date(2026, 2, 1)}, actor=city.inspector)


@pytest.fixture
def rectification(finding, city):
    return ops.order_rectification(finding, {"requirement": "建立台账并逐件整改", "due_on": date(2026, 3, 31),
                                             "ordered_on": date(2026, 2, 2)}, actor=city.inspector)


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count(model.id)))


def test_a_finding_names_department_power_risk_point_and_people(finding, city):
    assert finding.code == "WT2026-0001" and finding.state is FindingState.OPEN
    assert finding.power_id == city.a.register.powers[0].id and finding.risk_point_id == city.a.register.points[0].id
    assert [fp.person.name for fp in finding.people] == ["张三"]


@pytest.mark.parametrize("data, field", [
    ({"source": "nope"}, "source"),
    ({"title": "  "}, "title"),
    ({"department_id": None}, "department_id"),
    ({"found_on": date(2099, 1, 1)}, "found_on"),
    ({"person_ids": ["999999"]}, "person_ids"),
])
def test_bad_finding_input_is_refused(city, data, field):
    base = {"source": "annual_assessment", "department_id": city.a.department.id, "title": "问题"}
    before = _count(Finding)
    with pytest.raises(UserError) as err:
        ops.create_finding({**base, **data}, actor=city.inspector)
    assert err.value.field == field and _count(Finding) == before


def test_power_and_risk_point_must_belong_to_the_department(city):
    base = {"source": "annual_assessment", "department_id": city.a.department.id, "title": "问题"}
    with pytest.raises(UserError, match="职权不属于"):
        ops.create_finding({**base, "power_id": city.b.register.powers[0].id}, actor=city.inspector)
    with pytest.raises(UserError, match="风险点不属于所选职权"):
        ops.create_finding({**base, "power_id": city.a.register.powers[1].id,
                            "risk_point_id": city.a.register.points[0].id}, actor=city.inspector)


def test_department_users_cannot_open_findings_for_others(city):
    with pytest.raises(UserError, match="本单位"):
        ops.create_finding({"source": "annual_assessment", "department_id": city.b.department.id, "title": "问题"},
                           actor=city.a.editor)


def test_ordering_moves_the_finding_to_rectifying(finding, rectification, city):
    assert rectification.code == "ZG2026-0001" and rectification.state is R.ORDERED
    assert finding.state is FindingState.RECTIFYING
    with pytest.raises(UserError, match="整改期限不能早于"):
        ops.order_rectification(finding, {"requirement": "x", "due_on": date(2026, 1, 1),
                                          "ordered_on": date(2026, 2, 2)}, actor=city.inspector)


RECT_MATRIX = [
    ("submit_plan", R.ORDERED, {"editor", "head"}),
    ("report", R.PLANNED, {"editor", "head"}),
    ("verify", R.REPORTED, {"inspector"}),
    ("return", R.REPORTED, {"inspector"}),
]


@pytest.mark.parametrize("who", ["editor", "head", "other_editor", "inspector"])
@pytest.mark.parametrize("name, source, allowed", RECT_MATRIX)
def test_rectification_transition_by_role(rectification, city, who, name, source, allowed):
    actor = {"editor": city.a.editor, "head": city.a.head, "other_editor": city.b.editor,
             "inspector": city.inspector}[who]
    ops.update_rectification(rectification, {"plan": "整改方案", "evidence": "台账及佐证"}, actor=city.a.editor)
    path = {R.ORDERED: [], R.PLANNED: ["submit_plan"], R.REPORTED: ["submit_plan", "report"]}[source]
    for step in path:
        ops.transition_rectification(rectification, step, actor=city.a.editor)
    if who in allowed:
        ops.transition_rectification(rectification, name, actor=actor, comment="不到位")
        assert rectification.state is not source
    else:
        with pytest.raises(UserError):
            ops.transition_rectification(rectification, name, actor=actor, comment="不到位")
        assert rectification.state is source


def test_no_evidence_no_report_and_no_closing(rectification, finding, city):
    ops.update_rectification(rectification, {"plan": "整改方案"}, actor=city.a.editor)
    ops.transition_rectification(rectification, "submit_plan", actor=city.a.editor)
    with pytest.raises(UserError, match="没有整改佐证材料"):
        ops.transition_rectification(rectification, "report", actor=city.a.editor)
    assert rectification.state is R.PLANNED and rectification.completed_on is None
    with pytest.raises(UserError, match="还有未验收的整改"):
        ops.transition_finding(finding, "close", actor=city.inspector)
    ops.update_rectification(rectification, {"evidence": "整改台账"}, actor=city.a.editor)
    ops.transition_rectification(rectification, "report", actor=city.a.editor, today=date(2026, 3, 30))
    rectification.evidence = ""  # evidence removed after reporting: verification is refused too
    with pytest.raises(UserError, match="没有整改佐证材料"):
        ops.transition_rectification(rectification, "verify", actor=city.inspector)
    rectification.evidence = "整改台账"
    ops.transition_rectification(rectification, "verify", actor=city.inspector)
    ops.transition_finding(finding, "close", actor=city.inspector)
    assert finding.state is FindingState.CLOSED and rectification.is_on_time


def test_the_plan_is_required_before_submitting(rectification, city):
    with pytest.raises(UserError, match="整改方案"):
        ops.transition_rectification(rectification, "submit_plan", actor=city.a.editor)


def test_dismissing_needs_a_reason_and_no_rectification(finding, city, rectification):
    with pytest.raises(UserError):
        ops.transition_finding(finding, "dismiss", actor=city.inspector, comment="查无实据")
    other = ops.create_finding({"source": "public_report", "department_id": city.a.department.id, "title": "反映"},
                               actor=city.inspector)
    with pytest.raises(UserError, match="必须填写意见"):
        ops.transition_finding(other, "dismiss", actor=city.inspector)
    ops.transition_finding(other, "dismiss", actor=city.inspector, comment="查无实据")
    assert other.state is FindingState.DISMISSED


def test_overdue_rectifications_escalate_head_then_inspectors(rectification, city, in_request):
    assert run_deadlines(date(2026, 3, 31))["rectification"] == 0  # due today: not overdue yet
    assert run_deadlines(date(2026, 4, 1))["rectification"] == 1
    assert rectification.is_overdue and rectification.escalation_level == 1 and rectification.is_late
    keys = {t.key for t in todo_for(city.a.head)}
    assert "overdue_rectifications" in keys
    assert "escalated" not in {t.key for t in todo_for(city.inspector)}
    assert run_deadlines(date(2026, 4, 2))["rectification"] == 0  # idempotent
    assert run_deadlines(date(2026, 4, 11))["rectification"] == 1
    assert rectification.escalation_level == 2
    escalated = [t for t in todo_for(city.inspector) if t.key == "escalated"]
    assert escalated and escalated[0].count == 1
    events = [e for e in history_for(rectification) if e.transition.startswith("escalate_")]
    assert [e.comment for e in events] == ["逾期，已提醒单位负责人", "逾期10天以上，已报纪检监察员"]
    assert run_deadlines(date(2026, 4, 30))["rectification"] == 0


def test_reported_rectifications_stop_the_clock(rectification, city):
    ops.update_rectification(rectification, {"plan": "方案", "evidence": "佐证"}, actor=city.a.editor)
    ops.transition_rectification(rectification, "report", actor=city.a.editor, today=date(2026, 3, 20))
    assert run_deadlines(date(2026, 5, 1))["rectification"] == 0 and not rectification.is_overdue


def test_extending_the_deadline_clears_the_escalation(rectification, city):
    run_deadlines(date(2026, 4, 20))
    assert rectification.escalation_level == 2
    ops.update_rectification(rectification, {"due_on": date(2099, 6, 30)}, actor=city.inspector)
    assert (rectification.is_overdue, rectification.escalation_level) == (False, 0)
    with pytest.raises(UserError, match="当前不能修改"):
        ops.update_rectification(rectification, {"due_on": date(2099, 7, 30)}, actor=city.b.editor)
    assert _count(Rectification) == 1
