"""Every change in electronic supervision: alert transitions, escalation, quarantine, recompute. Flush, never commit.

Escalation (红牌 → 问题线索): `escalate_alert` records the request — the card moves to `escalated` with the
inspector's note — and then calls the handlers registered with `register_escalation_handler`. The
accountability domain may register one that opens a finding and returns its code, which is stored on the card
(`finding_ref`). Without a handler the request stays recorded on the card and in its history, and the finding
can be opened from the accountability pages.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask_babel import gettext as _

from govrisk.core.audit import log_change, record_update
from govrisk.core.errors import UserError
from govrisk.core.types import utcnow
from govrisk.extensions import db
from govrisk.supervision.derive import rebuild_cases
from govrisk.supervision.ingest import EventRow, IngestResult, Positions, ingest_events, queue_for_scan, resolve
from govrisk.supervision.models import Alert, QuarantinedEvent, SupervisionCase, SupervisionEvent
from govrisk.supervision.workflow import AlertState
from govrisk.workflow.engine import fire
from govrisk.workflow.models import WorkflowEvent

EscalationHandler = Callable[[Alert, str, object], str | None]
_ESCALATION_HANDLERS: list[EscalationHandler] = []


def register_escalation_handler(handler: EscalationHandler) -> None:
    """Called as handler(alert, note, actor) after a red card is escalated; may return a finding reference."""
    if handler not in _ESCALATION_HANDLERS:
        _ESCALATION_HANDLERS.append(handler)


def unregister_escalation_handler(handler: EscalationHandler) -> None:
    if handler in _ESCALATION_HANDLERS:
        _ESCALATION_HANDLERS.remove(handler)


def transition_alert(alert: Alert, name: str, *, actor, comment: str | None = None,
                     expected_version: int | None = None) -> WorkflowEvent:
    """Acknowledge, handle, appeal, uphold, revoke, dismiss or escalate a card (the engine checks who may)."""
    alert.check_version(expected_version)
    if name == "escalate":
        return escalate_alert(alert, comment, actor=actor)
    return fire(alert, name, actor=actor, comment=comment)


def escalate_alert(alert: Alert, note: str | None, *, actor) -> WorkflowEvent:
    """Turn a red card into a finding request: state `escalated`, the note kept, registered handlers called."""
    event = fire(alert, "escalate", actor=actor, comment=note)
    record_update("supervision.alert.escalate", alert, {"escalation_note": event.comment}, actor=actor)
    for handler in list(_ESCALATION_HANDLERS):
        reference = handler(alert, event.comment, actor)
        if reference:
            record_update("supervision.alert.finding", alert, {"finding_ref": str(reference)[:120]}, actor=actor)
    return event


def _system_close(alerts: list[Alert], comment: str) -> None:
    """Close data alerts whose cause was removed by re-processing (history entry by the system)."""
    for alert in alerts:
        source = alert.state
        alert.state = AlertState.HANDLED
        alert.bump_version()
        db.session.flush()
        db.session.add(WorkflowEvent(target_type=Alert.__tablename__, target_id=alert.id, workflow="alert",
                                     transition="resolve", from_state=source.value, to_state=alert.state.value,
                                     actor_name="system", comment=comment))
        log_change("alert.resolve", alert, actor=None, changes={"state": [source.value, alert.state.value]})


def reprocess_quarantine(*, actor, limit: int = 100_000) -> dict:
    """Try the pending quarantined events again (after the catalog or flows were fixed); returns counts."""
    pending = list(db.session.scalars(sa.select(QuarantinedEvent).where(QuarantinedEvent.state == "pending")
                                      .order_by(QuarantinedEvent.id).limit(limit)))
    if not pending:
        return {"pending": 0, "resolved": 0, "still_pending": 0}
    rows = [EventRow(q.id, q.case_ref, q.power_code, q.step_key, q.event, q.actor, q.at) for q in pending]
    placeable = {row.line for row, _ref in resolve(rows).placed}
    resolved_rows = [row for row in rows if row.line in placeable]
    result = ingest_events(resolved_rows, actor=actor, source="requeue") if resolved_rows else IngestResult()
    now = utcnow()
    resolved = [q for q in pending if q.id in placeable]
    for q in resolved:
        q.state, q.resolved_at = "resolved", now
    ids = [q.id for q in resolved]
    open_alerts = list(db.session.scalars(sa.select(Alert).where(
        Alert.quarantine_id.in_(ids or [-1]), Alert.state == AlertState.OPEN))) if ids else []
    _system_close(open_alerts, _("引用已修正，事件已重新处理入库。"))
    counts = {"pending": len(pending), "resolved": len(resolved), "still_pending": len(pending) - len(resolved),
              "stored": result.stored}
    log_change("supervision.quarantine.reprocess", None, actor=actor, target_type="supervision_quarantine",
               changes={k: [None, v] for k, v in counts.items()})
    return counts


def recompute_working_time(*, actor=None, batch: int = 20_000) -> int:
    """Recompute every event's working-time position with the current calendar, then every case; returns events."""
    E = SupervisionEvent.__table__
    positions = Positions()
    done, last = 0, None
    key = (E.c.case_id, E.c.step_key, E.c.at, E.c.event)
    while True:
        stmt = sa.select(*key).order_by(*key).limit(batch)
        if last is not None:
            stmt = stmt.where(sa.tuple_(*key) > sa.tuple_(*last))
        rows = db.session.execute(stmt).all()
        if not rows:
            break
        db.session.execute(
            sa.update(E).where(E.c.case_id == sa.bindparam("c"), E.c.step_key == sa.bindparam("s"),
                               E.c.at == sa.bindparam("a"), E.c.event == sa.bindparam("e"))
            .values(work_us=sa.bindparam("w")).execution_options(synchronize_session=False),
            [{"c": r[0], "s": r[1], "a": r[2], "e": r[3], "w": positions.work_us(r[2])} for r in rows])
        done += len(rows)
        last = rows[-1]
    rebuild_cases(None)
    queue_for_scan()
    log_change("supervision.recompute", None, actor=actor, target_type="supervision_events",
               changes={"events": [None, done]})
    return done


def require_case(case_id: int) -> SupervisionCase:
    case = db.session.get(SupervisionCase, case_id)
    if case is None:
        raise UserError(_("案件不存在。"))
    return case
