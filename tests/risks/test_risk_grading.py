"""Grading methods as data: the default v1 of the source text, rule validation, the SQL form of the same rule."""

import copy
import json

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from govrisk.extensions import db
from govrisk.risks import queries
from govrisk.risks.grading import RulesError, default_rules, parse_rules, sql_suggestion, suggest, validate_rules
from govrisk.risks.models import RiskPoint
from tests.risks.conftest import make_point

V1 = default_rules()


def expected_v1(likelihood: int, severity: int) -> int:
    """The source text 三(二)2: 一级 high likelihood or a crime; 二级 fairly high likelihood or discipline."""
    if likelihood >= 4 or severity >= 5:
        return 1
    if likelihood >= 3 or severity >= 4:
        return 2
    return 3


@pytest.mark.parametrize(("likelihood", "severity", "level"), [
    (5, 1, 1), (4, 1, 1), (1, 5, 1), (3, 5, 1),
    (3, 1, 2), (1, 4, 2), (3, 4, 2),
    (2, 3, 3), (1, 1, 3), (2, 2, 3),
])
def test_default_method_follows_the_source_text(likelihood, severity, level):
    result = suggest(V1, {"likelihood": likelihood, "severity": severity})
    assert result.level == level
    assert result.why


@given(st.integers(1, 5), st.integers(1, 5), st.sampled_from(["large", "medium", "small", None]), st.booleans())
def test_default_method_reads_only_likelihood_and_severity(likelihood, severity, discretion, major):
    inputs = {"likelihood": likelihood, "severity": severity, "discretion": discretion, "is_major_matter": major}
    assert suggest(V1, inputs).level == expected_v1(likelihood, severity)


def test_why_names_the_conditions_that_matched():
    why = suggest(V1, {"likelihood": 4, "severity": 5}).why
    assert len(why) == 2
    assert "发生几率 4 ≥ 4：发生几率高" in why[0]
    assert "危害程度 5 ≥ 5" in why[1] and "构成犯罪" in why[1]
    low = suggest(V1, {"likelihood": 1, "severity": 2}).why
    assert low == ["不符合一级、二级的任一条件：发生几率较小，或一旦发生可能造成不良社会影响"]


def test_missing_scores_give_no_suggestion():
    assert suggest(V1, {"likelihood": None, "severity": 3}).level is None


def test_thresholds_are_data():
    rules = copy.deepcopy(V1)
    rules["levels"][0]["when_any"][0]["value"] = 5  # 一级 only at likelihood 5
    assert suggest(rules, {"likelihood": 4, "severity": 1}).level == 2
    rules["levels"][1]["when_any"].append({"field": "discretion", "op": "==", "value": "large", "why": "裁量空间大"})
    result = suggest(rules, {"likelihood": 1, "severity": 1, "discretion": "large"})
    assert result.level == 2 and "自由裁量空间“大”：裁量空间大" in result.why[0]
    major = copy.deepcopy(V1)
    major["levels"][0]["when_any"].append({"field": "is_major_matter", "op": "==", "value": True})
    assert suggest(major, {"likelihood": 1, "severity": 1, "is_major_matter": True}).level == 1
    score = copy.deepcopy(V1)
    score["levels"][1]["when_any"] = [{"field": "score", "op": ">=", "value": 6}]
    assert suggest(score, {"likelihood": 2, "severity": 3}).level == 2


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda r: r.pop("otherwise"), "otherwise"),
    (lambda r: r.update(levels=[]), "levels 应为非空数组"),
    (lambda r: r["levels"][0].update(level=3), "level 应为 1 或 2"),
    (lambda r: r["levels"].reverse(), "等级应从高到低"),
    (lambda r: r["levels"][0]["when_any"][0].update(field="mood"), "field“mood”无效"),
    (lambda r: r["levels"][0]["when_any"][0].update(value=6), "value 应为 1–5 的整数"),
    (lambda r: r["levels"][0]["when_any"][0].update(op="~"), "op“~”无效"),
    (lambda r: r["levels"][0]["when_any"].append({"field": "discretion", "op": ">=", "value": "huge"}), "discretion"),
    (lambda r: r["levels"][0]["when_any"].append({"field": "is_major_matter", "op": "==", "value": "yes"}),
     "is_major_matter"),
    (lambda r: r.update(extra=1), "未知的键"),
])
def test_invalid_rules_are_refused_with_the_reason(mutate, message):
    rules = copy.deepcopy(V1)
    mutate(rules)
    with pytest.raises(RulesError) as exc:
        validate_rules(rules)
    assert any(message in p for p in exc.value.problems), exc.value.problems


def test_parse_rules_refuses_bad_json():
    with pytest.raises(RulesError, match="不是有效的 JSON"):
        parse_rules("{levels:")
    assert parse_rules(json.dumps(V1)) == V1


def test_sql_suggestion_agrees_with_python_for_every_cell(unit):
    """The re-grade preview computes in SQL; it must give exactly what the page shows."""
    rules = copy.deepcopy(V1)
    rules["levels"][1]["when_any"].append({"field": "discretion", "op": "in", "value": ["large"]})
    rules["levels"][0]["when_any"].append({"field": "score", "op": ">=", "value": 16})
    points = []
    for likelihood in range(1, 6):
        for severity in range(1, 6):
            discretion = ("large", "medium", "small")[(likelihood + severity) % 3]
            points.append(make_point(unit, name=f"点{likelihood}{severity}", likelihood=likelihood,
                                     severity=severity, discretion=discretion))
    from govrisk.catalog.models import Power

    expr = sql_suggestion(rules, {"likelihood": RiskPoint.likelihood, "severity": RiskPoint.severity,
                                  "discretion": RiskPoint.discretion, "is_major_matter": Power.is_major_matter})
    rows = dict(db.session.execute(sa.select(RiskPoint.id, expr).join(Power, Power.id == RiskPoint.power_id)
                                   .where(RiskPoint.id.in_([p.id for p in points]))).all())
    for point in points:
        assert rows[point.id] == suggest(rules, queries.point_inputs(point)).level, (point.likelihood, point.severity)
