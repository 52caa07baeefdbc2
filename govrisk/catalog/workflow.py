"""The power workflow: the shared register workflow ending in PUBLISHED, plus revision of a published power.

A power row is the *working copy*. Publishing freezes it into an immutable `PowerVersion` snapshot, which is
what the portal and the anonymous API show. Editing a published power fires `revise` (published → draft): the
working copy becomes a draft revision while the last published version stays on the portal. Publishing the
revision supersedes that version; `discard` (放弃修订) restores the working copy from it instead.
"""

from flask_babel import gettext as _

from govrisk.workflow.engine import Transition, Workflow
from govrisk.workflow.register import RegisterState, register_workflow

S = RegisterState


def _has_published_version(power, actor) -> str | None:
    if getattr(power, "published_number", None) is None:
        return _("该职权尚未发布过，没有可恢复的发布版本。")
    return None


def _has_legal_basis(power, actor) -> str | None:
    if not power.legal_bases:
        return _("至少需要一条法律依据。")
    return None


def _build() -> Workflow:
    base = register_workflow("power", final=S.PUBLISHED)
    transitions = []
    for t in base.transitions:
        if t.name in ("submit", "publish"):
            t = Transition(t.name, t.sources, t.target, t.permission, (*t.guards, _has_legal_basis), t.needs_comment,
                           t.zh, t.en, t.style)
        transitions.append(t)
    transitions += [
        Transition("revise", (S.PUBLISHED,), S.DRAFT, "register.edit", zh="修订", en="Revise", style="secondary"),
        Transition("discard", (S.DRAFT, S.RETURNED), S.PUBLISHED, "register.edit", guards=(_has_published_version,),
                   zh="放弃修订", en="Discard revision", style="secondary"),
    ]
    return Workflow(base.name, RegisterState, tuple(transitions))


POWER_WORKFLOW = _build()

# Transitions that the generic buttons must not offer: `revise` happens by editing a published power.
HIDDEN_TRANSITIONS = frozenset({"revise"})
