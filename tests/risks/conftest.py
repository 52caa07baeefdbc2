"""Fixtures for risk tests: a department with posts, people, users, a power and its internal flow chart."""

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from govrisk.extensions import db
from govrisk.workflow.register import RegisterState

EXAMPLE = Path(__file__).resolve().parents[2] / "seed" / "flows" / "example-licensing.json"
POSTS = ("窗口受理岗", "审查岗", "分管领导")


@dataclass
class Unit:
    department: object
    posts: dict
    people: dict
    power: object
    flow: object
    editor: object
    head: object

    def step(self, key: str):
        return next(s for s in self.flow.steps if s.key == key)


def _power(department, code: str, *, is_major_matter: bool = False):
    from govrisk.catalog.models import Power

    power = Power(code=code, name=f"{code} 测试许可", category="xk", department_id=department.id,
                  statutory_days=20, promised_days=20, state=RegisterState.PUBLISHED, published_number=1,
                  is_major_matter=is_major_matter)
    db.session.add(power)
    db.session.flush()
    return power


def _flow(power):
    from govrisk.flows.models import FlowKind
    from govrisk.flows.operations import create_flow
    from govrisk.flows.validation import parse_flow

    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["power_code"] = power.code
    doc, problems = parse_flow(data)
    assert doc is not None, problems
    return create_flow(power, FlowKind.INTERNAL, doc, actor=None)


@pytest.fixture
def make_unit(create_department, create_post, create_person, create_user):
    """A department with the example's posts (审查岗 and 分管领导 are key posts), people, an editor, a head and a
    published power with the example internal flow (受理 → 审查 → 决定 → 送达)."""
    counter = iter(range(1, 1000))

    def factory(*, parent=None, is_major_matter: bool = False) -> Unit:
        n = next(counter)
        department = create_department(code=f"R-D{n:02d}", name=f"风险测试局{n}", parent=parent)
        posts = {name: create_post(department, name=name, is_key=name != "窗口受理岗") for name in POSTS}
        people = {name: create_person(department, name=f"{name}{n}") for name in ("张", "李")}
        power = _power(department, f"R{n:02d}-XK-0001", is_major_matter=is_major_matter)
        return Unit(department, posts, people, power, _flow(power), create_user("dept_editor", department=department),
                    create_user("dept_head", department=department))

    return factory


@pytest.fixture
def unit(make_unit):
    return make_unit()


@pytest.fixture
def other_unit(make_unit):
    return make_unit()


@pytest.fixture
def inspector(create_user, create_department):
    return create_user("inspector", department=create_department(code="R-JW", name="纪委监委"))


def risk_data(unit: Unit, **overrides) -> dict:
    """Valid form data for a risk point on the unit's decision step."""
    data = {"power_id": unit.power.id, "step_id": unit.step("decide").id, "post_id": unit.posts["分管领导"].id,
            "name": "违规作出许可决定", "manifestation": "授意改变审查意见", "risk_type": "post_duty",
            "methods": ["self_check", "case_analysis"], "likelihood": 3, "severity": 4, "discretion": "large",
            "proposed_level": 2, "responsible_id": unit.people["张"].id, "supervisor_id": unit.people["李"].id,
            "indicator": "决定与审查意见不一致件数"}
    data.update(overrides)
    return data


def make_point(unit: Unit, **overrides):
    from govrisk.risks.operations import create_risk_point

    return create_risk_point(risk_data(unit, **overrides), actor=unit.editor)


def advance(point, state: str, unit: Unit, inspector, *, level=None, reason: str = ""):
    """Move a draft risk point to `state` through the real workflow."""
    from govrisk.risks import operations as ops

    path = {"submitted": ["submit"], "dept_approved": ["submit", "approve"],
            "confirmed": ["submit", "approve", "confirm"], "returned": ["submit", "return"],
            "retired": ["retire"]}[state]
    actors = {"submit": unit.editor, "approve": unit.head, "return": unit.head, "retire": unit.head}
    for name in path:
        if name == "confirm":
            ops.confirm_risk_point(point, level or point.proposed_level, reason, actor=inspector)
        else:
            ops.transition_risk_point(point, name, actor=actors[name], comment="意见" if name in ("return", "retire")
                                      else None)
    return point
