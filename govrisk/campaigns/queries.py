"""Read side of campaigns: who acts for which unit, lists with filters, report totals, roll-ups, education figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from govrisk.campaigns.extraction import INDICATORS, Figured, combine_totals
from govrisk.campaigns.models import (
    CUSTOM,
    Campaign,
    CampaignKind,
    EducationSession,
    IndicatorValue,
    ReportActivity,
    ReportingUnit,
    ReportState,
    UnitMember,
    UnitReport,
)
from govrisk.core.pagination import paginate
from govrisk.core.reference import reference_items
from govrisk.extensions import db

# --------------------------------------------------------------------------------------------
# membership and scope
# --------------------------------------------------------------------------------------------


def member_unit_ids(user) -> set[int]:
    """The reporting units the user acts for."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "id", None) is None:
        return set()
    return set(db.session.scalars(sa.select(UnitMember.unit_id).where(UnitMember.user_id == user.id)))


def is_member(user, unit_id: int) -> bool:
    """Whether the user acts for this unit."""
    return unit_id in member_unit_ids(user)


def _member_paths(user) -> list[str]:
    if not getattr(user, "is_authenticated", False):
        return []
    stmt = sa.select(ReportingUnit.path).join(UnitMember, UnitMember.unit_id == ReportingUnit.id)
    return list(db.session.scalars(stmt.where(UnitMember.user_id == user.id)))


def sees_all_units(user) -> bool:
    return user.is_authenticated and (user.can("inspect.all") or user.can("campaigns.units.manage"))


def visible_paths(user) -> list[str] | None:
    """None when the user sees every unit; else the paths of the units they act for (each with its subtree)."""
    return None if sees_all_units(user) else _member_paths(user)


def in_subtrees(paths: list[str] | None):
    """An SQL condition: the unit lies in one of the subtrees (None = no restriction)."""
    if paths is None:
        return sa.true()
    if not paths:
        return sa.false()
    return sa.or_(*(ReportingUnit.path.startswith(p) for p in paths))


def can_see_unit(user, unit: ReportingUnit) -> bool:
    """Units of one's own and their sub-units; inspectors and unit administrators see all."""
    paths = visible_paths(user)
    return paths is None or any(unit.path.startswith(p) for p in paths)


def can_see_campaign(user, campaign: Campaign) -> bool:
    """A campaign whose tree includes one of the user's units (or lies under one)."""
    paths = visible_paths(user)
    root = campaign.root_unit.path
    return paths is None or any(p.startswith(root) or root.startswith(p) for p in paths)


# --------------------------------------------------------------------------------------------
# reference lists
# --------------------------------------------------------------------------------------------


def indicator_choices() -> list[tuple[str, str]]:
    """The standard indicators (key, 中文名) in display order: the editable reference list, else the built-in one."""
    items = reference_items("campaign_indicator")
    if items:
        return [(item.key, item.title) for item in items]
    return [(key, label.title) for key, label in INDICATORS.items()]


def _indicator_titles() -> dict[str, str]:
    titles = {key: label.title for key, label in INDICATORS.items()}
    titles.update({item.key: item.title for item in reference_items("campaign_indicator", active_only=False)})
    return titles


def default_unit(key: str) -> str:
    """The usual counting unit of a standard indicator."""
    if key in INDICATORS:
        return INDICATORS[key].unit
    for item in reference_items("campaign_indicator", active_only=False):
        if item.key == key:
            return item.description.replace("，", ",").replace("、", ",").split(",")[0].strip()[:20]
    return ""


def activity_type_choices() -> list[tuple[str, str]]:
    return [(item.key, item.title) for item in reference_items("campaign_activity_type")]


def activity_type_titles() -> dict[str, str]:
    return {item.key: item.title for item in reference_items("campaign_activity_type", active_only=False)}


def education_form_choices() -> list[tuple[str, str]]:
    return [(item.key, item.title) for item in reference_items("education_form")]


def education_form_titles() -> dict[str, str]:
    return {item.key: item.title for item in reference_items("education_form", active_only=False)}


# --------------------------------------------------------------------------------------------
# units
# --------------------------------------------------------------------------------------------


def get_unit_by_code(code: str) -> ReportingUnit | None:
    return db.session.scalar(sa.select(ReportingUnit).where(ReportingUnit.code == code))


def search_units(*, q: str = "", kind: str = "", include_retired: bool = False, paths: list[str] | None = None):
    """A page of reporting units in tree order, filtered by text and kind, within the visible subtrees."""
    stmt = sa.select(ReportingUnit).where(in_subtrees(paths))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(sa.or_(ReportingUnit.code.ilike(like), ReportingUnit.name.ilike(like)))
    if kind:
        stmt = stmt.where(ReportingUnit.kind == kind)
    if not include_retired:
        stmt = stmt.where(ReportingUnit.is_retired.is_(False))
    return paginate(stmt.order_by(ReportingUnit.path))


def unit_choices(paths: list[str] | None = None, *, exclude_path: str | None = None) -> list[tuple[int, str]]:
    """(id, indented name) of active units in tree order, for select fields."""
    stmt = sa.select(ReportingUnit.id, ReportingUnit.name, ReportingUnit.path).where(
        ReportingUnit.is_retired.is_(False), in_subtrees(paths))
    if exclude_path:
        stmt = stmt.where(sa.not_(ReportingUnit.path.startswith(exclude_path)))
    rows = db.session.execute(stmt.order_by(ReportingUnit.path)).all()
    return [(row.id, "　" * max(row.path.count("/") - 2, 0) + row.name) for row in rows]


def members_of(unit_id: int) -> list[UnitMember]:
    from govrisk.auth.models import User

    stmt = sa.select(UnitMember).join(User, UnitMember.user_id == User.id).where(UnitMember.unit_id == unit_id)
    return list(db.session.scalars(stmt.order_by(User.username)))


def member_counts(unit_ids: list[int]) -> dict[int, int]:
    if not unit_ids:
        return {}
    stmt = sa.select(UnitMember.unit_id, sa.func.count()).where(UnitMember.unit_id.in_(unit_ids))
    return dict(db.session.execute(stmt.group_by(UnitMember.unit_id)).all())


def children_of(unit_id: int) -> list[ReportingUnit]:
    stmt = sa.select(ReportingUnit).where(ReportingUnit.parent_id == unit_id)
    return list(db.session.scalars(stmt.order_by(ReportingUnit.sort_order, ReportingUnit.code)))


def units_by_ids(ids) -> list[ReportingUnit]:
    """The units with these ids, in tree order."""
    ids = list(ids)
    if not ids:
        return []
    return list(db.session.scalars(sa.select(ReportingUnit).where(ReportingUnit.id.in_(ids))
                                   .order_by(ReportingUnit.path)))


def my_units(user) -> list[ReportingUnit]:
    stmt = sa.select(ReportingUnit).join(UnitMember, UnitMember.unit_id == ReportingUnit.id)
    return list(db.session.scalars(stmt.where(UnitMember.user_id == user.id).order_by(ReportingUnit.path)))


# --------------------------------------------------------------------------------------------
# campaigns and reports
# --------------------------------------------------------------------------------------------


def get_campaign_by_code(code: str) -> Campaign | None:
    return db.session.scalar(sa.select(Campaign).where(Campaign.code == code))


def _campaign_scope(paths: list[str] | None):
    if paths is None:
        return sa.true()
    if not paths:
        return sa.false()
    root = ReportingUnit.path
    return sa.or_(*(sa.or_(sa.literal(p).like(root + "%"), root.startswith(p)) for p in paths))


def search_campaigns(user, *, q: str = "", year: int | None = None, kind: str = "", include_retired: bool = False):
    """A page of the campaigns whose tree the user takes part in, newest first."""
    stmt = sa.select(Campaign).join(ReportingUnit, Campaign.root_unit_id == ReportingUnit.id)
    stmt = stmt.where(_campaign_scope(visible_paths(user)))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(sa.or_(Campaign.name.ilike(like), Campaign.theme.ilike(like), Campaign.code.ilike(like)))
    if year:
        stmt = stmt.where(Campaign.year == year)
    if kind:
        stmt = stmt.where(Campaign.kind == kind)
    if not include_retired:
        stmt = stmt.where(Campaign.is_retired.is_(False))
    return paginate(stmt.order_by(Campaign.year.desc(), Campaign.start_on.desc(), Campaign.id.desc()))


def campaign_choices(user, *, exclude_id: int | None = None) -> list[tuple[int, str]]:
    """(id, name) of the campaigns the user takes part in, newest first, for select fields."""
    stmt = (sa.select(Campaign).join(ReportingUnit, Campaign.root_unit_id == ReportingUnit.id)
            .where(_campaign_scope(visible_paths(user))).order_by(Campaign.year.desc(), Campaign.name))
    if exclude_id:
        stmt = stmt.where(Campaign.id != exclude_id)
    return [(c.id, c.full_name) for c in db.session.scalars(stmt.limit(500))]


def education_campaigns() -> list[Campaign]:
    """Active education campaigns, newest first, for linking sessions to them."""
    stmt = sa.select(Campaign).where(Campaign.kind == CampaignKind.EDUCATION, Campaign.is_retired.is_(False))
    return list(db.session.scalars(stmt.order_by(Campaign.year.desc(), Campaign.name).limit(200)))


def guess_previous(kind: str, year: int, root_unit_id: int) -> Campaign | None:
    """Last year's campaign of the same kind over the same tree, if there is exactly one."""
    stmt = sa.select(Campaign).where(Campaign.kind == kind, Campaign.year == year - 1,
                                     Campaign.root_unit_id == root_unit_id, Campaign.is_retired.is_(False))
    found = list(db.session.scalars(stmt.limit(2)))
    return found[0] if len(found) == 1 else None


def report_for(campaign_id: int, unit_id: int) -> UnitReport | None:
    return db.session.scalar(sa.select(UnitReport).where(UnitReport.campaign_id == campaign_id,
                                                         UnitReport.unit_id == unit_id))


def search_reports(user, *, campaign_id: int | None = None, state: str = "", q: str = "", to_review: bool = False):
    """A page of reports the user may see; `to_review` keeps the submitted ones waiting for this user's decision."""
    stmt = (sa.select(UnitReport).join(ReportingUnit, UnitReport.unit_id == ReportingUnit.id)
            .join(Campaign, UnitReport.campaign_id == Campaign.id)
            .where(in_subtrees(visible_paths(user))))
    if to_review:
        reviewer_unit = sa.func.coalesce(ReportingUnit.parent_id, ReportingUnit.id)
        stmt = stmt.where(UnitReport.state == ReportState.SUBMITTED,
                          reviewer_unit.in_(member_unit_ids(user) or {-1}))
    if campaign_id:
        stmt = stmt.where(UnitReport.campaign_id == campaign_id)
    if state:
        stmt = stmt.where(UnitReport.state == state)
    if q:
        stmt = stmt.where(sa.or_(
            ReportingUnit.name.ilike(f"%{q}%"), ReportingUnit.code.ilike(f"%{q}%"), Campaign.name.ilike(f"%{q}%")))
    return paginate(stmt.order_by(Campaign.year.desc(), UnitReport.updated_at.desc(), UnitReport.id.desc()))


def unit_status(campaign: Campaign, user, *, q: str = "", state: str = "", kind: str = ""):
    """A page of (unit, report or None) for the units of the campaign the user may see, in tree order."""
    stmt = (sa.select(ReportingUnit, UnitReport)
            .outerjoin(UnitReport, sa.and_(UnitReport.unit_id == ReportingUnit.id,
                                           UnitReport.campaign_id == campaign.id))
            .where(ReportingUnit.path.startswith(campaign.root_unit.path), ReportingUnit.is_retired.is_(False),
                   in_subtrees(visible_paths(user))))
    if q:
        stmt = stmt.where(sa.or_(ReportingUnit.name.ilike(f"%{q}%"), ReportingUnit.code.ilike(f"%{q}%")))
    if kind:
        stmt = stmt.where(ReportingUnit.kind == kind)
    if state == "none":
        stmt = stmt.where(UnitReport.id.is_(None))
    elif state:
        stmt = stmt.where(UnitReport.state == state)
    return paginate(stmt.order_by(ReportingUnit.path), scalars=False)


def status_counts(campaign: Campaign, user) -> dict[str, int]:
    """How many visible units of the campaign are in each report state ('none' = no report yet)."""
    stmt = (sa.select(UnitReport.state, sa.func.count())
            .select_from(ReportingUnit)
            .outerjoin(UnitReport, sa.and_(UnitReport.unit_id == ReportingUnit.id,
                                           UnitReport.campaign_id == campaign.id))
            .where(ReportingUnit.path.startswith(campaign.root_unit.path), ReportingUnit.is_retired.is_(False),
                   in_subtrees(visible_paths(user)))
            .group_by(UnitReport.state))
    counts = {s.value: 0 for s in ReportState} | {"none": 0}
    for state, n in db.session.execute(stmt):
        counts[state.value if state else "none"] = n
    return counts


def report_values(report_id: int) -> list[IndicatorValue]:
    stmt = sa.select(IndicatorValue).where(IndicatorValue.report_id == report_id)
    return list(db.session.scalars(stmt.order_by(sa.func.coalesce(IndicatorValue.text_start, 10**9),
                                                 IndicatorValue.id)))


def report_activities(report_id: int) -> list[ReportActivity]:
    stmt = sa.select(ReportActivity).where(ReportActivity.report_id == report_id)
    return list(db.session.scalars(stmt.order_by(ReportActivity.held_on, ReportActivity.id)))


# --------------------------------------------------------------------------------------------
# totals and roll-up
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Total:
    """A sum of figures; `approx` when any of them is a lower bound (余/多), so the sum is one too."""

    value: Decimal = Decimal(0)
    approx: bool = False

    def __add__(self, other: Total) -> Total:
        return Total(self.value + other.value, self.approx or other.approx)


class _Titles:
    """Titles, units and display order of indicators (standard keys in reference order, then custom labels)."""

    def __init__(self):
        self.titles = _indicator_titles()
        self.order = {key: i for i, (key, _title) in enumerate(indicator_choices())}

    def title(self, identity: tuple[str, str]) -> str:
        key, label = identity
        return label if key == CUSTOM else self.titles.get(key, key)

    def sort_key(self, identity: tuple[str, str]) -> tuple:
        key, label = identity
        return (key == CUSTOM, self.order.get(key, 999), label)


@dataclass
class TotalRow:
    identity: tuple[str, str]
    title: str
    unit: str
    total: Total
    by_bucket: dict = field(default_factory=dict)
    previous: Total | None = None

    @property
    def is_custom(self) -> bool:
        return self.identity[0] == CUSTOM

    @property
    def change(self) -> Decimal | None:
        return None if self.previous is None else self.total.value - self.previous.value

    @property
    def change_pct(self) -> float | None:
        if self.previous is None or not self.previous.value:
            return None
        return float((self.total.value - self.previous.value) / self.previous.value * 100)


def _unit_of(identity: tuple[str, str], units: set[str]) -> str:
    """One counting unit for a total: the figures' own when they agree, else the indicator's usual one (9处 + 12张)."""
    units = {u for u in units if u}
    if len(units) == 1:
        return next(iter(units))
    return default_unit(identity[0]) if identity[0] != CUSTOM else "/".join(sorted(units))


def _figures_of(values) -> dict:
    """Per (report, identity): the report's total by the totals rule, from (report_id, IndicatorValue) pairs."""
    figured = (Figured((report_id, v.identity), v.value, v.is_approx, v.is_total) for report_id, v in values)
    return {key: Total(value, approx) for key, (value, approx) in combine_totals(figured).items()}


def report_totals(report: UnitReport) -> list[TotalRow]:
    """The report's totals per indicator: figures the text marks as totals win over their parts."""
    values = report_values(report.id)
    units: dict[tuple, set] = {}
    for v in values:
        units.setdefault(v.identity, set()).add(v.unit)
    titles = _Titles()
    totals = _figures_of((report.id, v) for v in values)
    rows = [TotalRow(identity, titles.title(identity), _unit_of(identity, units[identity]), total)
            for (_rid, identity), total in totals.items()]
    return sorted(rows, key=lambda r: titles.sort_key(r.identity))


COUNTED_STATES = (ReportState.ACCEPTED,)


def _counted_reports(campaign: Campaign, unit: ReportingUnit, include_submitted: bool):
    """The reports a roll-up counts: the unit's own (any state) and its sub-units' accepted ones."""
    states = COUNTED_STATES + ((ReportState.SUBMITTED,) if include_submitted else ())
    return (sa.select(UnitReport.id).join(ReportingUnit, UnitReport.unit_id == ReportingUnit.id)
            .where(UnitReport.campaign_id == campaign.id, ReportingUnit.path.startswith(unit.path),
                   sa.or_(UnitReport.unit_id == unit.id, UnitReport.state.in_(states))))


def _bucket(root_path: str, path: str) -> int | None:
    """The direct child of the roll-up's unit that `path` lies under (None for the unit itself)."""
    rest = path[len(root_path):].strip("/")
    return int(rest.split("/")[0]) if rest else None


def _totals_by_bucket(campaign: Campaign, unit: ReportingUnit, include_submitted: bool):
    stmt = (sa.select(UnitReport.id, ReportingUnit.path, IndicatorValue)
            .join(UnitReport, IndicatorValue.report_id == UnitReport.id)
            .join(ReportingUnit, UnitReport.unit_id == ReportingUnit.id)
            .where(UnitReport.id.in_(_counted_reports(campaign, unit, include_submitted))))
    paths, units, pairs = {}, {}, []
    for report_id, path, value in db.session.execute(stmt.execution_options(yield_per=1000)):
        paths[report_id] = path
        units.setdefault(value.identity, set()).add(value.unit)
        pairs.append((report_id, value))
    by_identity: dict[tuple, dict] = {}
    for (report_id, identity), total in _figures_of(pairs).items():
        buckets = by_identity.setdefault(identity, {})
        bucket = _bucket(unit.path, paths[report_id])
        buckets[bucket] = buckets.get(bucket, Total()) + total
    return by_identity, units


@dataclass
class Coverage:
    unit_id: int | None
    name: str
    units: int = 0
    counts: dict = field(default_factory=dict)  # report state value (or 'none') → number of units

    @property
    def counted(self) -> int:
        return self.counts.get(ReportState.ACCEPTED.value, 0)


@dataclass
class Rollup:
    campaign: Campaign
    unit: ReportingUnit
    include_submitted: bool
    rows: list[TotalRow]
    buckets: list[tuple[int | None, str]]
    coverage: list[Coverage]
    own_report: UnitReport | None
    previous_campaign: Campaign | None
    reports_counted: int

    def rows_for_chart(self, *, exclude=("amount_yuan",)) -> list[TotalRow]:
        return [r for r in self.rows if r.identity[0] not in exclude and r.total.value > 0]


def rollup(campaign: Campaign, unit: ReportingUnit, *, include_submitted: bool = False) -> Rollup:
    """A unit's totals including its sub-units, split by direct sub-unit, with last year's campaign alongside."""
    by_identity, units = _totals_by_bucket(campaign, unit, include_submitted)
    previous_campaign = campaign.previous
    previous = {}
    if previous_campaign is not None and previous_campaign.covers(unit):
        prev_by_identity, prev_units = _totals_by_bucket(previous_campaign, unit, include_submitted)
        previous = {identity: sum(b.values(), Total()) for identity, b in prev_by_identity.items()}
        for identity, names in prev_units.items():
            units.setdefault(identity, set()).update(names)
    titles = _Titles()
    rows = []
    for identity in sorted(set(by_identity) | set(previous), key=titles.sort_key):
        buckets = by_identity.get(identity, {})
        rows.append(TotalRow(identity, titles.title(identity), _unit_of(identity, units.get(identity, set())),
                             sum(buckets.values(), Total()),
                             buckets, previous.get(identity)))
    children = [c for c in children_of(unit.id) if not c.is_retired]
    buckets = [(None, "本级")] + [(c.id, c.name) for c in children]
    counted = db.session.scalar(sa.select(sa.func.count()).select_from(
        _counted_reports(campaign, unit, include_submitted).subquery()))
    return Rollup(campaign, unit, include_submitted, rows, buckets, coverage(campaign, unit),
                  report_for(campaign.id, unit.id), previous_campaign if previous else None, counted or 0)


def coverage(campaign: Campaign, unit: ReportingUnit) -> list[Coverage]:
    """Per direct sub-unit (and the unit itself): how many units its subtree has, and their reports' states."""
    stmt = (sa.select(ReportingUnit.path, UnitReport.state)
            .outerjoin(UnitReport, sa.and_(UnitReport.unit_id == ReportingUnit.id,
                                           UnitReport.campaign_id == campaign.id))
            .where(ReportingUnit.path.startswith(unit.path), ReportingUnit.is_retired.is_(False)))
    rows = {None: Coverage(unit.id, unit.name)}
    for child in children_of(unit.id):
        if not child.is_retired:
            rows[child.id] = Coverage(child.id, child.name)
    for path, state in db.session.execute(stmt.execution_options(yield_per=1000)):
        row = rows.get(_bucket(unit.path, path))
        if row is None:
            continue
        row.units += 1
        key = state.value if state else "none"
        row.counts[key] = row.counts.get(key, 0) + 1
    return list(rows.values())


def rollup_activities(campaign: Campaign, unit: ReportingUnit, *, include_submitted: bool = False):
    """(activity, unit name) of the counted reports, by type then date, for the summary's 二、."""
    stmt = (sa.select(ReportActivity, ReportingUnit.name)
            .join(UnitReport, ReportActivity.report_id == UnitReport.id)
            .join(ReportingUnit, UnitReport.unit_id == ReportingUnit.id)
            .where(UnitReport.id.in_(_counted_reports(campaign, unit, include_submitted)))
            .order_by(ReportActivity.activity_type, ReportActivity.held_on, ReportingUnit.path, ReportActivity.id))
    return db.session.execute(stmt.limit(5000)).all()


# --------------------------------------------------------------------------------------------
# education
# --------------------------------------------------------------------------------------------


def search_education(*, visible_ids, department_id: int | None = None, year: int | None = None, form: str = "",
                     q: str = "", include_retired: bool = False):
    """A page of education sessions of the visible departments, newest first."""
    stmt = sa.select(EducationSession)
    if visible_ids is not None:
        stmt = stmt.where(EducationSession.department_id.in_(visible_ids or {-1}))
    if department_id:
        stmt = stmt.where(EducationSession.department_id == department_id)
    if year:
        stmt = stmt.where(EducationSession.held_on.between(date(year, 1, 1), date(year, 12, 31)))
    if form:
        stmt = stmt.where(EducationSession.form == form)
    if q:
        stmt = stmt.where(sa.or_(EducationSession.topic.ilike(f"%{q}%"), EducationSession.speaker.ilike(f"%{q}%")))
    if not include_retired:
        stmt = stmt.where(EducationSession.is_retired.is_(False))
    return paginate(stmt.order_by(EducationSession.held_on.desc(), EducationSession.id.desc()))


def education_stats(department_id: int, year: int, *, include_subunits: bool = False) -> dict:
    """A department's integrity-education figures for a year, for the annual assessment's education indicator.

    Returns {"department_id", "year", "sessions", "attendance", "months" (distinct months with a session),
    "last_held_on", "by_form": {form key: {"title", "sessions", "attendance"}}}; retired records do not count.
    """
    from govrisk.org.queries import subtree_ids

    ids = subtree_ids(department_id) if include_subunits else {department_id}
    where = (EducationSession.department_id.in_(ids or {-1}), EducationSession.is_retired.is_(False),
             EducationSession.held_on.between(date(year, 1, 1), date(year, 12, 31)))
    titles = education_form_titles()
    by_form = {}
    stmt = sa.select(EducationSession.form, sa.func.count(), sa.func.coalesce(sa.func.sum(EducationSession.attendance),
                                                                              0))
    for form, n, attendance in db.session.execute(stmt.where(*where).group_by(EducationSession.form)):
        by_form[form] = {"title": titles.get(form, form), "sessions": n, "attendance": int(attendance)}
    days = list(db.session.scalars(sa.select(EducationSession.held_on).where(*where).distinct()))
    return {
        "department_id": department_id,
        "year": year,
        "sessions": sum(f["sessions"] for f in by_form.values()),
        "attendance": sum(f["attendance"] for f in by_form.values()),
        "months": len({d.month for d in days}),
        "last_held_on": max(days, default=None),
        "by_form": by_form,
    }
