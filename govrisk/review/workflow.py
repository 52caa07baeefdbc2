"""The annual review cycle (动态管理，以年度为周期) and the department self-check, as workflows.

planning → self_check → inspection → assessment → published → closed; never backwards. Opening the self-check
freezes the register snapshot, publishing needs every department scored, closing freezes the results.
"""

from flask_babel import gettext as _

from govrisk.core.enums import TitledEnum
from govrisk.core.permissions import Role, register_permission
from govrisk.workflow.engine import Transition, Workflow

register_permission("review.manage", [Role.INSPECTOR], "组织年度检查考核（周期、指标、自查清单）",
                    "Run the annual review (cycles, indicators, checklists)")
register_permission("review.score", [Role.INSPECTOR], "考核评分、调整与表彰", "Score, adjust and commend")
register_permission("review.inspect", [Role.INSPECTOR], "填写年度检查记录", "Write inspection notes")
register_permission("review.selfcheck.fill", [Role.DEPT_EDITOR, Role.DEPT_HEAD], "填写年度自查",
                    "Fill in the self-check")
register_permission("review.selfcheck.sign", [Role.DEPT_HEAD], "签署年度自查", "Sign the self-check")


class CycleState(TitledEnum):
    PLANNING = ("planning", "筹备", "Planning")
    SELF_CHECK = ("self_check", "单位自查", "Self-check")
    INSPECTION = ("inspection", "年度检查", "Inspection")
    ASSESSMENT = ("assessment", "考核评分", "Assessment")
    PUBLISHED = ("published", "结果已公布", "Published")
    CLOSED = ("closed", "已归档", "Closed")


C = CycleState
ORDER = tuple(CycleState)


def _has_departments(cycle, actor) -> str | None:
    if not cycle.departments:
        return _("请先选择参加考核的单位。")
    return None


def _all_scored(cycle, actor) -> str | None:
    missing = [d.department.name for d in cycle.departments if d.total is None]
    if missing:
        return _("以下单位尚未计算得分，不能公布：%(names)s", names=_("、").join(missing[:10]))
    return None


CYCLE_WORKFLOW = Workflow("review_cycle", CycleState, (
    Transition("open", (C.PLANNING,), C.SELF_CHECK, "review.manage", guards=(_has_departments,),
               zh="启动单位自查（冻结登记快照）", en="Open the self-check (freeze the register)", style="primary"),
    Transition("start_inspection", (C.SELF_CHECK,), C.INSPECTION, "review.manage",
               zh="进入年度检查", en="Start the inspection"),
    Transition("start_assessment", (C.INSPECTION,), C.ASSESSMENT, "review.manage",
               zh="进入考核评分", en="Start the assessment"),
    Transition("publish", (C.ASSESSMENT,), C.PUBLISHED, "review.manage", guards=(_all_scored,),
               zh="公布考核结果", en="Publish the results", style="success"),
    Transition("close", (C.PUBLISHED,), C.CLOSED, "review.manage", needs_comment=False,
               zh="归档（冻结考核结果）", en="Close (freeze the results)", style="danger"),
))


class SelfCheckState(TitledEnum):
    DRAFT = ("draft", "填写中", "Draft")
    SUBMITTED = ("submitted", "待负责人签署", "Awaiting signature")
    SIGNED = ("signed", "已签署", "Signed")


SC = SelfCheckState


def _cycle_in_self_check(check, actor) -> str | None:
    if check.cycle_department.cycle.state is not C.SELF_CHECK:
        return _("考核周期当前为“%(state)s”阶段，自查已不能办理。", state=check.cycle_department.cycle.state.title)
    return None


def _answered(check, actor) -> str | None:
    missing = check.unanswered_count()
    if missing:
        return _("还有 %(n)s 项自查内容未填写结果。", n=missing)
    return None


SELF_CHECK_WORKFLOW = Workflow("self_check", SelfCheckState, (
    Transition("submit", (SC.DRAFT,), SC.SUBMITTED, "review.selfcheck.fill", guards=(_cycle_in_self_check, _answered),
               zh="提交负责人签署", en="Submit for signature"),
    Transition("sign", (SC.SUBMITTED,), SC.SIGNED, "review.selfcheck.sign", guards=(_cycle_in_self_check,),
               zh="签署自查报告", en="Sign", style="success"),
    Transition("return", (SC.SUBMITTED,), SC.DRAFT, "review.selfcheck.sign", guards=(_cycle_in_self_check,),
               needs_comment=True, zh="退回修改", en="Return", style="warning"),
))
