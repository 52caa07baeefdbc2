"""The scan (网上实时动态监控): set-based SQL over step visits, cases and flow edges; no Python loop over rows.

The visits and case summaries are kept current at ingest (`derive.py`); the scan judges them:

1. Cases that received events since the last scan (the scan queue) are taken into this scan.
2. Alerts are inserted with INSERT … SELECT … ON CONFLICT on (code, case, subject), so a re-scan stores
   nothing twice:
   - `yellow_card` / `red_card` for open steps and open cases of *every* case (time passes for all of them),
     and `red_card` for steps and cases of the cases in this scan that were completed late;
   - `out_of_flow`, `skipped_step`, `sod_violation` for the cases in this scan; an open alert of these codes
     that no longer holds (a late event filled the gap) is withdrawn by the system, with a history entry;
   - `unknown_reference` for quarantined events.
3. The per-power and per-department monthly statistics are rebuilt from the case summaries.

Time limits (README): a step or case with a limit of n working days (n > 0) is red once the working time used
is more than n days — past `WorkingCalendar.due_at(start, n)`, the instant view; yellow once it has used at least
`ratio × n` (ratio 0.8 by default, `SUPERVISION_YELLOW_RATIO`) while still open. A case's limit is its power's
promised days (else statutory days) when the case arrived; a step's limit is the flow step's `time_limit_days`.
A limit of 0 or none is not watched.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from datetime import time as dt_time

import sqlalchemy as sa
from flask import current_app, has_app_context

from govrisk.core.audit import log_change
from govrisk.core.types import UTCDateTime, utcnow
from govrisk.extensions import db
from govrisk.flows.models import FlowEdge
from govrisk.flows.validation import SOD_PAIRS
from govrisk.supervision.derive import roomy_cache
from govrisk.supervision.ingest import Positions, dialect_insert
from govrisk.supervision.models import (
    DAY_US,
    STAT_FIELDS,
    Alert,
    DepartmentStats,
    FlowShape,
    PowerStats,
    QuarantinedEvent,
    ScanQueue,
    ScanRun,
    StepVisit,
    SupervisionCase,
    SupervisionEvent,
)
from govrisk.supervision.workflow import AlertState
from govrisk.workflow.models import WorkflowEvent

E, C, V = SupervisionEvent.__table__, SupervisionCase.__table__, StepVisit.__table__
FE, SH = FlowEdge.__table__, FlowShape.__table__
A, Q, SQ = Alert.__table__, QuarantinedEvent.__table__, ScanQueue.__table__
CONFORMANCE = ("out_of_flow", "skipped_step", "sod_violation")
DEFAULT_YELLOW_RATIO = 0.8
SYSTEM = "system"


def yellow_ratio() -> float:
    """The configured share of a limit at which an open step or case gets a yellow card."""
    value = os.environ.get("SUPERVISION_YELLOW_RATIO") or (
        current_app.config.get("SUPERVISION_YELLOW_RATIO") if has_app_context() else None)
    return check_ratio(float(value)) if value not in (None, "") else DEFAULT_YELLOW_RATIO


def check_ratio(value: float) -> float:
    """A ratio strictly between 0 and 1, or ValueError."""
    if not 0 < value < 1:
        raise ValueError(f"yellow ratio must be between 0 and 1 (exclusive), got {value}")
    return value


@dataclass
class ScanResult:
    scan_id: int
    at: datetime
    cases: int
    new: dict[str, int] = field(default_factory=dict)
    withdrawn: int = 0
    duration_ms: int = 0

    @property
    def new_total(self) -> int:
        return sum(self.new.values())


def _lit(value, type_=None):
    return sa.literal(value, type_) if type_ is not None else sa.literal(value)


def _text(*parts):
    """A string concatenation of columns and literals (|| on both databases)."""
    out = None
    for part in parts:
        part = sa.cast(part, sa.String) if isinstance(part, sa.ColumnElement) and not isinstance(
            part.type, sa.String) else (sa.literal(part, sa.String) if isinstance(part, str) else part)
        out = part if out is None else out + part
    return out


ALERT_COLUMNS = ("code", "case_ref", "subject", "case_id", "power_id", "department_id", "step_key", "other_step_key",
                 "actor", "used_us", "limit_days", "is_completed", "occurred_at", "detected_at", "scan_id",
                 "seen_scan_id", "quarantine_id", "state", "escalation_note", "finding_ref", "version", "created_at",
                 "updated_at")


class _Scan:
    def __init__(self, at: datetime, ratio: float, run: ScanRun):
        self.at, self.ratio, self.run = at, ratio, run
        self.at_us = Positions().work_us(at)
        self.now = utcnow()
        self.taken = sa.select(SQ.c.case_id).where(SQ.c.scan_id == run.id)  # the cases of this scan
        self.in_scan, self.visit_in_scan = C.c.id.in_(self.taken), V.c.case_id.in_(self.taken)

    def execute(self, stmt):
        return db.session.execute(stmt)

    def take_cases(self) -> int:
        return self.execute(sa.update(SQ).where(SQ.c.scan_id.is_(None)).values(scan_id=self.run.id)).rowcount

    # ------------------------------------------------------------ 4: alerts

    def _values(self, code, *, case_ref, subject, case_id, power_id, department_id, step_key="", other_step_key="",
                actor="", used_us=None, limit_days=None, is_completed=False, occurred_at=None, quarantine_id=None):
        """The SELECT list of an alert insert: columns for the varying parts, literals for the rest."""
        values = {
            "code": _lit(code, sa.String), "case_ref": case_ref, "subject": subject, "case_id": case_id,
            "power_id": power_id, "department_id": department_id, "step_key": _value(step_key),
            "other_step_key": _value(other_step_key), "actor": _value(actor), "used_us": _value(used_us, sa.BigInteger),
            "limit_days": _value(limit_days, sa.Integer), "is_completed": _value(is_completed, sa.Boolean),
            "occurred_at": _value(occurred_at, UTCDateTime), "detected_at": _lit(self.at, UTCDateTime),
            "scan_id": _lit(self.run.id, sa.Integer), "seen_scan_id": _lit(self.run.id, sa.Integer),
            "quarantine_id": _value(quarantine_id, sa.Integer), "state": _lit(AlertState.OPEN.value, sa.String),
            "escalation_note": _lit("", sa.String), "finding_ref": _lit("", sa.String), "version": _lit(1, sa.Integer),
            "created_at": _lit(self.now, UTCDateTime), "updated_at": _lit(self.now, UTCDateTime),
        }
        return [values[c].label(c) for c in ALERT_COLUMNS]

    def insert_alerts(self, select, *, refresh: bool = False) -> None:
        stmt = dialect_insert(A).from_select(list(ALERT_COLUMNS), select)
        keys = ["code", "case_ref", "subject"]
        if refresh:
            stmt = stmt.on_conflict_do_update(index_elements=keys, set_={"seen_scan_id": stmt.excluded.seen_scan_id})
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=keys)
        self.execute(stmt)

    def _case_columns(self):
        return {"case_ref": C.c.case_ref, "case_id": C.c.id, "power_id": C.c.power_id,
                "department_id": C.c.department_id}

    def step_time_alerts(self) -> None:
        limit_us = V.c.limit_days * _lit(DAY_US, sa.BigInteger)
        source = V.join(C, C.c.id == V.c.case_id)
        timed = sa.and_(V.c.limit_days > 0, V.c.start_us.is_not(None))
        common = dict(subject=_text("step:", V.c.step_key, "@", V.c.start_at), step_key=V.c.step_key,
                      limit_days=V.c.limit_days, **self._case_columns())
        late = V.c.end_us - V.c.start_us
        self.insert_alerts(sa.select(*self._values(
            "red_card", used_us=late, is_completed=True, occurred_at=V.c.end_at, actor=sa.func.coalesce(
                V.c.complete_actor, ""), **common)).select_from(source).where(
            timed, self.visit_in_scan, V.c.end_us.is_not(None), late > limit_us))
        used = _lit(self.at_us, sa.BigInteger) - V.c.start_us
        is_open = sa.and_(timed, V.c.end_at.is_(None), C.c.completed_us.is_(None))
        for code, condition in self._open_conditions(used, limit_us):
            self.insert_alerts(sa.select(*self._values(
                code, used_us=used, occurred_at=V.c.start_at, actor=sa.func.coalesce(V.c.enter_actor, ""), **common))
                .select_from(source).where(is_open, condition))

    def _open_conditions(self, used, limit_us):
        yellow_at = sa.cast(limit_us, sa.Float) * _lit(self.ratio, sa.Float)
        return (("red_card", used > limit_us), ("yellow_card", sa.and_(used >= yellow_at, used <= limit_us)))

    def case_time_alerts(self) -> None:
        limit_us = C.c.limit_days * _lit(DAY_US, sa.BigInteger)
        timed = sa.and_(C.c.limit_days > 0, C.c.received_us.is_not(None))
        common = dict(subject=_lit("case", sa.String), limit_days=C.c.limit_days, **self._case_columns())
        self.insert_alerts(sa.select(*self._values("red_card", used_us=C.c.used_us, is_completed=True,
                                                   occurred_at=C.c.completed_at, **common))
                           .where(timed, self.in_scan, C.c.completed_us.is_not(None), C.c.used_us > limit_us))
        used = _lit(self.at_us, sa.BigInteger) - C.c.received_us
        for code, condition in self._open_conditions(used, limit_us):
            self.insert_alerts(sa.select(*self._values(code, used_us=used, occurred_at=C.c.received_at, **common))
                               .where(timed, C.c.completed_us.is_(None), condition))

    def out_of_flow_alerts(self) -> None:
        has_edge = sa.exists().where(FE.c.flow_id == C.c.flow_id, FE.c.source_key == V.c.prev_step,
                                     FE.c.target_key == V.c.step_key)
        when = sa.func.coalesce(V.c.start_at, V.c.end_at)
        self.insert_alerts(sa.select(*self._values(
            "out_of_flow", subject=_text("move:", V.c.prev_step, ">", V.c.step_key, "@", when),
            step_key=V.c.step_key, other_step_key=V.c.prev_step, actor=sa.func.coalesce(V.c.enter_actor, ""),
            occurred_at=when, **self._case_columns()))
            .select_from(V.join(C, C.c.id == V.c.case_id))
            .where(self.visit_in_scan, V.c.prev_step.is_not(None), V.c.prev_step != V.c.step_key, ~has_edge),
            refresh=True)

    def skipped_step_alerts(self) -> None:
        passed = sa.exists().where(V.c.case_id == C.c.id, V.c.step_key == SH.c.step_key)
        self.insert_alerts(sa.select(*self._values(
            "skipped_step", subject=_text("skip:", SH.c.step_key), step_key=SH.c.step_key, is_completed=True,
            occurred_at=C.c.completed_at, **self._case_columns()))
            .select_from(C.join(SH, sa.and_(SH.c.flow_id == C.c.flow_id, SH.c.is_required.is_(True))))
            .where(self.in_scan, C.c.completed_us.is_not(None), C.c.missing_required > 0, ~passed), refresh=True)

    def sod_alerts(self) -> None:
        roles = sorted({role for pair in SOD_PAIRS for role in pair})
        duties = (sa.select(V.c.case_id, V.c.complete_actor.label("actor"), sa.func.max(V.c.end_at).label("last_at"),
                            *(sa.func.min(sa.case((V.c.role == role, V.c.step_key))).label(role) for role in roles))
                  .where(self.visit_in_scan, V.c.complete_actor.is_not(None),
                         V.c.role.in_(roles))
                  .group_by(V.c.case_id, V.c.complete_actor).cte("duties"))
        found = sa.union_all(*(
            sa.select(duties.c.case_id, duties.c.actor, duties.c.last_at, sa.literal(a, sa.String).label("role_a"),
                      sa.literal(b, sa.String).label("role_b"), duties.c[a].label("step_a"),
                      duties.c[b].label("step_b")).where(duties.c[a].is_not(None), duties.c[b].is_not(None))
            for a, b in SOD_PAIRS)).subquery("found")
        self.insert_alerts(sa.select(*self._values(
            "sod_violation", subject=_text("sod:", found.c.actor, ":", found.c.role_a, "+", found.c.role_b),
            step_key=found.c.step_a, other_step_key=found.c.step_b, actor=found.c.actor, is_completed=False,
            occurred_at=found.c.last_at, **self._case_columns()))
            .select_from(found.join(C, C.c.id == found.c.case_id)).where(sa.true()), refresh=True)

    def unknown_reference_alerts(self) -> None:
        self.insert_alerts(sa.select(*self._values(
            "unknown_reference", case_ref=Q.c.case_ref, subject=_text("q:", Q.c.id), case_id=_lit(None, sa.Integer),
            power_id=Q.c.power_id, department_id=Q.c.department_id, step_key=Q.c.step_key, actor=Q.c.actor,
            occurred_at=Q.c.at, quarantine_id=Q.c.id)).where(Q.c.state == "pending"))

    def withdraw_stale(self) -> int:
        stale = sa.and_(A.c.state == AlertState.OPEN.value, A.c.code.in_(CONFORMANCE),
                        A.c.case_id.in_(self.taken),
                        sa.or_(A.c.seen_scan_id.is_(None), A.c.seen_scan_id != self.run.id))
        W = WorkflowEvent.__table__
        history = sa.select(
            _lit(Alert.__tablename__, sa.String), A.c.id, _lit("alert", sa.String), _lit("withdraw", sa.String),
            _lit(AlertState.OPEN.value, sa.String), _lit(AlertState.WITHDRAWN.value, sa.String),
            _lit(SYSTEM, sa.String), _lit("后续事件表明该情形已不成立，系统自动撤回。", sa.String),
            _lit(self.now, UTCDateTime)).where(stale)
        self.execute(sa.insert(W).from_select(["target_type", "target_id", "workflow", "transition", "from_state",
                                               "to_state", "actor_name", "comment", "at"], history))
        return self.execute(sa.update(A).where(stale).values(state=AlertState.WITHDRAWN.value,
                                                             version=A.c.version + 1, updated_at=self.now)).rowcount

    def refresh_statistics(self) -> None:
        """SQLite: let the planner learn the new table sizes (PostgreSQL's autovacuum does this itself)."""
        if db.session.get_bind().dialect.name == "sqlite":
            self.execute(sa.text("PRAGMA optimize"))

    def release_cases(self) -> None:
        self.execute(sa.delete(SQ).where(SQ.c.scan_id == self.run.id))

    # ------------------------------------------------------------ 5: statistics

    def rebuild_stats(self) -> None:
        P, D = PowerStats.__table__, DepartmentStats.__table__
        zero = _lit(0, sa.Integer)

        def count(condition):
            return sa.func.sum(sa.case((condition, 1), else_=0))

        keys = (C.c.power_id, C.c.department_id)
        received = sa.select(*keys, C.c.received_month.label("month"), sa.func.count().label("received"),
                             zero.label("completed"), zero.label("timed"), zero.label("on_time"), zero.label("early"),
                             _lit(0, sa.BigInteger).label("used_us")
                             ).where(C.c.received_month.is_not(None)).group_by(*keys, C.c.received_month)
        completed = sa.select(*keys, C.c.completed_month, zero, sa.func.count(), count(C.c.is_on_time.is_not(None)),
                              count(C.c.is_on_time.is_(True)), count(C.c.is_early.is_(True)), sa.func.sum(C.c.used_us)
                              ).where(C.c.completed_month.is_not(None)).group_by(*keys, C.c.completed_month)
        both = sa.union_all(received, completed).subquery("both")
        self.execute(sa.delete(P))
        self.execute(sa.insert(P).from_select(
            ["power_id", "month", "department_id", *STAT_FIELDS],
            sa.select(both.c.power_id, both.c.month, sa.func.min(both.c.department_id),
                      *(sa.func.sum(both.c[f]) for f in STAT_FIELDS)).group_by(both.c.power_id, both.c.month)))
        self.execute(sa.delete(D))
        self.execute(sa.insert(D).from_select(
            ["department_id", "month", *STAT_FIELDS],
            sa.select(P.c.department_id, P.c.month, *(sa.func.sum(P.c[f]) for f in STAT_FIELDS))
            .group_by(P.c.department_id, P.c.month)))


def _value(value, type_=None):
    if isinstance(value, sa.ColumnElement):
        return value
    return _lit(value, type_) if type_ is not None else _lit(value, sa.String)


def run_scan(at: datetime | None = None, *, ratio: float | None = None, actor=None) -> ScanResult:
    """Scan as of `at` (default now): judge the cases, raise each alert once, refresh the statistics."""
    started = time.perf_counter()
    at = at or utcnow()
    ratio = check_ratio(ratio) if ratio is not None else yellow_ratio()
    run = ScanRun(at=at, yellow_ratio=ratio, actor_name=getattr(actor, "username", "") or SYSTEM)
    db.session.add(run)
    db.session.flush()
    scan = _Scan(at, ratio, run)
    cases = scan.take_cases()
    with roomy_cache():
        scan.step_time_alerts()
        scan.case_time_alerts()
        withdrawn = 0
        if cases:
            scan.out_of_flow_alerts()
            scan.skipped_step_alerts()
            scan.sod_alerts()
            withdrawn = scan.withdraw_stale()
            scan.release_cases()
            scan.rebuild_stats()
        scan.unknown_reference_alerts()
        if cases:
            scan.refresh_statistics()
    new = dict(db.session.execute(sa.select(A.c.code, sa.func.count()).where(A.c.scan_id == run.id)
                                  .group_by(A.c.code)).all())
    run.cases, run.new_alerts, run.withdrawn = cases, sum(new.values()), withdrawn
    run.duration_ms = round((time.perf_counter() - started) * 1000)
    run.counts_json = json.dumps(new, sort_keys=True)
    log_change("supervision.scan", run, actor=actor,
               changes={"at": [None, at.isoformat()], "cases": [None, cases], "new_alerts": [None, new],
                        "withdrawn": [None, withdrawn], "yellow_ratio": [None, ratio]})
    return ScanResult(run.id, at, cases, new, withdrawn, run.duration_ms)


def tick_scan(today: date) -> int:
    """The scan `govrisk tick` runs: as of now, or as of the end of `today` (Beijing) when pretending another day."""
    if today == date.today():
        at = None
    else:
        at = datetime.combine(today + timedelta(days=1), dt_time(0), tzinfo=timezone(timedelta(hours=8)))
    return run_scan(at).new_total
