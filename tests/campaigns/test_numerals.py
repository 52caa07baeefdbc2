from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govrisk.campaigns.numerals import Numeral, parse_numeral

CN_DIGITS = "零一二三四五六七八九"
SMALL = ("千", "百", "十", "")
BIG = ("亿", "万", "")


def _section(group: int, liang: bool) -> str:
    out, zero = "", False
    for digit, unit in zip(f"{group:04d}", SMALL, strict=True):
        if digit == "0":
            zero = bool(out)
            continue
        if zero:
            out, zero = out + "零", False
        char = "两" if liang and digit == "2" and unit in ("千", "百") else CN_DIGITS[int(digit)]
        out += char + unit
    return out


def to_chinese(n: int, liang: bool = False, explicit_ten: bool = False) -> str:
    """Write 0 <= n < 10**12 the standard way (一万零五, 十五); independent of the parser under test."""
    if n == 0:
        return "零"
    groups = [(n // 10 ** (4 * i)) % 10**4 for i in (2, 1, 0)]
    out: list[str] = []
    gap = False
    for group, big in zip(groups, BIG, strict=True):
        if group == 0:
            gap = bool(out)
            continue
        if out and (gap or group < 1000):
            out.append("零")
        section = _section(group, liang)
        out.append(("两" if liang and big and section == "二" else section) + big)
        gap = False
    text = "".join(out)
    return text if explicit_ten or not text.startswith("一十") else text[1:]


@pytest.mark.parametrize(
    "text, value, approx",
    [
        ("0", 0, False),
        ("7", 7, False),
        ("1500", 1500, False),
        ("1,500", 1500, False),
        ("12,345,678", 12345678, False),
        ("１５００", 1500, False),
        ("0.5", 0.5, False),
        ("1.2万", 12000, False),
        ("3.75万", 37500, False),
        ("1.5亿", 150000000, False),
        ("3千", 3000, False),
        ("2万3千", 23000, False),
        ("3千余", 3000, True),
        ("1500余", 1500, True),
        ("300多", 300, True),
        ("零", 0, False),
        ("两", 2, False),
        ("十", 10, False),
        ("十五", 15, False),
        ("二十", 20, False),
        ("一百零五", 105, False),
        ("一千零五十", 1050, False),
        ("两千", 2000, False),
        ("两万", 20000, False),
        ("一万零五", 10005, False),
        ("十万", 100000, False),
        ("一亿二千万", 120000000, False),
        ("三十余", 30, True),
        ("三十余万", 300000, True),
        ("千余", 1000, True),
        ("万余", 10000, True),
        ("万", 10000, False),
        ("十几", 10, True),
        ("二十几", 20, True),
        ("几十", 10, True),
        ("数百", 100, True),
        ("数万", 10000, True),
        ("十来", 10, True),
        ("三四百", 300, True),
        ("十五六", 15, True),
        ("一两", 1, True),
        ("一万五", 15000, False),
        ("三千五", 3500, False),
        ("一百二", 120, False),
    ],
)
def test_reads_the_written_forms(text, value, approx):
    assert parse_numeral(text) == Numeral(value, approx)


NOT_NUMBERS = ["", " ", "余", "多", "几", "x", "二〇二四", "一二三", "十百", "1.2.3", "三3", "五一", "百万亿x"]


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_rejects_what_is_not_one_number(text):
    assert parse_numeral(text) is None


def test_value_is_int_when_whole_and_float_otherwise():
    assert type(parse_numeral("1.0万").value) is int
    assert type(parse_numeral("2.5").value) is float


@given(st.integers(0, 10**12 - 1), st.booleans(), st.booleans())
def test_round_trips_integers_written_in_chinese(n, liang, explicit_ten):
    assert parse_numeral(to_chinese(n, liang, explicit_ten)) == Numeral(n, False)


@given(st.integers(1, 10**12 - 1), st.sampled_from("余多"))
def test_a_trailing_approx_mark_keeps_the_value_as_a_lower_bound(n, mark):
    assert parse_numeral(to_chinese(n) + mark) == Numeral(n, True)


@given(st.integers(0, 10**15))
def test_round_trips_arabic_integers_with_and_without_grouping(n):
    assert parse_numeral(str(n)) == Numeral(n, False)
    assert parse_numeral(f"{n:,}") == Numeral(n, False)


@given(st.integers(0, 10**8), st.sampled_from([("万", 10**4), ("亿", 10**8)]))
def test_decimals_before_wan_and_yi_are_multiplied_out(hundredths, big):
    char, factor = big
    written = f"{Decimal(hundredths) / 100:.2f}{char}"
    assert parse_numeral(written) == Numeral(hundredths * factor // 100, False)


@given(st.text())
def test_never_raises(text):
    result = parse_numeral(text)
    assert result is None or result.value >= 0
