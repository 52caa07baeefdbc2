"""Workflows as data: a state Enum and a table of transitions, run by `fire`."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from govrisk.core.audit import log_change
from govrisk.core.enums import TitledEnum, current_language
from govrisk.core.errors import WorkflowError
from govrisk.core.permissions import get_permission, has_permission
from govrisk.core.signals import deadline_escalated, workflow_fired
from govrisk.extensions import db
from govrisk.workflow.models import WorkflowEvent

Guard = Callable[[object, object], str | None]  # (obj, actor) → None when satisfied, else the reason


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple
    target: TitledEnum
    permission: str
    guards: tuple[Guard, ...] = ()
    needs_comment: bool = False
    zh: str = ""
    en: str = ""
    style: str = "primary"

    @property
    def title(self) -> str:
        return (self.en or self.name) if current_language() == "en" else (self.zh or self.name)


@dataclass(frozen=True)
class Workflow:
    name: str
    states: type
    transitions: tuple[Transition, ...]
    state_attr: str = "state"

    def __post_init__(self):
        names = [t.name for t in self.transitions]
        if len(names) != len(set(names)):
            raise ValueError(f"workflow {self.name}: duplicate transition names")
        for t in self.transitions:
            get_permission(t.permission)  # an undeclared permission fails at import, not at run time

    def get(self, name: str) -> Transition:
        for t in self.transitions:
            if t.name == name:
                return t
        raise WorkflowError(_("未知的操作：%(name)s", name=name))

    def state_of(self, obj) -> TitledEnum:
        return getattr(obj, self.state_attr)


def _workflow_of(obj) -> Workflow:
    wf = getattr(type(obj), "__workflow__", None)
    if wf is None:
        raise TypeError(f"{type(obj).__name__} has no __workflow__")
    return wf


def refusal(obj, transition: Transition, actor) -> str | None:
    """Why `actor` may not fire `transition` on obj now, or None when allowed (comment aside)."""
    wf = _workflow_of(obj)
    state = wf.state_of(obj)
    if state not in transition.sources:
        return _("当前状态为“%(state)s”，不能执行“%(action)s”。", state=state.title, action=transition.title)
    if not has_permission(actor, transition.permission):
        return _("您没有“%(permission)s”的权限。", permission=get_permission(transition.permission).title)
    scope_ok = getattr(obj, "can_act_on", None)
    if scope_ok is not None and not scope_ok(actor):
        return _("该记录不属于您可以办理的范围。")
    for guard in transition.guards:
        reason = guard(obj, actor)
        if reason:
            return reason
    return None


def fire(obj, name: str, *, actor, comment: str | None = None) -> WorkflowEvent:
    """Move obj along transition `name`: check, change state, bump version, record history and audit."""
    wf = _workflow_of(obj)
    transition = wf.get(name)
    reason = refusal(obj, transition, actor)
    if reason:
        raise WorkflowError(reason)
    comment = (comment or "").strip()
    if transition.needs_comment and not comment:
        raise WorkflowError(_("“%(action)s”必须填写意见。", action=transition.title), field="comment")
    source = wf.state_of(obj)
    setattr(obj, wf.state_attr, transition.target)
    if hasattr(obj, "bump_version"):
        obj.bump_version()
    db.session.flush()
    event = WorkflowEvent(
        target_type=obj.__tablename__, target_id=obj.id, workflow=wf.name, transition=transition.name,
        from_state=source.value, to_state=transition.target.value, actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "display_name", "") or getattr(actor, "username", ""), comment=comment,
    )
    db.session.add(event)
    changes = {"state": [source.value, transition.target.value]}
    if comment:
        changes["comment"] = [None, comment]
    log_change(f"{wf.name}.{transition.name}", obj, actor=actor, changes=changes)
    workflow_fired.send(obj, transition=transition, event=event, actor=actor)
    return event


def available(obj, user) -> list[Transition]:
    """The transitions `user` may fire on obj now, in declaration order (for buttons)."""
    return [t for t in _workflow_of(obj).transitions if refusal(obj, t, user) is None]


def history_for(obj) -> list[WorkflowEvent]:
    """Every transition fired on obj, oldest first."""
    stmt = (
        sa.select(WorkflowEvent)
        .where(WorkflowEvent.target_type == obj.__tablename__, WorkflowEvent.target_id == obj.id)
        .order_by(WorkflowEvent.at, WorkflowEvent.id)
    )
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class DeadlineRule:
    """Overdue marking and escalation for one model: level n once overdue by ≥ levels[n-1] days."""

    name: str
    model: type
    open_states: tuple
    levels: tuple[int, ...] = (0,)
    state_attr: str = "state"
    titles: tuple[str, ...] = field(default_factory=tuple)

    def level_for(self, days_overdue: int) -> int:
        return sum(1 for threshold in self.levels if days_overdue >= threshold)


_DEADLINE_RULES: list[DeadlineRule] = []


def register_deadline_rule(rule: DeadlineRule) -> DeadlineRule:
    """Add a rule to those `govrisk tick` runs (once per name)."""
    if all(r.name != rule.name for r in _DEADLINE_RULES):
        _DEADLINE_RULES.append(rule)
    return rule


def deadline_rules() -> list[DeadlineRule]:
    return list(_DEADLINE_RULES)


def apply_deadline_rule(rule: DeadlineRule, today: date) -> int:
    """Mark overdue and escalate; changes only what differs, so running twice changes nothing more."""
    model = rule.model
    state_col = getattr(model, rule.state_attr)
    stmt = sa.select(model).where(model.due_on.is_not(None), model.due_on < today, state_col.in_(rule.open_states))
    changed = 0
    for obj in db.session.scalars(stmt.execution_options(yield_per=500)):
        level = rule.level_for((today - obj.due_on).days)
        if obj.is_overdue and obj.escalation_level >= level:
            continue
        before = {"is_overdue": obj.is_overdue, "escalation_level": obj.escalation_level}
        obj.is_overdue, obj.escalation_level = True, max(level, obj.escalation_level)
        log_change(f"{rule.name}.overdue", obj, actor=None,
                   changes={k: [v, getattr(obj, k)] for k, v in before.items()})
        deadline_escalated.send(obj, level=obj.escalation_level, rule=rule)
        changed += 1
    return changed


def run_deadlines(today: date) -> dict[str, int]:
    """Apply every registered deadline rule; returns the number of records changed per rule."""
    return {rule.name: apply_deadline_rule(rule, today) for rule in _DEADLINE_RULES}


# ---------------------------------------------------------------- tick hooks

TickHook = Callable[[date], int]
_TICK_HOOKS: dict[str, TickHook] = {}


def register_tick_hook(name: str, hook: TickHook) -> None:
    """Have `govrisk tick` also call hook(today) — a periodic job that is not a deadline rule (e.g. a scan)."""
    _TICK_HOOKS[name] = hook


def run_tick_hooks(today: date) -> dict[str, int]:
    """Run every registered tick hook in registration order; returns what each reports (a count)."""
    return {name: int(hook(today) or 0) for name, hook in _TICK_HOOKS.items()}
