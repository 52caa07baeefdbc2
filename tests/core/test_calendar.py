"""Working-day calendar: seed data, hand-counted examples, and properties (govrisk.core.calendar)."""

import csv
from datetime import UTC, date, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govrisk.core.calendar import SHANGHAI, WorkingCalendar, load_calendar_csv

SEED = Path(__file__).resolve().parents[2] / "seed" / "calendar"
BJ = timezone(timedelta(hours=8))
EPS = 1e-9


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return load_calendar_csv(SEED)


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BJ)


# --------------------------------------------------------------------------- seeded days


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 1, 1), False),  # 元旦, Wednesday
        (date(2025, 1, 26), True),  # Sunday, 春节 make-up workday
        (date(2025, 1, 27), True),  # Monday before 除夕
        (date(2025, 2, 3), False),  # 春节, Monday
        (date(2025, 2, 8), True),  # Saturday, make-up workday
        (date(2025, 4, 27), True),  # Sunday, 劳动节 make-up workday
        (date(2025, 5, 5), False),  # 劳动节, Monday
        (date(2025, 9, 28), True),  # Sunday, 国庆 make-up workday
        (date(2025, 10, 8), False),  # 国庆中秋, Wednesday
        (date(2025, 10, 9), True),  # Thursday after the holiday
        (date(2025, 10, 11), True),  # Saturday, make-up workday
        (date(2025, 10, 12), False),  # ordinary Sunday
        (date(2025, 3, 15), False),  # ordinary Saturday
        (date(2025, 3, 17), True),  # ordinary Monday
        (date(2026, 1, 4), True),  # Sunday, 元旦 make-up workday
        (date(2026, 2, 16), False),  # 除夕, Monday
        (date(2026, 2, 28), True),  # Saturday, make-up workday
        (date(2026, 10, 8), True),  # Thursday after 国庆 2026
        (date(2026, 10, 10), True),  # Saturday, make-up workday
        (date(2027, 6, 9), False),  # 端午 2027 (provisional), Wednesday
        (date(2024, 10, 1), True),  # not seeded: plain week (Tuesday)
    ],
)
def test_seeded_days(cal: WorkingCalendar, day: date, working: bool) -> None:
    assert cal.is_working_day(day) is working


def test_national_day_2025_hand_counted(cal: WorkingCalendar) -> None:
    # Mon 29, Tue 30 Sep work; 1–8 Oct off; Thu 9, Fri 10, Sat 11 (make-up) work; Sun 12 off
    assert cal.working_days_in(date(2025, 9, 29), date(2025, 10, 12)) == 5
    assert cal.working_days_in(date(2025, 9, 26), date(2025, 9, 28)) == 2  # Fri + make-up Sun
    assert cal.add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)
    assert cal.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert cal.add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)
    assert cal.add_working_days(date(2025, 9, 30), 4) == date(2025, 10, 13)
    assert cal.add_working_days(date(2025, 10, 3), 0) == date(2025, 10, 9)
    assert cal.add_working_days(date(2025, 9, 30), 0) == date(2025, 9, 30)
    # noon Tue 30 Sep to noon Thu 9 Oct: half of 30 Sep + half of 9 Oct
    assert cal.working_days_between(bj(2025, 9, 30, 12), bj(2025, 10, 9, 12)) == pytest.approx(1.0)
    assert cal.working_days_between(bj(2025, 10, 1), bj(2025, 10, 9)) == 0.0
    assert cal.working_days_between(bj(2025, 10, 1), bj(2025, 10, 9, 18)) == pytest.approx(0.75)
    # Fri 26, Sun 28 (make-up), Mon 29, Tue 30 Sep, Thu 9, Fri 10, Sat 11 Oct (make-up)
    assert cal.working_days_between(bj(2025, 9, 26), bj(2025, 10, 13)) == pytest.approx(7.0)
    # a step entered at noon on 30 Sep with a 2-day limit is due at noon on 10 Oct
    assert cal.due_at(bj(2025, 9, 30, 12), 2) == bj(2025, 10, 10, 12)
    # entered during the holiday: 1 working day = all of Thu 9 Oct, so due at its end
    assert cal.due_at(bj(2025, 10, 3, 9, 30), 1) == bj(2025, 10, 10)
    assert cal.due_at(bj(2025, 10, 3, 9, 30), 3) == bj(2025, 10, 12)  # ends with Sat 11 Oct (make-up)


def test_national_day_2026_and_spring_festival(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    # Sun 20 (make-up) + Mon–Thu 21–24 + (Fri 25 中秋 off) + Mon–Wed 28–30 + (1–7 Oct off) + Thu 8, Fri 9, Sat 10
    assert cal.working_days_in(date(2026, 9, 20), date(2026, 10, 10)) == 1 + 4 + 3 + 3
    # 2026 春节 2.15–2.23 with make-up on Sat 2.14 and Sat 2.28
    assert cal.working_days_in(date(2026, 2, 9), date(2026, 3, 1)) == 5 + 1 + 4 + 1
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert cal.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)


def test_time_zones_and_instants(cal: WorkingCalendar) -> None:
    # 2025-09-30T04:00Z is noon in Beijing
    utc_noon = datetime(2025, 9, 30, 4, tzinfo=UTC)
    assert cal.working_days_between(utc_noon, bj(2025, 10, 1)) == pytest.approx(0.5)
    # 2025-10-08T20:00Z is 04:00 on Thursday 9 Oct in Beijing
    assert cal.working_days_between(bj(2025, 10, 8), datetime(2025, 10, 8, 20, tzinfo=UTC)) == pytest.approx(1 / 6)
    due = cal.due_at(utc_noon, 2)
    assert due.tzinfo is SHANGHAI
    assert due == datetime(2025, 10, 10, 12, tzinfo=SHANGHAI)
    assert cal.due_at(utc_noon, 0) == utc_noon
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.working_days_between(datetime(2025, 9, 30, 12), utc_noon)
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.due_at(datetime(2025, 9, 30, 12), 1)


def test_negative_and_invalid_arguments(cal: WorkingCalendar) -> None:
    a, b = bj(2025, 9, 30, 12), bj(2025, 10, 9, 12)
    assert cal.working_days_between(b, a) == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        cal.add_working_days(date(2025, 1, 1), -1)
    with pytest.raises(ValueError):
        cal.due_at(a, -1)
    with pytest.raises(TypeError):
        cal.add_working_days(a, 1)  # a datetime is not a date here
    with pytest.raises(TypeError):
        cal.is_working_day(a)


# --------------------------------------------------------------------------- building


def test_from_rows_accepts_tuples_mappings_and_strings() -> None:
    rows = [
        ("2025-10-08", "holiday", "国庆节"),
        (date(2025, 10, 11), "workday"),
        {"date": "2025-10-07", "kind": " Holiday "},
        ("2025-10-08", "holiday"),  # repeated with the same kind: fine
    ]
    cal = WorkingCalendar.from_rows(rows)
    assert cal.holidays == {date(2025, 10, 7), date(2025, 10, 8)}
    assert cal.workdays == {date(2025, 10, 11)}
    assert cal == WorkingCalendar([date(2025, 10, 7), date(2025, 10, 8)], [date(2025, 10, 11)])
    assert cal.years == {2025}
    assert WorkingCalendar() == WorkingCalendar.from_rows([])


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("2025-10-08", "holiday"), ("2025-10-08", "workday")], "both"),
        ([("2025-10-08", "holiday"), ("2025-10-09", "day off")], "row 2: kind"),
        ([("2025-13-08", "holiday")], "row 1: not a date"),
        ([("2025-10-08",)], "row 1: expected"),
        ([(datetime(2025, 10, 8, tzinfo=UTC), "holiday")], "row 1: expected a date"),
    ],
)
def test_from_rows_rejects_bad_rows(rows: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkingCalendar.from_rows(rows)


def test_load_calendar_csv_files_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "a.csv"
    good.write_text("\ufeffdate,kind,name\n2030-10-01,holiday,国庆节\n\n2030-09-29,workday,调休\n", encoding="utf-8")
    cal = load_calendar_csv(good)
    assert cal.holidays == {date(2030, 10, 1)} and cal.workdays == {date(2030, 9, 29)}
    assert load_calendar_csv([tmp_path]) == cal
    bad = tmp_path / "b.csv"
    bad.write_text("date,kind,name\n2030-10-02,holiday,国庆节\n2030-10-03,vacation,国庆节\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"b\.csv, line 3: kind"):
        load_calendar_csv(tmp_path)
    bad.write_text("day,type\n2030-10-02,holiday\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header"):
        load_calendar_csv(bad)


# --------------------------------------------------------------------------- the seed files

EXPECTED_MAKEUP_DAYS = {2025: 5, 2026: 6, 2027: 5}
STATUTORY_DAYS_OFF = 13  # 全国年节及纪念日放假办法 as revised in November 2024, in force from 2025


def read_seed(year: int) -> list[dict[str, str]]:
    with (SEED / f"{year}.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["date", "kind", "name"]
        return list(reader)


@pytest.mark.parametrize("year", sorted(EXPECTED_MAKEUP_DAYS))
def test_seed_file(year: int) -> None:
    rows = read_seed(year)
    days = [date.fromisoformat(r["date"]) for r in rows]
    assert len(days) == len(set(days)), "duplicate dates"
    assert all(d.year == year for d in days)
    assert all(r["kind"] in ("holiday", "workday") and r["name"].strip() for r in rows)
    workdays = [d for d, r in zip(days, rows, strict=True) if r["kind"] == "workday"]
    holidays = [d for d, r in zip(days, rows, strict=True) if r["kind"] == "holiday"]
    assert len(workdays) == EXPECTED_MAKEUP_DAYS[year]
    assert all(d.weekday() >= 5 for d in workdays), "a make-up workday on Monday–Friday"
    # every make-up day pays back a weekday off: the year has exactly the statutory number of days off
    weekdays_off = sum(1 for d in holidays if d.weekday() < 5)
    assert weekdays_off - len(workdays) == STATUTORY_DAYS_OFF


def test_seed_files_together(cal: WorkingCalendar) -> None:
    all_days = [r["date"] for year in EXPECTED_MAKEUP_DAYS for r in read_seed(year)]
    assert len(all_days) == len(set(all_days))
    assert cal.years == set(EXPECTED_MAKEUP_DAYS)
    assert {p.stem for p in SEED.glob("*.csv")} == {str(y) for y in EXPECTED_MAKEUP_DAYS}
    for year in EXPECTED_MAKEUP_DAYS:
        assert cal.working_days_in(date(year, 1, 1), date(year, 12, 31)) == (
            sum(
                1
                for o in range(date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal() + 1)
                if date.fromordinal(o).weekday() < 5
            )
            - STATUTORY_DAYS_OFF
        )


# --------------------------------------------------------------------------- properties

LO, HI = date(2024, 6, 1), date(2028, 6, 30)
days_st = st.dates(min_value=LO, max_value=HI)


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    holidays = draw(st.frozensets(days_st, max_size=60))
    workdays = draw(st.frozensets(days_st, max_size=30)) - holidays
    return WorkingCalendar(holidays, workdays)


any_calendar = st.one_of(st.just(load_calendar_csv(SEED)), calendars())
zones = st.sampled_from([UTC, BJ, SHANGHAI, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=45))])
moments = st.datetimes(min_value=datetime(2024, 6, 1), max_value=datetime(2028, 6, 30), timezones=zones)


def reference_is_working(cal: WorkingCalendar, d: date) -> bool:
    return d not in cal.holidays and (d in cal.workdays or d.weekday() < 5)


def reference_between(cal: WorkingCalendar, a: datetime, b: datetime) -> Fraction:
    """Day-by-day reference: the part of each working day (Beijing time) that lies in [a, b)."""
    if b < a:
        return -reference_between(cal, b, a)
    a, b = a.astimezone(BJ), b.astimezone(BJ)
    total = Fraction(0)
    day = a.date()
    while day <= b.date():
        if reference_is_working(cal, day):
            start = datetime(day.year, day.month, day.day, tzinfo=BJ)
            lo, hi = max(a, start), min(b, start + timedelta(days=1))
            if hi > lo:
                total += Fraction((hi - lo) // timedelta(microseconds=1), 86_400_000_000)
        day += timedelta(days=1)
    return total


@given(any_calendar, days_st)
def test_is_working_day_matches_the_rule(cal: WorkingCalendar, d: date) -> None:
    assert cal.is_working_day(d) is reference_is_working(cal, d)
    if d.weekday() >= 5 and d not in cal.workdays:
        assert not cal.is_working_day(d)


@given(calendars(), st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)))
def test_weekends_without_makeup_are_never_working(cal: WorkingCalendar, d: date) -> None:
    saturday = d + timedelta(days=(5 - d.weekday()) % 7)
    for day in (saturday, saturday + timedelta(days=1)):
        assert cal.is_working_day(day) is (day in cal.workdays)


@given(any_calendar, moments, moments)
def test_between_matches_day_by_day_reference(cal: WorkingCalendar, a: datetime, b: datetime) -> None:
    assert cal.working_days_between(a, b) == pytest.approx(float(reference_between(cal, a, b)), abs=EPS)


@given(any_calendar, moments, moments, moments)
def test_between_is_additive(cal: WorkingCalendar, a: datetime, b: datetime, c: datetime) -> None:
    ab, bc, ac = cal.working_days_between(a, b), cal.working_days_between(b, c), cal.working_days_between(a, c)
    assert ab + bc == pytest.approx(ac, abs=EPS)
    assert cal.working_days_between(b, a) == -ab


@given(any_calendar, st.lists(moments, min_size=3, max_size=3))
def test_between_is_monotonic_and_bounded_by_elapsed_time(cal: WorkingCalendar, ms: list[datetime]) -> None:
    a, b, c = sorted(ms)
    ab, ac = cal.working_days_between(a, b), cal.working_days_between(a, c)
    assert 0 <= ab <= ac
    assert ab <= (b - a) / timedelta(days=1) + EPS
    assert cal.working_days_between(a, a) == 0


@given(any_calendar, days_st, st.integers(min_value=0, max_value=400))
def test_add_working_days(cal: WorkingCalendar, d: date, n: int) -> None:
    due = cal.add_working_days(d, n)
    assert cal.is_working_day(due)
    assert due >= d
    if n == 0:
        assert due == cal.next_working_day(d)
        assert cal.working_days_in(d, due - timedelta(days=1)) == 0
        return
    assert cal.working_days_in(d + timedelta(days=1), due) == n
    assert cal.working_days_in(d + timedelta(days=1), due - timedelta(days=1)) == n - 1

    def end_of(day: date) -> datetime:
        return bj(day.year, day.month, day.day) + timedelta(days=1)

    assert cal.working_days_between(end_of(d), end_of(due)) == n
    if cal.is_working_day(d):
        assert cal.working_days_between(bj(d.year, d.month, d.day), bj(due.year, due.month, due.day)) == n


@given(any_calendar, moments, st.integers(min_value=0, max_value=60))
def test_due_at_is_the_earliest_instant_using_up_the_limit(cal: WorkingCalendar, start: datetime, n: int) -> None:
    due = cal.due_at(start, n)
    assert due.tzinfo is SHANGHAI
    assert due >= start
    assert cal.working_days_between(start, due) == n
    if due > start:
        assert cal.working_days_between(start, due - timedelta(microseconds=1)) < n
    assert cal.due_at(start, n + 1) > due


@settings(max_examples=50)
@given(calendars(), days_st, days_st)
def test_working_days_in_counts_days(cal: WorkingCalendar, a: date, b: date) -> None:
    first, last = min(a, b), max(a, b)
    expected = sum(
        1 for o in range(first.toordinal(), last.toordinal() + 1) if reference_is_working(cal, date.fromordinal(o))
    )
    assert cal.working_days_in(first, last) == expected
    assert cal.working_days_in(last + timedelta(days=1), last) == 0
