"""The early-warning board (per department, SQL aggregates) and each user's to-do list."""

from datetime import UTC, date, datetime

import pytest

from govrisk.extensions import db
from govrisk.review import warnings
from govrisk.workflow.register import RegisterState
from tests.review_support import add_point


@pytest.fixture
def alarms(city, create_post, create_person, in_request):
    """One of each warning in department A; B has only its ungraded point."""
    from govrisk.accountability import operations as acc
    from govrisk.org.operations import assign_person
    from govrisk.supervision.models import Alert

    a = city.a
    a.register.measures[2].is_overdue = True  # open and overdue (status planned)
    finding = acc.create_finding({"source": "annual_assessment", "department_id": a.department.id, "title": "问题"},
                                 actor=city.inspector)
    rect = acc.order_rectification(finding, {"requirement": "整改", "due_on": date(2026, 1, 31),
                                             "ordered_on": date(2026, 1, 2)}, actor=city.inspector)
    rect.is_overdue, rect.escalation_level = True, 2
    post = create_post(a.department, is_key=True)
    assign_person(create_person(a.department), post, date(2015, 1, 1), None, actor=None)
    add_point(a.register.powers[0], state=RegisterState.SUBMITTED, level=2)
    add_point(a.register.powers[0], state=RegisterState.DEPT_APPROVED, level=2)
    add_point(city.b.register.powers[0], state=RegisterState.DRAFT, level=None)
    db.session.add(Alert(code="red_card", case_ref="C-1", subject="超时", department_id=a.department.id,
                         detected_at=datetime(2026, 5, 1, tzinfo=UTC)))
    db.session.flush()
    return city


def test_board_counts_each_warning_per_department(alarms):
    rows, totals = warnings.board({alarms.a.department.id, alarms.b.department.id})
    by_department = {r.department_id: r.counts for r in rows}
    a = by_department[alarms.a.department.id]
    assert a == {"overdue_measures": 1, "overdue_rectifications": 1, "rotations_due": 1, "awaiting_approval": 1,
                 "awaiting_confirmation": 1, "ungraded": 2, "red_cards": 1}
    assert by_department[alarms.b.department.id]["ungraded"] == 1
    assert totals["ungraded"] == 3 and sum(r.total for r in rows) == sum(totals.values())


def test_board_is_limited_to_the_given_departments(alarms):
    rows, totals = warnings.board({alarms.b.department.id})
    assert [r.department_id for r in rows] == [alarms.b.department.id] and totals["red_cards"] == 0
    assert warnings.board(set())[0] == []


def test_department_detail_splits_awaiting_items_by_register(alarms):
    items = warnings.department_detail(alarms.a.department.id)
    awaiting = {(str(i["title"]), str(i["register"])): i["count"] for i in items if "register" in i}
    assert awaiting[("待单位审定", "风险点")] == 1 and awaiting[("待纪检确认", "风险点")] == 1
    overdue = next(i for i in items if i["kind"] == "overdue_measures")
    assert overdue["count"] == 1 and "overdue=1" in overdue["url"]


@pytest.mark.parametrize("who, expected", [
    ("inspector", {"escalated", "to_confirm", "red_cards"}),
    ("a_head", {"overdue_rectifications", "to_approve", "overdue_measures", "rotations_due", "to_rectify"}),
    ("a_editor", {"to_rectify", "overdue_measures", "rotations_due"}),
    ("b_editor", {"overdue_measures"}),
])
def test_todo_is_the_feed_cut_to_the_user(alarms, who, expected):
    user = {"inspector": alarms.inspector, "a_head": alarms.a.head, "a_editor": alarms.a.editor,
            "b_editor": alarms.b.editor}[who]
    items = warnings.todo_for(user)
    assert {t.key for t in items} == expected
    assert all(t.count > 0 and t.url for t in items)
