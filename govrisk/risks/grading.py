"""Grading methods as data: validate a method's rules, suggest a level with the reasons, and the same rule in SQL.

Rules (JSON)::

    {"levels": [{"level": 1, "when_any": [{"field": "likelihood", "op": ">=", "value": 4, "why": "…"}, …]},
                {"level": 2, "when_any": […]}],
     "otherwise": {"level": 3, "why": "…"}}

The first level whose conditions match (any of them) is suggested; else `otherwise`. Fields: likelihood and
severity (1–5), score (likelihood × severity, 1–25), discretion (large/medium/small) and is_major_matter (三重一大).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

NUMERIC_FIELDS = {"likelihood": (1, 5), "severity": (1, 5), "score": (1, 25)}
DISCRETION_VALUES = ("large", "medium", "small")
FIELDS = (*NUMERIC_FIELDS, "discretion", "is_major_matter")
NUMERIC_OPS = (">=", ">", "<=", "<", "==")
FIELD_TITLES = {"likelihood": _l("发生几率"), "severity": _l("危害程度"), "score": _l("风险值（几率×程度）"),
                "discretion": _l("自由裁量空间"), "is_major_matter": _l("三重一大事项")}
DISCRETION_TITLES = {"large": _l("大"), "medium": _l("中"), "small": _l("小")}
LEVEL_NAMES = {1: _l("一级"), 2: _l("二级"), 3: _l("三级")}

# The default method (v1), from the source text 三(二)2 and DESIGN §5.
DEFAULT_RULES = {
    "levels": [
        {"level": 1, "when_any": [
            {"field": "likelihood", "op": ">=", "value": 4, "why": "发生几率高"},
            {"field": "severity", "op": ">=", "value": 5,
             "why": "一旦发生可能造成严重损害后果，有可能触犯国家法律、构成犯罪"},
        ]},
        {"level": 2, "when_any": [
            {"field": "likelihood", "op": ">=", "value": 3, "why": "发生几率较高"},
            {"field": "severity", "op": ">=", "value": 4,
             "why": "一旦发生可能造成较为严重损害后果，有可能违反党纪政纪、受到党纪政纪处分"},
        ]},
    ],
    "otherwise": {"level": 3, "why": "发生几率较小，或一旦发生可能造成不良社会影响"},
}
DEFAULT_NAME = "《实施意见》三级评定法"


class RulesError(ValueError):
    """The rules are not a valid grading method; `problems` lists every reason."""

    def __init__(self, problems: list[str]):
        super().__init__("；".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Suggestion:
    level: int | None
    why: list[str] = field(default_factory=list)


def _check_condition(cond, where: str) -> list[str]:
    if not isinstance(cond, dict):
        return [_("%(where)s 应为对象", where=where)]
    problems = []
    name, op, value = cond.get("field"), cond.get("op"), cond.get("value")
    if name not in FIELDS:
        return [_("%(where)s 的 field“%(name)s”无效，可选：%(fields)s", where=where, name=name,
                  fields="、".join(FIELDS))]
    if name in NUMERIC_FIELDS:
        low, high = NUMERIC_FIELDS[name]
        if op not in NUMERIC_OPS:
            problems.append(_("%(where)s 的 op“%(op)s”无效，可选：%(ops)s", where=where, op=op,
                              ops=" ".join(NUMERIC_OPS)))
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems.append(_("%(where)s 的 value 应为 %(low)s–%(high)s 的整数", where=where, low=low, high=high))
    elif name == "discretion":
        values = value if isinstance(value, list) else [value]
        if op not in ("==", "in") or not values or any(v not in DISCRETION_VALUES for v in values):
            problems.append(_("%(where)s 的 discretion 条件应为 op “==”或“in”，value 取 large/medium/small",
                              where=where))
    elif op != "==" or not isinstance(value, bool):
        problems.append(_("%(where)s 的 is_major_matter 条件应为 op “==”，value 为 true 或 false", where=where))
    if "why" in cond and not isinstance(cond["why"], str):
        problems.append(_("%(where)s 的 why 应为文字", where=where))
    return problems


def validate_rules(rules) -> dict:
    """The rules, checked; raises RulesError listing every problem."""
    if not isinstance(rules, dict):
        raise RulesError([_("规则应为 JSON 对象，包含 levels 和 otherwise")])
    problems, seen = [], []
    levels = rules.get("levels")
    if not isinstance(levels, list) or not levels:
        problems.append(_("levels 应为非空数组"))
        levels = []
    for index, entry in enumerate(levels):
        where = f"levels[{index}]"
        if not isinstance(entry, dict) or entry.get("level") not in (1, 2):
            problems.append(_("%(where)s 的 level 应为 1 或 2", where=where))
            continue
        if seen and entry["level"] <= seen[-1]:
            problems.append(_("%(where)s：等级应从高到低（先 1 后 2）且不重复", where=where))
        seen.append(entry["level"])
        conditions = entry.get("when_any")
        if not isinstance(conditions, list) or not conditions:
            problems.append(_("%(where)s 的 when_any 应为非空数组", where=where))
            continue
        for c_index, cond in enumerate(conditions):
            problems += _check_condition(cond, f"{where}.when_any[{c_index}]")
    otherwise = rules.get("otherwise")
    if not isinstance(otherwise, dict) or otherwise.get("level") != 3:
        problems.append(_("otherwise 应为 {\"level\": 3, \"why\": \"…\"}"))
    unknown = set(rules) - {"levels", "otherwise"}
    if unknown:
        problems.append(_("未知的键：%(keys)s", keys="、".join(sorted(unknown))))
    if problems:
        raise RulesError(problems)
    return rules


def parse_rules(text: str) -> dict:
    """Rules from JSON text, checked."""
    try:
        rules = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise RulesError([_("不是有效的 JSON：%(error)s", error=exc)]) from None
    return validate_rules(rules)


def default_rules() -> dict:
    return copy.deepcopy(DEFAULT_RULES)


def _value_of(name: str, inputs: dict):
    if name == "score":
        lk, sv = inputs.get("likelihood"), inputs.get("severity")
        return lk * sv if lk is not None and sv is not None else None
    return inputs.get(name)


def _matches(cond: dict, actual) -> bool:
    op, value = cond["op"], cond["value"]
    if actual is None:
        return False
    if op == "in":
        return actual in value
    if op == "==":
        return actual in value if isinstance(value, list) else actual == value
    return {">=": actual >= value, ">": actual > value, "<=": actual <= value, "<": actual < value}[op]


def describe(cond: dict, actual) -> str:
    """'发生几率 4 ≥ 4：发生几率高' — the condition as it matched, for the suggestion's "why"."""
    name, op, value = cond["field"], cond["op"], cond["value"]
    title = str(FIELD_TITLES[name])
    if name == "discretion":
        text = _("%(title)s“%(value)s”", title=title, value=str(DISCRETION_TITLES.get(actual, actual)))
    elif name == "is_major_matter":
        text = _("%(title)s（%(value)s）", title=title, value=_("是") if actual else _("否"))
    else:
        symbol = {">=": "≥", "<=": "≤", "==": "="}.get(op, op)
        text = f"{title} {actual} {symbol} {value}"
    return _("%(text)s：%(why)s", text=text, why=cond["why"]) if cond.get("why") else text


def suggest(rules: dict, inputs: dict) -> Suggestion:
    """The level the rules suggest for these inputs, with the reasons; None while likelihood/severity are missing."""
    if inputs.get("likelihood") is None or inputs.get("severity") is None:
        return Suggestion(None, [_("发生几率和危害程度尚未填写，无法给出建议等级")])
    for entry in rules["levels"]:
        why = [describe(c, _value_of(c["field"], inputs)) for c in entry["when_any"]
               if _matches(c, _value_of(c["field"], inputs))]
        if why:
            return Suggestion(entry["level"], why)
    higher = _("、").join(str(LEVEL_NAMES[e["level"]]) for e in rules["levels"])
    otherwise = rules["otherwise"].get("why") or ""
    if otherwise:
        return Suggestion(3, [_("不符合%(levels)s的任一条件：%(why)s", levels=higher, why=otherwise)])
    return Suggestion(3, [_("不符合%(levels)s的任一条件", levels=higher)])


def _sql_condition(cond: dict, columns: dict):
    name, op, value = cond["field"], cond["op"], cond["value"]
    column = columns["likelihood"] * columns["severity"] if name == "score" else columns[name]
    if name == "discretion":
        return column.in_(value if isinstance(value, list) else [value])
    if name == "is_major_matter":
        return column.is_(value)
    return {">=": column >= value, ">": column > value, "<=": column <= value, "<": column < value,
            "==": column == value}[op]


def sql_suggestion(rules: dict, columns: dict):
    """The suggestion as a SQL CASE over `columns` (likelihood, severity, discretion, is_major_matter); NULL when
    likelihood or severity is missing — so a re-grade preview is one query."""
    whens = [(sa.or_(columns["likelihood"].is_(None), columns["severity"].is_(None)), sa.null())]
    for entry in rules["levels"]:
        whens.append((sa.or_(*[_sql_condition(c, columns) for c in entry["when_any"]]), entry["level"]))
    return sa.case(*whens, else_=rules["otherwise"]["level"])
