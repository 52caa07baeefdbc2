"""The read side: filters, heat-map counts, breakdowns, disagreements, rotation, the flows hook and the figures the
annual review reads."""

from datetime import date, timedelta

import pytest

from govrisk.flows import queries as flow_queries
from govrisk.org.operations import assign_person
from govrisk.risks import operations as ops
from govrisk.risks import queries
from govrisk.risks.queries import RiskFilters, add_months
from tests.risks.conftest import advance, make_point


@pytest.fixture
def request_ctx(app):
    with app.test_request_context("/"):
        yield


def _ids(page) -> set[int]:
    return {p.id for p in page.items}


def test_filters(unit, other_unit, inspector, request_ctx):
    a = make_point(unit, name="审查环节风险", step_id=unit.step("review").id, post_id="", likelihood=4, severity=2,
                   risk_type="process", proposed_level=1)
    b = advance(make_point(unit, name="决定环节风险"), "confirmed", unit, inspector, level=1, reason="上调")
    c = make_point(other_unit, name="他局风险", risk_type="environment")
    retired = advance(make_point(unit, name="停用的"), "retired", unit, inspector)
    everything = _ids(queries.search_risk_points(RiskFilters(), None))
    assert everything == {a.id, b.id, c.id}
    assert _ids(queries.search_risk_points(RiskFilters(), {unit.department.id})) == {a.id, b.id}
    cases = {
        "department_id": (other_unit.department.id, {c.id}),
        "power_id": (unit.power.id, {a.id, b.id}),
        "proposed": (1, {a.id}),
        "confirmed": ("1", {b.id}),
        "level": (1, {a.id, b.id}),
        "risk_type": ("environment", {c.id}),
        "state": ("retired", {retired.id}),
        "q": ("审查环节", {a.id}),
        "likelihood": (4, {a.id}),
        "post_id": (unit.posts["审查岗"].id, {a.id}),
    }
    for name, (value, expected) in cases.items():
        assert _ids(queries.search_risk_points(RiskFilters(**{name: value}), None)) == expected, name
    assert _ids(queries.search_risk_points(RiskFilters(confirmed="none"), None)) == {a.id, c.id}


def test_power_filter_takes_a_code(unit):
    assert RiskFilters.from_args({"power": unit.power.code.lower()}).power_id == unit.power.id
    unknown = RiskFilters.from_args({"power": "NO-SUCH"})
    assert unknown.power_id == -1 and "职权编码“NO-SUCH”不存在" in unknown.errors[0]


def test_filters_from_args_refuse_bad_values():
    filters = RiskFilters.from_args({"department": "abc", "proposed": "9", "state": "lost", "likelihood": "3",
                                     "overdue": "1", "q": " 受理 "})
    assert filters.department_id is None and filters.proposed is None and filters.state == ""
    assert filters.likelihood == 3 and filters.overdue and filters.q == "受理"
    assert len(filters.errors) == 3
    assert filters.args() == {"likelihood": 3, "overdue": "1", "q": "受理"}


def test_overdue_filter(unit, request_ctx):
    late = make_point(unit, name="有逾期措施")
    fine = make_point(unit, name="措施未逾期")
    for point, due in ((late, date.today() - timedelta(days=1)), (fine, date.today() + timedelta(days=9))):
        ops.create_measure(point, {"measure_type": "education", "description": "教育", "due_on": due},
                           actor=unit.editor)
    from tests.risks.test_risk_measures import tick

    tick(date.today())
    assert _ids(queries.search_risk_points(RiskFilters(overdue=True), None)) == {late.id}
    assert queries.overdue_point_ids([late.id, fine.id]) == {late.id}
    assert queries.risk_stats(None)["with_overdue_measures"] == 1


def test_heat_counts_and_breakdowns(make_unit, inspector):
    parent = make_unit()
    child = make_unit(parent=parent.department)
    for likelihood, severity in ((4, 4), (4, 4), (1, 2)):
        make_point(parent, name=f"点{likelihood}{severity}{id(object())}", likelihood=likelihood, severity=severity)
    make_point(child, name="下级", likelihood=2, severity=5, proposed_level=1)
    make_point(parent, name="未评分", likelihood="", severity="", proposed_level="")
    counts = queries.heat_counts(RiskFilters(), None)
    assert counts == {(4, 4): 2, (1, 2): 1, (2, 5): 1}
    assert queries.heat_counts(RiskFilters(department_id=child.department.id), None) == {(2, 5): 1}
    assert queries.heat_counts(RiskFilters(likelihood=4, severity=4), None) == counts  # the cell filter is ignored
    rows = {r["id"]: r for r in queries.breakdown(RiskFilters(), None)[0]}
    assert rows[parent.department.id]["total"] == 4 and rows[parent.department.id]["levels"] == {2: 3, None: 1}
    assert rows[child.department.id]["levels"] == {1: 1}
    totals = queries.breakdown(RiskFilters(), {child.department.id})[1]
    assert totals == {"levels": {1: 1}, "types": {"post_duty": 1}, "total": 1}
    rows, totals = queries.breakdown(RiskFilters(level=2), None)
    assert [r["id"] for r in rows] == [parent.department.id] and totals["levels"] == {2: 3}


def test_disagreements_per_department(unit, other_unit, inspector, request_ctx):
    raised = advance(make_point(unit, name="上调"), "confirmed", unit, inspector, level=1, reason="可能构成犯罪")
    advance(make_point(unit, name="同意"), "confirmed", unit, inspector)
    lowered = advance(make_point(other_unit, name="下调"), "confirmed", other_unit, inspector, level=3, reason="已网办")
    page, per_department = queries.disagreements(None)
    assert _ids(page) == {raised.id, lowered.id}
    assert {d: (n, up) for d, _name, n, up in per_department} == {unit.department.id: (1, 1),
                                                                   other_unit.department.id: (1, 0)}
    page, _ = queries.disagreements({unit.department.id})
    assert _ids(page) == {raised.id}
    assert queries.latest_confirmation([raised.id])[raised.id].reason == "可能构成犯罪"


def test_rotation_due_and_overdue(unit, other_unit, create_person, request_ctx):
    today = date.today()
    key, plain = unit.posts["审查岗"], unit.posts["窗口受理岗"]
    overdue = create_person(unit.department, name="超期")
    due = create_person(unit.department, name="将到期")
    fresh = create_person(unit.department, name="新任")
    not_key = create_person(unit.department, name="非重点")
    assign_person(overdue, key, add_months(today, -12 * 6), None, actor=None)
    decide = unit.posts["分管领导"]
    assign_person(due, decide, add_months(today, -12 * 5 + 3), None, actor=None)
    assign_person(fresh, other_unit.posts["审查岗"], add_months(today, -12), None, actor=None)
    assign_person(not_key, plain, add_months(today, -12 * 8), None, actor=None)
    page, counts = queries.rotation_due(None)
    assert [r.assignment.person.name for r in page.items] == ["超期", "将到期"]
    assert page.items[0].overdue and not page.items[1].overdue
    assert page.items[1].due_on == add_months(add_months(today, -12 * 5 + 3), 60)
    assert counts == [(unit.department.id, unit.department.name, 2, 1)]
    assert [r.assignment.person.name for r in queries.rotation_due(None, status="overdue")[0].items] == ["超期"]
    assert [r.assignment.person.name for r in queries.rotation_due(None, status="due")[0].items] == ["将到期"]
    assert queries.rotation_due({other_unit.department.id})[0].total == 0
    # a longer rule moves both out of the window
    longer = queries.RotationRule(years=10, warn_months=6)
    assert queries.rotation_due(None, rule=longer)[0].total == 0


def test_rotation_rule_setting(app, inspector):
    assert queries.rotation_rule() == queries.RotationRule(5, 6)
    ops.save_rotation_rule({"years": 3, "warn_months": 2}, actor=inspector)
    assert queries.rotation_rule() == queries.RotationRule(3, 2)
    for bad in ({"years": 0, "warn_months": 6}, {"years": 5, "warn_months": 30}, {"years": "x", "warn_months": 1}):
        with pytest.raises(Exception, match="年|月|整数"):
            ops.save_rotation_rule(bad, actor=inspector)
    assert queries.rotation_rule() == queries.RotationRule(3, 2)


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2024, 1, 31), 1, date(2024, 2, 29)), (date(2023, 8, 31), 6, date(2024, 2, 29)),
    (date(2026, 11, 26), -60, date(2021, 11, 26)), (date(2025, 12, 15), 1, date(2026, 1, 15)),
])
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


def test_flow_hook_badges_and_uncovered_key_steps(unit, inspector):
    assert flow_queries.risk_step_ids(unit.flow) == set()
    report = flow_queries.flow_report(unit.flow)
    assert [f.steps for f in report.findings if f.code == "uncovered_key_step"] == [("decide",)]
    make_point(unit, name="审查", step_id=unit.step("review").id, proposed_level=3)
    make_point(unit, name="审查二", step_id=unit.step("review").id, proposed_level=2)
    point = make_point(unit, name="决定", proposed_level=2)
    advance(point, "confirmed", unit, inspector, level=1, reason="上调")
    assert flow_queries.step_risk_levels(unit.flow) == {"review": 2, "decide": 1}
    assert not [f for f in flow_queries.flow_report(unit.flow).findings if f.code == "uncovered_key_step"]
    assert flow_queries.uncovered_counts([unit.department.id]) == {unit.department.id: 0}
    advance(point, "retired", unit, inspector)
    assert flow_queries.step_risk_levels(unit.flow) == {"review": 2}
    assert flow_queries.uncovered_counts([unit.department.id]) == {unit.department.id: 1}


def test_figures_for_the_annual_review(unit, other_unit, inspector):
    confirmed = advance(make_point(unit, name="已确认"), "confirmed", unit, inspector, level=1, reason="上调")
    make_point(unit, name="草稿", step_id=unit.step("review").id, proposed_level=3, risk_type="process")
    make_point(other_unit, name="他局", step_id="")
    stats = queries.risk_stats({unit.department.id})
    assert stats["total"] == 2 and stats["by_level"] == {1: 1, 2: 0, 3: 1, None: 0}
    assert stats["confirmed"] == 1 and stats["disagreements"] == 1 and stats["without_measures"] == 2
    assert stats["by_type"] == {"post_duty": 1, "process": 1}
    year = date.today().year
    on_time = ops.create_measure(confirmed, {"measure_type": "education", "description": "按时",
                                             "due_on": date(year, 12, 31), "evidence": "已办"}, actor=unit.editor)
    ops.transition_measure(on_time, "implement", actor=unit.editor)
    late = ops.create_measure(confirmed, {"measure_type": "education", "description": "迟了",
                                          "due_on": date(year, 1, 1), "evidence": "已办"}, actor=unit.editor)
    if date.today() > date(year, 1, 1):
        ops.transition_measure(late, "implement", actor=unit.editor)
    ops.create_measure(confirmed, {"measure_type": "education", "description": "明年",
                                   "due_on": date(year + 1, 3, 1)}, actor=unit.editor)
    figures = queries.measures_on_time(unit.department.id, year)
    assert figures["due"] == 2 and figures["on_time"] == 1 and figures["late"] + figures["open"] == 1
    assert figures["rate"] == 0.5
    assert queries.measures_on_time(other_unit.department.id, year) == {"due": 0, "on_time": 0, "late": 0,
                                                                        "open": 0, "rate": None}
    coverage = queries.decision_step_coverage(unit.department.id)
    assert coverage == {"decision_steps": 1, "covered": 1, "uncovered": 0, "ratio": 1.0}
    assert queries.decision_step_coverage(other_unit.department.id)["ratio"] == 0.0
