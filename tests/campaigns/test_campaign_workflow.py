"""The unit-report workflow: every transition from every state, by every kind of actor (table-driven)."""

import pytest
import sqlalchemy as sa

from govrisk.campaigns import operations as ops
from govrisk.campaigns.models import ReportState
from govrisk.core.errors import StaleEditError, WorkflowError
from govrisk.extensions import db
from govrisk.workflow import available, history_for
from govrisk.workflow.models import WorkflowEvent
from tests.campaigns.conftest import file_report

S = ReportState
# The report is the branch's; its reviewer is the bank (the branch's parent).
ACTORS = ("branch_editor", "branch2_editor", "bank_editor", "bank_head", "county_head", "city_head", "inspector",
          "outsider")
ALLOWED = {
    ("submit", S.DRAFT): {"branch_editor"},
    ("submit", S.RETURNED): {"branch_editor"},
    ("accept", S.SUBMITTED): {"bank_head"},
    ("return", S.SUBMITTED): {"bank_head"},
    ("return", S.ACCEPTED): {"bank_head"},
}
TARGET = {"submit": S.SUBMITTED, "accept": S.ACCEPTED, "return": S.RETURNED}
CASES = [(name, state, actor) for name in TARGET for state in S for actor in ACTORS]


def _report_in(world, state: ReportState):
    u = world.users
    return file_report(world, world.branch, u.branch_editor, state=state.value, reviewer=u.bank_head)


@pytest.mark.parametrize("name, state, actor", CASES, ids=[f"{n}-{s.value}-{a}" for n, s, a in CASES])
def test_transition_matrix(world, name, state, actor):
    report = _report_in(world, state)
    user = getattr(world.users, actor)
    allowed = actor in ALLOWED.get((name, state), set())
    assert (name in [t.name for t in available(report, user)]) == allowed
    events_before = db.session.scalar(sa.select(sa.func.count()).select_from(WorkflowEvent))
    comment = "数据有误，请核对" if name == "return" else ""
    if allowed:
        ops.transition_report(report, name, actor=user, comment=comment, expected_version=report.version)
        assert report.state == TARGET[name]
        last = history_for(report)[-1]
        assert (last.transition, last.actor_id, last.comment) == (name, user.id, comment)
    else:
        with pytest.raises(WorkflowError):
            ops.transition_report(report, name, actor=user, comment=comment)
        assert report.state == state
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WorkflowEvent)) == events_before


def test_return_needs_a_comment(world):
    report = _report_in(world, S.SUBMITTED)
    with pytest.raises(WorkflowError, match="必须填写意见"):
        ops.transition_report(report, "return", actor=world.users.bank_head, comment="  ")
    assert report.state == S.SUBMITTED


def test_empty_report_cannot_be_submitted(world):
    report = ops.open_report(world.campaign, world.branch, actor=world.users.branch_editor)
    with pytest.raises(WorkflowError, match="没有任何内容"):
        ops.transition_report(report, "submit", actor=world.users.branch_editor)


def test_retired_campaign_takes_no_more_submissions(world):
    report = _report_in(world, S.DRAFT)
    ops.retire_campaign(world.campaign, actor=world.users.city_head)
    with pytest.raises(WorkflowError, match="已停用"):
        ops.transition_report(report, "submit", actor=world.users.branch_editor)


def test_a_stale_button_is_refused(world):
    report = _report_in(world, S.SUBMITTED)
    stale = report.version - 1
    with pytest.raises(StaleEditError):
        ops.transition_report(report, "accept", actor=world.users.bank_head, expected_version=stale)
    assert report.state == S.SUBMITTED


def test_top_unit_reviews_its_own_report(world):
    u = world.users
    report = file_report(world, world.city, u.city_head, state="submitted")
    assert [t.name for t in available(report, u.city_head)] == ["accept", "return"]
    ops.transition_report(report, "accept", actor=u.city_head)
    assert report.state == S.ACCEPTED


def test_resubmission_after_return_keeps_the_history(world):
    u = world.users
    report = _report_in(world, S.RETURNED)
    ops.save_value(report, None, {"indicator": "trainees", "value": "12"}, actor=u.branch_editor)
    ops.transition_report(report, "submit", actor=u.branch_editor)
    ops.transition_report(report, "accept", actor=u.bank_head)
    assert [e.transition for e in history_for(report)] == ["submit", "return", "submit", "accept"]
    assert history_for(report)[1].comment == "请补充数据"
