"""What the events of a case say about it: its step passes (visits) and its summary, rebuilt set-based in SQL.

Called for the cases a batch of events touched (at ingest, so lists and the timeline are current at once) and
for every case by `govrisk supervision recompute` (after the working-day calendar changed). Each call rebuilds
the given cases completely from their events, so the order in which events arrived never matters.

Visits: for each (case, step) the n-th `enter` is paired with the n-th `complete` (in time order). Steps passed
once — nearly all — are paired by one GROUP BY over the events table (clustered on case, step, instant); only
steps passed more than once (returns for correction) go through a window function. The passes of a case are
then ordered by time (ROW_NUMBER, LAG, LEAD) so that each knows the step before it. Role, time limit and
start/end/required flags are copied from the flow version the case is checked against.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

from govrisk.extensions import db
from govrisk.supervision.models import DAY_US, FlowShape, StepVisit, SupervisionCase, SupervisionEvent

E, C, V, SH = SupervisionEvent.__table__, SupervisionCase.__table__, StepVisit.__table__, FlowShape.__table__
PAIRED = ("start_at", "start_us", "end_at", "end_us", "enter_actor", "complete_actor")
_CHUNK = 2000


class beijing_month(sa.sql.functions.FunctionElement):
    """YYYYMM (an integer) of a UTC timestamp column on Beijing time (UTC+8), compiled per dialect."""

    type = sa.Integer()
    inherit_cache = True


@compiles(beijing_month, "sqlite")
def _month_sqlite(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    return f"CAST(strftime('%Y%m', {column}, '+8 hours') AS INTEGER)"


@compiles(beijing_month)
def _month_default(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    return f"CAST(to_char({column} + INTERVAL '8 hours', 'YYYYMM') AS INTEGER)"


def _paired(events):
    """The enter and complete sides of a pass, as aggregates over its events."""
    def side(event, column):
        return sa.func.max(sa.case((events.c.event == event, events.c[column])))

    return (side("enter", "at").label("start_at"), side("enter", "work_us").label("start_us"),
            side("complete", "at").label("end_at"), side("complete", "work_us").label("end_us"),
            side("enter", "actor").label("enter_actor"), side("complete", "actor").label("complete_actor"))


def _visits_select(cases):
    """SELECT producing the visit rows of the cases matched by `cases` (a predicate on a case id column)."""
    events = sa.select(E).where(cases(E.c.case_id)).subquery("events")
    grouped = sa.select(events.c.case_id, events.c.step_key, *_paired(events),
                        sa.func.sum(sa.case((events.c.event == "enter", 1), else_=0)).label("enters"),
                        sa.func.count().label("events"),
                        ).group_by(events.c.case_id, events.c.step_key).cte("grouped")
    once = sa.and_(grouped.c.enters <= 1, grouped.c.events - grouped.c.enters <= 1)
    simple = sa.select(grouped.c.case_id, grouped.c.step_key, sa.literal(1, sa.Integer).label("n"),
                       *(grouped.c[c] for c in PAIRED)).where(once)
    repeated = sa.select(E, sa.func.row_number().over(partition_by=(E.c.case_id, E.c.step_key, E.c.event),
                                                      order_by=E.c.at).label("n")).join(
        grouped, sa.and_(grouped.c.case_id == E.c.case_id, grouped.c.step_key == E.c.step_key)).where(
        ~once).subquery("repeated")
    loops = sa.select(repeated.c.case_id, repeated.c.step_key, repeated.c.n, *_paired(repeated)).group_by(
        repeated.c.case_id, repeated.c.step_key, repeated.c.n)
    passes = sa.union_all(simple, loops).subquery("passes")
    order = (sa.func.coalesce(passes.c.start_at, passes.c.end_at), passes.c.step_key, passes.c.n)
    window = dict(partition_by=passes.c.case_id, order_by=order)
    return (
        sa.select(passes.c.case_id, passes.c.step_key, passes.c.n, *(passes.c[c] for c in PAIRED),
                  SH.c.role, SH.c.time_limit_days, SH.c.is_end, SH.c.is_required,
                  sa.func.row_number().over(**window), sa.func.lag(passes.c.step_key).over(**window),
                  sa.func.lead(passes.c.step_key).over(**window).is_(None))
        .select_from(passes.join(C, C.c.id == passes.c.case_id)
                     .outerjoin(SH, sa.and_(SH.c.flow_id == C.c.flow_id, SH.c.step_key == passes.c.step_key)))
    )


VISIT_COLUMNS = ["case_id", "step_key", "n", *PAIRED, "role", "limit_days", "is_end", "is_required", "seq",
                 "prev_step", "is_last"]


def _summarise(cases) -> None:
    """Case columns from the visits: receipt, completion (an end step completed), working time used, on time."""
    is_end_done = sa.and_(V.c.is_end.is_(True), V.c.end_at.is_not(None))
    required = (sa.select(SH.c.flow_id, sa.func.count().label("total")).where(SH.c.is_required.is_(True))
                .group_by(SH.c.flow_id).subquery("required"))
    agg = (
        sa.select(
            V.c.case_id,
            sa.func.min(sa.func.coalesce(V.c.start_at, V.c.end_at)).label("received_at"),
            sa.func.min(sa.func.coalesce(V.c.start_us, V.c.end_us)).label("received_us"),
            sa.func.max(sa.case((is_end_done, V.c.end_at))).label("completed_at"),
            sa.func.max(sa.case((is_end_done, V.c.end_us))).label("completed_us"),
            sa.func.max(sa.case((V.c.is_last.is_(True), V.c.step_key))).label("current_step"),
            sa.func.count(V.c.start_at).label("enters"), sa.func.count(V.c.end_at).label("completes"),
            (sa.func.coalesce(sa.func.max(required.c.total), 0)
             - sa.func.sum(sa.case((sa.and_(V.c.is_required.is_(True), V.c.n == 1), 1), else_=0))).label("missing"),
        )
        .select_from(V.join(C, C.c.id == V.c.case_id).outerjoin(required, required.c.flow_id == C.c.flow_id))
        .where(cases(V.c.case_id)).group_by(V.c.case_id).subquery("agg")
    )
    db.session.execute(sa.update(C).where(C.c.id == agg.c.case_id).values(
        received_at=agg.c.received_at, received_us=agg.c.received_us, completed_at=agg.c.completed_at,
        completed_us=agg.c.completed_us, current_step=sa.func.coalesce(agg.c.current_step, ""),
        event_count=agg.c.enters + agg.c.completes, missing_required=agg.c.missing))
    used = C.c.completed_us - C.c.received_us
    limit_us = C.c.limit_days * sa.literal(DAY_US, sa.BigInteger)
    timed = sa.and_(C.c.limit_days > 0, C.c.completed_us.is_not(None))
    db.session.execute(sa.update(C).where(cases(C.c.id)).values(
        received_month=beijing_month(C.c.received_at), completed_month=beijing_month(C.c.completed_at),
        used_us=used, is_on_time=sa.case((timed, used <= limit_us), else_=None),
        is_early=sa.case((timed, used <= limit_us - sa.literal(DAY_US, sa.BigInteger)), else_=None)))


@contextmanager
def roomy_cache():
    """SQLite: a 256 MB page cache for a whole-register job (the default 2 MB spills a city's year of sorts to
    disk); the connection's own size is restored afterwards. Nothing to do on PostgreSQL."""
    if db.session.get_bind().dialect.name != "sqlite":
        yield
        return
    before = db.session.execute(sa.text("PRAGMA cache_size")).scalar()
    db.session.execute(sa.text("PRAGMA cache_size = -262144"))
    try:
        yield
    finally:
        db.session.execute(sa.text(f"PRAGMA cache_size = {int(before)}"))


def _rebuild(cases, *, everything: bool) -> None:
    db.session.execute(sa.delete(V) if everything else sa.delete(V).where(cases(V.c.case_id)))
    db.session.execute(sa.insert(V).from_select(VISIT_COLUMNS, _visits_select(cases)))
    _summarise(cases)


def rebuild_cases(case_ids: Iterable[int] | None = None) -> None:
    """Rebuild the visits and summaries of these cases (all cases when None) from their events."""
    if case_ids is None:
        with roomy_cache():
            _rebuild(lambda column: sa.true(), everything=True)
        return
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        _rebuild(lambda column, chunk=chunk: column.in_(chunk), everything=False)
