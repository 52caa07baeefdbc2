"""Workflows of findings (问题线索), rectifications (限期整改) and accountability actions (责任追究)."""

from flask_babel import gettext as _

from govrisk.core.enums import TitledEnum
from govrisk.core.permissions import Role, register_permission
from govrisk.workflow.engine import Transition, Workflow

register_permission("accountability.manage", [Role.INSPECTOR], "登记问题、下达与验收整改、责任追究",
                    "Record findings, order and verify rectification, hold people accountable")
register_permission("accountability.rectify", [Role.DEPT_EDITOR, Role.DEPT_HEAD], "办理本单位整改",
                    "Carry out the department's rectification")
register_permission("accountability.records", [Role.INSPECTOR, Role.DEPT_HEAD], "查阅人员责任追究记录",
                    "Read people's accountability records")


class FindingState(TitledEnum):
    OPEN = ("open", "已登记", "Open")
    RECTIFYING = ("rectifying", "整改中", "Being rectified")
    CLOSED = ("closed", "已办结", "Closed")
    DISMISSED = ("dismissed", "不予立项", "Dismissed")


F = FindingState


def _no_open_rectification(finding, actor) -> str | None:
    open_codes = [r.code for r in finding.rectifications if not r.is_finished]
    if open_codes:
        return _("还有未验收的整改：%(codes)s，不能办结。", codes=_("、").join(open_codes))
    return None


def _no_rectification(finding, actor) -> str | None:
    if finding.rectifications:
        return _("已下达整改的问题不能不予立项。")
    return None


FINDING_WORKFLOW = Workflow("finding", FindingState, (
    Transition("start_rectification", (F.OPEN, F.RECTIFYING), F.RECTIFYING, "accountability.manage",
               zh="下达整改", en="Order rectification"),
    Transition("close", (F.OPEN, F.RECTIFYING), F.CLOSED, "accountability.manage", guards=(_no_open_rectification,),
               zh="办结", en="Close", style="success"),
    Transition("dismiss", (F.OPEN,), F.DISMISSED, "accountability.manage", guards=(_no_rectification,),
               needs_comment=True, zh="不予立项", en="Dismiss", style="danger"),
))
#: Fired by their own forms, never by a bare button.
FINDING_FORM_TRANSITIONS = frozenset({"start_rectification"})


class RectificationState(TitledEnum):
    ORDERED = ("ordered", "已下达", "Ordered")
    PLANNED = ("planned", "整改中", "In progress")
    REPORTED = ("reported", "待验收", "Reported")
    VERIFIED = ("verified", "已验收", "Verified")


R = RectificationState
RECTIFICATION_OPEN = (R.ORDERED, R.PLANNED)


def _has_plan(rectification, actor) -> str | None:
    if not (rectification.plan or "").strip():
        return _("请先填写整改方案。")
    return None


def _has_evidence(rectification, actor) -> str | None:
    if not (rectification.evidence or "").strip():
        return _("没有整改佐证材料，不能报送或验收；请先填写整改情况和佐证。")
    return None


RECTIFICATION_WORKFLOW = Workflow("rectification", RectificationState, (
    Transition("submit_plan", (R.ORDERED,), R.PLANNED, "accountability.rectify", guards=(_has_plan,),
               zh="报送整改方案", en="Submit the plan"),
    Transition("report", (R.ORDERED, R.PLANNED), R.REPORTED, "accountability.rectify",
               guards=(_has_plan, _has_evidence),
               zh="报送整改结果", en="Report completion", style="success"),
    Transition("verify", (R.REPORTED,), R.VERIFIED, "accountability.manage", guards=(_has_evidence,),
               zh="验收通过", en="Verify", style="success"),
    Transition("return", (R.REPORTED,), R.PLANNED, "accountability.manage", needs_comment=True,
               zh="整改不到位，退回", en="Return", style="warning"),
))


class ActionState(TitledEnum):
    PROPOSED = ("proposed", "拟处理", "Proposed")
    DECIDED = ("decided", "已决定", "Decided")
    COMPLETED = ("completed", "已执行完毕", "Completed")
    REVOKED = ("revoked", "已撤销", "Revoked")


A = ActionState


def _decision_recorded(action, actor) -> str | None:
    if action.decided_on is None:
        return _("请先填写决定日期。")
    if action.needs_decision_no and not (action.decision_no or "").strip():
        return _("组织处理和纪律处分必须填写决定文号。")
    if action.is_disciplinary and not (action.basis or "").strip():
        return _("纪律处分必须写明依据。")
    return None


ACTION_WORKFLOW = Workflow("accountability_action", ActionState, (
    Transition("decide", (A.PROPOSED,), A.DECIDED, "accountability.manage", guards=(_decision_recorded,),
               zh="作出决定", en="Decide", style="success"),
    Transition("complete", (A.DECIDED,), A.COMPLETED, "accountability.manage",
               zh="执行完毕", en="Mark completed"),
    Transition("revoke", (A.PROPOSED, A.DECIDED), A.REVOKED, "accountability.manage", needs_comment=True,
               zh="撤销", en="Revoke", style="danger"),
))
