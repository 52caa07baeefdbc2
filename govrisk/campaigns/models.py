"""Publicity and education campaigns: reporting units (a tree of their own), unit reports with indicator values and
activities, and integrity-education sessions.

Who acts for a reporting unit is an explicit membership (UnitMember): banks, schools, communities and companies are
not departments of the city's organisation tree, so department scoping cannot reach them. A member's global role
decides what they do there: a dept_editor member fills in and submits the unit's reports; a dept_head member of the
parent unit accepts or returns them (a top unit's own heads review its report).
"""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govrisk.campaigns.workflow import EDITABLE_STATES, REPORT_WORKFLOW, ReportState
from govrisk.core.enums import TitledEnum
from govrisk.core.models import TimestampMixin, VersionedMixin
from govrisk.core.permissions import BUSINESS_ROLES, Role, register_permission
from govrisk.core.types import enum_column
from govrisk.extensions import db

register_permission("campaigns.view", BUSINESS_ROLES, "查阅宣传教育活动", "View campaigns")
register_permission("campaigns.manage", [Role.DEPT_EDITOR, Role.DEPT_HEAD, Role.INSPECTOR],
                    "发起与维护宣传教育活动", "Run campaigns")
register_permission("campaigns.units.manage", [Role.SYS_ADMIN], "维护报送单位及其人员", "Manage reporting units")
register_permission("campaigns.report.edit", [Role.DEPT_EDITOR], "填报本单位活动报告", "Edit unit reports")
register_permission("education.view", BUSINESS_ROLES, "查阅廉政教育记录", "View education records")
register_permission("education.edit", [Role.DEPT_EDITOR], "登记廉政教育记录", "Record education sessions")


class UnitKind(TitledEnum):
    CITY = ("city", "市级", "City")
    COUNTY = ("county", "县（区）", "County / district")
    TOWNSHIP = ("township", "乡镇（街道）", "Township / sub-district")
    COMMUNITY = ("community", "社区（村）", "Community / village")
    AGENCY = ("agency", "机关部门", "Government agency")
    SCHOOL = ("school", "学校", "School")
    COMPANY = ("company", "企业", "Company")
    BANK = ("bank", "银行机构", "Bank")
    BRANCH = ("branch", "银行网点", "Bank branch")
    OTHER = ("other", "其他", "Other")


class ReportingUnit(TimestampMixin, VersionedMixin, db.Model):
    """A unit that reports on campaigns to its parent; `path` ('/1/4/') makes subtree queries one LIKE."""

    __tablename__ = "campaign_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind), default=UnitKind.OTHER, nullable=False)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaign_units.id"), index=True)
    path: Mapped[str] = mapped_column(sa.String(500), default="/", index=True)
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"), index=True)
    sort_order: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    is_retired: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)

    parent = relationship("ReportingUnit", remote_side=[id], backref="children")
    department = relationship("Department")

    audit_fields = ("code", "name", "kind", "parent_id", "department_id", "sort_order", "is_retired")

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the top of the tree down to this unit (inclusive)."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    @property
    def reviewer_unit_id(self) -> int:
        """The unit whose heads accept this unit's reports: the parent, or the unit itself at the top."""
        return self.parent_id or self.id

    def can_manage(self, user) -> bool:
        return user.is_authenticated and user.can("campaigns.units.manage")

    def can_view(self, user) -> bool:
        from govrisk.campaigns.queries import can_see_unit

        return self.can_manage(user) or can_see_unit(user, self)


class UnitMember(TimestampMixin, db.Model):
    """A user who acts for a reporting unit (their role decides how: edit and submit, or review sub-units)."""

    __tablename__ = "campaign_unit_members"
    __table_args__ = (sa.UniqueConstraint("unit_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign_units.id"), index=True, nullable=False)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True, nullable=False)

    unit = relationship(ReportingUnit)
    user = relationship("User")

    audit_fields = ("unit_id", "user_id")

    def audit_label(self) -> str:
        return f"{self.user.username} @ {self.unit.name}"


class CampaignKind(TitledEnum):
    PUBLICITY = ("publicity", "宣传活动", "Publicity campaign")
    EDUCATION = ("education", "廉政教育", "Integrity education")


class Venue(TitledEnum):
    """The five "into" venues (五进)."""

    ORGANS = ("organs", "进机关", "Government organs")
    ENTERPRISES = ("enterprises", "进企业", "Enterprises")
    SCHOOLS = ("schools", "进学校", "Schools")
    VILLAGES = ("villages", "进乡村", "Villages")
    COMMUNITIES = ("communities", "进社区", "Communities")


class Campaign(TimestampMixin, VersionedMixin, db.Model):
    """A campaign run over the subtree of its root unit; each unit in it may file one report."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    theme: Mapped[str] = mapped_column(sa.String(200), default="", nullable=False)
    kind: Mapped[CampaignKind] = mapped_column(enum_column(CampaignKind), default=CampaignKind.PUBLICITY,
                                               nullable=False)
    year: Mapped[int] = mapped_column(sa.Integer, nullable=False, index=True)
    start_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    end_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    central_day_on: Mapped[date | None] = mapped_column(sa.Date)
    report_due_on: Mapped[date | None] = mapped_column(sa.Date)
    issuing_body: Mapped[str] = mapped_column(sa.String(200), default="", nullable=False)
    plan_doc_no: Mapped[str] = mapped_column(sa.String(100), default="", nullable=False)
    target_groups: Mapped[str] = mapped_column(sa.String(500), default="", nullable=False)
    venues: Mapped[str] = mapped_column(sa.String(200), default="", nullable=False)  # Venue values, comma-separated
    description: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    root_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign_units.id"), index=True, nullable=False)
    previous_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaigns.id"))
    is_retired: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)

    root_unit = relationship(ReportingUnit)
    previous = relationship("Campaign", remote_side=[id])

    audit_fields = ("code", "name", "theme", "kind", "year", "start_on", "end_on", "central_day_on", "report_due_on",
                    "issuing_body", "plan_doc_no", "target_groups", "venues", "description", "root_unit_id",
                    "previous_id", "is_retired")

    @property
    def full_name(self) -> str:
        """The name with its year in front unless the name already says it (2026年防范非法集资宣传月)."""
        return self.name if str(self.year) in self.name else f"{self.year} {self.name}"

    @property
    def venue_keys(self) -> list[str]:
        return [v for v in (self.venues or "").split(",") if v]

    @property
    def venue_titles(self) -> list[str]:
        known = {v.value for v in Venue}
        return [Venue(v).title for v in self.venue_keys if v in known]

    def covers(self, unit: ReportingUnit) -> bool:
        """Whether the unit lies in the campaign's subtree."""
        return unit.path.startswith(self.root_unit.path)

    def can_view(self, user) -> bool:
        from govrisk.campaigns.queries import can_see_campaign

        return user.is_authenticated and user.can("campaigns.view") and can_see_campaign(user, self)

    def can_manage(self, user) -> bool:
        from govrisk.campaigns.queries import member_unit_ids

        if not (user.is_authenticated and user.can("campaigns.manage")):
            return False
        return user.can("inspect.all") or bool(set(self.root_unit.ancestor_ids) & member_unit_ids(user))


class UnitReport(TimestampMixin, VersionedMixin, db.Model):
    """One unit's report on one campaign: narrative, indicator values, activities and the texts of its summary."""

    __tablename__ = "campaign_reports"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "unit_id"),)
    __workflow__ = REPORT_WORKFLOW

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"), index=True, nullable=False)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign_units.id"), index=True, nullable=False)
    state: Mapped[ReportState] = mapped_column(enum_column(ReportState), default=ReportState.DRAFT, nullable=False,
                                               index=True)
    narrative: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    leadership: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    problems: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)

    campaign = relationship(Campaign)
    unit = relationship(ReportingUnit)

    audit_fields = ("narrative", "leadership", "problems")

    def audit_label(self) -> str:
        return f"{self.campaign.name} · {self.unit.name}"

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES

    def can_view(self, user) -> bool:
        return self.unit.can_view(user) and user.can("campaigns.view")

    def can_edit(self, user) -> bool:
        """A dept_editor member of the unit, while the report is a draft or returned."""
        from govrisk.campaigns.queries import is_member

        return (self.is_editable and not self.campaign.is_retired and user.is_authenticated
                and user.can("campaigns.report.edit") and is_member(user, self.unit_id))

    def can_act_on(self, user) -> bool:
        """Workflow scope: members of the unit and of the unit that reviews it (guards narrow it per transition)."""
        from govrisk.campaigns.queries import member_unit_ids

        return bool({self.unit_id, self.unit.reviewer_unit_id} & member_unit_ids(user))


class ReportActivity(TimestampMixin, db.Model):
    """An activity a unit held: when, what kind, where, for whom, what was done."""

    __tablename__ = "campaign_activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign_reports.id"), index=True, nullable=False)
    held_on: Mapped[date | None] = mapped_column(sa.Date)
    activity_type: Mapped[str] = mapped_column(sa.String(60), nullable=False)  # reference campaign_activity_type
    venue: Mapped[str] = mapped_column(sa.String(200), default="", nullable=False)
    audience: Mapped[str] = mapped_column(sa.String(200), default="", nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)

    report = relationship(UnitReport, backref="activities")

    audit_fields = ("held_on", "activity_type", "venue", "audience", "description")

    def audit_label(self) -> str:
        return f"{self.report.unit.name} · {self.activity_type} · {self.held_on or ''}"


class ValueSource(TitledEnum):
    TEXT = ("text", "文本识别", "From text")
    MANUAL = ("manual", "手工录入", "Entered")
    IMPORT = ("import", "表格导入", "Imported")


CUSTOM = "custom"  # the indicator key of a report's own indicators; they are told apart by their label


class IndicatorValue(TimestampMixin, db.Model):
    """One figure of a report: a standard indicator (or a custom one named by `label`), with its lower-bound flag."""

    __tablename__ = "campaign_indicator_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign_reports.id"), index=True, nullable=False)
    indicator: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    label: Mapped[str] = mapped_column(sa.String(100), default="", nullable=False)
    unit: Mapped[str] = mapped_column(sa.String(20), default="", nullable=False)
    value: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2), nullable=False)
    is_approx: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    is_total: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    source: Mapped[ValueSource] = mapped_column(enum_column(ValueSource), default=ValueSource.MANUAL, nullable=False)
    phrase: Mapped[str] = mapped_column(sa.String(500), default="", nullable=False)
    text_start: Mapped[int | None] = mapped_column(sa.Integer)
    text_end: Mapped[int | None] = mapped_column(sa.Integer)

    report = relationship(UnitReport, backref="values")

    audit_fields = ("indicator", "label", "unit", "value", "is_approx", "is_total", "source", "phrase")

    def audit_label(self) -> str:
        return f"{self.report.unit.name} · {self.label or self.indicator} {self.value}"

    @property
    def identity(self) -> tuple[str, str]:
        """What the value counts: (indicator, label); label is empty for standard indicators."""
        return (self.indicator, self.label if self.indicator == CUSTOM else "")


class EducationSession(TimestampMixin, VersionedMixin, db.Model):
    """An integrity-education session held by a department (四会一课, 专题培训, 警示教育 …)."""

    __tablename__ = "education_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), index=True, nullable=False)
    held_on: Mapped[date] = mapped_column(sa.Date, nullable=False, index=True)
    topic: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    form: Mapped[str] = mapped_column(sa.String(60), nullable=False)  # reference education_form
    attendance: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    speaker: Mapped[str] = mapped_column(sa.String(120), default="", nullable=False)
    notes: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaigns.id"), index=True)
    is_retired: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)

    department = relationship("Department")
    campaign = relationship(Campaign)

    audit_fields = ("department_id", "held_on", "topic", "form", "attendance", "speaker", "notes", "campaign_id",
                    "is_retired")

    def audit_label(self) -> str:
        return f"{self.held_on} {self.topic}"

    def can_view(self, user) -> bool:
        return user.is_authenticated and user.can("education.view") and user.can_see_department(self.department_id)

    def can_edit(self, user) -> bool:
        return self.can_view(user) and user.can("education.edit") and not self.is_retired
