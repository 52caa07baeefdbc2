"""Read the numbers written in Chinese reports: 1500, 1,500, 1.2万, 三千余, 两万, 十几, 一百零五."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import NamedTuple

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
BIG_UNITS = {"万": 10**4, "亿": 10**8}
# 余/多/来 follow a figure ("1500余", "十多", "二十来"); 几/数 stand in for a digit ("十几", "数百").
APPROX_MARKS = "余多来"
VAGUE_DIGITS = "几数"

_ARABIC = r"[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+(?:\.[0-9]+)?"
_CN_DIGITS = "".join(DIGITS)
_CN_UNITS = "".join(SMALL_UNITS) + "".join(BIG_UNITS)
# Regex source for one written number; full-width digits must be folded to ASCII first (see FOLD_WIDTH).
NUMERAL_PATTERN = (
    rf"(?:{_ARABIC}|[{_CN_DIGITS}{_CN_UNITS}]|[{VAGUE_DIGITS}](?=[{_CN_UNITS}]))"
    rf"(?:{_ARABIC}|[{_CN_DIGITS}{_CN_UNITS}{VAGUE_DIGITS}{APPROX_MARKS}])*"
)
# One-to-one, so offsets into the folded text are offsets into the original.
FOLD_WIDTH = str.maketrans("０１２３４５６７８９．，", "0123456789.,")

_TOKEN = re.compile(rf"(?P<arabic>{_ARABIC})|(?P<char>.)", re.S)


class Numeral(NamedTuple):
    value: int | float
    approx: bool


class _Reader:
    """Left-to-right accumulator: result (万/亿 levels) + section (below 万) + the pending digit."""

    def __init__(self) -> None:
        self.result = Decimal(0)
        self.section = Decimal(0)
        self.digit: Decimal | None = None
        self.digit_is_single = False  # a lone 1-9 right after a unit may be an elided one ("一万五")
        self.digit_is_vague = False  # 几/数: one of the unit before a unit ("几十"), nothing at the end ("十几")
        self.last_unit: int | None = None  # unit just before the pending digit, None after 零
        self.small_cap = 10**4  # small units must descend inside a section
        self.approx = False
        self.seen = False
        self.closed = False  # after 余/多/来 only a big unit may follow ("三十余万")

    def feed(self, token: str, arabic: bool) -> bool:
        if arabic:
            return self._digit(Decimal(token.replace(",", "")), single=len(token) == 1)
        if token in DIGITS:
            return self._cn_digit(DIGITS[token])
        if token in SMALL_UNITS:
            return self._small(SMALL_UNITS[token])
        if token in BIG_UNITS:
            return self._big(BIG_UNITS[token])
        if token in VAGUE_DIGITS:
            self.approx = True
            return self._digit(Decimal(1), single=False, vague=True)
        if token in APPROX_MARKS:
            self.approx = True
            self.closed = self.seen
            return self.seen
        return False

    def _cn_digit(self, value: int) -> bool:
        if value == 0 and self.seen:
            self.last_unit = None
            return not self.closed
        if self.digit is not None and self.digit_is_single and value == self.digit + 1:
            self.approx = True  # "三四百", "十五六个": a range, keep its lower end
            return True
        return self._digit(Decimal(value), single=True)

    def _digit(self, value: Decimal, single: bool, vague: bool = False) -> bool:
        if self.closed or self.digit is not None:
            return False
        self.digit, self.digit_is_single, self.digit_is_vague, self.seen = value, single, vague, True
        return True

    def _small(self, unit: int) -> bool:
        if self.closed or unit >= self.small_cap:
            return False
        self.section += (self.digit if self.digit is not None else 1) * unit
        self.small_cap, self.last_unit, self.digit, self.seen = unit, unit, None, True
        return True

    def _big(self, unit: int) -> bool:
        level = self.section + (self.digit or 0)
        if self.digit is None and level == 0 and self.result == 0:
            level = Decimal(1)  # "万余人", "上万": a bare 万 is one 万
        if unit == BIG_UNITS["亿"]:
            self.result = (self.result + level) * unit
        else:
            self.result += level * unit
        self.section, self.digit, self.small_cap, self.last_unit = Decimal(0), None, 10**4, unit
        self.closed, self.seen = False, True
        return True

    def stands_alone_vague(self) -> bool:
        return self.digit_is_vague and self.result == 0 and self.section == 0

    def value(self) -> Decimal:
        tail = Decimal(0) if self.digit is None or self.digit_is_vague else self.digit
        if self.digit is not None and self.digit_is_single and self.last_unit:
            tail = self.digit * self.last_unit / 10  # "一万五" = 15000, "二百五" = 250
        return self.result + self.section + tail


def parse_numeral(text: str) -> Numeral | None:
    """Read one written number; None if the text is not a well-formed number."""
    reader = _Reader()
    for match in _TOKEN.finditer(text.strip().translate(FOLD_WIDTH)):
        if not reader.feed(match.group(), arabic=match.lastgroup == "arabic"):
            return None
    if not reader.seen or reader.stands_alone_vague():
        return None
    return Numeral(as_number(reader.value()), reader.approx)


def as_number(value: Decimal) -> int | float:
    """An int when the value is whole, else a float (JSON-friendly)."""
    return int(value) if value == value.to_integral_value() else float(value)
