"""Risk points (廉政风险点) on powers, flow steps and posts; grading methods and decisions; control measures.

A `RiskPoint` belongs to a power (and so to the power's department); it may name one step of one of the power's
flow charts and one post of the department. The department proposes a level, an inspector confirms or changes it:
each of those decisions is a `RiskGrade` row that keeps what was graded and which `GradingMethod` version suggested
what. Control measures (`ControlMeasure`) run their own small workflow and carry evidence, including attachments
stored in the database (so backups include them).
"""

import json
from datetime import date, datetime
from enum import IntEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from govrisk.core.enums import TitledEnum, current_language
from govrisk.core.models import TimestampMixin, VersionedMixin
from govrisk.core.types import UTCDateTime, enum_column, utcnow
from govrisk.extensions import db
from govrisk.risks.workflow import MEASURE_WORKFLOW, RISK_WORKFLOW, MeasureStatus
from govrisk.workflow.engine import DeadlineRule, register_deadline_rule
from govrisk.workflow.models import DeadlineMixin
from govrisk.workflow.register import RegisterState

EDITABLE_STATES = (RegisterState.DRAFT, RegisterState.RETURNED)
MEASURE_EDITABLE = (MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS, MeasureStatus.INEFFECTIVE)
MEASURE_OPEN = (MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS)


class RiskLevel(IntEnum):
    """一级 is the highest risk; the number is what is stored."""

    ONE = 1
    TWO = 2
    THREE = 3

    @property
    def zh(self) -> str:
        return {1: "一级", 2: "二级", 3: "三级"}[self.value]

    @property
    def en(self) -> str:
        return f"Level {self.value}"

    @property
    def title(self) -> str:
        return self.en if current_language() == "en" else self.zh

    @classmethod
    def choices(cls) -> list[tuple[int, str]]:
        return [(m.value, m.title) for m in cls]


def level_title(value) -> str:
    """一级/二级/三级 for 1/2/3 (in the request's language); '' for None."""
    if value in (None, ""):
        return ""
    try:
        return RiskLevel(int(value)).title
    except (TypeError, ValueError):
        return str(value)


class Discretion(TitledEnum):
    LARGE = ("large", "大", "Large")
    MEDIUM = ("medium", "中", "Medium")
    SMALL = ("small", "小", "Small")


class GradeKind(TitledEnum):
    PROPOSAL = ("proposal", "单位拟定", "Proposed by department")
    CONFIRMATION = ("confirmation", "纪检确认", "Confirmed by inspector")
    CHANGE = ("change", "纪检调整", "Changed by inspector")
    RESIDUAL = ("residual", "剩余风险评定", "Residual level")


class DepartmentScoped:
    """Records of one department: its users (and its parents' users) see them and act on them, inspectors all."""

    def can_view(self, user) -> bool:
        return bool(user is not None and user.is_authenticated and user.can_see_department(self.department_id))

    def can_act_on(self, user) -> bool:
        """Workflow scope (the engine asks)."""
        return self.can_view(user)


class GradingMethod(TimestampMixin, db.Model):
    """One version of the rule that suggests a level from the inputs; rules are JSON (see `grading.py`)."""

    __tablename__ = "risk_grading_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(sa.Integer, unique=True, nullable=False)  # v1, v2 …
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    note: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    rules_json: Mapped[str] = mapped_column(sa.Text, nullable=False)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    audit_fields = ("number", "name", "note", "rules_json", "is_active")

    def audit_label(self) -> str:
        return f"v{self.number} {self.name}"

    @property
    def rules(self) -> dict:
        return json.loads(self.rules_json)


class RiskPoint(DepartmentScoped, TimestampMixin, VersionedMixin, db.Model):
    """An integrity risk point of a power, optionally on one flow step and one post."""

    __tablename__ = "risk_points"
    __workflow__ = RISK_WORKFLOW
    __table_args__ = (
        sa.Index("ix_risk_points_department_id_id", "department_id", "id"),
        sa.Index("ix_risk_points_state_id", "state", "id"),
        sa.Index("ix_risk_points_power_step", "power_id", "step_key"),
        # covering indexes: the heat map and the breakdowns are counted from the index alone
        sa.Index("ix_risk_points_heat", "likelihood", "severity", "state", "risk_type", "confirmed_level",
                 "proposed_level"),
        sa.Index("ix_risk_points_department_heat", "department_id", "likelihood", "severity", "state", "risk_type",
                 "confirmed_level"),
        sa.Index("ix_risk_points_breakdown", "department_id", "risk_type", "confirmed_level", "proposed_level",
                 "state"),
        sa.Index("ix_risk_points_levels", "proposed_level", "confirmed_level"),
        sa.Index("ix_risk_points_type", "risk_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(60), unique=True, nullable=False)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), nullable=False)
    power_id: Mapped[int] = mapped_column(sa.ForeignKey("powers.id"), nullable=False)
    step_id: Mapped[int | None] = mapped_column(sa.ForeignKey("flow_steps.id"), index=True)
    step_key: Mapped[str | None] = mapped_column(sa.String(60))  # the step's id in the flow document
    post_id: Mapped[int | None] = mapped_column(sa.ForeignKey("posts.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(300), nullable=False)  # 风险点
    manifestation: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)  # 表现形式
    risk_type: Mapped[str] = mapped_column(sa.String(60), nullable=False)  # reference kind risk_type
    methods: Mapped[str] = mapped_column(sa.String(300), default="", nullable=False)  # identification_method keys
    likelihood: Mapped[int | None] = mapped_column(sa.Integer)  # 1–5; empty until graded (imports)
    severity: Mapped[int | None] = mapped_column(sa.Integer)  # 1–5
    discretion: Mapped[Discretion | None] = mapped_column(enum_column(Discretion))
    responsible_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"), index=True)
    supervisor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"), index=True)
    indicator: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)  # 监控指标
    proposed_level: Mapped[int | None] = mapped_column(sa.Integer)
    proposal_note: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    confirmed_level: Mapped[int | None] = mapped_column(sa.Integer)
    confirmed_reason: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    residual_level: Mapped[int | None] = mapped_column(sa.Integer)
    residual_reason: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    state: Mapped[RegisterState] = mapped_column(enum_column(RegisterState), default=RegisterState.DRAFT,
                                                 nullable=False)
    search_text: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)  # lower-cased code, name, text

    department = relationship("Department")
    power = relationship("Power")
    step = relationship("FlowStep")
    post = relationship("Post")
    responsible = relationship("Person", foreign_keys=[responsible_id])
    supervisor = relationship("Person", foreign_keys=[supervisor_id])
    measures = relationship("ControlMeasure", order_by="ControlMeasure.id", back_populates="risk_point")

    audit_fields = (
        "code", "department_id", "power_id", "step_id", "post_id", "name", "manifestation", "risk_type", "methods",
        "likelihood", "severity", "discretion", "responsible_id", "supervisor_id", "indicator", "proposed_level",
        "proposal_note", "confirmed_level", "confirmed_reason", "residual_level", "residual_reason",
    )

    def audit_label(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def level(self) -> int | None:
        """The level in force: the confirmed one, else the department's proposal."""
        return self.confirmed_level if self.confirmed_level is not None else self.proposed_level

    @property
    def method_keys(self) -> list[str]:
        return [k for k in (self.methods or "").split(",") if k]

    @property
    def disagrees(self) -> bool:
        return self.confirmed_level is not None and self.proposed_level is not None and \
            self.confirmed_level != self.proposed_level

    def can_edit(self, user) -> bool:
        return self.can_view(user) and user.can("register.edit") and self.state in EDITABLE_STATES

    def can_confirm(self, user) -> bool:
        return self.can_view(user) and user.can("register.confirm") and self.state is RegisterState.DEPT_APPROVED

    def can_add_measure(self, user) -> bool:
        return self.can_view(user) and user.can("register.edit") and self.state is not RegisterState.RETIRED

    def can_record_residual(self, user) -> bool:
        return self.can_view(user) and user.can("risks.measure.verify") and self.state is RegisterState.CONFIRMED


class RiskGrade(db.Model):
    """A grading decision, append-only: the level set, the suggestion and the inputs as they were then."""

    __tablename__ = "risk_grades"

    id: Mapped[int] = mapped_column(primary_key=True)
    risk_point_id: Mapped[int] = mapped_column(sa.ForeignKey("risk_points.id"), index=True, nullable=False)
    kind: Mapped[GradeKind] = mapped_column(enum_column(GradeKind), nullable=False)
    level: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    previous_level: Mapped[int | None] = mapped_column(sa.Integer)  # the proposal an inspector ruled on
    suggested_level: Mapped[int | None] = mapped_column(sa.Integer)
    method_id: Mapped[int | None] = mapped_column(sa.ForeignKey("risk_grading_methods.id"))
    method_number: Mapped[int | None] = mapped_column(sa.Integer)
    inputs_json: Mapped[str] = mapped_column(sa.Text, default="{}", nullable=False)
    why_json: Mapped[str] = mapped_column(sa.Text, default="[]", nullable=False)
    reason: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(sa.String(120), default="", nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    risk_point = relationship(RiskPoint)
    method = relationship(GradingMethod)

    @property
    def inputs(self) -> dict:
        return json.loads(self.inputs_json or "{}")

    @property
    def why(self) -> list[str]:
        return json.loads(self.why_json or "[]")


class ControlMeasure(DepartmentScoped, TimestampMixin, VersionedMixin, DeadlineMixin, db.Model):
    """A control measure (防控措施) of a risk point, with its own status workflow and evidence."""

    __tablename__ = "risk_measures"
    __workflow__ = MEASURE_WORKFLOW
    __table_args__ = (
        sa.Index("ix_risk_measures_open_overdue", "is_overdue", "status", "risk_point_id"),
        sa.Index("ix_risk_measures_department_status", "department_id", "status"),
        sa.Index("ix_risk_measures_due", "due_on", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    risk_point_id: Mapped[int] = mapped_column(sa.ForeignKey("risk_points.id"), index=True, nullable=False)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), nullable=False)
    measure_type: Mapped[str] = mapped_column(sa.String(60), nullable=False)  # reference kind measure_type
    description: Mapped[str] = mapped_column(sa.Text, nullable=False)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"), index=True)
    status: Mapped[MeasureStatus] = mapped_column(enum_column(MeasureStatus), default=MeasureStatus.PLANNED,
                                                  nullable=False)
    evidence: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    implemented_on: Mapped[date | None] = mapped_column(sa.Date)
    verified_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    risk_point = relationship(RiskPoint, back_populates="measures")
    owner = relationship("Person")
    verified_by = relationship("User")
    attachments = relationship("MeasureAttachment", order_by="MeasureAttachment.id", back_populates="measure")

    audit_fields = ("measure_type", "description", "owner_id", "due_on", "evidence", "implemented_on", "is_overdue",
                    "escalation_level")

    def audit_label(self) -> str:
        return f"{self.risk_point.code if self.risk_point else self.risk_point_id}/#{self.id}"

    @property
    def is_late(self) -> bool:
        """Overdue and still open (the flag alone stays set as a record after the measure is done)."""
        return self.is_overdue and self.status in MEASURE_OPEN

    def can_edit(self, user) -> bool:
        return (self.can_view(user) and user.can("register.edit") and self.status in MEASURE_EDITABLE
                and self.risk_point.state is not RegisterState.RETIRED)

    def can_attach(self, user) -> bool:
        return self.can_view(user) and user.can("register.edit") and self.status not in (
            MeasureStatus.VERIFIED,) and self.risk_point.state is not RegisterState.RETIRED


class MeasureAttachment(db.Model):
    """Evidence file of a measure, kept in the database (included in backups); removed files stay recorded."""

    __tablename__ = "risk_measure_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(sa.ForeignKey("risk_measures.id"), index=True, nullable=False)
    filename: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False)  # pdf, docx, png …
    size: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    content: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary, nullable=False))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    is_removed: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)

    measure = relationship(ControlMeasure, back_populates="attachments")
    uploaded_by = relationship("User")

    audit_fields = ("filename", "content_type", "kind", "size", "sha256", "is_removed")

    def audit_label(self) -> str:
        return self.filename

    def can_view(self, user) -> bool:
        return self.measure.can_view(user)


register_deadline_rule(DeadlineRule("risk_measure", ControlMeasure, open_states=MEASURE_OPEN, levels=(0, 30),
                                    state_attr="status", titles=("逾期", "逾期30天以上")))
