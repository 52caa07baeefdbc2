"""Workflows of risk points (the register workflow ending in CONFIRMED) and of control measures."""

from flask_babel import gettext as _

from govrisk.core.enums import TitledEnum
from govrisk.core.permissions import Role, register_permission
from govrisk.workflow.engine import Transition, Workflow
from govrisk.workflow.register import RegisterState, register_workflow

# Declared here, before the workflows that name them (the engine checks permissions at import).
register_permission("risks.grading", [Role.INSPECTOR], "管理风险等级评定方法", "Manage grading methods")
register_permission("risks.import", [Role.DEPT_EDITOR], "导入廉政风险点", "Import risk points")
register_permission("risks.export", [Role.DEPT_EDITOR, Role.DEPT_HEAD, Role.INSPECTOR], "导出廉政风险点登记表",
                    "Export the risk register")
register_permission("risks.measure.progress", [Role.DEPT_EDITOR, Role.DEPT_HEAD], "推进防控措施落实",
                    "Progress control measures")
register_permission("risks.measure.verify", [Role.INSPECTOR], "验证防控措施并评定剩余风险",
                    "Verify control measures and record residual risk")
register_permission("risks.rotation.settings", [Role.INSPECTOR], "设置重点岗位轮岗规则", "Set the rotation rule")

S = RegisterState


def _graded(point, actor) -> str | None:
    """A risk point goes to review only with its inputs and the department's proposed level."""
    missing = [label for label, value in ((_("发生几率"), point.likelihood), (_("危害程度"), point.severity),
                                          (_("自由裁量空间"), point.discretion), (_("拟定等级"), point.proposed_level))
               if value is None]
    if missing:
        return _("请先填写%(fields)s后再报送。", fields=_("、").join(missing))
    return None


def _level_decided(point, actor) -> str | None:
    """Confirmation needs the inspector's level, and a reason when it differs from the proposal."""
    if point.confirmed_level is None:
        return _("请先确定风险等级。")
    if point.confirmed_level != point.proposed_level and not (point.confirmed_reason or "").strip():
        return _("确认等级与单位拟定等级不同，必须填写调整理由。")
    return None


RISK_WORKFLOW = register_workflow("risk_point", final=S.CONFIRMED,
                                  guards={"submit": (_graded,), "confirm": (_level_decided,)})
# `confirm` is fired by the confirmation form (level and reason), never by a bare button.
FORM_TRANSITIONS = frozenset({"confirm"})


class MeasureStatus(TitledEnum):
    PLANNED = ("planned", "计划", "Planned")
    IN_PROGRESS = ("in_progress", "落实中", "In progress")
    IMPLEMENTED = ("implemented", "已落实", "Implemented")
    VERIFIED = ("verified", "已验证有效", "Verified")
    INEFFECTIVE = ("ineffective", "验证无效", "Ineffective")


M = MeasureStatus


def _has_evidence(measure, actor) -> str | None:
    if (measure.evidence or "").strip() or any(not a.is_removed for a in measure.attachments):
        return None
    return _("请先填写落实情况或上传佐证材料。")


MEASURE_WORKFLOW = Workflow("risk_measure", MeasureStatus, (
    Transition("start", (M.PLANNED,), M.IN_PROGRESS, "risks.measure.progress", zh="开始落实", en="Start"),
    Transition("implement", (M.PLANNED, M.IN_PROGRESS), M.IMPLEMENTED, "risks.measure.progress",
               guards=(_has_evidence,), zh="确认已落实", en="Mark implemented", style="success"),
    Transition("verify", (M.IMPLEMENTED,), M.VERIFIED, "risks.measure.verify", zh="验证有效", en="Verify",
               style="success"),
    Transition("reject", (M.IMPLEMENTED,), M.INEFFECTIVE, "risks.measure.verify", needs_comment=True,
               zh="验证无效", en="Mark ineffective", style="warning"),
    Transition("rework", (M.INEFFECTIVE,), M.IN_PROGRESS, "risks.measure.progress", zh="重新落实", en="Rework"),
), state_attr="status")
