"""Review cycles: one per year, stages only forward, the register snapshot frozen on opening, results on closing."""

import pytest
import sqlalchemy as sa

from govrisk.core.audit import AuditEntry
from govrisk.core.errors import UserError
from govrisk.extensions import db
from govrisk.review import operations as ops
from govrisk.review import queries, snapshot
from govrisk.review.models import ReviewCycle, SnapshotPart
from govrisk.review.workflow import CycleState
from govrisk.workflow import available
from govrisk.workflow.register import RegisterState
from tests.review_support import add_point, run_cycle

STAGES = [("open", CycleState.PLANNING, CycleState.SELF_CHECK),
          ("start_inspection", CycleState.SELF_CHECK, CycleState.INSPECTION),
          ("start_assessment", CycleState.INSPECTION, CycleState.ASSESSMENT),
          ("publish", CycleState.ASSESSMENT, CycleState.PUBLISHED),
          ("close", CycleState.PUBLISHED, CycleState.CLOSED)]


def _cycles() -> int:
    return db.session.scalar(sa.select(sa.func.count(ReviewCycle.id)))


def test_new_cycle_copies_the_default_indicators_and_checklist(new_cycle):
    cycle = new_cycle()
    assert cycle.state is CycleState.PLANNING
    assert [i.key for i in cycle.indicators] == ["catalog_completeness", "flow_coverage", "decision_coverage",
                                                 "measures_on_time", "rectifications_on_time",
                                                 "supervision_on_time", "public_appraisal", "education"]
    assert sum(i.weight for i in cycle.indicators) == 100
    assert len(cycle.checklist_items) >= 10
    assert all(cd.self_check is not None for cd in cycle.departments)
    assert cycle.title == "2026年度廉政风险防控检查考核"


def test_next_cycle_copies_the_previous_cycles_edited_setup(new_cycle, city):
    first = new_cycle(2025)
    ops.save_indicator(first, first.indicators[0], {"name": "目录完整", "method": "catalog_completeness",
                                                    "weight": 20, "params_json": "{}"}, actor=city.inspector)
    second = new_cycle(2026)
    assert second.indicators[0].name == "目录完整" and second.indicators[0].weight == 20


@pytest.mark.parametrize("data, field, message", [
    ({"year": 2026, "department_ids": []}, "department_ids", "至少选择一个"),
    ({"year": 1999, "department_ids": [1]}, "year", "2000"),
    ({"year": "abc", "department_ids": [1]}, "year", "有效的年度"),
])
def test_bad_cycle_input_is_refused_and_nothing_written(city, data, field, message):
    before = _cycles()
    with pytest.raises(UserError) as err:
        ops.create_cycle(data, actor=city.inspector)
    assert err.value.field == field and message in err.value.message
    assert _cycles() == before


def test_a_second_cycle_for_the_same_year_is_refused(new_cycle, city):
    new_cycle(2026)
    with pytest.raises(UserError, match="2026 年度考核周期已经存在"):
        ops.create_cycle({"year": 2026, "department_ids": [city.a.department.id]}, actor=city.inspector)
    assert _cycles() == 1


def test_a_department_and_its_own_subunit_cannot_both_take_part(city, create_department):
    child = create_department(name="下属所", parent=city.a.department)
    with pytest.raises(UserError, match="下级单位"):
        ops.create_cycle({"year": 2026, "department_ids": [city.a.department.id, child.id]}, actor=city.inspector)


ROLES = ["dept_editor", "dept_head", "inspector", "sys_admin"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name, source, target", STAGES)
def test_each_stage_transition_by_role(new_cycle, city, create_user, role, name, source, target):
    cycle = new_cycle()
    previous = {s[0]: p[0] for s, p in zip(STAGES[1:], STAGES, strict=False)}.get(name)
    if previous:
        run_cycle(cycle, city.inspector, until=previous)
    assert cycle.state is source
    actor = {"dept_editor": city.a.editor, "dept_head": city.a.head, "inspector": city.inspector}.get(role) \
        or create_user(role)
    if role == "inspector":
        ops.transition_cycle(cycle, name, actor=actor)
        assert cycle.state is target
    else:
        with pytest.raises(UserError, match="权限"):
            ops.transition_cycle(cycle, name, actor=actor)
        assert cycle.state is source


@pytest.mark.parametrize("backwards", ["open", "start_inspection"])
def test_a_cycle_never_moves_backwards(new_cycle, city, backwards):
    cycle = new_cycle()
    run_cycle(cycle, city.inspector, until="start_assessment")
    with pytest.raises(UserError, match="当前状态为“考核评分”"):
        ops.transition_cycle(cycle, backwards, actor=city.inspector)
    assert cycle.state is CycleState.ASSESSMENT
    assert [t.name for t in available(cycle, city.inspector)] == ["publish"]


def test_opening_freezes_the_register_and_later_changes_do_not_touch_it(new_cycle, city):
    cycle = new_cycle()
    ops.transition_cycle(cycle, "open", actor=city.inspector)
    summary = snapshot.summary(cycle.id, city.a.department.id)
    assert summary["powers"] == 2 and summary["risks"] == 3 and summary["flows"] == 1
    assert summary["by_level"] == {"1": 1, "2": 1, "3": 1}
    assert summary["heat"] == {"5,5": 1, "3,4": 1, "1,2": 1}
    assert summary["decision_steps"] == 2 and summary["decision_covered"] == 1
    assert summary["measures_by_status"] == {"implemented": 1, "planned": 1, "verified": 1}
    frozen_items = list(snapshot.items(cycle.id, city.a.department.id, "risks"))
    # the live register changes afterwards
    point = city.a.register.points[0]
    point.confirmed_level, point.state = 3, RegisterState.RETIRED
    add_point(city.a.register.powers[0], level=1)
    db.session.flush()
    assert snapshot.summary(cycle.id, city.a.department.id) == summary
    assert list(snapshot.items(cycle.id, city.a.department.id, "risks")) == frozen_items
    assert cycle.snapshot_at is not None
    assert db.session.scalar(sa.select(AuditEntry.id).where(AuditEntry.action == "review.cycle.snapshot"))


def test_snapshot_is_chunked_per_department(new_cycle, city, monkeypatch):
    monkeypatch.setattr(snapshot, "CHUNK", 2)
    for _ in range(3):
        add_point(city.a.register.powers[0])
    cycle = new_cycle()
    ops.transition_cycle(cycle, "open", actor=city.inspector)
    parts = db.session.execute(sa.select(SnapshotPart.seq, SnapshotPart.item_count).where(
        SnapshotPart.cycle_id == cycle.id, SnapshotPart.department_id == city.a.department.id,
        SnapshotPart.kind == "risks").order_by(SnapshotPart.seq)).all()
    assert [tuple(p) for p in parts] == [(0, 2), (1, 2), (2, 2)]
    assert len(list(snapshot.items(cycle.id, city.a.department.id, "risks"))) == 6


def test_participants_are_fixed_once_the_self_check_starts(new_cycle, city):
    cycle = new_cycle()
    ops.set_participants(cycle, [city.a.department.id], actor=city.inspector)
    assert [cd.department_id for cd in cycle.departments] == [city.a.department.id]
    ops.transition_cycle(cycle, "open", actor=city.inspector)
    with pytest.raises(UserError, match="不能再调整"):
        ops.set_participants(cycle, [city.a.department.id, city.b.department.id], actor=city.inspector)


def test_publishing_needs_every_department_scored(new_cycle, city):
    cycle = new_cycle()
    run_cycle(cycle, city.inspector, until="start_assessment")
    cycle.departments[1].total = None
    for score in queries.scores_of(cycle.departments[1]):
        score.computed = None
    with pytest.raises(UserError, match="尚未计算得分"):
        ops.transition_cycle(cycle, "publish", actor=city.inspector)
    assert cycle.state is CycleState.ASSESSMENT


def test_closing_freezes_the_results(new_cycle, city):
    cycle = new_cycle()
    run_cycle(cycle, city.inspector, until="close")
    cd = cycle.departments[0]
    frozen = snapshot.frozen_results(cycle.id, cd.department_id)
    assert frozen["total"] == cd.total and frozen["rank"] == cd.rank
    assert {s["key"] for s in frozen["scores"]} >= {"catalog_completeness", "education"}
    cd.total = 1.0  # a later change of the live rows does not alter what the closed cycle reports
    assert ops.results_for(cd)["total"] == frozen["total"]
    with pytest.raises(UserError, match="考核评分"):
        ops.compute_scores(cycle, actor=city.inspector)
