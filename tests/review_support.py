"""Helpers for the review, accountability and reports tests: a small register written straight through the models
(the register domains test their own forms and workflows), cycles run through the real operations."""

from dataclasses import dataclass, field
from datetime import date

from govrisk.catalog.models import Power, PowerLegalBasis
from govrisk.extensions import db
from govrisk.flows.models import Flow, FlowKind, FlowStep
from govrisk.risks.models import ControlMeasure, RiskPoint
from govrisk.risks.workflow import MeasureStatus
from govrisk.workflow.register import RegisterState

_counter = iter(range(1, 1_000_000))


@dataclass
class Register:
    department: object
    powers: list = field(default_factory=list)
    flows: list = field(default_factory=list)
    points: list = field(default_factory=list)
    measures: list = field(default_factory=list)


def add_power(department, *, basis: bool = True, published: bool = True, state=RegisterState.PUBLISHED) -> Power:
    n = next(_counter)
    power = Power(code=f"T-XK-{n:05d}", name=f"测试职权{n}", category="xk", department_id=department.id,
                  statutory_days=20, promised_days=15, state=state, published_number=1 if published else None)
    db.session.add(power)
    db.session.flush()
    if basis:
        db.session.add(PowerLegalBasis(power_id=power.id, law="中华人民共和国行政许可法", article="第十二条"))
    db.session.flush()
    return power


def add_flow(power: Power, *, errors: int = 0, decision_keys=("decide",)) -> Flow:
    flow = Flow(power_id=power.id, kind=FlowKind.INTERNAL, number=1, state=RegisterState.PUBLISHED,
                step_count=2 + len(decision_keys), decision_step_count=len(decision_keys), error_count=errors)
    db.session.add(flow)
    db.session.flush()
    keys = [("accept", "acceptance"), ("review", "review"), *[(k, "decision") for k in decision_keys]]
    for position, (key, role) in enumerate(keys):
        db.session.add(FlowStep(flow_id=flow.id, position=position, key=key, name=key, role=role))
    db.session.flush()
    return flow


def add_point(power: Power, *, level: int | None = 2, confirmed: int | None = None, step_key: str | None = None,
              likelihood: int = 3, severity: int = 3, risk_type: str = "process",
              state=RegisterState.CONFIRMED) -> RiskPoint:
    n = next(_counter)
    point = RiskPoint(code=f"T-FX-{n:05d}", department_id=power.department_id, power_id=power.id, name=f"风险点{n}",
                      risk_type=risk_type, likelihood=likelihood, severity=severity, proposed_level=level,
                      confirmed_level=confirmed if confirmed is not None else (level if state is
                                                                               RegisterState.CONFIRMED else None),
                      step_key=step_key, state=state)
    db.session.add(point)
    db.session.flush()
    return point


def add_measure(point: RiskPoint, *, due_on: date | None = None, implemented_on: date | None = None,
                status=MeasureStatus.PLANNED, overdue: bool = False) -> ControlMeasure:
    measure = ControlMeasure(risk_point_id=point.id, department_id=point.department_id, measure_type="institution",
                             description="测试措施", due_on=due_on, implemented_on=implemented_on, status=status,
                             is_overdue=overdue)
    db.session.add(measure)
    db.session.flush()
    return measure


def build_register(department, *, year: int = 2026) -> Register:
    """Two powers (one complete, one without a legal basis), one flow with a covered and an uncovered decision step,
    three risk points (levels 1, 2, 3) and three measures due in `year` (on time, late, open)."""
    reg = Register(department)
    complete, partial = add_power(department), add_power(department, basis=False)
    reg.powers += [complete, partial]
    reg.flows.append(add_flow(complete, decision_keys=("decide", "approve")))
    reg.points += [add_point(complete, level=1, step_key="decide", likelihood=5, severity=5),
                   add_point(complete, level=2, likelihood=3, severity=4),
                   add_point(partial, level=3, likelihood=1, severity=2, risk_type="ideology")]
    reg.measures += [
        add_measure(reg.points[0], due_on=date(year, 3, 31), implemented_on=date(year, 3, 20),
                    status=MeasureStatus.IMPLEMENTED),
        add_measure(reg.points[1], due_on=date(year, 4, 30), implemented_on=date(year, 5, 10),
                    status=MeasureStatus.VERIFIED),
        add_measure(reg.points[2], due_on=date(year, 5, 31), overdue=True),
    ]
    return reg


def run_cycle(cycle, inspector, *, until: str) -> None:
    """Fire the cycle's transitions in order up to and including `until`."""
    from govrisk.review import operations as ops

    for name in ("open", "start_inspection", "start_assessment", "publish", "close"):
        ops.transition_cycle(cycle, name, actor=inspector)
        if name == until:
            return


# ---------------------------------------------------------------- fixtures (imported by the domains' conftest files)

import pytest  # noqa: E402


@dataclass
class Unit:
    department: object
    editor: object
    head: object
    register: Register | None = None


@dataclass
class City:
    inspector: object
    units: list

    @property
    def a(self) -> Unit:
        return self.units[0]

    @property
    def b(self) -> Unit:
        return self.units[1]


@pytest.fixture
def city(create_department, create_user):
    """Two departments, each with an editor, a head and a small register; and an inspector."""
    units = []
    for name in ("甲局", "乙局"):
        department = create_department(name=name)
        units.append(Unit(department, create_user("dept_editor", department=department),
                          create_user("dept_head", department=department), build_register(department)))
    return City(create_user("inspector"), units)


@pytest.fixture
def new_cycle(city):
    """A factory: a planning cycle of `year` with both departments of the city."""
    from govrisk.review import operations as ops

    def factory(year: int = 2026, departments=None):
        ids = [u.department.id for u in (departments or city.units)]
        return ops.create_cycle({"year": year, "department_ids": ids}, actor=city.inspector)

    return factory


@pytest.fixture
def in_request(app):
    """A request context, for code that builds URLs (the to-do list, the early-warning board)."""
    with app.test_request_context():
        yield
