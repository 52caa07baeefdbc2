"""The flow workflow, table-driven: every transition × every role, scope, and history."""

import pytest

from govrisk.core.errors import StaleEditError, WorkflowError
from govrisk.core.permissions import Role
from govrisk.flows import operations as ops
from govrisk.flows.models import FlowKind
from govrisk.flows.validation import parse_flow
from govrisk.workflow.engine import available, history_for
from govrisk.workflow.register import RegisterState as S
from tests.flows.conftest import example_dict

ROLES = (Role.DEPT_EDITOR, Role.DEPT_HEAD, Role.INSPECTOR, Role.SYS_ADMIN)
# transition → (source states, roles that may fire it, target)
TABLE = {
    "submit": ((S.DRAFT, S.RETURNED), {Role.DEPT_EDITOR}, S.SUBMITTED),
    "approve": ((S.SUBMITTED,), {Role.DEPT_HEAD}, S.DEPT_APPROVED),
    "return": ((S.SUBMITTED, S.DEPT_APPROVED), {Role.DEPT_HEAD, Role.INSPECTOR}, S.RETURNED),
    "publish": ((S.DEPT_APPROVED,), {Role.INSPECTOR}, S.PUBLISHED),
    "retire": ((S.DRAFT, S.RETURNED, S.PUBLISHED), {Role.DEPT_HEAD, Role.INSPECTOR}, S.RETIRED),
}
CASES = [(name, source, role) for name, (sources, _roles, _target) in TABLE.items()
         for source in (S.DRAFT, S.SUBMITTED, S.DEPT_APPROVED, S.RETURNED, S.PUBLISHED, S.RETIRED) for role in ROLES]


@pytest.fixture
def flow(licensing):
    _department, _posts, power = licensing
    doc, _ = parse_flow(example_dict())
    return ops.create_flow(power, FlowKind.INTERNAL, doc, actor=None)


@pytest.mark.parametrize("name, source, role", CASES, ids=[f"{n}-{s.value}-{r.value}" for n, s, r in CASES])
def test_transition_by_role_and_state(flow, licensing, create_user, name, source, role):
    department = licensing[0]
    user = create_user(role, department=department if role in (Role.DEPT_EDITOR, Role.DEPT_HEAD) else None)
    flow.state = source
    sources, roles, target = TABLE[name]
    allowed = source in sources and role in roles
    assert (name in {t.name for t in available(flow, user)}) == allowed
    if allowed:
        ops.transition_flow(flow, name, actor=user, comment="意见")
        assert flow.state is target
        assert history_for(flow)[-1].transition == name
    else:
        with pytest.raises(WorkflowError):
            ops.transition_flow(flow, name, actor=user, comment="意见")
        assert flow.state is source


@pytest.mark.parametrize("role", [Role.DEPT_EDITOR, Role.DEPT_HEAD])
def test_department_users_of_another_department_cannot_act(flow, create_user, create_department, role):
    outsider = create_user(role, department=create_department(name="别的局"))
    flow.state = S.SUBMITTED if role is Role.DEPT_HEAD else S.DRAFT
    assert available(flow, outsider) == []
    with pytest.raises(WorkflowError, match="范围"):
        ops.transition_flow(flow, "approve" if role is Role.DEPT_HEAD else "submit", actor=outsider)


def test_return_needs_a_comment(flow, licensing, create_user):
    head = create_user(Role.DEPT_HEAD, department=licensing[0])
    flow.state = S.SUBMITTED
    with pytest.raises(WorkflowError, match="必须填写意见"):
        ops.transition_flow(flow, "return", actor=head, comment="  ")
    ops.transition_flow(flow, "return", actor=head, comment="补充岗位")
    assert flow.state is S.RETURNED and history_for(flow)[-1].comment == "补充岗位"


def test_publish_is_guarded_against_errors_too(flow, licensing, create_user):
    inspector = create_user(Role.INSPECTOR)
    flow.state = S.DEPT_APPROVED
    flow.power.promised_days = 3
    assert "publish" not in {t.name for t in available(flow, inspector)}
    with pytest.raises(WorkflowError, match="time_limit_exceeded"):
        ops.transition_flow(flow, "publish", actor=inspector)


def test_stale_transition_is_refused(flow, licensing, create_user):
    editor = create_user(Role.DEPT_EDITOR, department=licensing[0])
    with pytest.raises(StaleEditError):
        ops.transition_flow(flow, "submit", actor=editor, expected_version=flow.version + 1)
    assert flow.state is S.DRAFT
