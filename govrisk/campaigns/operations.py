"""Every change to reporting units, campaigns, unit reports and education sessions: flush and audit, never commit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_pgettext, ngettext

from govrisk.campaigns import queries
from govrisk.campaigns.extraction import INDICATORS
from govrisk.campaigns.models import (
    CUSTOM,
    Campaign,
    CampaignKind,
    EducationSession,
    IndicatorValue,
    ReportActivity,
    ReportingUnit,
    UnitKind,
    UnitMember,
    UnitReport,
    ValueSource,
    Venue,
)
from govrisk.campaigns.numerals import parse_numeral
from govrisk.core.audit import diff_fields, log_change, record_create, record_update, snapshot
from govrisk.core.errors import Forbidden, UserError
from govrisk.core.importer import Importer, ImportRow, parse_bool
from govrisk.extensions import db
from govrisk.workflow import fire

MAX_VALUE = Decimal("1e15")
MAX_NARRATIVE = 200_000

# --------------------------------------------------------------------------------------------
# reporting units
# --------------------------------------------------------------------------------------------


def _require_unique_code(model, code: str, message: str, *, exclude_id: int | None = None) -> None:
    stmt = sa.select(model.id).where(model.code == code)
    if exclude_id:
        stmt = stmt.where(model.id != exclude_id)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise UserError(message, field="code")


def _parent_unit(parent_id) -> ReportingUnit | None:
    if not parent_id:
        return None
    parent = db.session.get(ReportingUnit, parent_id)
    if parent is None or parent.is_retired:
        raise UserError(_("上级单位不存在或已停用。"), field="parent_id")
    return parent


def _set_unit_paths(unit: ReportingUnit) -> None:
    """Recompute the path of a unit and of its whole subtree (after creation or a move)."""
    old_path = unit.path
    unit.path = f"{unit.parent.path if unit.parent is not None else '/'}{unit.id}/"
    if old_path not in ("", "/") and old_path != unit.path:
        subtree = sa.select(ReportingUnit).where(ReportingUnit.path.startswith(old_path), ReportingUnit.id != unit.id)
        for child in db.session.scalars(subtree):
            child.path = unit.path + child.path[len(old_path):]


def _unit_fields(data: dict) -> dict:
    return {"code": data["code"].strip(), "name": data["name"].strip(), "kind": UnitKind(data.get("kind") or "other"),
            "department_id": data.get("department_id") or None, "sort_order": data.get("sort_order") or 0}


def create_unit(data: dict, *, actor) -> ReportingUnit:
    """Add a reporting unit under its parent (or at the top of the tree)."""
    fields = _unit_fields(data)
    _require_unique_code(ReportingUnit, fields["code"], _("单位代码“%(code)s”已存在。", code=fields["code"]))
    unit = ReportingUnit(**fields, parent=_parent_unit(data.get("parent_id")), path="/")
    db.session.add(unit)
    db.session.flush()
    _set_unit_paths(unit)
    record_create("campaigns.unit.create", unit, actor=actor)
    return unit


def update_unit(unit: ReportingUnit, data: dict, *, actor) -> dict:
    """Change a unit; a new parent may not lie inside the unit's own subtree."""
    fields = _unit_fields(data)
    _require_unique_code(ReportingUnit, fields["code"], _("单位代码“%(code)s”已存在。", code=fields["code"]),
                         exclude_id=unit.id)
    parent = _parent_unit(data.get("parent_id"))
    if parent is not None and parent.path.startswith(unit.path):
        raise UserError(_("不能把“%(unit)s”设为“%(parent)s”的下级：会形成循环。", unit=unit.name, parent=parent.name),
                        field="parent_id")
    fields["parent_id"] = parent.id if parent else None
    changes = record_update("campaigns.unit.update", unit, fields, actor=actor, expected_version=data.get("version"))
    if "parent_id" in changes:
        unit.parent = parent
        _set_unit_paths(unit)
        db.session.flush()
    return changes


def retire_unit(unit: ReportingUnit, *, actor, expected_version: int | None = None) -> None:
    """Retire (never delete) a unit that has no active sub-units; its reports stay."""
    active = db.session.scalar(sa.select(sa.func.count()).where(ReportingUnit.parent_id == unit.id,
                                                                ReportingUnit.is_retired.is_(False)))
    if active:
        raise UserError(ngettext("“%(name)s”还有 %(num)s 个未停用的下级单位，请先处理下级单位。",
                                 "“%(name)s”还有 %(num)s 个未停用的下级单位，请先处理下级单位。", active,
                                 name=unit.name))
    record_update("campaigns.unit.retire", unit, {"is_retired": True}, actor=actor, expected_version=expected_version)


def add_member(unit: ReportingUnit, username: str, *, actor) -> UnitMember:
    """Let a user act for a unit (their role decides how)."""
    from govrisk.auth.queries import get_user_by_username
    from govrisk.core.permissions import DEPARTMENT_ROLES

    user = get_user_by_username((username or "").strip())
    if user is None:
        raise UserError(_("用户“%(name)s”不存在。", name=username), field="username")
    if not user.role_set & DEPARTMENT_ROLES:
        raise UserError(_("只有单位填报员或单位负责人可以加入报送单位。"), field="username")
    if queries.is_member(user, unit.id):
        raise UserError(_("%(user)s已是“%(unit)s”的人员。", user=user.display_name, unit=unit.name), field="username")
    member = UnitMember(unit_id=unit.id, user_id=user.id)
    member.unit, member.user = unit, user
    record_create("campaigns.unit.member_add", member, actor=actor)
    return member


def remove_member(member: UnitMember, *, actor) -> None:
    """Stop a user acting for a unit (the link is removed; the audit trail keeps it)."""
    log_change("campaigns.unit.member_remove", member, actor=actor,
               changes=diff_fields(snapshot(member, member.audit_fields), {}))
    db.session.delete(member)
    db.session.flush()


# --------------------------------------------------------------------------------------------
# campaigns
# --------------------------------------------------------------------------------------------

CAMPAIGN_FIELDS = ("code", "name", "theme", "kind", "year", "start_on", "end_on", "central_day_on", "report_due_on",
                   "issuing_body", "plan_doc_no", "target_groups", "venues", "description", "root_unit_id",
                   "previous_id")


def _campaign_fields(data: dict, campaign: Campaign | None) -> dict:
    fields = {k: data[k] for k in CAMPAIGN_FIELDS if k in data}
    fields["kind"] = CampaignKind(fields.get("kind") or "publicity")
    venues = fields.get("venues") or []
    if isinstance(venues, str):
        venues = [v for v in venues.split(",") if v]
    known = [v.value for v in Venue]
    unknown = [v for v in venues if v not in known]
    if unknown:
        raise UserError(_("未知的宣传阵地：%(venues)s。", venues=_("、").join(unknown)), field="venues")
    fields["venues"] = ",".join(v for v in known if v in venues)
    for name in ("central_day_on", "report_due_on"):
        fields[name] = fields.get(name) or None
    start_on, end_on = fields["start_on"], fields["end_on"]
    if end_on < start_on:
        raise UserError(_("结束日期不能早于开始日期。"), field="end_on")
    if fields["central_day_on"] and not start_on <= fields["central_day_on"] <= end_on:
        raise UserError(_("集中宣传日应在活动期间之内。"), field="central_day_on")
    if fields["year"] not in (start_on.year, end_on.year):
        raise UserError(_("年度应与活动期间一致。"), field="year")
    root = db.session.get(ReportingUnit, fields.get("root_unit_id") or 0)
    if root is None or root.is_retired:
        raise UserError(_("请选择有效的牵头单位。"), field="root_unit_id")
    previous = db.session.get(Campaign, fields.get("previous_id") or 0)
    if fields.get("previous_id") and (previous is None or previous.year >= fields["year"]
                                      or (campaign is not None and previous.id == campaign.id)):
        raise UserError(_("上年活动须是更早年度的另一项活动。"), field="previous_id")
    fields["previous_id"] = previous.id if previous else None
    return fields


def create_campaign(data: dict, *, actor) -> Campaign:
    """Open a campaign over the subtree of its root unit."""
    fields = _campaign_fields(data, None)
    _require_unique_code(Campaign, fields["code"], _("活动代码“%(code)s”已存在。", code=fields["code"]))
    campaign = Campaign(**fields)
    record_create("campaigns.campaign.create", campaign, actor=actor)
    return campaign


def update_campaign(campaign: Campaign, data: dict, *, actor) -> dict:
    """Change a campaign's description, period or tree."""
    fields = _campaign_fields(data, campaign)
    _require_unique_code(Campaign, fields["code"], _("活动代码“%(code)s”已存在。", code=fields["code"]),
                         exclude_id=campaign.id)
    if fields["root_unit_id"] != campaign.root_unit_id:
        root = db.session.get(ReportingUnit, fields["root_unit_id"])
        outside = db.session.scalar(sa.select(sa.func.count()).select_from(UnitReport).join(ReportingUnit).where(
            UnitReport.campaign_id == campaign.id, sa.not_(ReportingUnit.path.startswith(root.path))))
        if outside:
            raise UserError(_("已有 %(n)s 份报告来自“%(name)s”以外的单位，不能缩小活动范围。", n=outside,
                              name=root.name), field="root_unit_id")
    return record_update("campaigns.campaign.update", campaign, fields, actor=actor,
                         expected_version=data.get("version"))


def retire_campaign(campaign: Campaign, *, actor, expected_version: int | None = None) -> None:
    """Retire a campaign: reports stay readable, nothing more can be filed."""
    record_update("campaigns.campaign.retire", campaign, {"is_retired": True}, actor=actor,
                  expected_version=expected_version)


# --------------------------------------------------------------------------------------------
# unit reports
# --------------------------------------------------------------------------------------------


def open_report(campaign: Campaign, unit: ReportingUnit, *, actor) -> UnitReport:
    """The unit's report on the campaign, created as a draft the first time."""
    if not campaign.covers(unit):
        raise UserError(_("“%(unit)s”不在本次活动“%(campaign)s”的范围内。", unit=unit.name, campaign=campaign.name))
    if campaign.is_retired or unit.is_retired:
        raise UserError(_("活动或单位已停用，不能再填报。"))
    if actor is not None and not (actor.can("campaigns.report.edit") and queries.is_member(actor, unit.id)):
        raise Forbidden(_("只有本单位的填报人员可以填写本单位的报告。"))
    report = queries.report_for(campaign.id, unit.id)
    if report is None:
        report = UnitReport(campaign_id=campaign.id, unit_id=unit.id)
        report.campaign, report.unit = campaign, unit
        record_create("campaigns.report.create", report, actor=actor)
    return report


def _require_editable(report: UnitReport, actor) -> None:
    if report.campaign.is_retired:
        raise UserError(_("该活动已停用，报告不能再修改。"))
    if not report.is_editable:
        raise UserError(_("报告当前状态为“%(state)s”，不能修改；如需修改，请上级单位退回。", state=report.state.title))
    if actor is not None and not report.can_edit(actor):
        raise Forbidden(_("只有本单位的填报人员可以修改本单位的报告。"))


def update_report_texts(report: UnitReport, data: dict, *, actor) -> dict:
    """Change the report's 组织领导 and 存在问题及下一步 texts."""
    _require_editable(report, actor)
    fields = {k: (data.get(k) or "").strip() for k in ("leadership", "problems") if k in data}
    return record_update("campaigns.report.update", report, fields, actor=actor,
                         expected_version=data.get("version"))


def transition_report(report: UnitReport, name: str, *, actor, comment: str = "",
                      expected_version: int | None = None) -> None:
    """Submit, accept or return a report through the workflow engine."""
    report.check_version(expected_version)
    fire(report, name, actor=actor, comment=comment)


def _activity_fields(data: dict) -> dict:
    activity_type = data.get("activity_type") or ""
    if activity_type not in dict(queries.activity_type_choices()):
        raise UserError(_("请选择有效的活动形式。"), field="activity_type")
    if not (data.get("description") or "").strip():
        raise UserError(_("请填写活动内容。"), field="description")
    return {"held_on": data.get("held_on") or None, "activity_type": activity_type,
            "venue": (data.get("venue") or "").strip(), "audience": (data.get("audience") or "").strip(),
            "description": data["description"].strip()}


def save_activity(report: UnitReport, activity: ReportActivity | None, data: dict, *, actor) -> ReportActivity:
    """Add an activity to a report, or change one."""
    _require_editable(report, actor)
    fields = _activity_fields(data)
    campaign = report.campaign
    held_on = fields["held_on"]
    if held_on and not date(campaign.year - 1, 1, 1) <= held_on <= date(campaign.year + 1, 12, 31):
        raise UserError(_("活动日期与活动年度相差太远，请检查。"), field="held_on")
    return _save_line(report, activity, ReportActivity, "activity", fields, actor=actor)


def remove_activity(activity: ReportActivity, *, actor) -> None:
    """Take an activity off a draft report (the audit trail keeps what it said)."""
    _remove_line(activity, "activity", "activities", actor=actor)


def _save_line(report: UnitReport, line, model, kind: str, fields: dict, *, actor, **extra):
    """Create or update one line (an activity or a figure) of a report; the caller checked it is editable."""
    if line is None:
        line = model(report_id=report.id, **extra, **fields)
        line.report = report
        record_create(f"campaigns.{kind}.create", line, actor=actor)
    else:
        record_update(f"campaigns.{kind}.update", line, fields, actor=actor)
    return line


def _remove_line(line, kind: str, collection: str, *, actor) -> None:
    report = line.report
    _require_editable(report, actor)
    before = snapshot(line, line.audit_fields)
    log_change(f"campaigns.{kind}.remove", line, actor=actor, changes=diff_fields(before, {}))
    db.session.delete(line)
    db.session.flush()
    db.session.expire(report, [collection])


def parse_value(text, *, field: str = "value") -> Decimal:
    """A non-negative figure from user input: 1500, 1,500, 1.5万 or 三千; anything else is refused clearly."""
    raw = str(text if text is not None else "").strip()
    if not raw:
        raise UserError(_("请填写数值。"), field=field)
    if raw[0] in "-－−":
        raise UserError(_("数值不能为负数：“%(value)s”。", value=raw), field=field)
    numeral = parse_numeral(raw)
    if numeral is None:
        raise UserError(_("“%(value)s”不是有效的数字。", value=raw), field=field)
    try:
        value = Decimal(str(numeral.value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise UserError(_("“%(value)s”不是有效的数字。", value=raw), field=field) from None
    if value >= MAX_VALUE:
        raise UserError(_("数值过大：“%(value)s”。", value=raw), field=field)
    return value


def check_indicator(key: str, label: str = "") -> tuple[str, str]:
    """(indicator, label) for a standard key or a custom indicator with its name; unknown keys are refused."""
    key, label = (key or "").strip(), (label or "").strip()
    if key == CUSTOM:
        if not label:
            raise UserError(_("自定义指标须填写指标名称。"), field="label")
        if len(label) > 100:
            raise UserError(_("指标名称过长（最多 100 字）。"), field="label")
        return CUSTOM, label
    if key not in dict(queries.indicator_choices()):
        raise UserError(_("未知的指标“%(key)s”。", key=key), field="indicator")
    return key, ""


def _value_fields(data: dict) -> dict:
    indicator, label = check_indicator(data.get("indicator"), data.get("label"))
    unit = (data.get("unit") or "").strip()[:20] or (queries.default_unit(indicator) if indicator != CUSTOM else "")
    return {"indicator": indicator, "label": label, "unit": unit, "value": parse_value(data.get("value")),
            "is_approx": bool(data.get("is_approx")), "is_total": bool(data.get("is_total"))}


def save_value(report: UnitReport, value: IndicatorValue | None, data: dict, *, actor,
               source: ValueSource = ValueSource.MANUAL) -> IndicatorValue:
    """Add an indicator value to a report, or correct one."""
    _require_editable(report, actor)
    return _save_line(report, value, IndicatorValue, "value", _value_fields(data), actor=actor, source=source)


def remove_value(value: IndicatorValue, *, actor) -> None:
    """Take a figure off a draft report (the audit trail keeps it)."""
    _remove_line(value, "value", "values", actor=actor)


def _confirmed_value(report: UnitReport, narrative: str, row: dict, index: int) -> IndicatorValue:
    try:
        fields = _value_fields(row)
    except UserError as exc:
        raise UserError(_("第 %(n)s 个数字：%(error)s", n=index + 1, error=exc.message), field=exc.field,
                        details={"row": index}) from None
    start, end = row.get("start"), row.get("end")
    in_text = isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(narrative)
    phrase = narrative[start:end] if in_text else (row.get("phrase") or "")
    return IndicatorValue(report_id=report.id, source=ValueSource.TEXT, phrase=phrase[:500],
                          text_start=start if in_text else None, text_end=end if in_text else None, **fields)


def save_extraction(report: UnitReport, narrative: str, rows: list[dict], *, actor) -> list[IndicatorValue]:
    """Keep the narrative and the figures the user confirmed in it, replacing those taken from an earlier text.

    Every kept row is checked before anything is written: one bad row refuses the whole save.
    Figures entered by hand or imported stay.
    """
    _require_editable(report, actor)
    if not narrative.strip():
        raise UserError(_("总结文字为空。"), field="narrative")
    if len(narrative) > MAX_NARRATIVE:
        raise UserError(_("总结文字过长（超过 %(n)s 字）。", n=MAX_NARRATIVE), field="narrative")
    values = [_confirmed_value(report, narrative, row, i) for i, row in enumerate(rows) if row.get("keep")]
    old = [v for v in queries.report_values(report.id) if v.source == ValueSource.TEXT]
    record_update("campaigns.report.narrative", report, {"narrative": narrative}, actor=actor)
    for value in old:
        db.session.delete(value)
    for value in values:
        db.session.add(value)
    db.session.flush()
    db.session.expire(report, ["values"])
    log_change("campaigns.report.extraction", report, actor=actor, changes={
        "removed": [len(old), None],
        "figures": [None, [f"{v.indicator}{('/' + v.label) if v.label else ''}={v.value}{'余' if v.is_approx else ''}"
                           for v in values]],
    })
    return values


# --------------------------------------------------------------------------------------------
# indicator import (CSV/XLSX): unit_code, indicator, value, approx, label, unit
# --------------------------------------------------------------------------------------------


class IndicatorImporter(Importer):
    """Indicator values for the units of one campaign; rows are matched by unit, indicator and name."""

    kind = "campaign_indicators"
    title = lazy_pgettext("import", "指标数据")
    columns = ("unit_code", "indicator", "value", "approx", "label", "unit")
    required = ("unit_code", "indicator", "value")

    def __init__(self, campaign: Campaign, actor=None):
        self.campaign = campaign
        self.actor = actor

    def _indicator_key(self, text: str) -> str:
        by_title = {title: key for key, title in queries.indicator_choices()}
        by_title.update({label.title: key for key, label in INDICATORS.items()})
        text = text.strip()
        return CUSTOM if text in (CUSTOM, "自定义") else by_title.get(text, text)

    def _check_unit(self, code: str, row: ImportRow) -> ReportingUnit | None:
        unit = queries.get_unit_by_code(code)
        if unit is None:
            row.errors.append(_("单位代码“%(code)s”不存在", code=code))
        elif not self.campaign.covers(unit) or unit.is_retired:
            row.errors.append(_("单位“%(name)s”不在本次活动范围内", name=unit.name))
        elif self.actor is not None and not (self.actor.can("campaigns.report.edit")
                                             and queries.is_member(self.actor, unit.id)):
            row.errors.append(_("您不是“%(name)s”的填报人员", name=unit.name))
        else:
            report = queries.report_for(self.campaign.id, unit.id)
            if report is not None and not report.is_editable:
                row.errors.append(_("“%(name)s”的报告为“%(state)s”状态，不能修改", name=unit.name,
                                         state=report.state.title))
            return unit
        return None

    def check(self, rows: list[ImportRow]) -> None:
        seen: dict[tuple, int] = {}
        for row in rows:
            unit = self._check_unit(row.values.get("unit_code", ""), row)
            data = {"indicator": self._indicator_key(row.values.get("indicator", "")),
                    "label": row.values.get("label", ""), "value": row.values.get("value", ""),
                    "unit": row.values.get("unit", "")}
            try:
                data["is_approx"] = parse_bool(row.values.get("approx", ""))
                fields = _value_fields(data)
            except (UserError, ValueError) as exc:
                row.errors.append(getattr(exc, "message", None) or _("是否约数：%(error)s", error=exc))
                continue
            if unit is None:
                continue
            key = (unit.id, fields["indicator"], fields["label"])
            if key in seen:
                row.errors.append(_("与第 %(line)s 行重复（同一单位、同一指标）", line=seen[key]))
                continue
            seen[key] = row.line
            row.data = {"unit_id": unit.id, **fields}
            row.action = self._action(row.data)

    def _existing(self, data: dict) -> IndicatorValue | None:
        report = queries.report_for(self.campaign.id, data["unit_id"])
        if report is None:
            return None
        return db.session.scalar(sa.select(IndicatorValue).where(
            IndicatorValue.report_id == report.id, IndicatorValue.indicator == data["indicator"],
            IndicatorValue.label == data["label"], IndicatorValue.source != ValueSource.TEXT).limit(1))

    def _action(self, data: dict) -> str:
        existing = self._existing(data)
        if existing is None:
            return "create"
        same = (existing.value, existing.is_approx, existing.unit) == (data["value"], data["is_approx"], data["unit"])
        return "unchanged" if same else "update"

    def write(self, rows: list[ImportRow], *, actor) -> None:
        for row in rows:
            unit = db.session.get(ReportingUnit, row.data["unit_id"])
            report = open_report(self.campaign, unit, actor=actor)
            data = {**row.data, "value": str(row.data["value"])}
            save_value(report, self._existing(row.data), data, actor=actor, source=ValueSource.IMPORT)


# --------------------------------------------------------------------------------------------
# education sessions
# --------------------------------------------------------------------------------------------

EDUCATION_FIELDS = ("department_id", "held_on", "topic", "form", "attendance", "speaker", "notes", "campaign_id")


def save_session(session: EducationSession | None, data: dict, *, actor) -> EducationSession:
    """Record an education session, or correct one."""
    fields = {k: data.get(k) for k in EDUCATION_FIELDS}
    if actor is not None and not (actor.can("education.edit") and actor.can_see_department(fields["department_id"])):
        raise Forbidden(_("只能登记本单位及下属单位的廉政教育。"))
    if fields["form"] not in dict(queries.education_form_choices()):
        raise UserError(_("请选择有效的教育形式。"), field="form")
    if fields["attendance"] is None or fields["attendance"] < 0:
        raise UserError(_("参加人数不能为负数。"), field="attendance")
    if not (fields.get("topic") or "").strip():
        raise UserError(_("请填写教育主题。"), field="topic")
    fields["topic"] = fields["topic"].strip()
    fields["speaker"], fields["notes"] = (fields["speaker"] or "").strip(), (fields["notes"] or "").strip()
    fields["campaign_id"] = fields["campaign_id"] or None
    if session is None:
        session = EducationSession(**fields)
        record_create("education.session.create", session, actor=actor)
    else:
        record_update("education.session.update", session, fields, actor=actor,
                      expected_version=data.get("version"))
    return session


def retire_session(session: EducationSession, *, actor, expected_version: int | None = None) -> None:
    """Retire a session recorded in error (it no longer counts; the record stays)."""
    record_update("education.session.retire", session, {"is_retired": True}, actor=actor,
                  expected_version=expected_version)
