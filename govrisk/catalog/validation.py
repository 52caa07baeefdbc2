"""Checking power data (forms, imports, seed and API share it): pure functions, no database writes.

`normalize_power(raw, lookups)` turns raw input (strings from a form or a file, or typed values) into the
canonical dict that operations write and that snapshots, audit entries and diffs compare, and collects
every error keyed by field name. Nested rows use the WTForms names (`legal_bases-1-law`) so that a form
can put each message under its own input.
"""

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import gettext as _

CODE_RE = re.compile(r"^[A-Za-z0-9_\-.]+$")
PHONE_RE = re.compile(r"^[0-9+\-()（）\s,，、转/]*$")
MAX_DAYS = 3650
MAX_TIERS = 10
MAX_AMOUNT = Decimal("9999999999999999.99")
CENT = Decimal("0.01")

SCALAR_FIELDS = (
    "code", "name", "sub_items", "category", "source", "level", "department_id", "section_id",
    "statutory_days", "promised_days", "is_fee_charged", "fee_basis", "fee_standard", "place", "phone",
    "supervision_channel", "accountability", "is_major_matter", "is_public",
)
LIST_FIELDS = {
    "legal_bases": ("law", "article", "clause"),
    "materials": ("name", "note"),
    "responsibilities": ("stage", "duty"),
    "discretion_tiers": ("name", "conditions", "measure", "min", "max", "unit"),
}
TEXT_LIMITS = {"name": 300, "sub_items": 4000, "fee_basis": 2000, "fee_standard": 2000, "place": 300,
               "phone": 60, "supervision_channel": 2000, "accountability": 4000}
ROW_TEXT_LIMITS = {
    "legal_bases": {"law": 300, "article": 120, "clause": 4000},
    "materials": {"name": 300, "note": 500},
    "responsibilities": {"duty": 4000},
    "discretion_tiers": {"name": 60, "conditions": 2000, "measure": 300, "unit": 20},
}
TRUE_TEXT = {"1", "true", "yes", "y", "on", "是", "√"}
FALSE_TEXT = {"", "0", "false", "no", "n", "off", "否"}


@dataclass
class Lookups:
    """What the checks need to know about the database, gathered by the caller."""

    categories: set[str]
    sources: set[str] = field(default_factory=set)
    levels: set[str] = field(default_factory=set)
    stages: set[str] = field(default_factory=set)
    penalty_category: str = "cf"
    department_ok: object = None  # callable(department_id) -> error text or None
    section_ok: object = None  # callable(department_id, section_id) -> error text or None


def _text(value) -> str:
    if value is None:
        return ""
    return str(value).replace("\r\n", "\n").strip()


def parse_bool(value) -> bool | None:
    """True/False from a bool or 是/否, true/false, 1/0 …; None when unreadable."""
    if isinstance(value, bool):
        return value
    word = _text(value).lower()
    if word in TRUE_TEXT:
        return True
    if word in FALSE_TEXT:
        return False
    return None


def parse_days(value, label: str = "") -> tuple[int | None, str | None]:
    """A time limit in working days: empty → None, else an integer 0–3650 (the message names `label`)."""
    label = label or _("时限")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, bool):
        return None, _("%(label)s必须是整数", label=label)
    if isinstance(value, int):
        number = value
    else:
        text = _text(value)
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        if not re.fullmatch(r"-?\d+", text):
            return None, _("%(label)s“%(text)s”不是整数（工作日数）", label=label, text=text)
        number = int(text)
    if number < 0:
        return None, _("%(label)s不能为负数", label=label)
    if number > MAX_DAYS:
        return None, _("%(label)s不能超过 %(n)s 个工作日", label=label, n=MAX_DAYS)
    return number, None


def parse_amount(value) -> tuple[Decimal | None, str | None]:
    """A discretion bound: a non-negative number with at most two decimals."""
    text = _text(value).replace(",", "").replace("，", "")
    if not text:
        return None, _("必填")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None, _("“%(text)s”不是数字", text=text)
    if not number.is_finite():
        return None, _("“%(text)s”不是数字", text=text)
    if number < 0:
        return None, _("不能为负数")
    if number > MAX_AMOUNT:
        return None, _("数值过大")
    if number != number.quantize(CENT, rounding=ROUND_HALF_UP):
        return None, _("最多两位小数")
    return number.quantize(CENT), None


def number_text(value) -> str:
    """A decimal as canonical text: '5000', '0.5'."""
    if value is None or value == "":
        return ""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def check_tiers(tiers: list[dict]) -> list[tuple[int | None, str, str]]:
    """Order and overlap of discretion tiers: (index or None, field, message) for each problem.

    Each tier is {name, min, max, unit} with Decimal min/max. Tiers are listed from the lightest to the
    heaviest; every range needs min ≤ max, all tiers share one unit, each tier starts at or above the
    end of the previous one and ends above it. Adjacent tiers may share an endpoint ("5000 元以上" after
    "5000 元以下", as standards are written) but never overlap by more than that point.
    """
    problems: list[tuple[int | None, str, str]] = []
    if len(tiers) > MAX_TIERS:
        problems.append((None, "discretion_tiers", _("裁量档次不能超过 %(n)s 个", n=MAX_TIERS)))
    names: dict[str, int] = {}
    for i, tier in enumerate(tiers):
        if tier["name"] in names:
            problems.append((i, "name", _("档次名称“%(name)s”与第 %(n)s 档重复", name=tier["name"],
                                          n=names[tier["name"]] + 1)))
        names.setdefault(tier["name"], i)
        if tier["min"] > tier["max"]:
            problems.append((i, "max", _("上限不能小于下限")))
    units = {t["unit"] for t in tiers}
    if len(units) > 1:
        problems.append((None, "discretion_tiers", _("各档次的单位必须一致（现有：%(units)s）",
                                                     units=_("、").join(sorted(units)))))
    for i in range(1, len(tiers)):
        previous, current = tiers[i - 1], tiers[i]
        if current["min"] < previous["max"] or current["max"] <= previous["max"]:
            problems.append((i, "min", _("与第 %(n)s 档（%(name)s）的幅度重叠或顺序颠倒：应从 %(start)s 起", n=i,
                                         name=previous["name"], start=number_text(previous["max"]))))
    return problems


def tiers_valid(tiers: list[dict]) -> bool:
    return not check_tiers(tiers)


def _rows(raw, name: str) -> list[tuple[int, dict]]:
    """The submitted rows of a list field with their original index; fully empty rows are dropped."""
    rows = raw.get(name) or []
    keys = LIST_FIELDS[name]
    out = []
    for i, row in enumerate(rows):
        row = row or {}
        values = {k: _text(row.get(k, row.get(f"{k}_value"))) for k in keys}
        if name == "responsibilities":  # a stage alone is not content
            if not values["duty"]:
                continue
        elif not any(values.values()):
            continue
        out.append((i, values))
    return out


def normalize_power(raw: dict, lookups: Lookups) -> tuple[dict, dict[str, list[str]]]:
    """The canonical power dict and {field: [messages]} (empty when everything is fine)."""
    errors: dict[str, list[str]] = {}

    def err(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    clean: dict = {}
    for key, limit in TEXT_LIMITS.items():
        clean[key] = _text(raw.get(key))
        if len(clean[key]) > limit:
            err(key, _("不能超过 %(n)s 个字", n=limit))
    if not clean["name"]:
        err("name", _("请填写职权名称"))
    code = clean["code"] = _text(raw.get("code"))
    if code and (len(code) > 60 or not CODE_RE.match(code)):
        err("code", _("编码只能包含字母、数字、下划线、点和连字符（最长 60 个字符）"))
    if clean["phone"] and not PHONE_RE.match(clean["phone"]):
        err("phone", _("电话只能包含数字、空格、括号、加号和连字符"))

    for key, allowed, label, required in (("category", lookups.categories, _("职权类别"), True),
                                          ("source", lookups.sources, _("职权依据类别"), False),
                                          ("level", lookups.levels, _("行使层级"), False)):
        value = _text(raw.get(key))
        clean[key] = value
        if not value:
            if required:
                err(key, _("请选择%(label)s", label=label))
        elif value not in allowed:
            err(key, _("未知的%(label)s“%(value)s”", label=label, value=value))

    department_id = raw.get("department_id")
    try:
        department_id = int(department_id) if department_id not in (None, "", 0, "0") else None
    except (TypeError, ValueError):
        department_id = None
    clean["department_id"] = department_id
    if department_id is None:
        err("department_id", _("请选择责任单位"))
    elif lookups.department_ok is not None and (problem := lookups.department_ok(department_id)):
        err("department_id", problem)
    section_id = raw.get("section_id")
    try:
        section_id = int(section_id) if section_id not in (None, "", 0, "0") else None
    except (TypeError, ValueError):
        section_id = None
    clean["section_id"] = section_id
    if section_id and department_id and lookups.section_ok is not None and (
            problem := lookups.section_ok(department_id, section_id)):
        err("section_id", problem)

    for key, label in (("statutory_days", _("法定时限")), ("promised_days", _("承诺时限"))):
        clean[key], problem = parse_days(raw.get(key), label)
        if problem:
            err(key, problem)
    if clean["statutory_days"] is not None and clean["promised_days"] is not None \
            and clean["promised_days"] > clean["statutory_days"]:
        err("promised_days", _("承诺时限（%(promised)s 个工作日）不能超过法定时限（%(statutory)s 个工作日）",
                               promised=clean["promised_days"], statutory=clean["statutory_days"]))

    for key, label in (("is_fee_charged", _("是否收费")), ("is_major_matter", _("三重一大")),
                       ("is_public", _("对外公开"))):
        default = key == "is_public"
        value = raw.get(key, default)
        parsed = parse_bool(value)
        if parsed is None:
            err(key, _("%(label)s应为“是”或“否”", label=label))
            parsed = default
        clean[key] = parsed
    if clean["is_fee_charged"] and not clean["fee_standard"]:
        err("fee_standard", _("收费的事项须填写收费标准"))
    if not clean["is_fee_charged"]:
        clean["fee_basis"], clean["fee_standard"] = "", ""

    for name, limits in ROW_TEXT_LIMITS.items():
        for i, row in _rows(raw, name):
            for key, limit in limits.items():
                if len(row[key]) > limit:
                    err(f"{name}-{i}-{key}", _("不能超过 %(n)s 个字", n=limit))

    bases = _rows(raw, "legal_bases")
    for i, row in bases:
        if not row["law"]:
            err(f"legal_bases-{i}-law", _("请填写法律法规名称"))
        else:
            row["law"] = row["law"].strip("《》 ")
    clean["legal_bases"] = [row for _, row in bases]
    if not bases:
        err("legal_bases", _("至少需要一条法律依据"))

    materials = _rows(raw, "materials")
    for i, row in materials:
        if not row["name"]:
            err(f"materials-{i}-name", _("请填写材料名称"))
    clean["materials"] = [row for _, row in materials]

    duties = _rows(raw, "responsibilities")
    for i, row in duties:
        if row["stage"] not in lookups.stages:
            err(f"responsibilities-{i}-stage", _("请选择阶段"))
    clean["responsibilities"] = [row for _, row in duties]

    tiers = _rows(raw, "discretion_tiers")
    typed = []
    for i, row in tiers:
        for key, label in (("name", _("档次名称")), ("conditions", _("适用情形")), ("unit", _("单位"))):
            if not row[key]:
                err(f"discretion_tiers-{i}-{key}", _("请填写%(label)s", label=label))
        ok = True
        for key in ("min", "max"):
            value, problem = parse_amount(row[key])
            if problem:
                err(f"discretion_tiers-{i}-{key}", problem)
                ok = False
            else:
                row[key] = number_text(value)
        if ok:
            typed.append((i, {**row, "min": Decimal(row["min"]), "max": Decimal(row["max"])}))
    if tiers and clean["category"] and clean["category"] != lookups.penalty_category:
        err("discretion_tiers", _("裁量基准只适用于行政处罚类职权"))
    if len(typed) == len(tiers):
        indexes = [i for i, _ in typed]
        for position, key, message in check_tiers([t for _, t in typed]):
            err("discretion_tiers" if position is None else f"discretion_tiers-{indexes[position]}-{key}", message)
    clean["discretion_tiers"] = [row for _, row in tiers]
    return clean, errors


def first_error(errors: dict[str, list[str]]) -> tuple[str, str]:
    key = next(iter(errors))
    return key, errors[key][0]
