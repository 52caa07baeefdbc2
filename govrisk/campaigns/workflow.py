"""Unit reports: draft → submitted → accepted, or returned with a comment (and resubmitted).

The unit's own dept_editor members submit; the dept_head members of the unit that reviews it (its parent, or the
unit itself at the top of the tree) accept or return. The permission registry says which role; the guards say
which unit.
"""

from flask_babel import gettext as _

from govrisk.core.enums import TitledEnum
from govrisk.core.permissions import Role, register_permission
from govrisk.workflow.engine import Transition, Workflow

register_permission("campaigns.report.submit", [Role.DEPT_EDITOR], "报送本单位活动报告", "Submit unit reports")
register_permission("campaigns.report.review", [Role.DEPT_HEAD], "审核下级单位活动报告", "Review sub-unit reports")


class ReportState(TitledEnum):
    DRAFT = ("draft", "草稿", "Draft")
    SUBMITTED = ("submitted", "已报送", "Submitted")
    ACCEPTED = ("accepted", "已采纳", "Accepted")
    RETURNED = ("returned", "已退回", "Returned")


S = ReportState
EDITABLE_STATES = (S.DRAFT, S.RETURNED)


def _unit_member(report, actor) -> str | None:
    from govrisk.campaigns.queries import is_member

    return None if is_member(actor, report.unit_id) else _("只有本单位的填报人员可以报送本单位的报告。")


def _reviewer(report, actor) -> str | None:
    from govrisk.campaigns.queries import is_member

    if is_member(actor, report.unit.reviewer_unit_id):
        return None
    return _("只有上级单位的负责人可以审核该报告。")


def _has_content(report, actor) -> str | None:
    if report.values or report.activities or report.narrative.strip():
        return None
    return _("报告还没有任何内容（指标、活动或总结文字），不能报送。")


def _campaign_open(report, actor) -> str | None:
    return _("该活动已停用，不能再报送。") if report.campaign.is_retired else None


REPORT_WORKFLOW = Workflow("campaign_report", ReportState, (
    Transition("submit", (S.DRAFT, S.RETURNED), S.SUBMITTED, "campaigns.report.submit",
               guards=(_unit_member, _campaign_open, _has_content), zh="报送", en="Submit"),
    Transition("accept", (S.SUBMITTED,), S.ACCEPTED, "campaigns.report.review", guards=(_reviewer,),
               zh="审核通过", en="Accept", style="success"),
    Transition("return", (S.SUBMITTED, S.ACCEPTED), S.RETURNED, "campaigns.report.review", guards=(_reviewer,),
               needs_comment=True, zh="退回修改", en="Return", style="warning"),
))
