"""The life of an alert (预警): open → acknowledged → handled, or appealed (申诉) → upheld / revoked; red → finding."""

from flask_babel import gettext as _

from govrisk.core.enums import TitledEnum
from govrisk.core.permissions import Role, register_permission
from govrisk.workflow.engine import Transition, Workflow

register_permission("supervision.respond", [Role.DEPT_EDITOR, Role.DEPT_HEAD], "签收与处理本单位预警",
                    "Acknowledge and handle the department's alerts")
register_permission("supervision.appeal", [Role.DEPT_HEAD], "对预警提出申诉", "Appeal an alert")
register_permission("supervision.decide", [Role.INSPECTOR], "裁决预警申诉", "Decide appeals")
register_permission("supervision.escalate", [Role.INSPECTOR], "将红牌转为问题线索", "Turn a red card into a finding")
register_permission("supervision.manage", [Role.INSPECTOR], "管理电子监察（扫描、暂存区、核销）",
                    "Manage electronic supervision (scan, quarantine, dismiss)")


class AlertState(TitledEnum):
    OPEN = ("open", "待处理", "Open")
    ACKNOWLEDGED = ("acknowledged", "已签收", "Acknowledged")
    HANDLED = ("handled", "已处理", "Handled")
    APPEALED = ("appealed", "申诉中", "Appealed")
    UPHELD = ("upheld", "申诉未采纳", "Appeal rejected")
    REVOKED = ("revoked", "已撤销", "Revoked")
    ESCALATED = ("escalated", "已转问题线索", "Escalated to a finding")
    WITHDRAWN = ("withdrawn", "系统撤回", "Withdrawn by the scan")


S = AlertState
#: States in which an alert still needs someone's action; the dashboard counts these as "open" cards.
UNRESOLVED = (S.OPEN, S.ACKNOWLEDGED, S.APPEALED, S.UPHELD)
#: Codes whose alert says nothing about the department's conduct: no appeal, closed by an inspector.
DATA_CODES = ("unknown_reference",)


def _appealable(alert, actor) -> str | None:
    if alert.code in DATA_CODES:
        return _("数据引用错误不是对单位的预警，无需申诉；请修正数据后由纪检监察员重新处理。")
    return None


def _red_card(alert, actor) -> str | None:
    if alert.code != "red_card":
        return _("只有红牌可以转为问题线索。")
    return None


def _data_alert(alert, actor) -> str | None:
    if alert.code not in DATA_CODES:
        return _("只有数据引用错误可以核销。")
    return None


def _conduct_alert(alert, actor) -> str | None:
    if alert.code in DATA_CODES:
        return _("数据引用错误由纪检监察员重新处理或核销。")
    return None


ALERT_WORKFLOW = Workflow("alert", AlertState, (
    Transition("acknowledge", (S.OPEN,), S.ACKNOWLEDGED, "supervision.respond", guards=(_conduct_alert,),
               zh="签收", en="Acknowledge", style="secondary"),
    Transition("handle", (S.OPEN, S.ACKNOWLEDGED, S.UPHELD), S.HANDLED, "supervision.respond",
               guards=(_conduct_alert,), needs_comment=True, zh="处理完毕", en="Mark handled", style="success"),
    Transition("appeal", (S.OPEN, S.ACKNOWLEDGED), S.APPEALED, "supervision.appeal", guards=(_appealable,),
               needs_comment=True, zh="申诉", en="Appeal", style="warning"),
    Transition("uphold", (S.APPEALED,), S.UPHELD, "supervision.decide", needs_comment=True,
               zh="维持预警（申诉不成立）", en="Uphold (reject the appeal)", style="secondary"),
    Transition("revoke", (S.APPEALED,), S.REVOKED, "supervision.decide", needs_comment=True,
               zh="撤销预警（申诉成立）", en="Revoke (accept the appeal)", style="danger"),
    Transition("escalate", (S.OPEN, S.ACKNOWLEDGED, S.UPHELD), S.ESCALATED, "supervision.escalate",
               guards=(_red_card,), needs_comment=True, zh="转为问题线索", en="Turn into a finding", style="danger"),
    Transition("dismiss", (S.OPEN,), S.HANDLED, "supervision.manage", guards=(_data_alert,), needs_comment=True,
               zh="核销", en="Dismiss", style="secondary"),
))
