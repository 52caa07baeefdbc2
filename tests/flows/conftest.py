"""Fixtures for flow tests: a licensing power in a department with its posts, and flow documents."""

import copy
import json
from pathlib import Path

import pytest

from govrisk.extensions import db
from govrisk.workflow.register import RegisterState

EXAMPLE = Path(__file__).resolve().parents[2] / "seed" / "flows" / "example-licensing.json"


def example_dict(power_code: str = "XK-0001") -> dict:
    """The §7.1 example: 受理 → 审查 → 决定 → 送达 with a 补正 loop, posts 窗口受理岗/审查岗/分管领导."""
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["power_code"] = power_code
    return copy.deepcopy(data)


@pytest.fixture
def create_power(db_session):
    """A power row straight through the model (the catalog's own forms are tested there)."""
    from govrisk.catalog.models import Power

    counter = iter(range(1, 10_000))

    def factory(department, *, code=None, name=None, promised_days=20, is_public=True,
                state=RegisterState.PUBLISHED, published_number=1):
        n = next(counter)
        power = Power(code=code or f"XK-T{n:04d}", name=name or f"测试许可事项{n}", category="xk",
                      department_id=department.id, statutory_days=promised_days, promised_days=promised_days,
                      is_public=is_public, state=state,
                      published_number=published_number if state is RegisterState.PUBLISHED else None)
        db.session.add(power)
        db.session.flush()
        return power

    return factory


@pytest.fixture
def licensing(create_department, create_post, create_power):
    """A department with the example's three posts and a published licensing power XK-0001 (20 days)."""
    department = create_department(name="市场监督管理局")
    posts = {name: create_post(department, name=name) for name in ("窗口受理岗", "审查岗", "分管领导", "监督岗")}
    power = create_power(department, code="XK-0001", name="食品经营许可", promised_days=20)
    return department, posts, power


@pytest.fixture(autouse=True)
def no_risk_points():
    """Flow tests run without the risks domain's provider (tests that need risk points register their own)."""
    from govrisk.flows import queries

    registered = queries._risk_provider
    queries.register_risk_provider(None)
    yield
    queries.register_risk_provider(registered)
