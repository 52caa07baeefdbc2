"""The department self-check (filled by the department, signed by its head), inspection notes, and the
year-over-year view computed from snapshots only."""

from datetime import date

import pytest

from govrisk.core.errors import UserError
from govrisk.extensions import db
from govrisk.review import operations as ops
from govrisk.review import queries, snapshot
from govrisk.review.workflow import SelfCheckState
from govrisk.risks.workflow import MeasureStatus
from govrisk.workflow.register import RegisterState
from tests.review_support import add_point, add_power, run_cycle


@pytest.fixture
def open_cycle(new_cycle, city):
    cycle = new_cycle()
    ops.transition_cycle(cycle, "open", actor=city.inspector)
    return cycle


def _answers(cycle, result="done"):
    return {i.id: (result, "已落实") for i in cycle.checklist_items if not i.is_retired}


def test_the_department_fills_and_its_head_signs(open_cycle, city):
    check = queries.get_cycle_department(open_cycle, city.a.department.id).self_check
    partial = dict(list(_answers(open_cycle).items())[:2])
    ops.save_self_check(check, {"answers": partial, "summary": "总体落实"}, actor=city.a.editor)
    with pytest.raises(UserError, match="未填写结果"):
        ops.transition_self_check(check, "submit", actor=city.a.editor)
    ops.save_self_check(check, {"answers": _answers(open_cycle)}, actor=city.a.editor)
    ops.transition_self_check(check, "submit", actor=city.a.editor)
    with pytest.raises(UserError, match="权限"):
        ops.transition_self_check(check, "sign", actor=city.a.editor)
    with pytest.raises(UserError, match="范围"):
        ops.transition_self_check(check, "sign", actor=city.b.head)
    ops.transition_self_check(check, "sign", actor=city.a.head)
    assert check.state is SelfCheckState.SIGNED and check.signed_by_id == city.a.head.id
    assert check.signed_at is not None


SELF_CHECK_MATRIX = [
    ("submit", SelfCheckState.DRAFT, {"a_editor", "a_head"}),
    ("sign", SelfCheckState.SUBMITTED, {"a_head"}),
    ("return", SelfCheckState.SUBMITTED, {"a_head"}),
]


@pytest.mark.parametrize("who", ["a_editor", "a_head", "b_editor", "b_head", "inspector"])
@pytest.mark.parametrize("name, source, allowed", SELF_CHECK_MATRIX)
def test_self_check_transition_by_role(open_cycle, city, who, name, source, allowed):
    actor = {"a_editor": city.a.editor, "a_head": city.a.head, "b_editor": city.b.editor, "b_head": city.b.head,
             "inspector": city.inspector}[who]
    check = queries.get_cycle_department(open_cycle, city.a.department.id).self_check
    ops.save_self_check(check, {"answers": _answers(open_cycle)}, actor=city.a.editor)
    if source is SelfCheckState.SUBMITTED:
        ops.transition_self_check(check, "submit", actor=city.a.editor)
    if who in allowed:
        ops.transition_self_check(check, name, actor=actor, comment="请补充说明")
        assert check.state is not source
    else:
        with pytest.raises(UserError):
            ops.transition_self_check(check, name, actor=actor, comment="请补充说明")
        assert check.state is source


def test_self_check_only_during_the_self_check_stage(new_cycle, city):
    cycle = new_cycle()
    check = queries.get_cycle_department(cycle, city.a.department.id).self_check
    with pytest.raises(UserError, match="当前不能填写自查"):
        ops.save_self_check(check, {"answers": _answers(cycle)}, actor=city.a.editor)
    ops.transition_cycle(cycle, "open", actor=city.inspector)
    with pytest.raises(UserError, match="当前不能填写自查"):
        ops.save_self_check(check, {"answers": _answers(cycle)}, actor=city.b.editor)
    with pytest.raises(UserError, match="无效"):
        ops.save_self_check(check, {"answers": {cycle.checklist_items[0].id: ("maybe", "")}}, actor=city.a.editor)


def test_checklist_is_editable_until_the_self_check_starts(new_cycle, city):
    cycle = new_cycle()
    item = ops.save_checklist_item(cycle, None, {"section": "补充", "text": "新增一项"}, actor=city.inspector)
    ops.retire_checklist_item(cycle.checklist_items[0], actor=city.inspector)
    ops.transition_cycle(cycle, "open", actor=city.inspector)
    check = queries.get_cycle_department(cycle, city.a.department.id).self_check
    assert check.unanswered_count() == len(cycle.checklist_items) - 1
    with pytest.raises(UserError, match="不能再修改"):
        ops.save_checklist_item(cycle, item, {"text": "改"}, actor=city.inspector)
    with pytest.raises(UserError, match="请填写自查内容"):
        ops.save_checklist_item(new_cycle(2027), None, {"text": " "}, actor=city.inspector)


def test_inspection_notes(open_cycle, city):
    cd = queries.get_cycle_department(open_cycle, city.a.department.id)
    with pytest.raises(UserError, match="检查情况"):
        ops.add_inspection_note(cd, {"text": "  "}, actor=city.inspector)
    ops.add_inspection_note(cd, {"text": "抽查许可卷宗 20 件", "inspected_on": date(2026, 10, 9)},
                            actor=city.inspector)
    assert [n.text for n in queries.notes_of(cd)] == ["抽查许可卷宗 20 件"]


def test_year_over_year_from_snapshots_only(new_cycle, city):
    reg = city.a.register
    first = new_cycle(2025)
    ops.transition_cycle(first, "open", actor=city.inspector)
    # a year passes in the register
    retired = reg.points[2]
    retired.state = RegisterState.RETIRED
    reg.points[1].confirmed_level = 1  # 二级 → 一级
    reg.points[0].name = "改写后的风险点"  # a changed point (its fingerprint)
    new_point = add_point(reg.powers[0], level=3)
    reg.measures[0].status = MeasureStatus.VERIFIED
    reg.measures[2].status, reg.measures[2].implemented_on = MeasureStatus.IMPLEMENTED, date(2026, 6, 1)
    new_power = add_power(city.a.department)
    reg.powers[1].name = "改名后的职权"
    db.session.flush()
    second = new_cycle(2026)
    ops.transition_cycle(second, "open", actor=city.inspector)
    change = snapshot.compare_department(first.id, second.id, city.a.department.id)
    assert change.counts["powers_new"] == 1 and change.details["powers_new"] == [new_power.code]
    assert change.counts["powers_changed"] == 1 and change.counts["powers_retired"] == 0
    assert change.details["risks_new"] == [new_point.code]
    assert change.details["risks_retired"] == [retired.code]
    assert change.details["risks_changed"] == [reg.points[0].code]
    assert change.details["level_up"] == [reg.points[1].code] and change.counts["level_down"] == 0
    assert change.counts["measures_closed"] == 1  # the open measure got done; its retired point's is gone too
    before = dict(change.counts)
    # the live register keeps changing: the comparison does not
    reg.points[0].confirmed_level = 3
    add_point(reg.powers[0])
    db.session.flush()
    assert dict(snapshot.compare_department(first.id, second.id, city.a.department.id).counts) == before
    other = snapshot.compare_cycles(first, second, [city.b.department.id])
    assert [c.department_id for c in other] == [city.b.department.id] and not other[0].counts


def test_without_a_previous_snapshot_everything_is_new(new_cycle, city):
    cycle = new_cycle()
    run_cycle(cycle, city.inspector, until="open")
    assert queries.previous_cycle(cycle) is None
    change = snapshot.compare_department(None, cycle.id, city.a.department.id)
    assert change.counts["risks_new"] == 3 and change.counts["powers_new"] == 2
