"""The life of an alert: every transition × role, guards, comments, history, and the escalation hook."""

import pytest
import sqlalchemy as sa

from govrisk.core.errors import WorkflowError
from govrisk.core.types import utcnow
from govrisk.extensions import db
from govrisk.supervision import operations as ops
from govrisk.supervision.models import Alert
from govrisk.supervision.workflow import AlertState
from govrisk.workflow.engine import available, history_for

S = AlertState


@pytest.fixture
def people(food, create_user, create_department):
    other = create_department(code="T-OTHER")
    return {
        "editor": create_user("dept_editor", department=food.department),
        "head": create_user("dept_head", department=food.department),
        "inspector": create_user("inspector"),
        "other_head": create_user("dept_head", department=other),
        "sysadmin": create_user("sys_admin"),
    }


@pytest.fixture
def make_alert(food):
    counter = iter(range(1, 1000))

    def factory(code="red_card", state=S.OPEN):
        n = next(counter)
        alert = Alert(code=code, case_ref=f"C{n}", subject="case", department_id=food.department.id,
                      power_id=food.power.id, detected_at=utcnow(), state=state)
        db.session.add(alert)
        db.session.flush()
        return alert

    return factory


ALLOWED = {
    # transition: (code, from state, roles that may fire it)
    "acknowledge": ("red_card", S.OPEN, {"editor", "head"}),
    "handle": ("yellow_card", S.ACKNOWLEDGED, {"editor", "head"}),
    "appeal": ("red_card", S.OPEN, {"head"}),
    "uphold": ("red_card", S.APPEALED, {"inspector"}),
    "revoke": ("sod_violation", S.APPEALED, {"inspector"}),
    "escalate": ("red_card", S.UPHELD, {"inspector"}),
    "dismiss": ("unknown_reference", S.OPEN, {"inspector"}),
}
TARGET = {"acknowledge": S.ACKNOWLEDGED, "handle": S.HANDLED, "appeal": S.APPEALED, "uphold": S.UPHELD,
          "revoke": S.REVOKED, "escalate": S.ESCALATED, "dismiss": S.HANDLED}
ROLES = ("editor", "head", "inspector", "other_head", "sysadmin")


@pytest.mark.parametrize("transition", sorted(ALLOWED))
@pytest.mark.parametrize("role", ROLES)
def test_transition_by_role(people, make_alert, transition, role):
    code, source, allowed = ALLOWED[transition]
    alert = make_alert(code, source)
    actor = people[role]
    if role in allowed:
        ops.transition_alert(alert, transition, actor=actor, comment="理由说明", expected_version=alert.version)
        assert alert.state is TARGET[transition]
        [event] = history_for(alert)
        assert (event.transition, event.from_state, event.actor_id, event.comment) == (
            transition, source.value, actor.id, "理由说明")
    else:
        with pytest.raises(WorkflowError):
            ops.transition_alert(alert, transition, actor=actor, comment="理由说明")
        assert alert.state is source and history_for(alert) == []


@pytest.mark.parametrize("transition, code, state, actor, reason", [
    ("appeal", "unknown_reference", S.OPEN, "head", "无需申诉"),
    ("acknowledge", "unknown_reference", S.OPEN, "editor", "纪检监察员重新处理"),
    ("escalate", "yellow_card", S.OPEN, "inspector", "只有红牌"),
    ("dismiss", "red_card", S.OPEN, "inspector", "只有数据引用错误"),
    ("appeal", "red_card", S.HANDLED, "head", "当前状态"),
    ("uphold", "red_card", S.OPEN, "inspector", "当前状态"),
    ("revoke", "red_card", S.REVOKED, "inspector", "当前状态"),
])
def test_guards_refuse_with_a_reason(people, make_alert, transition, code, state, actor, reason):
    alert = make_alert(code, state)
    with pytest.raises(WorkflowError, match=reason):
        ops.transition_alert(alert, transition, actor=people[actor], comment="x")


@pytest.mark.parametrize("transition, source, actor", [
    ("handle", S.OPEN, "editor"), ("appeal", S.OPEN, "head"), ("uphold", S.APPEALED, "inspector"),
    ("revoke", S.APPEALED, "inspector"), ("escalate", S.OPEN, "inspector"),
])
def test_a_reason_is_required(people, make_alert, transition, source, actor):
    alert = make_alert("red_card", source)
    with pytest.raises(WorkflowError, match="必须填写意见"):
        ops.transition_alert(alert, transition, actor=people[actor], comment="  ")
    assert alert.state is source


def test_appeal_then_revoke_keeps_both_reasons_in_the_history(people, make_alert):
    alert = make_alert("red_card")
    ops.transition_alert(alert, "appeal", actor=people["head"], comment="申请人补正材料期间不计入时限")
    ops.transition_alert(alert, "revoke", actor=people["inspector"], comment="核实补正期间已扣除，撤销红牌")
    assert [(e.transition, e.comment) for e in history_for(alert)] == [
        ("appeal", "申请人补正材料期间不计入时限"), ("revoke", "核实补正期间已扣除，撤销红牌")]
    assert available(alert, people["head"]) == [] and available(alert, people["inspector"]) == []


def test_a_stale_form_is_refused(people, make_alert):
    from govrisk.core.errors import StaleEditError

    alert = make_alert("red_card")
    ops.transition_alert(alert, "acknowledge", actor=people["editor"], expected_version=1)
    with pytest.raises(StaleEditError):
        ops.transition_alert(alert, "handle", actor=people["head"], comment="已整改", expected_version=1)


def test_escalation_records_the_request_and_calls_the_registered_handler(people, make_alert, monkeypatch):
    monkeypatch.setattr(ops, "_ESCALATION_HANDLERS", [])
    calls = []

    def handler(alert, note, actor):
        calls.append((alert.id, note, actor.id))
        return "WT-2026-001"

    ops.register_escalation_handler(handler)
    try:
        alert = make_alert("red_card")
        ops.transition_alert(alert, "escalate", actor=people["inspector"], comment="超期严重，移交问题线索")
    finally:
        ops.unregister_escalation_handler(handler)
    assert alert.state is S.ESCALATED and alert.escalation_note == "超期严重，移交问题线索"
    assert alert.finding_ref == "WT-2026-001"
    assert calls == [(alert.id, "超期严重，移交问题线索", people["inspector"].id)]


def test_escalation_without_a_handler_is_still_recorded(people, make_alert, monkeypatch):
    from govrisk.core.audit import AuditEntry

    monkeypatch.setattr(ops, "_ESCALATION_HANDLERS", [])
    alert = make_alert("red_card")
    ops.escalate_alert(alert, "请问责部门立案", actor=people["inspector"])
    assert alert.state is S.ESCALATED and alert.finding_ref == "" and alert.escalation_note == "请问责部门立案"
    actions = set(db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.target_id == alert.id, AuditEntry.target_type == "supervision_alerts")))
    assert "alert.escalate" in actions


def test_with_the_accountability_domain_an_escalated_card_becomes_a_finding(people, make_alert):
    accountability = pytest.importorskip("govrisk.accountability.models")
    alert = make_alert("red_card")
    ops.transition_alert(alert, "escalate", actor=people["inspector"], comment="转问题线索")
    Finding = accountability.Finding
    finding = db.session.scalar(sa.select(Finding).where(Finding.code == alert.finding_ref))
    assert finding is not None and finding.department_id == alert.department_id and alert.state is S.ESCALATED
