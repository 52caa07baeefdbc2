"""Read side of the catalog: filtered, sorted and paginated in SQL; versions, diffs and the catalog on a date.

Two sources, never mixed: `Power` (working copies, for department users and inspectors, always scoped to the
user's departments) and `PowerVersion` (published snapshots, for the portal, the anonymous API, the booklet
and "the catalog as it stood on date D").
"""

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, g, has_app_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from govrisk.catalog.models import Power, PowerVersion, ResponsibilityStage
from govrisk.core.pagination import Page, paginate
from govrisk.core.reference import ReferenceItem
from govrisk.extensions import db
from govrisk.org.models import Department
from govrisk.workflow.register import RegisterState

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def get_power_by_code(code: str) -> Power | None:
    """The power (working copy) with this code, or None."""
    if not code:
        return None
    return db.session.scalar(sa.select(Power).where(Power.code == code.strip()))


def reference_names(kind: str) -> dict[str, str]:
    """key → Chinese name for one reference list (inactive items included, so old records keep their names)."""
    cache = g.setdefault("reference_names", {}) if has_app_context() else {}
    if kind not in cache:
        rows = db.session.execute(sa.select(ReferenceItem.key, ReferenceItem.name_zh)
                                  .where(ReferenceItem.kind == kind)
                                  .order_by(ReferenceItem.sort_order, ReferenceItem.key))
        cache[kind] = {key: name for key, name in rows}
    return cache[kind]


def reference_choices(kind: str) -> list[tuple[str, str]]:
    """(key, title) of the active items, for select fields and filters."""
    rows = db.session.scalars(sa.select(ReferenceItem).where(ReferenceItem.kind == kind,
                                                             ReferenceItem.is_active.is_(True))
                              .order_by(ReferenceItem.sort_order, ReferenceItem.key))
    return [(item.key, item.title) for item in rows]


# ------------------------------------------------------------------------------------------------
# filters
# ------------------------------------------------------------------------------------------------

SORTS = ("code", "name", "category", "state", "updated", "department")


def _order(model, sort: str, descending: bool) -> list:
    """ORDER BY for a sort key. lower(code) rather than code: the sort is then answered from the covering
    counts index (filter + top-N sort) instead of walking the whole code index with a row lookup per entry,
    which is slow when the filters are selective. Codes are upper-case, so the order is the same."""
    code = sa.func.lower(model.code)
    published = model is PowerVersion
    columns = {
        "code": (code,),
        "name": (model.name, code),
        "category": (model.category, code),
        "state": (model.category if published else model.state, code),
        "updated": (model.published_at if published else model.updated_at,),
        "department": (model.department_id, code),
    }[sort]
    ordered = [c.desc() for c in columns] if descending else list(columns)
    return [*ordered, model.id]


@dataclass
class PowerFilters:
    department_id: int | None = None
    category: str = ""
    state: str = ""
    major: str = ""  # "1", "0" or ""
    q: str = ""
    sort: str = "code"
    descending: bool = False
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> "PowerFilters":
        """Read ?department=&category=&state=&major=&q=&sort= (id or code for department; '-' sorts descending)."""
        filters = cls()
        department = (args.get("department") or "").strip()
        if department:
            if department.isdigit():
                filters.department_id = int(department)
            else:
                found = db.session.scalar(sa.select(Department.id).where(Department.code == department))
                filters.department_id = found if found is not None else -1
                if found is None:
                    filters.errors.append(_("单位“%(value)s”不存在", value=department))
        filters.category = (args.get("category") or "").strip()
        state = (args.get("state") or "").strip()
        if state and state not in {s.value for s in RegisterState}:
            filters.errors.append(_("状态“%(value)s”无效", value=state))
            state = ""
        filters.state = state
        major = (args.get("major") or "").strip()
        filters.major = major if major in ("1", "0") else ""
        filters.q = (args.get("q") or "").strip()[:100]
        sort = (args.get("sort") or "code").strip()
        filters.descending = sort.startswith("-")
        sort = sort.lstrip("-")
        filters.sort = sort if sort in SORTS else "code"
        return filters

    def args(self, **overrides) -> dict:
        """The query-string form of these filters (for links)."""
        values = {"department": self.department_id or "", "category": self.category, "state": self.state,
                  "major": self.major, "q": self.q, "sort": ("-" if self.descending else "") + self.sort}
        values.update(overrides)
        return {k: v for k, v in values.items() if v not in ("", None)}


def _subtree(department_id: int):
    path = db.session.scalar(sa.select(Department.path).where(Department.id == department_id))
    if path is None:
        return sa.select(sa.literal(-1))
    return sa.select(Department.id).where(Department.path.startswith(path, autoescape=True))


def _conditions(model, filters: PowerFilters, visible_ids, *, skip: tuple = ()) -> list:
    conds = []
    if visible_ids is not None:
        conds.append(model.department_id.in_(sorted(visible_ids) or [-1]))
    if filters.department_id and "department" not in skip:
        conds.append(model.department_id.in_(_subtree(filters.department_id)))
    if filters.category and "category" not in skip:
        conds.append(model.category == filters.category)
    if filters.major:
        conds.append(model.is_major_matter.is_(filters.major == "1"))
    if filters.q:
        conds.append(model.search_text.contains(filters.q.lower(), autoescape=True))
    if model is Power and "state" not in skip:
        if filters.state:
            conds.append(Power.state == RegisterState(filters.state))
        else:
            conds.append(Power.state != RegisterState.RETIRED)
    return conds


def _page(model, conditions: list, order: list, *, total: int | None, page: int | None, per_page: int | None,
          options: tuple = ()) -> Page:
    """One page in two steps: the ids of the page (from the index), then those rows with their relations.

    When the total is already known (from the grouped counts) no COUNT query is run.
    """
    if total is None:
        total = db.session.scalar(sa.select(sa.func.count(model.id)).where(*conditions)) or 0
    per_page = min(per_page or _int_arg("per_page", current_app.config["PAGE_SIZE"]), 200)
    page = min(page or _int_arg("page", 1), max(1, math.ceil(total / per_page)))
    ids = list(db.session.scalars(sa.select(model.id).where(*conditions).order_by(*order)
                                  .limit(per_page).offset((page - 1) * per_page)))
    rows = {row.id: row for row in db.session.scalars(sa.select(model).where(model.id.in_(ids or [-1]))
                                                      .options(*options))}
    return Page([rows[i] for i in ids if i in rows], total, page, per_page)


def _int_arg(name: str, default: int) -> int:
    try:
        return max(1, int(request.args.get(name, default)))
    except (TypeError, ValueError):
        return default


def search_powers(filters: PowerFilters, visible_ids, *, page: int | None = None, per_page: int | None = None,
                  total: int | None = None):
    """A page of working copies within the user's departments."""
    return _page(Power, _conditions(Power, filters, visible_ids), _order(Power, filters.sort, filters.descending),
                 total=total, page=page, per_page=per_page, options=(selectinload(Power.department),))


@dataclass
class Counts:
    """The number of matches and the facets, from one grouped scan (department × category)."""

    total: int
    category: list[tuple[str, str, int]]
    department: list[tuple[int, str, int]]

    def __getitem__(self, key):  # counts["category"] as well as counts.category (templates)
        return getattr(self, key)


def counts(filters: PowerFilters, visible_ids, *, published: bool = False, public_only: bool = True) -> Counts:
    """Total, counts by category (under the department filter) and by department (under the category filter).

    One GROUP BY department, category over the other filters, answered from a covering index; the page itself
    is then fetched without a COUNT query.
    """
    model = PowerVersion if published else Power
    extra = []
    if published:
        extra.append(PowerVersion.is_current.is_(True))
        if public_only:
            extra.append(PowerVersion.is_public.is_(True))
    stmt = (sa.select(model.department_id, model.category, sa.func.count())
            .where(*_conditions(model, filters, visible_ids, skip=("department", "category")), *extra)
            .group_by(model.department_id, model.category))
    rows = list(db.session.execute(stmt))
    subtree = set(db.session.scalars(_subtree(filters.department_id))) if filters.department_id else None
    in_department = (lambda d: True) if subtree is None else (lambda d: d in subtree)  # noqa: E731
    in_category = (lambda c: True) if not filters.category else (lambda c: c == filters.category)  # noqa: E731
    by_category: dict[str, int] = {}
    by_department: dict[int, int] = {}
    total = 0
    for department_id, category, n in rows:
        if in_department(department_id):
            by_category[category] = by_category.get(category, 0) + n
        if in_category(category):
            by_department[department_id] = by_department.get(department_id, 0) + n
        if in_department(department_id) and in_category(category):
            total += n
    names = reference_names("power_category")
    order = {key: i for i, key in enumerate(names)}
    categories = sorted(((k, names.get(k, k), n) for k, n in by_category.items()),
                        key=lambda row: (order.get(row[0], len(order)), row[0]))
    departments = []
    if by_department:
        for dept_id, name in db.session.execute(sa.select(Department.id, Department.name)
                                                .where(Department.id.in_(list(by_department)))
                                                .order_by(Department.path)):
            departments.append((dept_id, name, by_department[dept_id]))
    return Counts(total, categories, departments)


def facet_counts(filters: PowerFilters, visible_ids, *, published: bool = False) -> Counts:
    return counts(filters, visible_ids, published=published)


def iter_powers(filters: PowerFilters, visible_ids, *, batch: int = 500):
    """Every matching working copy, streamed in batches (exports)."""
    stmt = (sa.select(Power).where(*_conditions(Power, filters, visible_ids))
            .options(selectinload(Power.department), selectinload(Power.legal_bases))
            .order_by(Power.department_id, Power.category, Power.code))
    offset = 0
    while True:
        rows = list(db.session.scalars(stmt.limit(batch).offset(offset)))
        yield from rows
        if len(rows) < batch:
            return
        offset += batch


def count_powers(filters: PowerFilters, visible_ids) -> int:
    return db.session.scalar(sa.select(sa.func.count(Power.id)).where(*_conditions(Power, filters, visible_ids)))


# ------------------------------------------------------------------------------------------------
# versions
# ------------------------------------------------------------------------------------------------


def current_version(power_id: int) -> PowerVersion | None:
    """The version the portal shows now, if any."""
    return db.session.scalar(sa.select(PowerVersion).where(PowerVersion.power_id == power_id,
                                                           PowerVersion.is_current.is_(True)))


def versions_of(power_id: int) -> list[PowerVersion]:
    stmt = (sa.select(PowerVersion).where(PowerVersion.power_id == power_id)
            .options(selectinload(PowerVersion.published_by)).order_by(PowerVersion.number.desc()))
    return list(db.session.scalars(stmt))


def get_version(power_id: int, number: int) -> PowerVersion | None:
    return db.session.scalar(sa.select(PowerVersion).where(PowerVersion.power_id == power_id,
                                                           PowerVersion.number == number))


def end_of_day(day: date) -> datetime:
    """The first instant after `day` in China Standard Time (the catalog "as it stood on" that day)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)


def catalog_on(day: date, filters: PowerFilters, visible_ids, *, public_only: bool = False, page: int | None = None,
               per_page: int | None = None):
    """A page of the versions in force at the end of `day`: published by then and not yet superseded."""
    cutoff = end_of_day(day)
    conds = [PowerVersion.published_at < cutoff,
             sa.or_(PowerVersion.superseded_at.is_(None), PowerVersion.superseded_at >= cutoff)]
    if public_only:
        conds.append(PowerVersion.is_public.is_(True))
    stmt = (sa.select(PowerVersion).where(*conds, *_conditions(PowerVersion, filters, visible_ids))
            .options(selectinload(PowerVersion.department)).order_by(PowerVersion.code))
    return paginate(stmt, page=page, per_page=per_page)


# ------------------------------------------------------------------------------------------------
# the published catalog (portal, anonymous API, booklet)
# ------------------------------------------------------------------------------------------------


def _published(filters: PowerFilters, visible_ids=None, *, public_only: bool = True) -> list:
    conds = [PowerVersion.is_current.is_(True), *_conditions(PowerVersion, filters, visible_ids)]
    if public_only:
        conds.append(PowerVersion.is_public.is_(True))
    return conds


def search_published(filters: PowerFilters, *, visible_ids=None, public_only: bool = True, page: int | None = None,
                     per_page: int | None = None, total: int | None = None):
    """A page of current published versions: public ones for everybody (internal ones only when asked)."""
    return _page(PowerVersion, _published(filters, visible_ids, public_only=public_only),
                 _order(PowerVersion, filters.sort, filters.descending), total=total, page=page, per_page=per_page,
                 options=(selectinload(PowerVersion.department),))


def public_version(code: str) -> PowerVersion | None:
    """The published, public version of the power with this code — what anybody may read."""
    return db.session.scalar(sa.select(PowerVersion).where(
        PowerVersion.code == (code or "").strip(), PowerVersion.is_current.is_(True),
        PowerVersion.is_public.is_(True)))


def iter_published(filters: PowerFilters, visible_ids, *, public_only: bool, batch: int = 500):
    """Current published versions ordered by department, category and code, streamed (booklet)."""
    category_order = (sa.select(ReferenceItem.sort_order).where(ReferenceItem.kind == "power_category",
                                                                ReferenceItem.key == PowerVersion.category)
                      .scalar_subquery())
    stmt = (sa.select(PowerVersion, Department.path)
            .join(Department, Department.id == PowerVersion.department_id)
            .where(*_published(filters, visible_ids, public_only=public_only))
            .order_by(Department.path, category_order, PowerVersion.category, PowerVersion.code))
    offset = 0
    while True:
        rows = [row[0] for row in db.session.execute(stmt.limit(batch).offset(offset))]
        yield from rows
        if len(rows) < batch:
            return
        offset += batch


def count_published(filters: PowerFilters, visible_ids, *, public_only: bool) -> int:
    return db.session.scalar(sa.select(sa.func.count(PowerVersion.id))
                             .where(*_published(filters, visible_ids, public_only=public_only)))


def portal_departments() -> list[tuple[int, str]]:
    """Departments that have public published powers (for the portal's filter)."""
    stmt = (sa.select(Department.id, Department.name).where(Department.id.in_(
        sa.select(PowerVersion.department_id).where(PowerVersion.is_current.is_(True),
                                                    PowerVersion.is_public.is_(True)).distinct()))
            .order_by(Department.path))
    return [(row.id, row.name) for row in db.session.execute(stmt)]


# ------------------------------------------------------------------------------------------------
# diffs
# ------------------------------------------------------------------------------------------------

SCALAR_LABELS = (
    ("code", _l("编码")), ("name", _l("职权名称")), ("sub_items", _l("子项")), ("category_name", _l("职权类别")),
    ("source_name", _l("职权依据类别")), ("level_name", _l("行使层级")), ("department_name", _l("责任单位")),
    ("section_name", _l("承办科室")), ("statutory_days", _l("法定时限（工作日）")),
    ("promised_days", _l("承诺时限（工作日）")), ("is_fee_charged", _l("是否收费")), ("fee_basis", _l("收费依据")),
    ("fee_standard", _l("收费标准")), ("place", _l("办理地点")), ("phone", _l("咨询电话")),
    ("supervision_channel", _l("监督投诉渠道")), ("accountability", _l("追责情形")),
    ("is_major_matter", _l("三重一大事项")), ("is_public", _l("对外公开")),
)
LIST_LABELS = {
    "legal_bases": (_l("法律依据"), (("law", _l("法律法规")), ("article", _l("条款")), ("clause", _l("条文内容")))),
    "materials": (_l("申请材料"), (("name", _l("材料名称")), ("note", _l("说明")))),
    "responsibilities": (_l("责任事项"), (("stage", _l("阶段")), ("duty", _l("责任内容")))),
    "discretion_tiers": (_l("裁量基准"), (("name", _l("档次")), ("conditions", _l("适用情形")),
                                      ("measure", _l("处理措施")), ("min", _l("下限")), ("max", _l("上限")),
                                      ("unit", _l("单位")))),
}


@dataclass
class DiffRow:
    label: str
    before: str
    after: str

    @property
    def kind(self) -> str:
        if not self.before:
            return "added"
        if not self.after:
            return "removed"
        return "changed"


def display_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return str(value)


def _flatten(data: dict) -> dict[str, tuple[str, str]]:
    """label key → (label, value) for every field of a snapshot, list items numbered from 1."""
    out = {}
    for key, label in SCALAR_LABELS:
        out[key] = (str(label), display_value(data.get(key)))
    for name, (title, fields) in LIST_LABELS.items():
        for i, row in enumerate(data.get(name) or [], start=1):
            for key, label in fields:
                value = row.get(key, "")
                if name == "responsibilities" and key == "stage" and value:
                    value = ResponsibilityStage(value).title
                out[f"{name}.{i}.{key}"] = (_("%(list)s %(n)s · %(field)s", list=title, n=i, field=label),
                                            display_value(value))
    return out


def diff_snapshots(before: dict, after: dict) -> list[DiffRow]:
    """Field-by-field differences between two snapshots, in the order of the page."""
    a, b = _flatten(before), _flatten(after)
    keys = list(a) + [k for k in b if k not in a]
    rows = []
    for key in keys:
        label = (a.get(key) or b.get(key))[0]
        old, new = a.get(key, (label, ""))[1], b.get(key, (label, ""))[1]
        if old != new:
            rows.append(DiffRow(label, old, new))
    return rows


def snapshot_of(version: PowerVersion) -> dict:
    return json.loads(version.snapshot)
