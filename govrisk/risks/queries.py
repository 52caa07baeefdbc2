"""Read side of the risk register: filtered pages, heat-map and breakdown counts, disagreements, rotation, the flow
hook, and the figures the annual review reads (`risk_stats`, `measures_on_time`, `decision_step_coverage`).

Everything is counted in SQL; department users are always limited to their department subtree (`visible_ids`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy.orm import aliased, selectinload

from govrisk.catalog.models import Power
from govrisk.catalog.queries import reference_names
from govrisk.core.pagination import paginate
from govrisk.core.reference import ReferenceItem
from govrisk.extensions import db
from govrisk.flows.models import Flow, FlowStep
from govrisk.org.models import Assignment, Department, Person, Post, Section
from govrisk.risks.grading import default_rules, sql_suggestion, suggest
from govrisk.risks.models import (
    MEASURE_OPEN,
    ControlMeasure,
    GradingMethod,
    MeasureAttachment,
    RiskGrade,
    RiskPoint,
)
from govrisk.risks.workflow import MeasureStatus
from govrisk.workflow.register import RegisterState

LIVE = RiskPoint.state != RegisterState.RETIRED
MAX_ID = 2**31 - 1  # ids beyond a 32-bit integer do not exist (and SQLite refuses to bind them)
LEVEL = sa.func.coalesce(RiskPoint.confirmed_level, RiskPoint.proposed_level)
ROTATION_KEY = "risks.rotation"
DEFAULT_ROTATION_YEARS, DEFAULT_WARN_MONTHS = 5, 6


# ---------------------------------------------------------------- single records


def parse_id(value) -> int | None:
    """A record id from request text ('12'), or None for anything else (words, signs, '０', huge numbers)."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def reference_titles(kind: str) -> dict[str, str]:
    """key → title in the request's language for one reference list (inactive items included, so old records keep
    their names); `reference_names` gives the Chinese names for documents."""
    stmt = sa.select(ReferenceItem).where(ReferenceItem.kind == kind).order_by(ReferenceItem.sort_order,
                                                                               ReferenceItem.key)
    return {item.key: item.title for item in db.session.scalars(stmt)}


def zh_names(kind: str) -> dict[str, str]:
    """key → Chinese name, for the 登记表 and imports."""
    return reference_names(kind)


def get_risk_point(point_id: int) -> RiskPoint | None:
    return db.session.get(RiskPoint, point_id)


def get_measure(measure_id: int) -> ControlMeasure | None:
    return db.session.get(ControlMeasure, measure_id)


def get_attachment(attachment_id: int) -> MeasureAttachment | None:
    return db.session.get(MeasureAttachment, attachment_id)


def grades_of(point_id: int) -> list[RiskGrade]:
    """Every grading decision of a risk point, oldest first."""
    stmt = sa.select(RiskGrade).where(RiskGrade.risk_point_id == point_id).order_by(RiskGrade.at, RiskGrade.id)
    return list(db.session.scalars(stmt))


def measures_of(point_id: int) -> list[ControlMeasure]:
    stmt = (sa.select(ControlMeasure).where(ControlMeasure.risk_point_id == point_id)
            .options(selectinload(ControlMeasure.owner), selectinload(ControlMeasure.attachments))
            .order_by(ControlMeasure.id))
    return list(db.session.scalars(stmt))


def live_attachments(measure: ControlMeasure) -> list[MeasureAttachment]:
    return [a for a in measure.attachments if not a.is_removed]


# ---------------------------------------------------------------- grading methods


def active_method() -> GradingMethod | None:
    """The method new suggestions use (the newest active one)."""
    stmt = sa.select(GradingMethod).where(GradingMethod.is_active.is_(True)).order_by(GradingMethod.number.desc())
    return db.session.scalar(stmt.limit(1))


def active_rules() -> dict:
    """The active method's rules; the built-in v1 rules before any method is stored."""
    method = active_method()
    return method.rules if method is not None else default_rules()


def grading_methods() -> list[GradingMethod]:
    return list(db.session.scalars(sa.select(GradingMethod).order_by(GradingMethod.number.desc())))


def get_method(method_id: int) -> GradingMethod | None:
    return db.session.get(GradingMethod, method_id)


def point_inputs(point: RiskPoint) -> dict:
    """What the grading rules read from a risk point."""
    return {"likelihood": point.likelihood, "severity": point.severity,
            "discretion": point.discretion.value if point.discretion else None,
            "is_major_matter": bool(point.power.is_major_matter) if point.power is not None else False}


def suggestion_for(point: RiskPoint, rules: dict | None = None):
    """The suggested level and why, under the given rules (default: the active method)."""
    return suggest(rules if rules is not None else active_rules(), point_inputs(point))


def _rule_columns() -> dict:
    return {"likelihood": RiskPoint.likelihood, "severity": RiskPoint.severity, "discretion": RiskPoint.discretion,
            "is_major_matter": Power.is_major_matter}


def regrade_preview(rules: dict, visible_ids=None, *, department_id: int | None = None):
    """Risk points whose level in force differs from what `rules` would suggest: a page of (point, new level) and
    the counts per (current level, suggested level). Nothing is changed."""
    suggested = sql_suggestion(rules, _rule_columns()).label("suggested")
    conds = [LIVE, LEVEL.is_not(None), suggested.is_not(None), LEVEL != suggested,
             *_scope(visible_ids, department_id)]
    base = sa.select(RiskPoint, suggested).join(Power, Power.id == RiskPoint.power_id).where(*conds)
    page = paginate(base.order_by(RiskPoint.id), scalars=False)
    counts = db.session.execute(sa.select(LEVEL, suggested, sa.func.count()).select_from(RiskPoint)
                                .join(Power, Power.id == RiskPoint.power_id).where(*conds)
                                .group_by(LEVEL, suggested).order_by(LEVEL, suggested)).all()
    return page, [(old, new, n) for old, new, n in counts]


# ---------------------------------------------------------------- the register list


def subtree_select(department_id: int):
    """SELECT of the ids of a department and its sub-units (for IN clauses)."""
    path = db.session.scalar(sa.select(Department.path).where(Department.id == department_id))
    if path is None:
        return sa.select(sa.literal(-1))
    return sa.select(Department.id).where(Department.path.startswith(path, autoescape=True))


def _scope(visible_ids, department_id: int | None = None, column=RiskPoint.department_id) -> list:
    """Department conditions as literal id lists (a subquery would keep SQLite from the department indexes)."""
    conds = []
    if visible_ids is not None:
        conds.append(column.in_(sorted(visible_ids) or [-1]))
    if department_id:
        conds.append(column.in_(sorted(db.session.scalars(subtree_select(department_id))) or [-1]))
    return conds


def _int_in(value, low: int, high: int) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None


# Risk points with an open overdue measure: an IN over the (few) overdue measures, read from their index.
OVERDUE_EXISTS = RiskPoint.id.in_(sa.select(ControlMeasure.risk_point_id).where(
    ControlMeasure.is_overdue.is_(True), ControlMeasure.status.in_(MEASURE_OPEN)))


@dataclass
class RiskFilters:
    department_id: int | None = None
    power_id: int | None = None
    proposed: int | None = None
    level: int | None = None  # the level in force (confirmed, else proposed)
    confirmed: str = ""  # "1", "2", "3", "none" or ""
    risk_type: str = ""
    state: str = ""
    overdue: bool = False
    q: str = ""
    likelihood: int | None = None
    severity: int | None = None
    post_id: int | None = None
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> RiskFilters:
        """Read ?department=&power=&proposed=&confirmed=&type=&state=&overdue=&q=&likelihood=&severity=&post=."""
        f = cls()
        for name, attr in (("department", "department_id"), ("power", "power_id"), ("post", "post_id")):
            raw = (args.get(name) or "").strip()
            if parse_id(raw):
                setattr(f, attr, parse_id(raw))
            elif raw and name == "power":  # a power code typed into the filter
                f.power_id = db.session.scalar(sa.select(Power.id).where(Power.code.in_([raw, raw.upper()]))) or -1
                if f.power_id == -1:
                    f.errors.append(_("职权编码“%(code)s”不存在。", code=raw))
            elif raw:
                f.errors.append(_("筛选条件“%(value)s”无效，已忽略。", value=raw))
        for name, low, high in (("proposed", 1, 3), ("level", 1, 3), ("likelihood", 1, 5), ("severity", 1, 5)):
            raw = (args.get(name) or "").strip()
            if raw:
                value = _int_in(raw, low, high)
                if value is None:
                    f.errors.append(_("筛选条件“%(value)s”无效，已忽略。", value=raw))
                setattr(f, name, value)
        confirmed = (args.get("confirmed") or "").strip()
        f.confirmed = confirmed if confirmed in ("1", "2", "3", "none") else ""
        f.risk_type = (args.get("type") or "").strip()[:60]
        state = (args.get("state") or "").strip()
        if state and state not in {s.value for s in RegisterState}:
            f.errors.append(_("状态“%(state)s”无效，已忽略。", state=state))
            state = ""
        f.state = state
        f.overdue = (args.get("overdue") or "") == "1"
        f.q = (args.get("q") or "").strip()[:100]
        return f

    def args(self, **overrides) -> dict:
        """The query-string form of these filters (for links)."""
        values = {"department": self.department_id, "power": self.power_id, "proposed": self.proposed,
                  "level": self.level, "confirmed": self.confirmed, "type": self.risk_type, "state": self.state,
                  "overdue": "1" if self.overdue else "", "q": self.q, "likelihood": self.likelihood,
                  "severity": self.severity, "post": self.post_id}
        values.update(overrides)
        return {k: v for k, v in values.items() if v not in ("", None)}

    @property
    def active(self) -> bool:
        return bool(self.args())


def risk_conditions(filters: RiskFilters, visible_ids, *, skip: tuple = ()) -> list:
    """WHERE conditions for the filters within the user's departments (retired points only when asked)."""
    f = filters
    conds = _scope(visible_ids, None if "department" in skip else f.department_id)
    if f.power_id:
        conds.append(RiskPoint.power_id == f.power_id)
    if f.post_id:
        conds.append(RiskPoint.post_id == f.post_id)
    if f.proposed:
        conds.append(RiskPoint.proposed_level == f.proposed)
    if f.level and "level" not in skip:
        conds.append(LEVEL == f.level)
    if f.confirmed == "none":
        conds.append(RiskPoint.confirmed_level.is_(None))
    elif f.confirmed:
        conds.append(RiskPoint.confirmed_level == int(f.confirmed))
    if f.risk_type and "type" not in skip:
        conds.append(RiskPoint.risk_type == f.risk_type)
    if f.state:
        conds.append(RiskPoint.state == RegisterState(f.state))
    else:
        conds.append(LIVE)
    if f.overdue:
        conds.append(OVERDUE_EXISTS)
    if f.q:
        conds.append(RiskPoint.search_text.contains(f.q.lower(), autoescape=True))
    if f.likelihood and "matrix" not in skip:
        conds.append(RiskPoint.likelihood == f.likelihood)
    if f.severity and "matrix" not in skip:
        conds.append(RiskPoint.severity == f.severity)
    return conds


def search_risk_points(filters: RiskFilters, visible_ids, *, page: int | None = None, per_page: int | None = None):
    """A page of risk points, newest first, with their power, department and post loaded."""
    stmt = (sa.select(RiskPoint).where(*risk_conditions(filters, visible_ids))
            .options(selectinload(RiskPoint.power), selectinload(RiskPoint.department),
                     selectinload(RiskPoint.post), selectinload(RiskPoint.step))
            .order_by(RiskPoint.id.desc()))
    return paginate(stmt, page=page, per_page=per_page)


def overdue_point_ids(point_ids: list[int]) -> set[int]:
    """Which of these risk points have an open overdue measure (one query for a page)."""
    if not point_ids:
        return set()
    stmt = (sa.select(ControlMeasure.risk_point_id).where(
        ControlMeasure.risk_point_id.in_(point_ids), ControlMeasure.is_overdue.is_(True),
        ControlMeasure.status.in_(MEASURE_OPEN)).distinct())
    return set(db.session.scalars(stmt))


def measure_counts(point_ids: list[int]) -> dict[int, int]:
    if not point_ids:
        return {}
    stmt = (sa.select(ControlMeasure.risk_point_id, sa.func.count()).where(ControlMeasure.risk_point_id.in_(point_ids))
            .group_by(ControlMeasure.risk_point_id))
    return dict(db.session.execute(stmt).all())


# ---------------------------------------------------------------- heat map and breakdowns


def heat_counts(filters: RiskFilters, visible_ids) -> dict[tuple[int, int], int]:
    """(likelihood, severity) → number of risk points, under the filters (the matrix cell filter itself aside)."""
    stmt = (sa.select(RiskPoint.likelihood, RiskPoint.severity, sa.func.count())
            .where(*risk_conditions(filters, visible_ids, skip=("matrix",)), RiskPoint.likelihood.is_not(None),
                   RiskPoint.severity.is_not(None))
            .group_by(RiskPoint.likelihood, RiskPoint.severity))
    return {(lk, sv): n for lk, sv, n in db.session.execute(stmt)}


def _level(confirmed, proposed):
    return confirmed if confirmed is not None else proposed


def breakdown(filters: RiskFilters, visible_ids) -> tuple[list[dict], dict]:
    """Per department (each counting its own points, in tree order) and for the whole scope: risk points by level in
    force and by type. One grouped scan of a covering index; the level is worked out here."""
    stmt = (sa.select(RiskPoint.department_id, RiskPoint.risk_type, RiskPoint.confirmed_level,
                      RiskPoint.proposed_level, sa.func.count())
            .where(*risk_conditions(filters, visible_ids, skip=("level",)))
            .group_by(RiskPoint.department_id, RiskPoint.risk_type, RiskPoint.confirmed_level,
                      RiskPoint.proposed_level))
    per: dict[int, dict] = {}
    totals = {"levels": {}, "types": {}, "total": 0}
    for dept_id, risk_type, confirmed, proposed, n in db.session.execute(stmt):
        level = _level(confirmed, proposed)
        if filters.level and level != filters.level:
            continue
        entry = per.setdefault(dept_id, {"id": dept_id, "total": 0, "levels": {}, "types": {}})
        for target in (entry, totals):
            target["levels"][level] = target["levels"].get(level, 0) + n
            target["types"][risk_type] = target["types"].get(risk_type, 0) + n
            target["total"] += n
    names = db.session.execute(sa.select(Department.id, Department.name).where(Department.id.in_(sorted(per) or [-1]))
                               .order_by(Department.path)).all()
    rows = [{**per[d], "name": name} for d, name in names]
    return rows, totals


# ---------------------------------------------------------------- disagreements


DISAGREES = sa.and_(RiskPoint.confirmed_level.is_not(None), RiskPoint.proposed_level.is_not(None),
                    RiskPoint.confirmed_level != RiskPoint.proposed_level)


def disagreements(visible_ids, *, department_id: int | None = None, q: str = ""):
    """A page of risk points whose confirmed level differs from the proposal, and counts per department."""
    conds = [LIVE, DISAGREES, *_scope(visible_ids, department_id)]
    if q:
        conds.append(RiskPoint.search_text.contains(q.lower(), autoescape=True))
    stmt = (sa.select(RiskPoint).where(*conds)
            .options(selectinload(RiskPoint.department), selectinload(RiskPoint.power))
            .order_by(RiskPoint.department_id, RiskPoint.id))
    page = paginate(stmt)
    raised = sa.func.sum(sa.case((RiskPoint.confirmed_level < RiskPoint.proposed_level, 1), else_=0))
    per_department = db.session.execute(
        sa.select(Department.id, Department.name, sa.func.count(), raised)
        .join(RiskPoint, RiskPoint.department_id == Department.id).where(*conds)
        .group_by(Department.id, Department.name, Department.path).order_by(Department.path)).all()
    return page, [(d, name, n, int(up or 0)) for d, name, n, up in per_department]


def latest_confirmation(point_ids: list[int]) -> dict[int, RiskGrade]:
    """The newest inspector decision per risk point (for the reason column)."""
    if not point_ids:
        return {}
    stmt = (sa.select(RiskGrade).where(RiskGrade.risk_point_id.in_(point_ids),
                                       RiskGrade.kind.in_(["confirmation", "change"]))
            .order_by(RiskGrade.risk_point_id, RiskGrade.at))
    return {g.risk_point_id: g for g in db.session.scalars(stmt)}


# ---------------------------------------------------------------- measures


@dataclass
class MeasureFilters:
    department_id: int | None = None
    status: str = ""
    overdue: bool = False
    measure_type: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args) -> MeasureFilters:
        raw = (args.get("department") or "").strip()
        status = (args.get("status") or "").strip()
        return cls(department_id=parse_id(raw),
                   status=status if status in {s.value for s in MeasureStatus} else "",
                   overdue=(args.get("overdue") or "") == "1", measure_type=(args.get("type") or "").strip()[:60],
                   q=(args.get("q") or "").strip()[:100])


def search_measures(filters: MeasureFilters, visible_ids):
    """A page of control measures, the overdue and soonest due first."""
    conds = _scope(visible_ids, filters.department_id, ControlMeasure.department_id)
    conds.append(RiskPoint.state != RegisterState.RETIRED)
    if filters.status:
        conds.append(ControlMeasure.status == MeasureStatus(filters.status))
    if filters.overdue:
        conds += [ControlMeasure.is_overdue.is_(True), ControlMeasure.status.in_(MEASURE_OPEN)]
    if filters.measure_type:
        conds.append(ControlMeasure.measure_type == filters.measure_type)
    if filters.q:
        like = f"%{filters.q}%"
        conds.append(sa.or_(ControlMeasure.description.like(like),
                            RiskPoint.search_text.contains(filters.q.lower(), autoescape=True)))
    stmt = (sa.select(ControlMeasure).join(RiskPoint, RiskPoint.id == ControlMeasure.risk_point_id).where(*conds)
            .options(selectinload(ControlMeasure.risk_point), selectinload(ControlMeasure.owner))
            .order_by(ControlMeasure.due_on.is_(None), ControlMeasure.due_on, ControlMeasure.id))
    return paginate(stmt)


# ---------------------------------------------------------------- choices


def power_flows(power_id: int) -> list[Flow]:
    """The power's live flow charts, internal first (risk points sit on the internal steps), newest first."""
    from govrisk.flows.models import FlowKind
    from govrisk.flows.queries import flows_of_power

    return sorted(flows_of_power(power_id), key=lambda f: (f.kind is not FlowKind.INTERNAL, -f.number))


def step_choices(power_id: int) -> list[tuple[int, str]]:
    """(step id, label) of the power's live flow charts, internal first, for the step field."""
    out = []
    for flow in power_flows(power_id):
        for step in flow.steps:
            label = _("%(kind)s 第%(n)s版 · %(name)s（%(key)s）", kind=flow.kind.title, n=flow.number, name=step.name,
                      key=step.key)
            out.append((step.id, label))
    return out


def post_choices(department_id: int) -> list[tuple[int, str]]:
    stmt = sa.select(Post).where(Post.department_id == department_id, Post.is_retired.is_(False)).order_by(Post.code)
    return [(p.id, p.name + (_("（重点岗位）") if p.is_key else "")) for p in db.session.scalars(stmt)]


def people_choices(department_ids) -> list[tuple[int, str]]:
    """People of these departments (None: everybody), for 责任人/监督人/措施负责人."""
    stmt = sa.select(Person.id, Person.name, Department.name).join(Department, Department.id == Person.department_id)
    stmt = stmt.where(Person.is_retired.is_(False))
    if department_ids is not None:
        stmt = stmt.where(Person.department_id.in_(sorted(department_ids) or [-1]))
    rows = db.session.execute(stmt.order_by(Department.path, Person.name).limit(2000)).all()
    return [(pid, f"{name} · {dept}") for pid, name, dept in rows]


def power_choices(visible_ids) -> list[tuple[int, str]]:
    """Powers (not retired) of the user's departments, for the power field."""
    stmt = sa.select(Power.id, Power.code, Power.name).where(Power.state != RegisterState.RETIRED)
    if visible_ids is not None:
        stmt = stmt.where(Power.department_id.in_(sorted(visible_ids) or [-1]))
    return [(pid, f"{code} {name}") for pid, code, name in db.session.execute(stmt.order_by(Power.code).limit(3000))]


# ---------------------------------------------------------------- key posts and rotation


@dataclass(frozen=True)
class RotationRule:
    years: int = DEFAULT_ROTATION_YEARS
    warn_months: int = DEFAULT_WARN_MONTHS


def rotation_rule() -> RotationRule:
    """The rotation rule in force: the stored setting over the configuration default (RISK_ROTATION_YEARS)."""
    from govrisk.auth.models import Setting

    years = DEFAULT_ROTATION_YEARS
    if has_app_context():
        years = int(current_app.config.get("RISK_ROTATION_YEARS", years))
    stored = db.session.get(Setting, ROTATION_KEY)
    data = json.loads(stored.value) if stored is not None else {}
    return RotationRule(int(data.get("years", years)), int(data.get("warn_months", DEFAULT_WARN_MONTHS)))


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the last day of the month when it does not exist)."""
    import calendar

    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass
class RotationRow:
    assignment: Assignment
    due_on: date
    years_in_post: float

    @property
    def overdue(self) -> bool:
        return self.due_on <= date.today()


def rotation_due(visible_ids, *, department_id: int | None = None, status: str = "", today: date | None = None,
                 rule: RotationRule | None = None):
    """A page of people on key posts due for rotation within the warning window, or overdue (status 'overdue' or
    'due' narrows it), from the current assignments; the counts per department."""
    today = today or date.today()
    rule = rule or rotation_rule()
    warn_until = add_months(today, rule.warn_months)
    due_before = add_months(warn_until, -12 * rule.years)  # start_on ≤ this → due within the window
    overdue_before = add_months(today, -12 * rule.years)
    conds = [Post.is_key.is_(True), Post.is_retired.is_(False), Person.is_retired.is_(False),
             Assignment.start_on <= today, sa.or_(Assignment.end_on.is_(None), Assignment.end_on >= today),
             *_scope(visible_ids, department_id, Post.department_id)]
    if status == "overdue":
        conds.append(Assignment.start_on <= overdue_before)
    elif status == "due":
        conds += [Assignment.start_on > overdue_before, Assignment.start_on <= due_before]
    else:
        conds.append(Assignment.start_on <= due_before)
    joined = (sa.select(Assignment).join(Post, Post.id == Assignment.post_id)
              .join(Person, Person.id == Assignment.person_id).where(*conds))
    page = paginate(joined.options(selectinload(Assignment.person), selectinload(Assignment.post)
                                   .selectinload(Post.department))
                    .order_by(Assignment.start_on, Assignment.id))
    page.items = [RotationRow(a, add_months(a.start_on, 12 * rule.years), (today - a.start_on).days / 365.25)
                  for a in page.items]
    overdue = sa.func.sum(sa.case((Assignment.start_on <= overdue_before, 1), else_=0))
    counts = db.session.execute(
        sa.select(Department.id, Department.name, sa.func.count(), overdue)
        .select_from(Assignment).join(Post, Post.id == Assignment.post_id)
        .join(Person, Person.id == Assignment.person_id).join(Department, Department.id == Post.department_id)
        .where(*conds).group_by(Department.id, Department.name, Department.path)
        .order_by(Department.path)).all()
    return page, [(d, name, n, int(late or 0)) for d, name, n, late in counts]


def key_post_summary(visible_ids, *, department_id: int | None = None) -> dict:
    """Key posts and people currently on them, in scope."""
    today = date.today()
    posts = db.session.scalar(sa.select(sa.func.count(Post.id)).where(
        Post.is_key.is_(True), Post.is_retired.is_(False), *_scope(visible_ids, department_id, Post.department_id)))
    holders = db.session.scalar(sa.select(sa.func.count(Assignment.id)).join(Post, Post.id == Assignment.post_id)
                                .where(Post.is_key.is_(True), Post.is_retired.is_(False), Assignment.start_on <= today,
                                       sa.or_(Assignment.end_on.is_(None), Assignment.end_on >= today),
                                       *_scope(visible_ids, department_id, Post.department_id)))
    return {"posts": posts or 0, "holders": holders or 0}


# ---------------------------------------------------------------- the register as a document


@dataclass
class RegisterLine:
    """One risk point as the 登记表 shows it: names instead of records."""

    department_id: int
    department_name: str
    section_name: str | None  # of the point's post
    post_name: str | None
    power_code: str
    power_name: str
    step_name: str | None
    step_key: str | None
    code: str
    name: str
    manifestation: str
    risk_type: str
    level: int | None  # in force: confirmed, else proposed
    likelihood: int | None
    severity: int | None
    discretion: object  # Discretion | None
    method_keys: list[str]
    indicator: str
    responsible_name: str | None
    supervisor_name: str | None
    state: RegisterState
    measures: list[tuple[str, str]] = field(default_factory=list)  # (measure type, description), by id


def register_lines(visible_ids, *, department_id: int | None = None, batch: int = 1000):
    """Every live risk point in scope for the 登记表, by department, power and code: one streamed query (no ORM
    objects) and one query for the measures of each batch of points — a whole city in a few seconds."""
    responsible, supervisor = aliased(Person), aliased(Person)
    stmt = (sa.select(RiskPoint.id, RiskPoint.department_id, Department.name, Section.name, Post.name, Power.code,
                      Power.name, FlowStep.name, RiskPoint.step_key, RiskPoint.code, RiskPoint.name,
                      RiskPoint.manifestation, RiskPoint.risk_type, LEVEL, RiskPoint.likelihood, RiskPoint.severity,
                      RiskPoint.discretion, RiskPoint.methods, RiskPoint.indicator, responsible.name, supervisor.name,
                      RiskPoint.state)
            .join(Department, Department.id == RiskPoint.department_id)
            .join(Power, Power.id == RiskPoint.power_id)
            .outerjoin(Post, Post.id == RiskPoint.post_id).outerjoin(Section, Section.id == Post.section_id)
            .outerjoin(FlowStep, FlowStep.id == RiskPoint.step_id)
            .outerjoin(responsible, responsible.id == RiskPoint.responsible_id)
            .outerjoin(supervisor, supervisor.id == RiskPoint.supervisor_id)
            .where(LIVE, *_scope(visible_ids, department_id))
            .order_by(Department.path, Power.code, RiskPoint.code))
    for rows in db.session.execute(stmt.execution_options(yield_per=batch)).partitions():
        measures: dict[int, list[tuple[str, str]]] = {}
        for point_id, measure_type, description in db.session.execute(
                sa.select(ControlMeasure.risk_point_id, ControlMeasure.measure_type, ControlMeasure.description)
                .where(ControlMeasure.risk_point_id.in_([r[0] for r in rows])).order_by(ControlMeasure.id)):
            measures.setdefault(point_id, []).append((measure_type, description))
        for (point_id, department_id, department_name, section_name, post_name, power_code, power_name, step_name,
             step_key, code, name, manifestation, risk_type, level, likelihood, severity, discretion, methods,
             indicator, responsible_name, supervisor_name, state) in rows:
            yield RegisterLine(department_id, department_name, section_name, post_name, power_code, power_name,
                               step_name, step_key, code, name, manifestation, risk_type, level, likelihood, severity,
                               discretion, [k for k in (methods or "").split(",") if k], indicator, responsible_name,
                               supervisor_name, state, measures.get(point_id, []))


def count_register(visible_ids, *, department_id: int | None = None) -> int:
    return db.session.scalar(sa.select(sa.func.count(RiskPoint.id)).where(LIVE, *_scope(visible_ids, department_id)))


# ---------------------------------------------------------------- figures for the annual review (issue 6)


def risk_stats(department_ids) -> dict:
    """Live risk points of these departments (None: all): totals by level in force, by type and by state, confirmed,
    disagreements, points with and without measures, and points with an open overdue measure."""
    conds = [LIVE, *_scope(department_ids)]
    levels = dict(db.session.execute(sa.select(LEVEL, sa.func.count()).where(*conds).group_by(LEVEL)).all())
    types = dict(db.session.execute(sa.select(RiskPoint.risk_type, sa.func.count()).where(*conds)
                                    .group_by(RiskPoint.risk_type)).all())
    states = {s.value if hasattr(s, "value") else s: n for s, n in db.session.execute(
        sa.select(RiskPoint.state, sa.func.count()).where(*conds).group_by(RiskPoint.state))}
    has_measure = sa.exists().where(ControlMeasure.risk_point_id == RiskPoint.id)

    def count(*extra) -> int:
        return db.session.scalar(sa.select(sa.func.count(RiskPoint.id)).where(*conds, *extra)) or 0

    return {"total": sum(levels.values()), "by_level": {k: levels.get(k, 0) for k in (1, 2, 3, None)},
            "by_type": types, "by_state": states, "confirmed": states.get("confirmed", 0),
            "disagreements": count(DISAGREES), "with_measures": count(has_measure),
            "without_measures": count(~has_measure), "with_overdue_measures": count(OVERDUE_EXISTS)}


def measures_on_time(department_id: int | None, year: int, *, include_subunits: bool = True) -> dict:
    """Measures due in `year` (of a department, its sub-units too by default; None: all): how many were implemented
    by their due date, late, or are still open past it; `rate` is on_time / due (None when nothing was due)."""
    scope = [] if department_id is None else (
        _scope(None, department_id, ControlMeasure.department_id) if include_subunits
        else [ControlMeasure.department_id == department_id])
    conds = [ControlMeasure.due_on >= date(year, 1, 1), ControlMeasure.due_on <= date(year, 12, 31), *scope,
             ControlMeasure.risk_point_id.in_(sa.select(RiskPoint.id).where(LIVE))]
    done = ControlMeasure.implemented_on.is_not(None)
    on_time = sa.func.sum(sa.case((sa.and_(done, ControlMeasure.implemented_on <= ControlMeasure.due_on), 1), else_=0))
    late = sa.func.sum(sa.case((sa.and_(done, ControlMeasure.implemented_on > ControlMeasure.due_on), 1), else_=0))
    still_open = sa.func.sum(sa.case((ControlMeasure.implemented_on.is_(None), 1), else_=0))
    due, ok, bad, pending = db.session.execute(sa.select(sa.func.count(ControlMeasure.id), on_time, late, still_open)
                                               .where(*conds)).one()
    due = due or 0
    return {"due": due, "on_time": int(ok or 0), "late": int(bad or 0), "open": int(pending or 0),
            "rate": (int(ok or 0) / due) if due else None}


def _decision_steps(department_ids):
    """Decision steps of live flows of the departments' live powers, with a 'covered' flag (a live risk point on the
    same power and step key)."""
    covered = sa.exists().where(RiskPoint.power_id == Flow.power_id, RiskPoint.step_key == FlowStep.key, LIVE)
    stmt = (sa.select(Power.department_id, sa.func.count(FlowStep.id),
                      sa.func.sum(sa.case((covered, 1), else_=0)))
            .select_from(FlowStep).join(Flow, Flow.id == FlowStep.flow_id).join(Power, Power.id == Flow.power_id)
            .where(FlowStep.role == "decision", Flow.state != RegisterState.RETIRED,
                   Power.state != RegisterState.RETIRED))
    if department_ids is not None:
        stmt = stmt.where(Power.department_id.in_(sorted(department_ids) or [-1]))
    return db.session.execute(stmt.group_by(Power.department_id)).all()


def decision_step_coverage(department_id: int | None, *, include_subunits: bool = True) -> dict:
    """Decision steps (决策环节) of the department's live flow charts and how many carry a risk point."""
    if department_id is None:
        ids = None
    elif include_subunits:
        ids = set(db.session.scalars(subtree_select(department_id)))
    else:
        ids = {department_id}
    rows = _decision_steps(ids)
    steps = sum(n for _d, n, _c in rows)
    covered = sum(int(c or 0) for _d, _n, c in rows)
    return {"decision_steps": steps, "covered": covered, "uncovered": steps - covered,
            "ratio": covered / steps if steps else None}


# ---------------------------------------------------------------- the flows hook (govrisk.flows.queries)


def step_levels(flow: Flow) -> dict[str, int]:
    """Highest level in force (1 = 一级) per step key of this flow, over the live risk points of its power."""
    keys = [s.key for s in flow.steps]
    if not keys:
        return {}
    stmt = (sa.select(RiskPoint.step_key, sa.func.min(LEVEL))
            .where(RiskPoint.power_id == flow.power_id, RiskPoint.step_key.in_(keys), LIVE)
            .group_by(RiskPoint.step_key))
    out = {}
    for key, level in db.session.execute(stmt):
        out[key] = level if level is not None else 0
    return out


def uncovered_counts(department_ids: list[int]) -> dict[int, int]:
    """Decision steps without a risk point, per department."""
    return {d: int(n) - int(c or 0) for d, n, c in _decision_steps(department_ids)}


def _register_flow_hook() -> None:
    from govrisk.flows.queries import RiskProvider, register_risk_provider

    register_risk_provider(RiskProvider(step_levels=step_levels, uncovered_counts=uncovered_counts))


_register_flow_hook()
