"""Assessment: indicators computed from the register with their figures, weights shared while an indicator has no
data, adjustments with a required reason, grades by editable thresholds, ranking, commendation, appraisal import."""

from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from govrisk.core.errors import UserError
from govrisk.extensions import db
from govrisk.review import indicators as ind
from govrisk.review import operations as ops
from govrisk.review import queries
from govrisk.review.models import Grade, ScoreAdjustment
from govrisk.review.workflow import CycleState
from tests.review_support import run_cycle

IMPORT_LIMIT = 1_000_000


def _scores(cd) -> dict:
    return {s.indicator.key: s for s in queries.scores_of(cd)}


@pytest.fixture
def scoring(new_cycle, city):
    cycle = new_cycle()
    run_cycle(cycle, city.inspector, until="start_assessment")
    return cycle


def test_each_indicator_is_computed_from_the_register_with_its_figures(scoring, city):
    cd = queries.get_cycle_department(scoring, city.a.department.id)
    scores = _scores(cd)
    catalog = scores["catalog_completeness"]
    assert catalog.computed == 50.0
    assert catalog.figures == {"powers": 2, "with_basis": 1, "published": 2, "complete": 1}
    assert "有法律依据 1 项" in ind.explain("catalog_completeness", catalog.figures)
    flows = scores["flow_coverage"]  # 1 of 2 powers has an internal flow, the one flow is valid
    assert flows.computed == 75.0
    assert scores["decision_coverage"].computed == 50.0
    assert scores["decision_coverage"].figures == {"decision_steps": 2, "covered": 1}
    assert scores["measures_on_time"].figures == {"due": 3, "on_time": 1, "late": 1, "open": 1}
    assert scores["measures_on_time"].computed == pytest.approx(33.33)
    assert scores["education"].computed == 0.0


def test_indicators_without_data_share_their_weight(scoring, city):
    cd = queries.get_cycle_department(scoring, city.a.department.id)
    scores = _scores(cd)
    for key in ("rectifications_on_time", "supervision_on_time", "public_appraisal"):
        assert scores[key].computed is None and scores[key].effective_weight == 0
        assert "无数据" in ind.explain(scores[key].indicator.method, scores[key].figures) or \
            "尚未录入" in ind.explain(scores[key].indicator.method, scores[key].figures)
    with_data = [s for s in scores.values() if s.final is not None]
    assert sum(s.effective_weight for s in with_data) == pytest.approx(100, abs=0.01)
    expected = sum(s.indicator.weight * s.final for s in with_data) / sum(s.indicator.weight for s in with_data)
    assert cd.total == pytest.approx(expected, abs=0.01)


WEIGHTS = st.integers(0, 10000).map(lambda n: n / 100)  # weights are stored with two decimals


@given(st.lists(st.tuples(WEIGHTS, st.one_of(st.none(), st.floats(0, 100))), min_size=1, max_size=10))
def test_weighted_total_is_the_mean_over_indicators_with_data(parts):
    total, effective = ind.weighted_total(parts)
    with_data = [(w, s) for w, s in parts if s is not None and w > 0]
    if not with_data:
        assert total is None and all(e == 0 for e in effective)
        return
    assert min(s for _w, s in with_data) - 0.01 <= total <= max(s for _w, s in with_data) + 0.01
    assert sum(effective) == pytest.approx(100, abs=0.01)


@pytest.mark.parametrize("totals, expected", [
    ([(1, 90.0), (2, 80.0), (3, 80.0), (4, 70.0)], {1: 1, 2: 2, 3: 2, 4: 4}),
    ([(1, None), (2, 50.0)], {2: 1}),
    ([], {}),
])
def test_ranking_shares_places_on_ties(totals, expected):
    assert ind.rank(totals) == expected


def test_adjustment_needs_a_reason_and_nothing_is_written_without_one(scoring, city):
    cd = queries.get_cycle_department(scoring, city.a.department.id)
    score = _scores(cd)["education"]
    total = cd.total
    for reason in ("", "   ", None):
        with pytest.raises(UserError, match="必须填写理由") as err:
            ops.adjust_score(score, 80, reason, actor=city.inspector)
        assert err.value.field == "reason"
    assert score.adjusted is None and cd.total == total
    assert db.session.scalar(sa.select(sa.func.count(ScoreAdjustment.id))) == 0
    ops.adjust_score(score, 80, "已开展四会一课，记录未录入系统，核实后认定。", actor=city.inspector)
    assert score.final == 80 and cd.total > total
    adjustment = score.adjustments[0]
    assert (adjustment.before, adjustment.after) == (0.0, 80.0) and "核实" in adjustment.reason
    ops.compute_scores(scoring, actor=city.inspector)  # recomputing keeps the adjustment
    assert score.final == 80


@pytest.mark.parametrize("value", [-1, 101, "abc"])
def test_adjustment_out_of_range_is_refused(scoring, city, value):
    score = _scores(queries.get_cycle_department(scoring, city.a.department.id))["education"]
    with pytest.raises(UserError, match="调整后得分"):
        ops.adjust_score(score, value, "理由", actor=city.inspector)
    assert score.adjusted is None


def test_scores_change_only_during_the_assessment(new_cycle, city):
    cycle = new_cycle()
    run_cycle(cycle, city.inspector, until="publish")
    score = _scores(cycle.departments[0])["education"]
    with pytest.raises(UserError, match="考核评分"):
        ops.adjust_score(score, 50, "理由", actor=city.inspector)


def test_a_department_outside_the_cycle_cannot_be_scored(scoring, create_department):
    outsider = create_department(name="未参加单位")
    with pytest.raises(UserError, match="未参加 2026 年度考核"):
        ops.participant(scoring, outsider.id)


def test_grades_follow_editable_thresholds(scoring, city):
    cd = queries.get_cycle_department(scoring, city.a.department.id)
    ops.set_thresholds(scoring, {"good": 30, "fairly_good": 20, "average": 10}, actor=city.inspector)
    assert cd.grade is Grade.GOOD
    ops.set_thresholds(scoring, {"good": 99, "fairly_good": 98, "average": 97}, actor=city.inspector)
    assert cd.grade is Grade.POOR
    with pytest.raises(UserError, match="依次降低"):
        ops.set_thresholds(scoring, {"good": 80, "fairly_good": 90, "average": 60}, actor=city.inspector)
    assert scoring.thresholds["good"] == 99


def test_weights_are_editable_and_totals_follow(scoring, city):
    cd = queries.get_cycle_department(scoring, city.a.department.id)
    before = cd.total
    education = next(i for i in scoring.indicators if i.key == "education")
    ops.save_indicator(scoring, education, {"name": education.name, "method": "education", "weight": 0,
                                            "params_json": "{}"}, actor=city.inspector)
    assert cd.total > before  # the zero education score no longer pulls the total down
    with pytest.raises(UserError, match="计算方法"):
        ops.save_indicator(scoring, education, {"name": "x", "method": "nope", "weight": 5}, actor=city.inspector)
    with pytest.raises(UserError, match="JSON"):
        ops.save_indicator(scoring, education, {"name": "x", "method": "education", "weight": 5,
                                                "params_json": "[1]"}, actor=city.inspector)


def test_commendation_only_for_good(scoring, city):
    cd = queries.get_cycle_department(scoring, city.a.department.id)
    with pytest.raises(UserError, match="等级为“好”"):
        ops.set_commendation(cd, True, "", actor=city.inspector)
    ops.set_thresholds(scoring, {"good": 1, "fairly_good": 0.5, "average": 0.1}, actor=city.inspector)
    ops.set_commendation(cd, True, "风险防控工作扎实", actor=city.inspector)
    assert cd.is_commended
    ops.set_thresholds(scoring, {"good": 99, "fairly_good": 98, "average": 97}, actor=city.inspector)
    assert not cd.is_commended  # no longer 好: the proposal falls away


def test_ranking_after_scoring(scoring, city):
    a, b = (queries.get_cycle_department(scoring, u.department.id) for u in city.units)
    ops.adjust_score(_scores(a)["education"], 100, "核实后认定", actor=city.inspector)
    assert a.total > b.total and (a.rank, b.rank) == (1, 2)


def test_public_appraisal_entry_and_its_indicator(scoring, city):
    cd = queries.get_cycle_department(scoring, city.a.department.id)
    ops.set_appraisal(cd, {"appraisal_score": 88.5, "appraisal_respondents": "120"}, actor=city.inspector)
    assert _scores(cd)["public_appraisal"].computed == 88.5
    with pytest.raises(UserError, match="社会评议得分"):
        ops.set_appraisal(cd, {"appraisal_score": 120}, actor=city.inspector)
    with pytest.raises(UserError, match="参评人数"):
        ops.set_appraisal(cd, {"appraisal_score": 80, "appraisal_respondents": "-3"}, actor=city.inspector)


def _csv(*rows) -> bytes:
    return ("department_code,score,respondents,note\n" + "\n".join(rows) + "\n").encode()


def test_appraisal_import_all_or_nothing_and_idempotent(scoring, city):
    a, b = city.a.department.code, city.b.department.code
    importer = ops.AppraisalImporter(scoring)
    bad = importer.preview(_csv(f"{a},85,100,", "NOPE,80,,", f"{b},120,,", f"{a},70,,"), "x.csv",
                           max_bytes=IMPORT_LIMIT)
    errors = {r.line: " ".join(r.errors) for r in bad.bad_rows}
    assert "未参加本年度考核" in errors[3] and "0 到 100" in errors[4] and "重复" in errors[5]
    with pytest.raises(UserError):
        importer.run(_csv(f"{a},85,100,", "NOPE,80,,"), "x.csv", actor=city.inspector, max_bytes=IMPORT_LIMIT)
    assert queries.get_cycle_department(scoring, city.a.department.id).appraisal_score is None
    good = _csv(f"{a},85,100,问卷", f"{b},78.5,,")
    preview = importer.run(good, "x.csv", actor=city.inspector, max_bytes=IMPORT_LIMIT)
    assert preview.count("create") == 2
    assert queries.get_cycle_department(scoring, city.b.department.id).appraisal_score == 78.5
    assert importer.preview(good, "x.csv", max_bytes=IMPORT_LIMIT).count("unchanged") == 2


def test_rectification_indicator_counts_reports_by_the_deadline(scoring, city):
    from govrisk.accountability import operations as acc

    finding = acc.create_finding({"source": "annual_assessment", "department_id": city.a.department.id,
                                  "title": "测试问题", "found_on": date(2026, 1, 5)}, actor=city.inspector)
    for due, reported in ((date(2026, 3, 1), date(2026, 2, 20)), (date(2026, 3, 1), date(2026, 3, 9)),
                          (date(2026, 4, 1), None)):
        rect = acc.order_rectification(finding, {"requirement": "整改", "due_on": due,
                                                 "ordered_on": date(2026, 1, 6)}, actor=city.inspector)
        if reported:
            acc.update_rectification(rect, {"plan": "方案", "evidence": "佐证"}, actor=city.a.editor)
            acc.transition_rectification(rect, "report", actor=city.a.editor, today=reported)
    ops.compute_scores(scoring, actor=city.inspector)
    score = _scores(queries.get_cycle_department(scoring, city.a.department.id))["rectifications_on_time"]
    assert score.figures == {"due": 3, "on_time": 1, "late": 1, "open": 1}
    assert score.computed == pytest.approx(33.33)
    assert scoring.state is CycleState.ASSESSMENT


def test_a_manual_indicator_counts_once_an_inspector_scores_it(scoring, city):
    cd = queries.get_cycle_department(scoring, city.a.department.id)
    before = cd.total
    ops.save_indicator(scoring, None, {"key": "leadership", "name": "领导班子履责", "method": "manual", "weight": 20,
                                       "params_json": "{}"}, actor=city.inspector)
    score = _scores(cd)["leadership"]
    assert score.computed is None and cd.total == before  # no data yet: it does not count
    ops.adjust_score(score, 100, "班子成员带头查找风险，履责到位", actor=city.inspector)
    assert score.effective_weight > 0 and cd.total > before
