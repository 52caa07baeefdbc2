"""Accountability actions against a person (诫勉谈话 … 纪律处分) and the person's record; findings from a red card or
from citizen feedback."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from govrisk.accountability import operations as ops
from govrisk.accountability import queries
from govrisk.accountability.models import AccountabilityAction, ActionCategory, action_category
from govrisk.accountability.workflow import ActionState
from govrisk.core.errors import UserError
from govrisk.extensions import db

A = ActionState


@pytest.fixture
def person(city, create_person):
    return create_person(city.a.department, name="李四")


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(AccountabilityAction.id)))


@pytest.mark.parametrize("key, category", [
    ("admonishing_talk", ActionCategory.ADMONISHING), ("rectification_order", ActionCategory.RECTIFICATION),
    ("org_adjust_post", ActionCategory.ORGANISATIONAL), ("org_removal", ActionCategory.ORGANISATIONAL),
    ("party_serious_warning", ActionCategory.PARTY), ("gov_demerit", ActionCategory.GOVERNMENT),
])
def test_every_action_type_has_its_category(key, category):
    assert action_category(key) is category


def test_an_admonishing_talk_is_recorded_and_decided(person, city):
    action = ops.record_action(person, {"action_type": "admonishing_talk", "facts": "审查把关不严",
                                        "decided_on": date(2026, 3, 5), "decided_by": "驻局纪检监察组"},
                               actor=city.inspector)
    assert action.code.startswith("ZZ") and action.category is ActionCategory.ADMONISHING
    assert action.department_id == city.a.department.id and action.state is A.PROPOSED
    ops.transition_action(action, "decide", actor=city.inspector)
    assert action.state is A.DECIDED
    record = queries.person_record(person)
    assert [a.id for a in record["actions"]] == [action.id]


@pytest.mark.parametrize("key", ["party_warning", "party_expulsion", "gov_warning", "gov_dismissal_from_post"])
def test_disciplinary_actions_need_a_basis(person, city, key):
    with pytest.raises(UserError, match="必须写明依据") as err:
        ops.record_action(person, {"action_type": key, "decision_no": "云纪发〔2026〕3号"}, actor=city.inspector)
    assert err.value.field == "basis" and _count() == 0
    action = ops.record_action(person, {"action_type": key, "basis": "《中华人民共和国公职人员政务处分法》第三十九条"},
                               actor=city.inspector)
    with pytest.raises(UserError, match="决定日期"):
        ops.transition_action(action, "decide", actor=city.inspector)
    action.decided_on = date(2026, 4, 1)
    with pytest.raises(UserError, match="决定文号"):
        ops.transition_action(action, "decide", actor=city.inspector)
    ops.update_action(action, {"action_type": key, "basis": action.basis, "decided_on": date(2026, 4, 1),
                               "decision_no": "云纪发〔2026〕3号"}, actor=city.inspector)
    ops.transition_action(action, "decide", actor=city.inspector)
    assert action.state is A.DECIDED


@pytest.mark.parametrize("data, field", [
    ({"action_type": "nope"}, "action_type"),
    ({"action_type": ""}, "action_type"),
    ({"action_type": "admonishing_talk", "start_on": date(2026, 5, 1), "end_on": date(2026, 4, 1)}, "end_on"),
    ({"action_type": "admonishing_talk", "decided_on": date(2099, 1, 1)}, "decided_on"),
])
def test_bad_action_input_is_refused(person, city, data, field):
    with pytest.raises(UserError) as err:
        ops.record_action(person, data, actor=city.inspector)
    assert err.value.field == field and _count() == 0


ACTION_MATRIX = [("decide", A.PROPOSED), ("complete", A.DECIDED), ("revoke", A.PROPOSED), ("revoke", A.DECIDED)]


@pytest.mark.parametrize("who", ["editor", "head", "inspector"])
@pytest.mark.parametrize("name, source", ACTION_MATRIX)
def test_action_transition_by_role(person, city, who, name, source):
    action = ops.record_action(person, {"action_type": "admonishing_talk", "decided_on": date(2026, 3, 5)},
                               actor=city.inspector)
    if source is A.DECIDED:
        ops.transition_action(action, "decide", actor=city.inspector)
    actor = {"editor": city.a.editor, "head": city.a.head, "inspector": city.inspector}[who]
    if who == "inspector":
        ops.transition_action(action, name, actor=actor, comment="决定撤销")
        assert action.state is not source
    else:
        with pytest.raises(UserError):
            ops.transition_action(action, name, actor=actor, comment="决定撤销")
        assert action.state is source


def test_only_proposed_actions_can_be_edited(person, city):
    action = ops.record_action(person, {"action_type": "admonishing_talk", "decided_on": date(2026, 3, 5)},
                               actor=city.inspector)
    ops.transition_action(action, "decide", actor=city.inspector)
    with pytest.raises(UserError, match="拟处理"):
        ops.update_action(action, {"action_type": "org_removal"}, actor=city.inspector)


def test_finding_from_accepted_feedback_links_back(city):
    from govrisk.portal.models import Feedback
    from govrisk.portal.workflow import FeedbackState

    feedback = Feedback(tracking_code="ABCD2345EFGH", category="report", department_id=city.a.department.id,
                        text="窗口人员暗示送礼", state=FeedbackState.ACCEPTED, address_hash="x" * 64)
    db.session.add(feedback)
    db.session.flush()
    finding = ops.finding_from_feedback(feedback, {"title": "窗口人员暗示送礼"}, actor=city.inspector)
    assert finding.source == "public_report" and finding.origin_type == "feedback"
    assert feedback.finding_id == finding.id and finding.description == "窗口人员暗示送礼"
    with pytest.raises(UserError, match="已关联"):
        ops.finding_from_feedback(feedback, {"title": "再来"}, actor=city.inspector)


def test_finding_from_a_red_card_notes_it_on_the_card(city):
    from govrisk.supervision.models import Alert

    alert = Alert(code="red_card", case_ref="CASE-1", subject="审查超时", department_id=city.a.department.id,
                  power_id=city.a.register.powers[0].id, detected_at=datetime(2026, 5, 1, tzinfo=UTC))
    db.session.add(alert)
    db.session.flush()
    finding = ops.finding_from_alert(alert, {}, actor=city.inspector)
    assert finding.source == "e_supervision_alert" and finding.power_id == alert.power_id
    assert alert.finding_ref == finding.code and "CASE-1" in finding.title
    with pytest.raises(UserError, match="已转为问题"):
        ops.finding_from_alert(alert, {}, actor=city.inspector)


def test_escalating_a_red_card_in_supervision_opens_a_finding(city):
    from govrisk.supervision.models import Alert
    from govrisk.supervision.operations import escalate_alert

    alert = Alert(code="red_card", case_ref="CASE-2", subject="决定环节超时", department_id=city.a.department.id,
                  detected_at=datetime(2026, 5, 1, tzinfo=UTC))
    db.session.add(alert)
    db.session.flush()
    escalate_alert(alert, "超时 5 个工作日，转纪检核查", actor=city.inspector)
    finding = queries.finding_for_origin("alert", alert.id)
    assert finding is not None and alert.finding_ref == finding.code
    assert finding.description == "超时 5 个工作日，转纪检核查" and finding.department_id == city.a.department.id
