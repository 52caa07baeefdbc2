"""Power data checks (pure): limits, legal basis, codes, booleans, and discretion tiers (with hypothesis)."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govrisk.catalog.validation import Lookups, check_tiers, normalize_power, parse_days

LOOKUPS = Lookups(categories={"xk", "cf", "jc"}, sources={"law"}, levels={"city"},
                  stages={"acceptance", "review", "decision", "execution", "supervision", "other"})


def raw(**overrides):
    data = {"name": "食品经营许可", "category": "xk", "department_id": 1, "statutory_days": "20",
            "promised_days": "10", "legal_bases": [{"law": "中华人民共和国食品安全法", "article": "第三十五条"}]}
    data.update(overrides)
    return data


def errors_of(**overrides):
    return normalize_power(raw(**overrides), LOOKUPS)[1]


def test_valid_power_is_normalized():
    clean, errors = normalize_power(raw(code=" XK-9 ", is_public="否", is_major_matter="是"), LOOKUPS)
    assert errors == {}
    assert clean["code"] == "XK-9" and clean["statutory_days"] == 20 and clean["promised_days"] == 10
    assert clean["is_public"] is False and clean["is_major_matter"] is True
    assert clean["legal_bases"] == [{"law": "中华人民共和国食品安全法", "article": "第三十五条", "clause": ""}]


@pytest.mark.parametrize("statutory,promised,field,fragment", [
    ("10", "20", "promised_days", "不能超过法定时限"),
    ("-1", "", "statutory_days", "不能为负数"),
    ("abc", "", "statutory_days", "不是整数"),
    ("", "1.5", "promised_days", "不是整数"),
    ("99999", "", "statutory_days", "不能超过"),
])
def test_bad_time_limits(statutory, promised, field, fragment):
    errors = errors_of(statutory_days=statutory, promised_days=promised)
    assert fragment in " ".join(errors[field])


def test_empty_limits_mean_no_limit():
    clean, errors = normalize_power(raw(statutory_days="", promised_days=""), LOOKUPS)
    assert errors == {} and clean["statutory_days"] is None and clean["promised_days"] is None


def test_missing_legal_basis_and_blank_rows():
    errors = errors_of(legal_bases=[{"law": "", "article": "", "clause": ""}])
    assert errors["legal_bases"] == ["至少需要一条法律依据"]
    errors = errors_of(legal_bases=[{"law": "", "article": "第三条", "clause": ""}])
    assert "legal_bases-0-law" in errors


def test_unknown_category_bad_code_phone_and_fee():
    errors = errors_of(category="zz", code="含 空格", phone="call me", is_fee_charged=True, fee_standard="")
    assert set(errors) >= {"category", "code", "phone", "fee_standard"}


def test_html_is_kept_as_text():
    clean, errors = normalize_power(raw(name="<script>alert(1)</script>许可"), LOOKUPS)
    assert errors == {} and clean["name"] == "<script>alert(1)</script>许可"


def test_tiers_only_for_penalties_and_rows_checked():
    tier = {"name": "一般", "conditions": "首次", "min": "0", "max": "100", "unit": "元"}
    assert "discretion_tiers" in errors_of(discretion_tiers=[tier])
    errors = errors_of(category="cf", discretion_tiers=[{**tier, "min": "abc", "unit": ""}])
    assert "discretion_tiers-0-min" in errors and "discretion_tiers-0-unit" in errors
    assert errors_of(category="cf", discretion_tiers=[tier]) == {}


def test_overlapping_tiers_point_at_the_later_tier():
    tiers = [{"name": "一般", "conditions": "a", "min": "0", "max": "5000", "unit": "元"},
             {"name": "较重", "conditions": "b", "min": "4000", "max": "8000", "unit": "元"}]
    errors = errors_of(category="cf", discretion_tiers=tiers)
    assert list(errors) == ["discretion_tiers-1-min"] and "重叠" in errors["discretion_tiers-1-min"][0]


@pytest.mark.parametrize("value,expected", [("", None), ("0", 0), ("15", 15), (7, 7), (3.0, 3)])
def test_parse_days(value, expected):
    assert parse_days(value) == (expected, None)


# -- discretion tiers: ordered and non-overlapping, checked against an independent oracle --------------------

amounts = st.integers(min_value=0, max_value=2000).map(lambda n: Decimal(n) / 2)


@st.composite
def tier_lists(draw):
    size = draw(st.integers(min_value=1, max_value=5))
    tiers = []
    for i in range(size):
        low, high = draw(amounts), draw(amounts)
        if draw(st.booleans()):
            low, high = min(low, high), max(low, high)
        tiers.append({"name": f"档{i}", "min": low, "max": high, "unit": "元"})
    return tiers


def oracle(tiers) -> bool:
    """Valid iff every range is well formed and each next range lies after the previous one: they may share an
    endpoint but the overlap has no length, and the upper ends strictly increase."""
    if any(t["min"] > t["max"] for t in tiers):
        return False
    for a, b in zip(tiers, tiers[1:], strict=False):
        overlap = min(a["max"], b["max"]) - max(a["min"], b["min"])
        if overlap > 0 or b["min"] < a["max"] or b["max"] <= a["max"]:
            return False
    return True


@settings(max_examples=400, deadline=None)
@given(tier_lists())
def test_tier_check_matches_oracle(tiers):
    assert (check_tiers(tiers) == []) == oracle(tiers)


@settings(max_examples=200, deadline=None)
@given(st.lists(amounts, min_size=2, max_size=8, unique=True))
def test_consecutive_ranges_built_from_sorted_cuts_are_valid(cuts):
    cuts = sorted(cuts)
    pairs = zip(cuts, cuts[1:], strict=False)
    tiers = [{"name": f"档{i}", "min": a, "max": b, "unit": "元"} for i, (a, b) in enumerate(pairs)]
    assert check_tiers(tiers) == []
    if len(tiers) >= 2:
        swapped = [tiers[1], tiers[0], *tiers[2:]]
        assert check_tiers(swapped) != []


def test_mixed_units_and_duplicate_names_are_refused():
    tiers = [{"name": "一般", "min": Decimal(0), "max": Decimal(1), "unit": "元"},
             {"name": "一般", "min": Decimal(1), "max": Decimal(2), "unit": "%"}]
    messages = [m for _, _, m in check_tiers(tiers)]
    assert any("单位必须一致" in m for m in messages) and any("重复" in m for m in messages)
