"""The flow workflow: the shared register workflow ending in PUBLISHED, with no submission while errors remain."""

from flask_babel import gettext as _
from flask_babel import ngettext

from govrisk.workflow.register import RegisterState, register_workflow

S = RegisterState


def _no_errors(flow, actor) -> str | None:
    """A flow whose findings include an error may be saved as a draft, never sent on or published."""
    from govrisk.flows.queries import flow_report

    errors = [f for f in flow_report(flow).findings if f.severity == "error"]
    if not errors:
        return None
    codes = _("、").join(dict.fromkeys(f.code for f in errors))
    return ngettext("流程图还有 %(num)s 个错误（%(codes)s），请先在编辑页修正后再操作。",
                    "流程图还有 %(num)s 个错误（%(codes)s），请先在编辑页修正后再操作。", len(errors), codes=codes)


FLOW_WORKFLOW = register_workflow("flow", final=S.PUBLISHED, guards={"submit": (_no_errors,), "publish": (_no_errors,)})
EDITABLE_STATES = (S.DRAFT, S.RETURNED)
