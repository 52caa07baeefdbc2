"""Triage of citizen feedback by inspectors: received → accepted / rejected (with a reason)."""

from govrisk.core.enums import TitledEnum
from govrisk.core.permissions import Role, register_permission
from govrisk.workflow.engine import Transition, Workflow

# Reports (举报) may concern a department's own staff: only inspectors read and triage feedback.
register_permission("feedback.handle", [Role.INSPECTOR], "处理群众反馈（评议、举报）", "Triage citizen feedback")


class FeedbackState(TitledEnum):
    RECEIVED = ("received", "待处理", "Received")
    ACCEPTED = ("accepted", "已受理", "Accepted")
    REJECTED = ("rejected", "不予受理", "Rejected")


F = FeedbackState

FEEDBACK_WORKFLOW = Workflow("feedback", FeedbackState, (
    Transition("accept", (F.RECEIVED,), F.ACCEPTED, "feedback.handle", zh="受理", en="Accept", style="success"),
    Transition("reject", (F.RECEIVED,), F.REJECTED, "feedback.handle", needs_comment=True,
               zh="不予受理", en="Reject", style="danger"),
))
