"""Helpers for catalog, portal and API tests: a valid power's data and a department with its three roles."""

from dataclasses import dataclass

from govrisk.catalog import operations as ops
from govrisk.extensions import db

_counter = iter(range(1, 1_000_000))


def power_data(department, **overrides) -> dict:
    """A valid licensing power for `department` (override any field)."""
    n = next(_counter)
    data = {
        "code": "", "name": f"测试许可事项{n}", "category": "xk", "department_id": department.id,
        "statutory_days": "20", "promised_days": "10", "is_public": True, "is_major_matter": False,
        "legal_bases": [{"law": "中华人民共和国行政许可法", "article": "第十二条", "clause": "可以设定行政许可的事项"}],
        "materials": [{"name": "申请书", "note": "原件1份"}], "phone": "0871-65120000",
    }
    data.update(overrides)
    return data


@dataclass
class Unit:
    department: object
    editor: object
    head: object


def make_unit(create_department, create_user, **kwargs) -> Unit:
    department = create_department(**kwargs)
    return Unit(department, create_user("dept_editor", department=department),
                create_user("dept_head", department=department))


def make_power(unit: Unit, **overrides):
    return ops.create_power(power_data(unit.department, **overrides), actor=unit.editor)


def publish(power, unit: Unit, inspector):
    """Draft → submitted → approved → published through the real workflow."""
    for name, actor in (("submit", unit.editor), ("approve", unit.head), ("publish", inspector)):
        ops.transition_power(power, name, actor=actor)
    db.session.flush()
    return power
