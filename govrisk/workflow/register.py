"""The register workflow shared by power items, flows and risk points (DESIGN §4)."""

from dataclasses import replace

from govrisk.core.enums import TitledEnum
from govrisk.workflow.engine import Transition, Workflow


class RegisterState(TitledEnum):
    DRAFT = ("draft", "草稿", "Draft")
    SUBMITTED = ("submitted", "已报送", "Submitted")
    DEPT_APPROVED = ("dept_approved", "单位已审定", "Approved by department")
    CONFIRMED = ("confirmed", "纪检已确认", "Confirmed by inspector")
    RETURNED = ("returned", "已退回", "Returned")
    PUBLISHED = ("published", "已发布", "Published")
    RETIRED = ("retired", "已停用", "Retired")


S = RegisterState
OPEN_STATES = (S.DRAFT, S.SUBMITTED, S.DEPT_APPROVED, S.RETURNED)


def register_workflow(name: str, *, final: RegisterState, guards: dict | None = None) -> Workflow:
    """The register table ending in `final` (CONFIRMED for risk points, PUBLISHED for catalog items).

    `guards` adds a domain's own guards to named transitions, e.g. {"submit": (no_errors,)}.
    """
    transitions = [
        Transition("submit", (S.DRAFT, S.RETURNED), S.SUBMITTED, "register.submit", zh="报送", en="Submit"),
        Transition("approve", (S.SUBMITTED,), S.DEPT_APPROVED, "register.approve", zh="单位审定", en="Approve",
                   style="success"),
        Transition("return", (S.SUBMITTED, S.DEPT_APPROVED), S.RETURNED, "register.return", needs_comment=True,
                   zh="退回修改", en="Return", style="warning"),
    ]
    if final is S.CONFIRMED:
        transitions.append(Transition("confirm", (S.DEPT_APPROVED,), S.CONFIRMED, "register.confirm",
                                      zh="纪检确认", en="Confirm", style="success"))
    else:
        transitions.append(Transition("publish", (S.DEPT_APPROVED,), S.PUBLISHED, "register.publish",
                                      zh="发布", en="Publish", style="success"))
    transitions.append(Transition("retire", (S.DRAFT, S.RETURNED, final), S.RETIRED, "register.retire",
                                  needs_comment=True, zh="停用", en="Retire", style="danger"))
    extra = guards or {}
    transitions = [replace(t, guards=(*t.guards, *extra[t.name])) if t.name in extra else t for t in transitions]
    return Workflow(name, RegisterState, tuple(transitions))
