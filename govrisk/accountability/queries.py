"""Read side of findings, rectifications and accountability actions: filtered pages, a person's record, the
on-time figures of rectifications for the assessment, and the lists of a department's year for the report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from govrisk.accountability.models import (
    AccountabilityAction,
    ActionCategory,
    Finding,
    FindingPerson,
    Rectification,
)
from govrisk.accountability.workflow import RECTIFICATION_OPEN, ActionState, FindingState, RectificationState
from govrisk.core.pagination import paginate
from govrisk.extensions import db
from govrisk.org.models import Department, Person

ACTION_DAY = sa.func.coalesce(AccountabilityAction.decided_on, AccountabilityAction.recorded_on)


def _scope(column, visible_ids, department: Department | None = None) -> list:
    conds = []
    if visible_ids is not None:
        conds.append(column.in_(sorted(visible_ids) or [-1]))
    if department is not None:
        ids = sa.select(Department.id).where(Department.path.startswith(department.path, autoescape=True))
        conds.append(column.in_(ids.scalar_subquery()))
    return conds


MAX_ID = 2**31 - 1


def parse_id(value) -> int | None:
    """A positive database id from text, or None (nothing that would overflow an INTEGER column)."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) <= MAX_ID else None


_int = parse_id


@dataclass
class FindingFilters:
    department_id: int | None = None
    year: int | None = None
    source: str = ""
    state: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args) -> FindingFilters:
        state = (args.get("state") or "").strip()
        return cls(department_id=_int(args.get("department")), year=_int(args.get("year")),
                   source=(args.get("source") or "").strip()[:60],
                   state=state if state in {s.value for s in FindingState} else "",
                   q=(args.get("q") or "").strip()[:100])


def search_findings(filters: FindingFilters, visible_ids):
    """A page of findings, newest first."""
    department = db.session.get(Department, filters.department_id) if filters.department_id else None
    stmt = sa.select(Finding).where(*_scope(Finding.department_id, visible_ids, department))
    if filters.year:
        stmt = stmt.where(Finding.year == filters.year)
    if filters.source:
        stmt = stmt.where(Finding.source == filters.source)
    if filters.state:
        stmt = stmt.where(Finding.state == FindingState(filters.state))
    if filters.q:
        stmt = stmt.where(sa.or_(Finding.code.ilike(f"%{filters.q}%"), Finding.title.ilike(f"%{filters.q}%")))
    stmt = stmt.options(selectinload(Finding.department), selectinload(Finding.rectifications))
    return paginate(stmt.order_by(Finding.found_on.desc(), Finding.id.desc()))


@dataclass
class RectificationFilters:
    department_id: int | None = None
    state: str = ""
    open_only: bool = False
    overdue: bool = False
    escalation: int | None = None
    q: str = ""

    @classmethod
    def from_args(cls, args) -> RectificationFilters:
        state = (args.get("state") or "").strip()
        level = _int(args.get("escalation"))
        return cls(department_id=_int(args.get("department")),
                   state=state if state in {s.value for s in RectificationState} else "",
                   open_only=(args.get("open") or "") == "1", overdue=(args.get("overdue") or "") == "1",
                   escalation=level if level in (1, 2) else None,
                   q=(args.get("q") or "").strip()[:100])


def search_rectifications(filters: RectificationFilters, visible_ids):
    """A page of rectifications, the overdue and soonest due first."""
    department = db.session.get(Department, filters.department_id) if filters.department_id else None
    stmt = (sa.select(Rectification).join(Finding, Finding.id == Rectification.finding_id)
            .where(*_scope(Rectification.department_id, visible_ids, department)))
    if filters.state:
        stmt = stmt.where(Rectification.state == RectificationState(filters.state))
    if filters.open_only:
        stmt = stmt.where(Rectification.state.in_(RECTIFICATION_OPEN))
    if filters.overdue:
        stmt = stmt.where(Rectification.is_overdue.is_(True), Rectification.state.in_(RECTIFICATION_OPEN))
    if filters.escalation:
        stmt = stmt.where(Rectification.escalation_level >= filters.escalation,
                          Rectification.state.in_(RECTIFICATION_OPEN))
    if filters.q:
        stmt = stmt.where(sa.or_(Rectification.code.ilike(f"%{filters.q}%"), Finding.title.ilike(f"%{filters.q}%")))
    stmt = stmt.options(selectinload(Rectification.finding), selectinload(Rectification.department))
    open_first = sa.case((Rectification.state.in_(RECTIFICATION_OPEN), 0), else_=1)
    return paginate(stmt.order_by(open_first, Rectification.is_overdue.desc(), Rectification.due_on, Rectification.id))


@dataclass
class ActionFilters:
    department_id: int | None = None
    category: str = ""
    state: str = ""
    year: int | None = None
    q: str = ""

    @classmethod
    def from_args(cls, args) -> ActionFilters:
        state = (args.get("state") or "").strip()
        category = (args.get("category") or "").strip()
        return cls(department_id=_int(args.get("department")),
                   category=category if category in {c.value for c in ActionCategory} else "",
                   state=state if state in {s.value for s in ActionState} else "", year=_int(args.get("year")),
                   q=(args.get("q") or "").strip()[:100])


def search_actions(filters: ActionFilters, visible_ids):
    """A page of accountability actions, the latest decisions first."""
    department = db.session.get(Department, filters.department_id) if filters.department_id else None
    stmt = (sa.select(AccountabilityAction).join(Person, Person.id == AccountabilityAction.person_id)
            .where(*_scope(AccountabilityAction.department_id, visible_ids, department)))
    if filters.category:
        stmt = stmt.where(AccountabilityAction.category == filters.category)
    if filters.state:
        stmt = stmt.where(AccountabilityAction.state == ActionState(filters.state))
    if filters.year:
        start, end = date(filters.year, 1, 1), date(filters.year, 12, 31)
        stmt = stmt.where(ACTION_DAY.between(start, end))
    if filters.q:
        like = f"%{filters.q}%"
        stmt = stmt.where(sa.or_(Person.name.ilike(like), AccountabilityAction.code.ilike(like),
                                 AccountabilityAction.decision_no.ilike(like)))
    stmt = stmt.options(selectinload(AccountabilityAction.person), selectinload(AccountabilityAction.department))
    return paginate(stmt.order_by(AccountabilityAction.decided_on.desc(), AccountabilityAction.id.desc()))


def search_people(q: str, visible_ids):
    """A page of people (for the record page's search), with how many actions each has."""
    stmt = sa.select(Person).join(Department, Department.id == Person.department_id).where(
        *_scope(Person.department_id, visible_ids))
    if q:
        stmt = stmt.where(sa.or_(Person.name.ilike(f"%{q}%"), Person.staff_no.ilike(f"%{q}%")))
    return paginate(stmt.options(selectinload(Person.department)).order_by(Department.path, Person.staff_no))


def action_counts(person_ids: list[int]) -> dict[int, int]:
    if not person_ids:
        return {}
    stmt = (sa.select(AccountabilityAction.person_id, sa.func.count()).where(
        AccountabilityAction.person_id.in_(person_ids), AccountabilityAction.state != ActionState.REVOKED)
        .group_by(AccountabilityAction.person_id))
    return dict(db.session.execute(stmt).all())


def person_record(person: Person) -> dict:
    """Everything accountability knows about a person: actions (newest first) and findings naming them."""
    actions = list(db.session.scalars(
        sa.select(AccountabilityAction).where(AccountabilityAction.person_id == person.id)
        .options(selectinload(AccountabilityAction.finding))
        .order_by(AccountabilityAction.decided_on.desc(), AccountabilityAction.id.desc())))
    named = list(db.session.execute(
        sa.select(Finding, FindingPerson.role).join(FindingPerson, FindingPerson.finding_id == Finding.id)
        .where(FindingPerson.person_id == person.id).order_by(Finding.found_on.desc(), Finding.id.desc())))
    return {"actions": actions, "findings": named}


def next_code(model, prefix: str, year: int) -> str:
    """The next free code 'PREFIX2026-0001' for a model with a `code` column."""
    head = f"{prefix}{year}-"
    last = db.session.scalar(sa.select(sa.func.max(model.code)).where(model.code.startswith(head)))
    number = int(last[len(head):]) + 1 if last and last[len(head):].isdigit() else 1
    return f"{head}{number:04d}"


def rectification_figures(department: Department, year: int) -> dict:
    """Rectifications of the subtree due in `year`: reported by the deadline, reported late, still not reported."""
    conds = [Rectification.due_on.between(date(year, 1, 1), date(year, 12, 31)),
             *_scope(Rectification.department_id, None, department)]
    done = Rectification.completed_on.is_not(None)
    on_time = sa.func.sum(sa.case((sa.and_(done, Rectification.completed_on <= Rectification.due_on), 1), else_=0))
    late = sa.func.sum(sa.case((sa.and_(done, Rectification.completed_on > Rectification.due_on), 1), else_=0))
    due, ok, bad = db.session.execute(sa.select(sa.func.count(Rectification.id), on_time, late).where(*conds)).one()
    due = due or 0
    return {"due": due, "on_time": int(ok or 0), "late": int(bad or 0), "open": due - int(ok or 0) - int(bad or 0)}


def department_year(department: Department, year: int) -> dict:
    """The findings, rectifications and accountability actions of a department subtree in a year (for the report),
    as plain dicts in a stable order."""
    findings = db.session.scalars(
        sa.select(Finding).where(Finding.year == year, *_scope(Finding.department_id, None, department))
        .options(selectinload(Finding.department)).order_by(Finding.code))
    rectifications = db.session.scalars(
        sa.select(Rectification).join(Finding, Finding.id == Rectification.finding_id)
        .where(Finding.year == year, *_scope(Rectification.department_id, None, department))
        .options(selectinload(Rectification.finding)).order_by(Rectification.code))
    actions = db.session.scalars(
        sa.select(AccountabilityAction).where(ACTION_DAY.between(date(year, 1, 1), date(year, 12, 31)),
                                              *_scope(AccountabilityAction.department_id, None, department))
        .options(selectinload(AccountabilityAction.person)).order_by(AccountabilityAction.code))
    return {
        "findings": [{"code": f.code, "title": f.title, "source": f.source, "found_on": f.found_on.isoformat(),
                      "state": f.state.value, "department": f.department.name} for f in findings],
        "rectifications": [{"code": r.code, "finding": r.finding.code, "requirement": r.requirement,
                            "due_on": r.due_on.isoformat() if r.due_on else "",
                            "completed_on": r.completed_on.isoformat() if r.completed_on else "",
                            "state": r.state.value, "overdue": r.is_overdue, "level": r.escalation_level}
                           for r in rectifications],
        "actions": [{"code": a.code, "person": a.person.name, "action_type": a.action_type,
                     "category": a.category.value, "decision_no": a.decision_no,
                     "decided_on": a.on.isoformat(), "state": a.state.value}
                    for a in actions],
    }


def finding_for_origin(origin_type: str, origin_id: int) -> Finding | None:
    return db.session.scalar(sa.select(Finding).where(Finding.origin_type == origin_type,
                                                      Finding.origin_id == origin_id))
