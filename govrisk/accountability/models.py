"""Findings (问题), rectification by a deadline (限期整改) and accountability actions against people (责任追究).

A `Finding` names the department, optionally the power or risk point, and the people concerned; it comes from an
inspection, an assessment, public feedback or a supervision alert (`source`, reference kind `finding_source`).
Rectifications carry a deadline that `govrisk tick` watches: overdue ones escalate to the department head, then
to the inspectors. Accountability actions record what was done to a person (诫勉谈话 … 纪律处分).
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govrisk.accountability.workflow import (
    ACTION_WORKFLOW,
    FINDING_WORKFLOW,
    RECTIFICATION_OPEN,
    RECTIFICATION_WORKFLOW,
    ActionState,
    FindingState,
    RectificationState,
)
from govrisk.core.enums import TitledEnum
from govrisk.core.models import TimestampMixin, VersionedMixin
from govrisk.core.types import UTCDateTime, enum_column
from govrisk.extensions import db
from govrisk.workflow.engine import DeadlineRule, register_deadline_rule
from govrisk.workflow.models import DeadlineMixin

#: Days overdue after which an escalated rectification goes on to the inspectors.
INSPECTOR_ESCALATION_DAYS = 10


class PersonRole(TitledEnum):
    RESPONSIBLE = ("responsible", "直接责任人", "Directly responsible")
    LEADER = ("leader", "领导责任人", "Responsible leader")
    RELATED = ("related", "相关人员", "Person concerned")


class ActionCategory(TitledEnum):
    """The four kinds of accountability in the source text (三(三)3), by the action key's prefix."""

    ADMONISHING = ("admonishing", "诫勉谈话", "Admonishing talk")
    RECTIFICATION = ("rectification", "限期整改", "Rectification order")
    ORGANISATIONAL = ("organisational", "组织处理", "Organisational handling")
    PARTY = ("party", "党纪处分", "Party discipline")
    GOVERNMENT = ("government", "政务处分", "Government sanction")


def action_category(key: str) -> ActionCategory:
    """The category of an accountability_action reference key."""
    if key.startswith("party_"):
        return ActionCategory.PARTY
    if key.startswith("gov_"):
        return ActionCategory.GOVERNMENT
    if key.startswith("org_"):
        return ActionCategory.ORGANISATIONAL
    if key == "rectification_order":
        return ActionCategory.RECTIFICATION
    return ActionCategory.ADMONISHING


DISCIPLINARY = (ActionCategory.PARTY, ActionCategory.GOVERNMENT)


class Finding(TimestampMixin, VersionedMixin, db.Model):
    """A problem found in a department, which may lead to rectification and to accountability."""

    __tablename__ = "findings"
    __workflow__ = FINDING_WORKFLOW
    __table_args__ = (
        sa.Index("ix_findings_department_state", "department_id", "state"),
        sa.Index("ix_findings_year_source", "year", "source"),
        sa.Index("ix_findings_origin", "origin_type", "origin_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    year: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    source: Mapped[str] = mapped_column(sa.String(60), nullable=False)  # reference kind finding_source
    cycle_id: Mapped[int | None] = mapped_column(sa.ForeignKey("review_cycles.id"), index=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), nullable=False)
    power_id: Mapped[int | None] = mapped_column(sa.ForeignKey("powers.id"), index=True)
    risk_point_id: Mapped[int | None] = mapped_column(sa.ForeignKey("risk_points.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    found_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    state: Mapped[FindingState] = mapped_column(enum_column(FindingState), default=FindingState.OPEN, nullable=False)
    origin_type: Mapped[str] = mapped_column(sa.String(30), default="", nullable=False)  # alert / feedback / score
    origin_id: Mapped[int | None] = mapped_column(sa.Integer)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    department = relationship("Department")
    power = relationship("Power")
    risk_point = relationship("RiskPoint")
    cycle = relationship("ReviewCycle")
    people = relationship("FindingPerson", back_populates="finding", order_by="FindingPerson.id")
    rectifications = relationship("Rectification", back_populates="finding", order_by="Rectification.id")
    actions = relationship("AccountabilityAction", back_populates="finding", order_by="AccountabilityAction.id")

    audit_fields = ("code", "year", "source", "cycle_id", "department_id", "power_id", "risk_point_id", "title",
                    "description", "found_on", "origin_type", "origin_id")

    def audit_label(self) -> str:
        return f"{self.code} {self.title}"

    def can_view(self, user) -> bool:
        return bool(user is not None and user.is_authenticated and user.can_see_department(self.department_id))

    def can_act_on(self, user) -> bool:
        return self.can_view(user)

    def can_manage(self, user) -> bool:
        return self.can_view(user) and user.can("accountability.manage")

    @property
    def is_editable(self) -> bool:
        return self.state in (FindingState.OPEN, FindingState.RECTIFYING)


class FindingPerson(db.Model):
    """A person named by a finding, and in what capacity."""

    __tablename__ = "finding_people"
    __table_args__ = (sa.UniqueConstraint("finding_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(sa.ForeignKey("findings.id"), nullable=False)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id"), index=True, nullable=False)
    role: Mapped[PersonRole] = mapped_column(enum_column(PersonRole), default=PersonRole.RESPONSIBLE, nullable=False)

    finding = relationship(Finding, back_populates="people")
    person = relationship("Person")


class Rectification(TimestampMixin, VersionedMixin, DeadlineMixin, db.Model):
    """A rectification by a deadline (限期整改): the requirement, the department's plan, evidence, verification."""

    __tablename__ = "rectifications"
    __workflow__ = RECTIFICATION_WORKFLOW
    __table_args__ = (
        sa.Index("ix_rectifications_department_state", "department_id", "state"),
        sa.Index("ix_rectifications_due", "due_on", "state"),
        sa.Index("ix_rectifications_overdue", "is_overdue", "state", "department_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    finding_id: Mapped[int] = mapped_column(sa.ForeignKey("findings.id"), index=True, nullable=False)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), nullable=False)
    requirement: Mapped[str] = mapped_column(sa.Text, nullable=False)
    responsible_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"), index=True)
    plan: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    evidence: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    state: Mapped[RectificationState] = mapped_column(enum_column(RectificationState),
                                                      default=RectificationState.ORDERED, nullable=False)
    ordered_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    completed_on: Mapped[date | None] = mapped_column(sa.Date)  # the department reported it done
    verified_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    finding = relationship(Finding, back_populates="rectifications")
    department = relationship("Department")
    responsible = relationship("Person")
    verified_by = relationship("User")

    audit_fields = ("requirement", "responsible_id", "plan", "evidence", "due_on", "completed_on", "is_overdue",
                    "escalation_level")

    def audit_label(self) -> str:
        return self.code

    @property
    def is_finished(self) -> bool:
        return self.state is RectificationState.VERIFIED

    @property
    def is_late(self) -> bool:
        """Past its deadline and still not reported (the flag alone stays as a record afterwards)."""
        return self.is_overdue and self.state in RECTIFICATION_OPEN

    @property
    def is_on_time(self) -> bool | None:
        if self.completed_on is None or self.due_on is None:
            return None
        return self.completed_on <= self.due_on

    def can_view(self, user) -> bool:
        return bool(user is not None and user.is_authenticated and user.can_see_department(self.department_id))

    def can_act_on(self, user) -> bool:
        return self.can_view(user)

    def can_edit_plan(self, user) -> bool:
        return self.can_view(user) and user.can("accountability.rectify") and self.state in RECTIFICATION_OPEN

    def can_edit_terms(self, user) -> bool:
        return self.can_view(user) and user.can("accountability.manage") and not self.is_finished


class AccountabilityAction(TimestampMixin, VersionedMixin, db.Model):
    """What was done to a person: type (reference kind accountability_action), basis, decision, dates, status."""

    __tablename__ = "accountability_actions"
    __workflow__ = ACTION_WORKFLOW
    __table_args__ = (
        sa.Index("ix_accountability_actions_person", "person_id", "decided_on"),
        sa.Index("ix_accountability_actions_department_state", "department_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id"), nullable=False)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), nullable=False)
    finding_id: Mapped[int | None] = mapped_column(sa.ForeignKey("findings.id"), index=True)
    action_type: Mapped[str] = mapped_column(sa.String(60), nullable=False)  # reference kind accountability_action
    category: Mapped[ActionCategory] = mapped_column(enum_column(ActionCategory), nullable=False)
    facts: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    basis: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    decision_no: Mapped[str] = mapped_column(sa.String(120), default="", nullable=False)
    decided_by: Mapped[str] = mapped_column(sa.String(200), default="", nullable=False)  # the deciding organ
    decided_on: Mapped[date | None] = mapped_column(sa.Date)
    recorded_on: Mapped[date] = mapped_column(sa.Date, nullable=False)  # when it was entered here
    start_on: Mapped[date | None] = mapped_column(sa.Date)
    end_on: Mapped[date | None] = mapped_column(sa.Date)
    state: Mapped[ActionState] = mapped_column(enum_column(ActionState), default=ActionState.PROPOSED, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    person = relationship("Person")
    department = relationship("Department")
    finding = relationship(Finding, back_populates="actions")

    audit_fields = ("person_id", "department_id", "finding_id", "action_type", "category", "facts", "basis",
                    "decision_no", "decided_by", "decided_on", "start_on", "end_on")

    def audit_label(self) -> str:
        return self.code

    @property
    def on(self) -> date:
        """The date the action counts for: its decision, else when it was recorded."""
        return self.decided_on or self.recorded_on

    @property
    def is_disciplinary(self) -> bool:
        return self.category in DISCIPLINARY

    @property
    def needs_decision_no(self) -> bool:
        return self.category in (*DISCIPLINARY, ActionCategory.ORGANISATIONAL)

    def can_view(self, user) -> bool:
        return bool(user is not None and user.is_authenticated and user.can("accountability.records")
                    and user.can_see_department(self.department_id))

    def can_act_on(self, user) -> bool:
        return self.can_view(user)

    def can_edit(self, user) -> bool:
        return self.can_view(user) and user.can("accountability.manage") and self.state is ActionState.PROPOSED


RECTIFICATION_RULE = register_deadline_rule(DeadlineRule(
    "rectification", Rectification, open_states=RECTIFICATION_OPEN, levels=(0, INSPECTOR_ESCALATION_DAYS),
    titles=("逾期，已提醒单位负责人", f"逾期{INSPECTOR_ESCALATION_DAYS}天以上，已报纪检监察员")))


def escalation_title(level: int) -> str:
    """What an escalation level means (Chinese, as stored in history)."""
    titles = RECTIFICATION_RULE.titles
    return titles[min(level, len(titles)) - 1] if level > 0 else ""

