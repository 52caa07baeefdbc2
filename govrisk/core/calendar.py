"""Working-day calendar (工作日历): which days are working days, and how much working time has passed.

Pure Python: no database, no Flask. The application builds a :class:`WorkingCalendar` from the
calendar table (or from ``seed/calendar/*.csv`` with :func:`load_calendar_csv`) and asks it.

Working days
    Monday to Friday are working days, Saturday and Sunday are not, except that a date listed as a
    *holiday* (放假) is never a working day and a date listed as a *workday* (调休上班) always is.
    Dates outside the listed years simply follow the normal week.

Working time (the model used for time limits, DESIGN §7.2)
    A time limit of ``n`` working days is ``n`` whole working days. Every instant is placed on the
    clock of Beijing time (UTC+8, the Asia/Shanghai zone; China has kept this offset all year since
    1991, and the calendar uses the fixed offset for every date). Each calendar day runs from 00:00 to
    24:00. A working day adds one unit of working time, spread evenly over its 24 hours; a day off adds
    nothing. So the working time between two instants is

        (whole working days between the two calendar days)
        + (the fraction of the end day that has passed, if it is a working day)
        - (the fraction of the start day that had passed, if it is a working day).

    Examples: Monday 12:00 → Tuesday 12:00 is 1.0; Friday 12:00 → Monday 12:00 is 1.0 (half of Friday
    plus half of Monday); Saturday 10:00 → Monday 00:00 is 0.0; Friday 00:00 → Saturday 00:00 is 1.0.
    Office hours play no part: they differ between departments, and the limits are stated in days.

    Because this is the difference of one non-decreasing function of time, it is additive
    (``between(a, b) + between(b, c) == between(a, c)``), monotonic, and antisymmetric:
    ``working_days_between(start, end)`` is negative when ``end`` is before ``start``.
    Internally it is exact: whole microseconds, divided once at the end.

Due dates
    :meth:`WorkingCalendar.add_working_days` is the date view: the ``n``-th working day after
    ``start`` (the start day itself is not counted, as in 期间开始之日不计算在内), for a deadline that
    runs to the end of that day. :meth:`WorkingCalendar.due_at` is the instant view used by
    supervision: the earliest instant at which ``n`` working days have been used up, so that
    ``working_days_between(start, due_at(start, n)) == n``. When the limit ends exactly at the end of a
    working day, ``due_at`` returns 00:00 of the following calendar day (the end of that day).

Speed
    No loops over days. The number of Monday–Friday dates before a date comes from a closed formula,
    and the listed exceptions are a sorted ordinal array with prefix sums searched with :mod:`bisect`:
    ``is_working_day`` is O(1), ``working_days_between`` O(log k) for k listed dates (a few µs), and
    ``add_working_days``/``due_at`` invert that count by bisection over a window of O(k) days.
"""

from __future__ import annotations

import csv
import os
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "HOLIDAY",
    "SHANGHAI",
    "WORKDAY",
    "WorkingCalendar",
    "load_calendar_csv",
]

HOLIDAY = "holiday"
WORKDAY = "workday"
KINDS = (HOLIDAY, WORKDAY)

#: Zone of the returned datetimes.
SHANGHAI = ZoneInfo("Asia/Shanghai")
_BEIJING = timezone(timedelta(hours=8))  # the clock used for day boundaries (= Asia/Shanghai since 1991)

_DAY_US = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_OFFSET_US = 8 * 3_600_000_000
_ONE_US = timedelta(microseconds=1)


def _weekdays_up_to(ordinal: int) -> int:
    """Number of Monday–Friday dates with ordinal in [1, ordinal] (date.fromordinal(1) is a Monday)."""
    weeks, rest = divmod(ordinal, 7)
    return 5 * weeks + min(rest, 5)


def _to_date(value: Any) -> date:
    if isinstance(value, datetime):
        raise TypeError(f"expected a date, got a datetime: {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not a date (YYYY-MM-DD): {value!r}") from None
    raise TypeError(f"expected a date or an ISO date string, got {value!r}")


def _first_ordinal_with_weekdays(m: int) -> int:
    """Smallest ordinal o >= 1 with ``_weekdays_up_to(o) >= m``."""
    if m <= 1:
        return 1
    weeks, rest = divmod(m - 1, 5)
    return 7 * weeks + rest + 1


def _parse_row(row: Any) -> tuple[date, str]:
    """(date, kind) from a ``(date, kind, ...)`` sequence or a mapping with ``date`` and ``kind``."""
    if isinstance(row, Mapping):
        raw_date, raw_kind = row.get("date"), row.get("kind")
    else:
        try:
            raw_date, raw_kind = row[0], row[1]
        except (TypeError, IndexError, KeyError):
            raise ValueError(f"expected (date, kind), got {row!r}") from None
    try:
        day = _to_date(raw_date)
    except TypeError as exc:
        raise ValueError(str(exc)) from None
    kind = raw_kind.strip().lower() if isinstance(raw_kind, str) else raw_kind
    if kind not in KINDS:
        raise ValueError(f"kind must be 'holiday' or 'workday', got {raw_kind!r}")
    return day, kind


class WorkingCalendar:
    """Weekends off, listed holidays off, listed make-up workdays on. Immutable once built.

    ``holidays``: dates that are not working days (weekend dates inside a holiday block may be listed;
    they change nothing). ``workdays``: make-up working days (a Monday–Friday listed here changes
    nothing). A date may not be in both: that raises ``ValueError``.
    """

    __slots__ = ("_holidays", "_workdays", "_off", "_on", "_ordinals", "_prefix", "_min_prefix", "_max_prefix")

    def __init__(self, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> None:
        hol = frozenset(_to_date(d) for d in holidays)
        work = frozenset(_to_date(d) for d in workdays)
        both = hol & work
        if both:
            listed = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"dates listed both as holiday and as workday: {listed}")
        self._holidays = hol
        self._workdays = work
        self._off = frozenset(d.toordinal() for d in hol)
        self._on = frozenset(d.toordinal() for d in work)
        # Exceptions to the normal week: -1 for a weekday off, +1 for a weekend day at work.
        changes = sorted(
            [(d.toordinal(), -1) for d in hol if d.weekday() < 5]
            + [(d.toordinal(), +1) for d in work if d.weekday() >= 5]
        )
        self._ordinals = [o for o, _ in changes]
        prefix = [0]
        for _, delta in changes:
            prefix.append(prefix[-1] + delta)
        self._prefix = prefix  # _prefix[i] = net change of the first i exceptions
        self._min_prefix = min(prefix)
        self._max_prefix = max(prefix)

    # ----------------------------------------------------------------- construction

    @classmethod
    def from_rows(cls, rows: Iterable[Any]) -> WorkingCalendar:
        """Build from rows of ``(date, kind)``: sequences (extra fields such as a name are ignored) or
        mappings with ``date`` and ``kind`` keys (``csv.DictReader`` rows). Dates are ``date`` objects
        or ISO strings; ``kind`` is ``holiday`` or ``workday``. A date repeated with the same kind is
        fine; with both kinds it is a ``ValueError``, as is a bad row (the message gives its number)."""
        holidays: list[date] = []
        workdays: list[date] = []
        for index, row in enumerate(rows, start=1):
            try:
                day, kind = _parse_row(row)
            except ValueError as exc:
                raise ValueError(f"row {index}: {exc}") from None
            (holidays if kind == HOLIDAY else workdays).append(day)
        return cls(holidays, workdays)

    # ----------------------------------------------------------------- inspection

    @property
    def holidays(self) -> frozenset[date]:
        return self._holidays

    @property
    def workdays(self) -> frozenset[date]:
        return self._workdays

    @property
    def years(self) -> frozenset[int]:
        """Years with at least one listed date (other years follow the plain week)."""
        return frozenset(d.year for d in self._holidays | self._workdays)

    def __repr__(self) -> str:
        return f"<WorkingCalendar: {len(self._holidays)} holidays, {len(self._workdays)} workdays>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WorkingCalendar):
            return NotImplemented
        return self._holidays == other._holidays and self._workdays == other._workdays

    def __hash__(self) -> int:
        return hash((self._holidays, self._workdays))

    # ----------------------------------------------------------------- days

    def _working_ordinal(self, ordinal: int) -> bool:
        if ordinal in self._off:
            return False
        if ordinal in self._on:
            return True
        return (ordinal - 1) % 7 < 5  # ordinal 1 (0001-01-01) is a Monday

    def is_working_day(self, d: date) -> bool:
        """Monday–Friday unless a listed holiday; Saturday/Sunday only when a listed make-up workday."""
        if isinstance(d, datetime) or not isinstance(d, date):
            raise TypeError(f"expected a date, got {d!r}")
        return self._working_ordinal(d.toordinal())

    def _count_up_to(self, ordinal: int) -> int:
        """Working days with ordinal in [1, ordinal]."""
        return _weekdays_up_to(ordinal) + self._prefix[bisect_left(self._ordinals, ordinal + 1)]

    def _nth_working_ordinal(self, k: int) -> int:
        """Ordinal of the k-th working day from date.min (k >= 1): the smallest o with count(o) >= k."""
        # weekdays(o) + min_prefix <= count(o) <= weekdays(o) + max_prefix brackets the answer
        lo = _first_ordinal_with_weekdays(k - self._max_prefix)
        hi = _first_ordinal_with_weekdays(k - self._min_prefix)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._count_up_to(mid) >= k:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def working_days_in(self, first: date, last: date) -> int:
        """Number of working days from ``first`` to ``last``, both included (0 when last < first)."""
        if last < first:
            return 0
        return self._count_up_to(last.toordinal()) - self._count_up_to(first.toordinal() - 1)

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself is not counted).

        ``n == 0`` gives ``start`` when it is a working day, otherwise the next working day.
        Negative ``n`` raises ``ValueError``. The result is always a working day, and for ``n >= 1``
        exactly ``n`` working days lie in ``(start, result]``.
        """
        if isinstance(start, datetime) or not isinstance(start, date):
            raise TypeError(f"add_working_days takes a date (use due_at for a datetime), got {start!r}")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        ordinal = start.toordinal()
        if n == 0:  # the first working day on or after start
            return date.fromordinal(self._nth_working_ordinal(self._count_up_to(ordinal - 1) + 1))
        return date.fromordinal(self._nth_working_ordinal(self._count_up_to(ordinal) + n))

    def next_working_day(self, d: date) -> date:
        """``d`` itself if it is a working day, else the first working day after it."""
        return self.add_working_days(d, 0)

    # ----------------------------------------------------------------- instants

    @staticmethod
    def _split(moment: datetime) -> tuple[int, int]:
        """(date ordinal, microseconds since 00:00) of ``moment`` on Beijing time (UTC+8)."""
        if not isinstance(moment, datetime):
            raise TypeError(f"expected a datetime, got {moment!r}")
        if moment.utcoffset() is None:
            raise ValueError(f"a timezone-aware datetime is required, got {moment!r}")
        local_us = (moment - _EPOCH) // _ONE_US + _OFFSET_US
        days, micros = divmod(local_us, _DAY_US)
        return _EPOCH_ORDINAL + days, micros

    def _position(self, moment: datetime) -> int:
        """Working time from the start of date.min to ``moment``, in microseconds (non-decreasing)."""
        ordinal, micros = self._split(moment)
        position = self._count_up_to(ordinal - 1) * _DAY_US
        if self._working_ordinal(ordinal):
            position += micros
        return position

    def working_days_between(self, start: datetime, end: datetime) -> float:
        """Working days from ``start`` to ``end`` (aware datetimes; negative when end is before start).

        Working days between the two count 1 each; the working day of ``start`` and of ``end`` count
        by the fraction of their 24 hours (Beijing time) inside the interval; days off count 0.
        """
        return (self._position(end) - self._position(start)) / _DAY_US

    def due_at(self, start: datetime, days: int) -> datetime:
        """The earliest instant at which ``days`` working days have passed since ``start``.

        ``days == 0`` gives ``start`` itself. Negative ``days`` raises ``ValueError``. The result is in
        the Asia/Shanghai zone; when the limit runs out with a whole working day it is 00:00 of the
        next calendar day (the end of that working day).
        """
        if days < 0:
            raise ValueError(f"days must be >= 0, got {days}")
        target = self._position(start) + days * _DAY_US
        if days == 0:
            return start.astimezone(SHANGHAI)
        k, micros = divmod(target, _DAY_US)
        if micros:  # during the (k+1)-th working day, `micros` after its 00:00
            ordinal = self._nth_working_ordinal(k + 1)
        else:  # at the end of the k-th working day
            ordinal = self._nth_working_ordinal(k) + 1
        moment = datetime.combine(date.fromordinal(ordinal), time(0), tzinfo=_BEIJING) + timedelta(microseconds=micros)
        return moment.astimezone(SHANGHAI)


PathArg = str | os.PathLike[str]


def _csv_files(paths: PathArg | Iterable[PathArg]) -> list[Path]:
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    files: list[Path] = []
    for item in paths:
        path = Path(item)
        files.extend(sorted(path.glob("*.csv")) if path.is_dir() else [path])
    return files


def load_calendar_csv(paths: PathArg | Iterable[PathArg]) -> WorkingCalendar:
    """Read calendar CSV files (UTF-8, header ``date,kind,name``; ``name`` optional) into a calendar.

    ``paths`` is a file, a directory (all its ``*.csv`` files, in name order) or a list of either.
    A bad row raises ``ValueError`` naming the file and line; so does a header without ``date`` and
    ``kind``. Blank lines and a UTF-8 byte-order mark (spreadsheet exports) are accepted.
    """
    rows: list[tuple[date, str]] = []
    for path in _csv_files(paths):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            fields = [(name or "").strip() for name in (reader.fieldnames or [])]
            if "date" not in fields or "kind" not in fields:
                raise ValueError(f"{path}: the header must name 'date' and 'kind' columns, got {reader.fieldnames!r}")
            reader.fieldnames = fields
            for raw in reader:
                if not any(isinstance(v, str) and v.strip() for v in raw.values()):
                    continue
                try:
                    rows.append(_parse_row(raw))
                except ValueError as exc:
                    raise ValueError(f"{path}, line {reader.line_num}: {exc}") from None
    return WorkingCalendar.from_rows(rows)
