"""The early-warning board (预警): per department, what is overdue, due or waiting — overdue control measures and
rectifications, key-post rotations due, register submissions awaiting approval or confirmation, risk points not yet
graded by an inspector, unresolved red cards — as SQL aggregates grouped by department, with links to the lists.

`todo_for(user)` is the same feed cut to one user's own work, for the home page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l
from werkzeug.routing import BuildError

from govrisk.extensions import db
from govrisk.org.models import Assignment, Department, Post
from govrisk.workflow.register import RegisterState

KINDS = (
    ("overdue_measures", _l("逾期防控措施")),
    ("overdue_rectifications", _l("逾期整改")),
    ("rotations_due", _l("到期轮岗")),
    ("awaiting_approval", _l("待单位审定")),
    ("awaiting_confirmation", _l("待纪检确认")),
    ("ungraded", _l("未经纪检定级风险点")),
    ("red_cards", _l("未处理红牌")),
)


def link(endpoint: str, **args) -> str | None:
    """A URL, or None when the endpoint does not exist in this installation."""
    try:
        return url_for(endpoint, **{k: v for k, v in args.items() if v not in (None, "")})
    except BuildError:
        return None


def _grouped(stmt, column) -> dict[int, int]:
    return {d: int(n) for d, n in db.session.execute(stmt.group_by(column)).all() if d is not None}


def _scope(column, department_ids):
    return [column.in_(sorted(department_ids) or [-1])] if department_ids is not None else []


def overdue_measures(department_ids=None) -> dict[int, int]:
    from govrisk.risks.models import MEASURE_OPEN, ControlMeasure, RiskPoint

    stmt = (sa.select(ControlMeasure.department_id, sa.func.count())
            .join(RiskPoint, RiskPoint.id == ControlMeasure.risk_point_id)
            .where(ControlMeasure.is_overdue.is_(True), ControlMeasure.status.in_(MEASURE_OPEN),
                   RiskPoint.state != RegisterState.RETIRED, *_scope(ControlMeasure.department_id, department_ids)))
    return _grouped(stmt, ControlMeasure.department_id)


def overdue_rectifications(department_ids=None, *, min_level: int = 1) -> dict[int, int]:
    from govrisk.accountability.models import Rectification
    from govrisk.accountability.workflow import RECTIFICATION_OPEN

    stmt = (sa.select(Rectification.department_id, sa.func.count())
            .where(Rectification.is_overdue.is_(True), Rectification.state.in_(RECTIFICATION_OPEN),
                   Rectification.escalation_level >= min_level, *_scope(Rectification.department_id, department_ids)))
    return _grouped(stmt, Rectification.department_id)


def rotations_due(department_ids=None, *, today: date | None = None) -> dict[int, int]:
    """People on key posts due for rotation within the rule's warning window (or overdue), per department."""
    from govrisk.risks.queries import add_months, rotation_rule

    today = today or date.today()
    rule = rotation_rule()
    due_before = add_months(add_months(today, rule.warn_months), -12 * rule.years)
    stmt = (sa.select(Post.department_id, sa.func.count()).select_from(Assignment)
            .join(Post, Post.id == Assignment.post_id)
            .where(Post.is_key.is_(True), Post.is_retired.is_(False), Assignment.start_on <= due_before,
                   sa.or_(Assignment.end_on.is_(None), Assignment.end_on >= today),
                   *_scope(Post.department_id, department_ids)))
    return _grouped(stmt, Post.department_id)


def register_waiting(state: RegisterState, department_ids=None) -> dict[int, int]:
    """Powers, flow charts and risk points in `state` (submitted: the head's turn; approved: the inspector's)."""
    from govrisk.catalog.models import Power
    from govrisk.flows.models import Flow
    from govrisk.risks.models import RiskPoint

    out: dict[int, int] = {}
    for stmt, column in (
            (sa.select(Power.department_id, sa.func.count()).where(Power.state == state), Power.department_id),
            (sa.select(Power.department_id, sa.func.count()).select_from(Flow).join(Power, Power.id == Flow.power_id)
             .where(Flow.state == state), Power.department_id),
            (sa.select(RiskPoint.department_id, sa.func.count()).where(RiskPoint.state == state),
             RiskPoint.department_id)):
        for department_id, n in _grouped(stmt.where(*_scope(column, department_ids)), column).items():
            out[department_id] = out.get(department_id, 0) + n
    return out


def ungraded(department_ids=None) -> dict[int, int]:
    from govrisk.risks.models import RiskPoint

    stmt = (sa.select(RiskPoint.department_id, sa.func.count())
            .where(RiskPoint.confirmed_level.is_(None), RiskPoint.state != RegisterState.RETIRED,
                   *_scope(RiskPoint.department_id, department_ids)))
    return _grouped(stmt, RiskPoint.department_id)


def red_cards(department_ids=None) -> dict[int, int]:
    from govrisk.supervision.models import Alert
    from govrisk.supervision.workflow import UNRESOLVED

    stmt = (sa.select(Alert.department_id, sa.func.count())
            .where(Alert.code == "red_card", Alert.state.in_(UNRESOLVED), *_scope(Alert.department_id, department_ids)))
    return _grouped(stmt, Alert.department_id)


COUNTERS = {
    "overdue_measures": overdue_measures,
    "overdue_rectifications": overdue_rectifications,
    "rotations_due": rotations_due,
    "awaiting_approval": lambda ids=None: register_waiting(RegisterState.SUBMITTED, ids),
    "awaiting_confirmation": lambda ids=None: register_waiting(RegisterState.DEPT_APPROVED, ids),
    "ungraded": ungraded,
    "red_cards": red_cards,
}


def kind_link(kind: str, department_id: int | None = None) -> str | None:
    """Where the items of one kind (of one department) are listed."""
    d = department_id
    return {
        "overdue_measures": lambda: link("risks.measures", department=d, overdue="1"),
        "overdue_rectifications": lambda: link("accountability.rectifications", department=d, overdue="1"),
        "rotations_due": lambda: link("risks.rotation", department=d),
        "awaiting_approval": lambda: link("review.warning_department", department_id=d) if d else None,
        "awaiting_confirmation": lambda: link("review.warning_department", department_id=d) if d else None,
        "ungraded": lambda: link("risks.register", department=d, confirmed="none"),
        "red_cards": lambda: link("supervision.alerts", department=d, code="red_card", state="unresolved"),
    }[kind]()


@dataclass
class WarningRow:
    department_id: int
    name: str
    code: str
    depth: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def board(department_ids=None, *, only_with_warnings: bool = True) -> tuple[list[WarningRow], dict[str, int]]:
    """One row per department in scope (tree order) with its counts, and the totals per kind."""
    counts = {kind: COUNTERS[kind](department_ids) for kind, _title in KINDS}
    stmt = sa.select(Department.id, Department.name, Department.code, Department.path).where(
        Department.is_retired.is_(False), *_scope(Department.id, department_ids))
    rows = []
    for d, name, code, path in db.session.execute(stmt.order_by(Department.path)):
        row = WarningRow(d, name, code, max(path.count("/") - 2, 0), {k: counts[k].get(d, 0) for k, _t in KINDS})
        if row.total or not only_with_warnings:
            rows.append(row)
    totals = {k: sum(v.values()) for k, v in counts.items()}
    return rows, totals


def department_detail(department_id: int) -> list[dict]:
    """Each warning kind of one department with its count and the list links (awaiting items split by register)."""
    from govrisk.catalog.models import Power
    from govrisk.flows.models import Flow
    from govrisk.risks.models import RiskPoint

    ids = {department_id}
    out = [{"kind": k, "title": t, "count": COUNTERS[k](ids).get(department_id, 0), "url": kind_link(k, department_id)}
           for k, t in KINDS if not k.startswith("awaiting")]
    for state, title in ((RegisterState.SUBMITTED, _l("待单位审定")), (RegisterState.DEPT_APPROVED, _l("待纪检确认"))):
        powers = db.session.scalar(sa.select(sa.func.count(Power.id)).where(Power.department_id == department_id,
                                                                            Power.state == state)) or 0
        flows = db.session.scalar(sa.select(sa.func.count(Flow.id)).join(Power, Power.id == Flow.power_id).where(
            Power.department_id == department_id, Flow.state == state)) or 0
        points = db.session.scalar(sa.select(sa.func.count(RiskPoint.id)).where(
            RiskPoint.department_id == department_id, RiskPoint.state == state)) or 0
        for register, count, url in (
                (_l("职权"), powers, link("catalog.powers", department=department_id, state=state.value)),
                (_l("流程图"), flows, link("flows.list", department_id=department_id, state=state.value)),
                (_l("风险点"), points, link("risks.register", department=department_id, state=state.value))):
            out.append({"kind": f"{state.value}_{register}", "title": title, "register": register, "count": count,
                        "url": url})
    return out


# ---------------------------------------------------------------- one user's to-do list


@dataclass
class TodoItem:
    key: str
    title: object
    count: int
    url: str | None
    style: str = "warning"


def todo_for(user) -> list[TodoItem]:
    """The early-warning feed cut to what this user should act on, non-empty items only."""
    from govrisk.accountability.models import Rectification
    from govrisk.accountability.workflow import RectificationState
    from govrisk.review.models import CycleDepartment, SelfCheck
    from govrisk.review.workflow import CycleState, SelfCheckState

    if not user.can("business.read"):
        return []
    visible = user.visible_department_ids()
    items: list[TodoItem] = []

    def add(key, title, count, url, style="warning"):
        if count:
            items.append(TodoItem(key, title, count, url, style))

    def total(counter) -> int:
        return sum(counter.values())

    def rectifications(states) -> int:
        return db.session.scalar(sa.select(sa.func.count(Rectification.id)).where(
            Rectification.state.in_(states), *_scope(Rectification.department_id, visible))) or 0

    def self_checks(state) -> int:
        from govrisk.review.models import ReviewCycle

        return db.session.scalar(
            sa.select(sa.func.count(SelfCheck.id)).join(CycleDepartment).join(ReviewCycle).where(
                ReviewCycle.state == CycleState.SELF_CHECK, SelfCheck.state == state,
                *_scope(CycleDepartment.department_id, visible))) or 0

    if user.can("accountability.manage"):
        add("escalated", _l("逾期10天以上、已报纪检监察员的整改"), total(overdue_rectifications(visible, min_level=2)),
            link("accountability.rectifications", escalation=2), "danger")
        add("to_verify", _l("待验收的整改"), rectifications([RectificationState.REPORTED]),
            link("accountability.rectifications", state="reported"))
        add("to_confirm", _l("待纪检确认的报送"), total(register_waiting(RegisterState.DEPT_APPROVED, visible)),
            link("review.warnings"), "info")
        add("red_cards", _l("未处理红牌"), total(red_cards(visible)),
            link("supervision.alerts", code="red_card", state="unresolved") or link("review.warnings"), "danger")
    if user.can("review.selfcheck.sign"):
        add("overdue_rectifications", _l("本单位逾期整改"), total(overdue_rectifications(visible)),
            link("accountability.rectifications", overdue="1"), "danger")
        add("to_sign", _l("待签署的年度自查"), self_checks(SelfCheckState.SUBMITTED), link("review.cycles"))
        add("to_approve", _l("待单位审定的报送"), total(register_waiting(RegisterState.SUBMITTED, visible)),
            link("review.warnings"), "info")
    if user.can("accountability.rectify"):
        add("to_rectify", _l("待办理的整改"), rectifications([RectificationState.ORDERED, RectificationState.PLANNED]),
            link("accountability.rectifications", open="1"))
    if user.can("review.selfcheck.fill") and not user.can("review.selfcheck.sign"):
        add("to_fill", _l("待填写的年度自查"), self_checks(SelfCheckState.DRAFT), link("review.cycles"))
    if user.can("register.edit") or user.can("review.selfcheck.sign"):
        add("overdue_measures", _l("逾期防控措施"), total(overdue_measures(visible)),
            link("risks.measures", overdue="1"), "danger")
        add("rotations_due", _l("到期轮岗的重点岗位人员"), total(rotations_due(visible)), link("risks.rotation"),
            "info")
    return items
