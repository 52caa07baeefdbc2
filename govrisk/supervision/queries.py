"""Read side of electronic supervision: alert and case lists, the dashboard, a case's timeline, the on-time metric.

The dashboard reads the monthly statistics tables the scan rebuilds (a few hundred rows per year and
department), so it is as current as the last scan (`last_scan()` says when that was).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from govrisk.catalog.models import Power
from govrisk.core.pagination import paginate
from govrisk.extensions import db
from govrisk.flows.models import FlowStep
from govrisk.org.models import Department
from govrisk.supervision.models import (
    ALERT_CODES,
    DAY_US,
    QUARANTINE_REASONS,
    STAT_FIELDS,
    Alert,
    DepartmentStats,
    PowerStats,
    QuarantinedEvent,
    ScanRun,
    StepVisit,
    SupervisionCase,
)
from govrisk.supervision.workflow import UNRESOLVED, AlertState

CARD_CODES = ("yellow_card", "red_card")
ROLE_NAMES = {"acceptance": _l("受理"), "review": _l("审查"), "decision": _l("决定"), "execution": _l("执行"),
              "supervision": _l("监督")}
CASE_STATUSES = ("open", "completed", "late", "on_time")


def _visible(stmt, column, visible_ids):
    return stmt if visible_ids is None else stmt.where(column.in_(visible_ids or {-1}))


MAX_ID = 2**31 - 1  # larger numbers are no row id (and overflow SQLite's integer binding)


def _int(value) -> int | None:
    """A positive id from a query parameter, or None for anything else."""
    try:
        number = int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return number if number is not None and 0 < number <= MAX_ID else None


# ---------------------------------------------------------------- alerts


@dataclass
class AlertFilters:
    q: str = ""
    code: str = ""
    state: str = ""  # an AlertState value, or "unresolved"
    department_id: int | None = None
    case_id: int | None = None

    @classmethod
    def from_args(cls, args) -> AlertFilters:
        code = args.get("code", "")
        state = args.get("state", "")
        return cls(q=args.get("q", "").strip()[:100], code=code if code in ALERT_CODES else "",
                   state=state if state in {s.value for s in AlertState} | {"unresolved"} else "",
                   department_id=_int(args.get("department")), case_id=_int(args.get("case")))

    def args(self, **overrides) -> dict:
        """Query-string arguments for links (empty values left out)."""
        values = {"q": self.q, "code": self.code, "state": self.state, "department": self.department_id,
                  "case": self.case_id, **overrides}
        return {k: v for k, v in values.items() if v not in (None, "")}


def _alert_stmt(filters: AlertFilters, visible_ids):
    stmt = _visible(sa.select(Alert), Alert.department_id, visible_ids)
    if filters.code:
        stmt = stmt.where(Alert.code == filters.code)
    if filters.state == "unresolved":
        stmt = stmt.where(Alert.state.in_(UNRESOLVED))
    elif filters.state:
        stmt = stmt.where(Alert.state == AlertState(filters.state))
    if filters.department_id:
        stmt = stmt.where(Alert.department_id == filters.department_id)
    if filters.case_id:
        stmt = stmt.where(Alert.case_id == filters.case_id)
    if filters.q:
        like = f"%{filters.q}%"
        power_ids = sa.select(Power.id).where(sa.or_(Power.code.like(like), Power.name.like(like)))
        stmt = stmt.where(sa.or_(Alert.case_ref.like(like), Alert.actor.like(like), Alert.power_id.in_(power_ids)))
    return stmt.options(joinedload(Alert.power), joinedload(Alert.department), joinedload(Alert.case),
                        joinedload(Alert.quarantined))


def search_alerts(filters: AlertFilters, visible_ids):
    """A page of alerts the caller may see, newest first."""
    return paginate(_alert_stmt(filters, visible_ids).order_by(Alert.detected_at.desc(), Alert.id.desc()))


def iter_alerts(filters: AlertFilters, visible_ids, limit: int = 100_000):
    """The filtered alerts for an export, in batches (never the whole table in memory)."""
    stmt = _alert_stmt(filters, visible_ids).order_by(Alert.id).limit(limit)
    yield from db.session.scalars(stmt.execution_options(yield_per=1000))


def alert_counts(visible_ids) -> dict[str, int]:
    """Unresolved alerts per code, for the filter badges."""
    code = (Alert.code + "").label("code")  # an expression, for the covering index (see open_cards)
    stmt = _visible(sa.select(code, sa.func.count()).where(Alert.state.in_(UNRESOLVED)),
                    Alert.department_id, visible_ids).group_by(code)
    return dict(db.session.execute(stmt).all())


def get_alert(alert_id: int) -> Alert | None:
    return db.session.get(Alert, alert_id) if 0 < alert_id <= MAX_ID else None


def step_names(flow_ids) -> dict[tuple[int, str], str]:
    """Step names by (flow id, step key)."""
    ids = sorted({f for f in flow_ids if f})
    if not ids:
        return {}
    rows = db.session.execute(sa.select(FlowStep.flow_id, FlowStep.key, FlowStep.name).where(
        FlowStep.flow_id.in_(ids)))
    return {(flow_id, key): name for flow_id, key, name in rows}


def names_in_flow(flow_id: int | None) -> dict[str, str]:
    """Step names by step key, for one flow."""
    return {key: name for (_flow, key), name in step_names([flow_id]).items()}


def _days(us: int | None) -> str:
    return "—" if us is None else f"{us / DAY_US:.1f}"


def alert_message(alert: Alert, names: dict[tuple[int, str], str]) -> str:
    """One sentence saying what the alert found."""
    flow_id = alert.case.flow_id if alert.case is not None else None

    def step(key: str) -> str:
        return names.get((flow_id, key), key)

    step_level = alert.subject.startswith("step:")
    if alert.code in CARD_CODES:
        used, limit = _days(alert.used_us), alert.limit_days
        if alert.code == "yellow_card":
            percent = round(100 * alert.used_us / (limit * DAY_US)) if alert.used_us and limit else 0
            if step_level:
                return _("环节“%(step)s”已用 %(used)s 个工作日，达到时限 %(limit)s 个工作日的 %(percent)s%%，"
                         "尚未办结。", step=step(alert.step_key), used=used, limit=limit, percent=percent)
            return _("案件已用 %(used)s 个工作日，达到承诺时限 %(limit)s 个工作日的 %(percent)s%%，尚未办结。",
                     used=used, limit=limit, percent=percent)
        if step_level:
            if alert.is_completed:
                return _("环节“%(step)s”用时 %(used)s 个工作日才办结，超过时限 %(limit)s 个工作日。",
                         step=step(alert.step_key), used=used, limit=limit)
            return _("环节“%(step)s”已用 %(used)s 个工作日仍未办结，超过时限 %(limit)s 个工作日。",
                     step=step(alert.step_key), used=used, limit=limit)
        if alert.is_completed:
            return _("案件用时 %(used)s 个工作日办结，超过承诺时限 %(limit)s 个工作日。", used=used, limit=limit)
        return _("案件已用 %(used)s 个工作日仍未办结，超过承诺时限 %(limit)s 个工作日。", used=used, limit=limit)
    if alert.code == "out_of_flow":
        return _("案件从“%(source)s”转到“%(target)s”，流程图中没有这条流转。", source=step(alert.other_step_key),
                 target=step(alert.step_key))
    if alert.code == "skipped_step":
        return _("案件已办结，但未经过必经环节“%(step)s”。", step=step(alert.step_key))
    if alert.code == "sod_violation":
        first, second = alert.subject.rsplit(":", 1)[-1].split("+")
        return _("“%(actor)s”在同一案件中既办理“%(a)s”（%(role_a)s）又办理“%(b)s”（%(role_b)s），违反分权制衡。",
                 actor=alert.actor, a=step(alert.step_key), role_a=ROLE_NAMES.get(first, first),
                 b=step(alert.other_step_key), role_b=ROLE_NAMES.get(second, second))
    quarantined = alert.quarantined
    reason = quarantined.reason_title if quarantined is not None else ""
    return _("事件引用错误（%(reason)s）：职权 %(power)s，环节 %(step)s，%(event)s。", reason=reason,
             power=quarantined.power_code if quarantined is not None else "", step=alert.step_key,
             event=quarantined.event if quarantined is not None else "")


def messages_for(alerts) -> dict[int, str]:
    """alert id → message, with one query for the step names."""
    alerts = list(alerts)
    names = step_names(a.case.flow_id for a in alerts if a.case is not None)
    return {a.id: alert_message(a, names) for a in alerts}


# ---------------------------------------------------------------- cases


@dataclass
class CaseFilters:
    q: str = ""
    status: str = ""
    department_id: int | None = None
    power_id: int | None = None
    month: int | None = None  # YYYYMM of receipt

    @classmethod
    def from_args(cls, args) -> CaseFilters:
        status = args.get("status", "")
        month = _int((args.get("month") or "").replace("-", ""))
        return cls(q=args.get("q", "").strip()[:100], status=status if status in CASE_STATUSES else "",
                   department_id=_int(args.get("department")), power_id=_int(args.get("power")),
                   month=month if month and 200001 <= month <= 209912 else None)

    def args(self, **overrides) -> dict:
        values = {"q": self.q, "status": self.status, "department": self.department_id, "power": self.power_id,
                  "month": self.month, **overrides}
        return {k: v for k, v in values.items() if v not in (None, "")}


def search_cases(filters: CaseFilters, visible_ids):
    """A page of cases the caller may see, newest first."""
    C = SupervisionCase
    stmt = _visible(sa.select(C), C.department_id, visible_ids)
    if filters.q:
        stmt = stmt.where(C.case_ref.like(f"%{filters.q}%"))
    if filters.department_id:
        stmt = stmt.where(C.department_id == filters.department_id)
    if filters.power_id:
        stmt = stmt.where(C.power_id == filters.power_id)
    if filters.month:
        stmt = stmt.where(C.received_month == filters.month)
    status = {"open": C.completed_at.is_(None), "completed": C.completed_at.is_not(None),
              "late": C.is_on_time.is_(False), "on_time": C.is_on_time.is_(True)}.get(filters.status)
    if status is not None:
        stmt = stmt.where(status)
    stmt = stmt.options(joinedload(C.power), joinedload(C.department))
    return paginate(stmt.order_by(C.received_at.desc(), C.id.desc()))


def get_case(case_id: int) -> SupervisionCase | None:
    return db.session.get(SupervisionCase, case_id) if 0 < case_id <= MAX_ID else None


def get_case_by_ref(case_ref: str) -> SupervisionCase | None:
    return db.session.scalar(sa.select(SupervisionCase).where(SupervisionCase.case_ref == case_ref))


def visits_of(case: SupervisionCase) -> list[StepVisit]:
    return list(db.session.scalars(sa.select(StepVisit).where(StepVisit.case_id == case.id)
                                   .order_by(StepVisit.seq)))


def alerts_of_case(case: SupervisionCase) -> list[Alert]:
    return list(db.session.scalars(sa.select(Alert).where(Alert.case_id == case.id)
                                   .options(joinedload(Alert.case)).order_by(Alert.occurred_at, Alert.id)))


def case_chart_svg(case: SupervisionCase, visits: list[StepVisit], alerts: list[Alert]) -> str:
    """The case drawn on its flow chart: each step with the times it was passed, problem steps highlighted,
    and the moves the flow has no edge for drawn as dashed "越流程" arrows."""
    from govrisk.core.charts import drawing_to_svg
    from govrisk.core.pdf import cjk_font_name
    from govrisk.flows.drawing import flow_drawing
    from govrisk.flows.queries import flow_doc
    from govrisk.flows.validation import Edge

    doc = flow_doc(case.flow)
    passes: dict[str, list[StepVisit]] = {}
    for visit in visits:
        passes.setdefault(visit.step_key, []).append(visit)
    steps = tuple(replace(step, name=_step_label(step.name, passes.get(step.id, []))) for step in doc.steps)
    moves = {(a.other_step_key, a.step_key) for a in alerts if a.code == "out_of_flow"}
    extra = tuple(Edge(source, target, True, _("越流程")) for source, target in sorted(moves))
    problems = {a.step_key for a in alerts if a.step_key and a.code != "unknown_reference"}
    problems |= {a.other_step_key for a in alerts if a.code == "sod_violation"}
    doc = replace(doc, steps=steps, edges=doc.edges + extra)
    return drawing_to_svg(flow_drawing(doc, highlight=problems, font_name=cjk_font_name()))


def _step_label(name: str, visits: list[StepVisit]) -> str:
    from govrisk.core.calendar import SHANGHAI

    if not visits:
        return _("%(name)s（未经过）", name=name)

    def span(visit) -> str:
        start, end = (v.astimezone(SHANGHAI) if v is not None else None for v in (visit.start_at, visit.end_at))
        first = start.strftime("%m-%d %H:%M") if start else "…"
        if end is None:
            return f"{first}→…"
        same_day = start is not None and start.date() == end.date()
        return f"{first}→{end.strftime('%H:%M' if same_day else '%m-%d %H:%M')}"

    times = "；".join(span(v) for v in visits[:2])
    more = _("等 %(n)s 次", n=len(visits)) if len(visits) > 2 else ""
    return f"{name} {times}{more}"


# ---------------------------------------------------------------- dashboard


def period(year: int, month: int | None = None) -> tuple[int, int]:
    """The first and last YYYYMM of a year, or of one month of it."""
    return (year * 100 + month, year * 100 + month) if month else (year * 100 + 1, year * 100 + 12)


@dataclass
class Figures:
    """Counts for one row of the dashboard, and the rates made from them."""

    received: int = 0
    completed: int = 0
    timed: int = 0
    on_time: int = 0
    early: int = 0
    used_us: int = 0
    yellow: int = 0
    red: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.timed if self.timed else None

    @property
    def early_rate(self) -> float | None:
        return self.early / self.timed if self.timed else None

    @property
    def average_days(self) -> float | None:
        return self.used_us / self.completed / DAY_US if self.completed else None

    def add(self, other: Figures) -> None:
        for name in (*STAT_FIELDS, "yellow", "red"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _figures(row) -> Figures:
    return Figures(**{name: int(getattr(row, name) or 0) for name in STAT_FIELDS})


def _sums(table):
    return [sa.func.sum(getattr(table, name)).label(name) for name in STAT_FIELDS]


def open_cards(*, by, where=()) -> dict[int, dict[str, int]]:
    """Unresolved yellow and red cards grouped by `by` (Alert.department_id or Alert.power_id)."""
    # Grouping by an expression keeps SQLite on the covering (state, code, department) index: grouping by the bare
    # column makes it walk a department-ordered index over every alert instead.
    key = (by + 0).label("key")
    stmt = (sa.select(key, Alert.code, sa.func.count()).where(Alert.state.in_(UNRESOLVED),
                                                              Alert.code.in_(CARD_CODES), *where)
            .group_by(key, Alert.code))
    out: dict[int, dict[str, int]] = {}
    for key, code, count in db.session.execute(stmt):
        out.setdefault(key, {})[code] = count
    return out


def department_rows(visible_ids, year: int, month: int | None = None) -> list[tuple[Department, Figures]]:
    """Per department (those with cases in the period or open cards): its figures, in tree order."""
    first, last = period(year, month)
    stats = _visible(sa.select(DepartmentStats.department_id, *_sums(DepartmentStats))
                     .where(DepartmentStats.month.between(first, last)), DepartmentStats.department_id, visible_ids)
    figures = {row.department_id: _figures(row) for row in db.session.execute(
        stats.group_by(DepartmentStats.department_id))}
    cards = open_cards(by=Alert.department_id, where=() if visible_ids is None else (
        Alert.department_id.in_(visible_ids or {-1}),))
    for department_id, counts in cards.items():
        if department_id is None:
            continue
        row = figures.setdefault(department_id, Figures())
        row.yellow, row.red = counts.get("yellow_card", 0), counts.get("red_card", 0)
    if not figures:
        return []
    departments = db.session.scalars(sa.select(Department).where(Department.id.in_(figures))
                                     .order_by(Department.path))
    return [(d, figures[d.id]) for d in departments]


def total(rows) -> Figures:
    out = Figures()
    for _item, figures in rows:
        out.add(figures)
    return out


def power_rows(department_ids, year: int, month: int | None = None):
    """A page of (power, figures) for the powers of these departments with cases in the period."""
    first, last = period(year, month)
    stmt = (sa.select(PowerStats.power_id, *_sums(PowerStats))
            .where(PowerStats.department_id.in_(department_ids or {-1}), PowerStats.month.between(first, last))
            .group_by(PowerStats.power_id).order_by(sa.func.sum(PowerStats.received).desc(), PowerStats.power_id))
    page = paginate(stmt, scalars=False)
    powers = {p.id: p for p in db.session.scalars(sa.select(Power).where(
        Power.id.in_([r.power_id for r in page.items] or [-1])))}
    cards = open_cards(by=Alert.power_id, where=(Alert.power_id.in_(list(powers) or [-1]),))
    items = []
    for row in page.items:
        figures = _figures(row)
        counts = cards.get(row.power_id, {})
        figures.yellow, figures.red = counts.get("yellow_card", 0), counts.get("red_card", 0)
        items.append((powers[row.power_id], figures))
    page.items = items
    return page


def monthly_trend(department_ids, year: int) -> list[tuple[int, Figures]]:
    """Figures per month of the year (all twelve months) for these departments (None = every department)."""
    first, last = period(year)
    stmt = sa.select(DepartmentStats.month, *_sums(DepartmentStats)).where(DepartmentStats.month.between(first, last))
    stmt = _visible(stmt, DepartmentStats.department_id, department_ids)
    found = {row.month: _figures(row) for row in db.session.execute(stmt.group_by(DepartmentStats.month))}
    return [(m, found.get(m, Figures())) for m in range(first, last + 1)]


def trend_drawings(trend: list[tuple[int, Figures]], year: int) -> dict:
    """The monthly trend as Drawings: cases received (line), cases completed on time and late (stacked bars)."""
    from govrisk.core.charts import stacked_bars, trend_line

    labels = [_("%(m)s月", m=month % 100) for month, _f in trend]
    on_time, late, untimed = _("按时办结"), _("超期办结"), _("无时限")
    bars = stacked_bars(labels, {on_time: [f.on_time for _m, f in trend],
                                 late: [f.timed - f.on_time for _m, f in trend],
                                 untimed: [f.completed - f.timed for _m, f in trend]},
                        title=_("%(year)s 年每月办结件数", year=year), width=520, height=250,
                        series_colors={on_time: "#27ae60", late: "#c0392b", untimed: "#7f8c8d"})
    received = trend_line([(label, f.received) for label, (_m, f) in zip(labels, trend, strict=True)],
                          title=_("%(year)s 年每月受理件数", year=year), width=520, height=250)
    return {"received": received, "completed": bars}


def trend_charts(trend: list[tuple[int, Figures]], year: int) -> dict[str, str]:
    """The monthly trend drawings as inline SVG."""
    from govrisk.core.charts import drawing_to_svg

    return {name: drawing_to_svg(drawing) for name, drawing in trend_drawings(trend, year).items()}


def data_years(visible_ids) -> list[int]:
    """The years that have statistics (newest first), always including the current year."""
    stmt = _visible(sa.select(DepartmentStats.month / 100).distinct(), DepartmentStats.department_id, visible_ids)
    years = {int(y) for y in db.session.scalars(stmt)} | {date.today().year}
    return sorted(years, reverse=True)


def default_year(visible_ids) -> int:
    """The newest year with data (the current year when there is none)."""
    stmt = _visible(sa.select(sa.func.max(DepartmentStats.month)), DepartmentStats.department_id, visible_ids)
    newest = db.session.scalar(stmt)
    return int(newest) // 100 if newest else date.today().year


def on_time_rate(department_id: int, year: int, *, include_subunits: bool = True) -> float | None:
    """按时办结率 of a department (and its sub-units) for the cases completed in `year`, for the annual
    assessment; None when it completed no case with a time limit. As of the last scan."""
    summary = on_time_summary(department_id, year, include_subunits=include_subunits)
    return summary.on_time_rate


def on_time_summary(department_id: int, year: int, *, include_subunits: bool = True) -> Figures:
    """The counts behind on_time_rate (completed, timed, on time, early, working days used)."""
    from govrisk.org.queries import subtree_ids

    ids = subtree_ids(department_id) if include_subunits else {department_id}
    first, last = period(year)
    row = db.session.execute(sa.select(*_sums(DepartmentStats)).where(
        DepartmentStats.department_id.in_(ids or {-1}), DepartmentStats.month.between(first, last))).one()
    return _figures(row)


# ---------------------------------------------------------------- quarantine and scans


def search_quarantine(visible_ids, *, state: str = "pending", reason: str = "", q: str = ""):
    stmt = _visible(sa.select(QuarantinedEvent), QuarantinedEvent.department_id, visible_ids)
    if state in ("pending", "resolved"):
        stmt = stmt.where(QuarantinedEvent.state == state)
    if reason in QUARANTINE_REASONS:
        stmt = stmt.where(QuarantinedEvent.reason == reason)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(sa.or_(QuarantinedEvent.case_ref.like(like), QuarantinedEvent.power_code.like(like),
                                 QuarantinedEvent.step_key.like(like)))
    return paginate(stmt.order_by(QuarantinedEvent.id.desc()))


def quarantine_counts(visible_ids) -> dict[str, int]:
    stmt = _visible(sa.select(QuarantinedEvent.reason, sa.func.count()).where(QuarantinedEvent.state == "pending"),
                    QuarantinedEvent.department_id, visible_ids).group_by(QuarantinedEvent.reason)
    return dict(db.session.execute(stmt).all())


def last_scan() -> ScanRun | None:
    return db.session.scalar(sa.select(ScanRun).order_by(ScanRun.id.desc()).limit(1))


def alert_json(alert: Alert, message: str) -> dict:
    """An alert as the JSON the scan command and the API print (DESIGN §7.2 codes)."""
    return {
        "id": alert.id, "code": alert.code, "case_id": alert.case_ref,
        "power_code": alert.power.code if alert.power is not None else (
            alert.quarantined.power_code if alert.quarantined is not None else None),
        "department": alert.department.code if alert.department is not None else None,
        "step_id": alert.step_key or None, "other_step_id": alert.other_step_key or None,
        "actor": alert.actor or None, "subject": alert.subject,
        "used_days": round(alert.used_us / DAY_US, 3) if alert.used_us is not None else None,
        "limit_days": alert.limit_days, "completed": alert.is_completed,
        "occurred_at": alert.occurred_at.isoformat() if alert.occurred_at else None,
        "detected_at": alert.detected_at.isoformat(), "state": alert.state.value, "message": message,
        "reason": alert.quarantined.reason if alert.quarantined is not None else None,
    }


def scan_alerts(scan_id: int | None) -> list[Alert]:
    """The alerts a scan raised (every alert when scan_id is None), in a stable order."""
    stmt = sa.select(Alert).options(joinedload(Alert.power), joinedload(Alert.department), joinedload(Alert.case),
                                    joinedload(Alert.quarantined))
    if scan_id is not None:
        stmt = stmt.where(Alert.scan_id == scan_id)
    return list(db.session.scalars(stmt.order_by(Alert.code, Alert.case_ref, Alert.subject)))
