"""The workflow engine on the shared register table: every transition × every role."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from govrisk.core.audit import AuditEntry
from govrisk.core.errors import StaleEditError, WorkflowError
from govrisk.core.permissions import Role
from govrisk.extensions import db
from govrisk.workflow.engine import DeadlineRule, apply_deadline_rule, available, fire, history_for
from govrisk.workflow.register import RegisterState as S
from tests.support import Ticket

ALL_ROLES = list(Role)

# (transition, from state, target, roles that may fire it)
TABLE = [
    ("submit", S.DRAFT, S.SUBMITTED, {Role.DEPT_EDITOR}),
    ("submit", S.RETURNED, S.SUBMITTED, {Role.DEPT_EDITOR}),
    ("approve", S.SUBMITTED, S.DEPT_APPROVED, {Role.DEPT_HEAD}),
    ("return", S.SUBMITTED, S.RETURNED, {Role.DEPT_HEAD, Role.INSPECTOR}),
    ("return", S.DEPT_APPROVED, S.RETURNED, {Role.DEPT_HEAD, Role.INSPECTOR}),
    ("confirm", S.DEPT_APPROVED, S.CONFIRMED, {Role.INSPECTOR}),
    ("retire", S.DRAFT, S.RETIRED, {Role.DEPT_HEAD, Role.INSPECTOR}),
    ("retire", S.CONFIRMED, S.RETIRED, {Role.DEPT_HEAD, Role.INSPECTOR}),
]
CASES = [(name, source, target, role, role in allowed) for name, source, target, allowed in TABLE for role in ALL_ROLES]


@pytest.fixture
def dept(create_department):
    return create_department()


def _ticket(department, state=S.DRAFT) -> Ticket:
    ticket = Ticket(department_id=department.id, title="t", state=state)
    db.session.add(ticket)
    db.session.flush()
    return ticket


@pytest.mark.parametrize(("name", "source", "target", "role", "allowed"), CASES,
                         ids=[f"{c[0]}-{c[1].value}-{c[3].value}" for c in CASES])
def test_transition_allowed_only_for_its_roles(dept, create_user, name, source, target, role, allowed):
    user = create_user(role, department=dept if role in (Role.DEPT_EDITOR, Role.DEPT_HEAD) else None)
    ticket = _ticket(dept, source)
    if allowed:
        fire(ticket, name, actor=user, comment="理由")
        assert ticket.state is target
        assert history_for(ticket)[-1].transition == name
    else:
        with pytest.raises(WorkflowError):
            fire(ticket, name, actor=user, comment="理由")
        assert ticket.state is source


def test_wrong_state_is_refused(dept, create_user):
    head = create_user(Role.DEPT_HEAD, department=dept)
    ticket = _ticket(dept, S.DRAFT)
    with pytest.raises(WorkflowError, match="当前状态"):
        fire(ticket, "approve", actor=head)


def test_comment_required_for_return(dept, create_user):
    head = create_user(Role.DEPT_HEAD, department=dept)
    ticket = _ticket(dept, S.SUBMITTED)
    with pytest.raises(WorkflowError, match="意见"):
        fire(ticket, "return", actor=head, comment="  ")
    assert ticket.state is S.SUBMITTED


def test_other_department_is_refused(create_department, create_user):
    own, other = create_department(), create_department()
    editor = create_user(Role.DEPT_EDITOR, department=own)
    ticket = _ticket(other)
    with pytest.raises(WorkflowError, match="范围"):
        fire(ticket, "submit", actor=editor)


def test_sub_unit_is_in_scope(create_department, create_user):
    parent = create_department()
    child = create_department(parent=parent)
    editor = create_user(Role.DEPT_EDITOR, department=parent)
    ticket = _ticket(child)
    fire(ticket, "submit", actor=editor)
    assert ticket.state is S.SUBMITTED


def test_fire_bumps_version_records_history_and_audit(dept, create_user):
    editor = create_user(Role.DEPT_EDITOR, department=dept)
    ticket = _ticket(dept)
    fire(ticket, "submit", actor=editor, comment="请审定")
    assert ticket.version == 2
    event = history_for(ticket)[0]
    assert (event.from_state, event.to_state, event.comment, event.actor_id) == ("draft", "submitted", "请审定",
                                                                                 editor.id)
    audit = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "ticket.submit")).one()
    assert audit.change_dict["state"] == ["draft", "submitted"]


def test_available_lists_only_what_the_user_may_fire(dept, create_user):
    editor = create_user(Role.DEPT_EDITOR, department=dept)
    inspector = create_user(Role.INSPECTOR)
    ticket = _ticket(dept, S.DEPT_APPROVED)
    assert [t.name for t in available(ticket, editor)] == []
    assert [t.name for t in available(ticket, inspector)] == ["return", "confirm"]


def test_stale_version_is_refused(dept):
    ticket = _ticket(dept)
    ticket.bump_version()
    with pytest.raises(StaleEditError, match="已被他人修改"):
        ticket.check_version(1)


def test_concurrent_update_is_refused_by_the_database(app, dept):
    """Two sessions load version 1; the second UPDATE finds no row at that version."""
    from sqlalchemy.orm.exc import StaleDataError

    ticket = _ticket(dept)
    db.session.execute(sa.update(Ticket).where(Ticket.id == ticket.id).values(version=5),
                       execution_options={"synchronize_session": False})
    ticket.title = "mine"
    ticket.bump_version()
    with pytest.raises(StaleDataError):
        db.session.flush()
    db.session.rollback()


def test_deadline_tick_is_idempotent_and_escalates(dept):
    rule = DeadlineRule("ticket", Ticket, (S.DRAFT, S.SUBMITTED), levels=(0, 5))
    today = date(2026, 11, 26)
    late = _ticket(dept)
    late.due_on = today - timedelta(days=2)
    very_late = _ticket(dept)
    very_late.due_on = today - timedelta(days=10)
    on_time = _ticket(dept)
    on_time.due_on = today
    db.session.flush()
    assert apply_deadline_rule(rule, today) == 2
    assert (late.is_overdue, late.escalation_level) == (True, 1)
    assert (very_late.is_overdue, very_late.escalation_level) == (True, 2)
    assert not on_time.is_overdue
    assert apply_deadline_rule(rule, today) == 0
    assert apply_deadline_rule(rule, today + timedelta(days=4)) == 2  # late escalates, on_time falls overdue
    assert (late.escalation_level, on_time.escalation_level) == (2, 1)
