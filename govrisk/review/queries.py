"""Read side of the annual review: cycles, participants, scores, and the register figures the indicators need that
other domains do not provide (catalog completeness, flow coverage, supervised on-time rate over the stats table).

Everything is counted in SQL, per department subtree; nothing loads a whole table.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from govrisk.core.pagination import paginate
from govrisk.extensions import db
from govrisk.org.models import Department
from govrisk.review.models import (
    CycleDepartment,
    Grade,
    Indicator,
    IndicatorScore,
    InspectionNote,
    ReviewCycle,
    SelfCheck,
)
from govrisk.review.workflow import CycleState
from govrisk.workflow.register import RegisterState

RETIRED = RegisterState.RETIRED
MAX_ID = 2**31 - 1


def get_cycle(cycle_id: int) -> ReviewCycle | None:
    return db.session.get(ReviewCycle, cycle_id) if 0 < cycle_id <= MAX_ID else None


def cycle_for_year(year: int) -> ReviewCycle | None:
    if not 0 < year <= MAX_ID:
        return None
    return db.session.scalar(sa.select(ReviewCycle).where(ReviewCycle.year == year))


def previous_cycle(cycle: ReviewCycle) -> ReviewCycle | None:
    """The latest earlier cycle that has a register snapshot (for the year-over-year view)."""
    stmt = (sa.select(ReviewCycle).where(ReviewCycle.year < cycle.year, ReviewCycle.snapshot_at.is_not(None))
            .order_by(ReviewCycle.year.desc()).limit(1))
    return db.session.scalar(stmt)


def current_cycle() -> ReviewCycle | None:
    """The newest cycle that is not closed (the one the to-do list talks about)."""
    stmt = sa.select(ReviewCycle).where(ReviewCycle.state != CycleState.CLOSED).order_by(ReviewCycle.year.desc())
    return db.session.scalar(stmt.limit(1))


def search_cycles(*, state: str = "", q: str = ""):
    """A page of cycles, newest year first."""
    stmt = sa.select(ReviewCycle)
    if state in {s.value for s in CycleState}:
        stmt = stmt.where(ReviewCycle.state == CycleState(state))
    if q:
        stmt = stmt.where(sa.or_(ReviewCycle.title.ilike(f"%{q}%"), sa.cast(ReviewCycle.year, sa.String) == q))
    return paginate(stmt.order_by(ReviewCycle.year.desc()))


def cycle_departments(cycle: ReviewCycle, *, visible_ids=None, q: str = "", grade: str = "", order: str = "position",
                      page: bool = True):
    """The cycle's participants (visible to the user), with department, self-check and scores loaded."""
    stmt = (sa.select(CycleDepartment).join(Department, Department.id == CycleDepartment.department_id)
            .where(CycleDepartment.cycle_id == cycle.id)
            .options(selectinload(CycleDepartment.department), selectinload(CycleDepartment.self_check)))
    if visible_ids is not None:
        stmt = stmt.where(CycleDepartment.department_id.in_(sorted(visible_ids) or [-1]))
    if q:
        stmt = stmt.where(sa.or_(Department.name.ilike(f"%{q}%"), Department.code.ilike(f"%{q}%")))
    if grade in {g.value for g in Grade}:
        stmt = stmt.where(CycleDepartment.grade == Grade(grade))
    if order == "rank":
        stmt = stmt.order_by(CycleDepartment.rank.is_(None), CycleDepartment.rank, Department.code)
    else:
        stmt = stmt.order_by(CycleDepartment.position, Department.code)
    return paginate(stmt) if page else list(db.session.scalars(stmt))


def get_cycle_department(cycle: ReviewCycle, department_id: int) -> CycleDepartment | None:
    if not department_id or not 0 < department_id <= MAX_ID:
        return None
    return db.session.scalar(sa.select(CycleDepartment).where(CycleDepartment.cycle_id == cycle.id,
                                                              CycleDepartment.department_id == department_id))


def active_indicators(cycle: ReviewCycle) -> list[Indicator]:
    return [i for i in cycle.indicators if i.is_active]


def scores_of(cycle_department: CycleDepartment) -> list[IndicatorScore]:
    stmt = (sa.select(IndicatorScore).where(IndicatorScore.cycle_department_id == cycle_department.id)
            .options(selectinload(IndicatorScore.indicator), selectinload(IndicatorScore.adjustments))
            .order_by(IndicatorScore.position, IndicatorScore.id))
    return list(db.session.scalars(stmt))


def score_matrix(cycle: ReviewCycle) -> dict[int, dict[int, IndicatorScore]]:
    """cycle_department_id → indicator_id → score, in one query."""
    stmt = (sa.select(IndicatorScore).join(CycleDepartment, CycleDepartment.id == IndicatorScore.cycle_department_id)
            .where(CycleDepartment.cycle_id == cycle.id))
    out: dict[int, dict[int, IndicatorScore]] = {}
    for score in db.session.scalars(stmt):
        out.setdefault(score.cycle_department_id, {})[score.indicator_id] = score
    return out


def notes_of(cycle_department: CycleDepartment) -> list[InspectionNote]:
    stmt = (sa.select(InspectionNote).where(InspectionNote.cycle_department_id == cycle_department.id)
            .order_by(InspectionNote.inspected_on.desc(), InspectionNote.id.desc()))
    return list(db.session.scalars(stmt))


def note_counts(cycle: ReviewCycle) -> dict[int, int]:
    stmt = (sa.select(InspectionNote.cycle_department_id, sa.func.count())
            .join(CycleDepartment, CycleDepartment.id == InspectionNote.cycle_department_id)
            .where(CycleDepartment.cycle_id == cycle.id).group_by(InspectionNote.cycle_department_id))
    return dict(db.session.execute(stmt).all())


def self_check_counts(cycle: ReviewCycle) -> dict[str, int]:
    """Self-checks of the cycle by state."""
    stmt = (sa.select(SelfCheck.state, sa.func.count()).join(CycleDepartment)
            .where(CycleDepartment.cycle_id == cycle.id).group_by(SelfCheck.state))
    return {getattr(s, "value", s): n for s, n in db.session.execute(stmt)}


def top_level_department_ids() -> list[int]:
    """Departments without a parent, not retired, that exercise powers (their own or their sub-units'): the
    default participants of a new cycle."""
    from govrisk.catalog.models import Power

    sub = aliased(Department)
    has_powers = (sa.select(Power.id).join(sub, sub.id == Power.department_id)
                  .where(sub.path.startswith(Department.path), Power.state != RETIRED).exists())
    stmt = (sa.select(Department.id).where(Department.parent_id.is_(None), Department.is_retired.is_(False), has_powers)
            .order_by(Department.sort_order, Department.code))
    return list(db.session.scalars(stmt))


def subtree_condition(column, department: Department):
    """column IN (the department and its sub-units), as a subquery."""
    ids = sa.select(Department.id).where(Department.path.startswith(department.path, autoescape=True))
    return column.in_(ids.scalar_subquery())


# ---------------------------------------------------------------- register figures for the indicators


def catalog_figures(department: Department) -> dict:
    """Live powers of the subtree; how many carry a legal basis, how many are published, both (complete)."""
    from govrisk.catalog.models import Power, PowerLegalBasis

    has_basis = sa.exists().where(PowerLegalBasis.power_id == Power.id)
    published = Power.published_number.is_not(None)
    one = sa.literal(1)
    stmt = sa.select(sa.func.count(Power.id), sa.func.sum(sa.case((has_basis, one), else_=0)),
                     sa.func.sum(sa.case((published, one), else_=0)),
                     sa.func.sum(sa.case((sa.and_(has_basis, published), one), else_=0))).where(
        Power.state != RETIRED, subtree_condition(Power.department_id, department))
    total, with_basis, pub, complete = db.session.execute(stmt).one()
    return {"powers": total or 0, "with_basis": int(with_basis or 0), "published": int(pub or 0),
            "complete": int(complete or 0)}


def flow_figures(department: Department) -> dict:
    """Live powers with a live internal flow chart, and live flow charts without validation errors."""
    from govrisk.catalog.models import Power
    from govrisk.flows.models import Flow, FlowKind

    in_scope = [Power.state != RETIRED, subtree_condition(Power.department_id, department)]
    has_internal = sa.exists().where(Flow.power_id == Power.id, Flow.kind == FlowKind.INTERNAL, Flow.state != RETIRED)
    powers, covered = db.session.execute(
        sa.select(sa.func.count(Power.id), sa.func.sum(sa.case((has_internal, 1), else_=0))).where(*in_scope)).one()
    flows, valid = db.session.execute(
        sa.select(sa.func.count(Flow.id), sa.func.sum(sa.case((Flow.error_count == 0, 1), else_=0)))
        .join(Power, Power.id == Flow.power_id).where(Flow.state != RETIRED, *in_scope)).one()
    return {"powers": powers or 0, "with_internal_flow": int(covered or 0), "flows": flows or 0,
            "valid_flows": int(valid or 0)}


def supervision_figures(department: Department, year: int) -> dict:
    """Supervised cases of the subtree completed in `year` with a time limit, and how many on time (the
    supervision domain's figures behind its 按时办结率, as of its last scan)."""
    from govrisk.supervision.queries import on_time_summary

    figures = on_time_summary(department.id, year, include_subunits=True)
    return {"timed": int(figures.timed), "on_time": int(figures.on_time)}


def education_figures(department: Department, year: int) -> dict:
    """Integrity-education sessions of the subtree in `year` (the campaigns domain's figures)."""
    from govrisk.campaigns.queries import education_stats

    stats = education_stats(department.id, year, include_subunits=True)
    return {"sessions": stats["sessions"], "attendance": stats["attendance"], "months": stats["months"]}


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)
