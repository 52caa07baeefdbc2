"""The annual review (年度检查考核): cycles, the departments taking part, register snapshots, self-check checklists,
inspection notes, public appraisal, indicators with weights, scores, adjustments, grades and ranking.

A `ReviewCycle` row per year runs CYCLE_WORKFLOW. Opening it writes `SnapshotPart` rows: per participating
department (its sub-units included) a summary and the register items in compact JSON chunks, so the year-over-year
view and the annual report read frozen data however the live register changes later.
"""

import json
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govrisk.core.enums import TitledEnum
from govrisk.core.models import TimestampMixin, VersionedMixin
from govrisk.core.types import UTCDateTime, enum_column, utcnow
from govrisk.extensions import db
from govrisk.review.workflow import CYCLE_WORKFLOW, SELF_CHECK_WORKFLOW, CycleState, SelfCheckState

#: Grade thresholds used when a cycle is created (editable per cycle): the lowest total of each grade.
DEFAULT_THRESHOLDS = {"good": 90.0, "fairly_good": 80.0, "average": 60.0}
EDITABLE_SETUP = (CycleState.PLANNING, CycleState.SELF_CHECK, CycleState.INSPECTION, CycleState.ASSESSMENT)


class Grade(TitledEnum):
    GOOD = ("good", "好", "Good")
    FAIRLY_GOOD = ("fairly_good", "较好", "Fairly good")
    AVERAGE = ("average", "一般", "Average")
    POOR = ("poor", "差", "Poor")


class CheckResult(TitledEnum):
    DONE = ("done", "已落实", "Done")
    PARTIAL = ("partial", "部分落实", "Partly done")
    NOT_DONE = ("not_done", "未落实", "Not done")
    NOT_APPLICABLE = ("na", "不适用", "Not applicable")


class ReviewCycle(TimestampMixin, VersionedMixin, db.Model):
    """One year's review; at most one per year."""

    __tablename__ = "review_cycles"
    __workflow__ = CYCLE_WORKFLOW

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(sa.Integer, unique=True, nullable=False)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    state: Mapped[CycleState] = mapped_column(enum_column(CycleState), default=CycleState.PLANNING, nullable=False)
    self_check_due_on: Mapped[date | None] = mapped_column(sa.Date)
    inspection_due_on: Mapped[date | None] = mapped_column(sa.Date)
    note: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    thresholds_json: Mapped[str] = mapped_column(sa.Text, default=lambda: json.dumps(DEFAULT_THRESHOLDS),
                                                 nullable=False)
    snapshot_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    departments = relationship("CycleDepartment", back_populates="cycle", order_by="CycleDepartment.position")
    indicators = relationship("Indicator", back_populates="cycle", order_by="Indicator.position")
    checklist_items = relationship("ChecklistItem", back_populates="cycle", order_by="ChecklistItem.position")

    audit_fields = ("year", "title", "self_check_due_on", "inspection_due_on", "note", "thresholds_json")

    def audit_label(self) -> str:
        return f"{self.year} {self.title}"

    @property
    def thresholds(self) -> dict[str, float]:
        return {**DEFAULT_THRESHOLDS, **json.loads(self.thresholds_json or "{}")}

    def grade_for(self, total: float | None) -> Grade | None:
        """好/较好/一般/差 by this cycle's thresholds."""
        if total is None:
            return None
        limits = self.thresholds
        for grade in (Grade.GOOD, Grade.FAIRLY_GOOD, Grade.AVERAGE):
            if total >= limits[grade.value]:
                return grade
        return Grade.POOR

    @property
    def has_snapshot(self) -> bool:
        return self.snapshot_at is not None

    @property
    def is_setup_editable(self) -> bool:
        return self.state in EDITABLE_SETUP

    @property
    def is_scoring(self) -> bool:
        return self.state is CycleState.ASSESSMENT

    @property
    def results_frozen(self) -> bool:
        return self.state is CycleState.CLOSED

    def can_view(self, user) -> bool:
        return bool(user is not None and user.is_authenticated and user.can("business.read"))

    def can_manage(self, user) -> bool:
        return self.can_view(user) and user.can("review.manage")


class CycleDepartment(TimestampMixin, VersionedMixin, db.Model):
    """A department taking part in a cycle (with its sub-units), and its results."""

    __tablename__ = "review_departments"
    __table_args__ = (sa.UniqueConstraint("cycle_id", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("review_cycles.id"), index=True, nullable=False)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), index=True, nullable=False)
    position: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    appraisal_score: Mapped[float | None] = mapped_column(sa.Float)  # 社会评议 0–100
    appraisal_respondents: Mapped[int | None] = mapped_column(sa.Integer)
    appraisal_note: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    total: Mapped[float | None] = mapped_column(sa.Float)
    grade: Mapped[Grade | None] = mapped_column(enum_column(Grade))
    rank: Mapped[int | None] = mapped_column(sa.Integer)
    is_commended: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    commendation_note: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)

    cycle = relationship(ReviewCycle, back_populates="departments")
    department = relationship("Department")
    self_check = relationship("SelfCheck", back_populates="cycle_department", uselist=False)
    scores = relationship("IndicatorScore", back_populates="cycle_department", order_by="IndicatorScore.position")

    audit_fields = ("appraisal_score", "appraisal_respondents", "appraisal_note", "total", "grade", "rank",
                    "is_commended", "commendation_note")

    def audit_label(self) -> str:
        name = self.department.name if self.department is not None else self.department_id
        return f"{self.cycle.year if self.cycle else ''} {name}"

    def can_view(self, user) -> bool:
        return bool(user is not None and user.is_authenticated and user.can_see_department(self.department_id))


class SnapshotPart(db.Model):
    """A frozen piece of the register (or of the results) of one participating department: compact JSON."""

    __tablename__ = "review_snapshot_parts"
    __table_args__ = (sa.UniqueConstraint("cycle_id", "department_id", "kind", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("review_cycles.id"), nullable=False)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)  # summary, powers, flows, risks, measures, results
    seq: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    item_count: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    data: Mapped[str] = mapped_column(sa.Text, nullable=False)
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    @property
    def value(self):
        return json.loads(self.data)


class ChecklistItem(TimestampMixin, VersionedMixin, db.Model):
    """One line of a cycle's self-check checklist (copied from the template, editable until the self-check)."""

    __tablename__ = "review_checklist_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("review_cycles.id"), index=True, nullable=False)
    position: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    section: Mapped[str] = mapped_column(sa.String(120), default="", nullable=False)
    text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    is_retired: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)

    cycle = relationship(ReviewCycle, back_populates="checklist_items")

    audit_fields = ("position", "section", "text", "is_retired")

    def audit_label(self) -> str:
        return self.text[:60]


class SelfCheck(TimestampMixin, VersionedMixin, db.Model):
    """A department's self-check for one cycle, filled by the department and signed by its head."""

    __tablename__ = "review_self_checks"
    __workflow__ = SELF_CHECK_WORKFLOW

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_department_id: Mapped[int] = mapped_column(sa.ForeignKey("review_departments.id"), unique=True,
                                                     nullable=False)
    state: Mapped[SelfCheckState] = mapped_column(enum_column(SelfCheckState), default=SelfCheckState.DRAFT,
                                                  nullable=False)
    summary: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    signed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    cycle_department = relationship(CycleDepartment, back_populates="self_check")
    answers = relationship("SelfCheckAnswer", back_populates="self_check")
    signed_by = relationship("User")

    audit_fields = ("summary",)

    def audit_label(self) -> str:
        return f"{self.cycle_department.audit_label()} 自查"

    def unanswered_count(self) -> int:
        answered = {a.item_id for a in self.answers if a.result}
        items = [i for i in self.cycle_department.cycle.checklist_items if not i.is_retired]
        return sum(1 for i in items if i.id not in answered)

    def can_act_on(self, user) -> bool:
        return bool(user is not None and user.is_authenticated
                    and user.can_see_department(self.cycle_department.department_id))

    def can_fill(self, user) -> bool:
        return (self.can_act_on(user) and user.can("review.selfcheck.fill") and self.state is SelfCheckState.DRAFT
                and self.cycle_department.cycle.state is CycleState.SELF_CHECK)


class SelfCheckAnswer(db.Model):
    """The department's answer to one checklist item."""

    __tablename__ = "review_self_check_answers"
    __table_args__ = (sa.UniqueConstraint("self_check_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    self_check_id: Mapped[int] = mapped_column(sa.ForeignKey("review_self_checks.id"), nullable=False)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("review_checklist_items.id"), nullable=False)
    result: Mapped[CheckResult | None] = mapped_column(enum_column(CheckResult))
    note: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)

    self_check = relationship(SelfCheck, back_populates="answers")
    item = relationship(ChecklistItem)


class InspectionNote(TimestampMixin, db.Model):
    """An inspector's note from the annual inspection (年度检查) of a department."""

    __tablename__ = "review_inspection_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_department_id: Mapped[int] = mapped_column(sa.ForeignKey("review_departments.id"), index=True,
                                                     nullable=False)
    inspected_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(sa.String(120), default="", nullable=False)

    cycle_department = relationship(CycleDepartment)

    audit_fields = ("inspected_on", "text")

    def audit_label(self) -> str:
        return f"{self.cycle_department.audit_label()} 检查记录"


class Indicator(TimestampMixin, VersionedMixin, db.Model):
    """An assessment indicator of a cycle: how it is computed (`method`), its weight and parameters."""

    __tablename__ = "review_indicators"
    __table_args__ = (sa.UniqueConstraint("cycle_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("review_cycles.id"), index=True, nullable=False)
    key: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    method: Mapped[str] = mapped_column(sa.String(60), nullable=False)  # review.indicators.METHODS
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    weight: Mapped[float] = mapped_column(sa.Float, nullable=False)
    params_json: Mapped[str] = mapped_column(sa.Text, default="{}", nullable=False)
    position: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)

    cycle = relationship(ReviewCycle, back_populates="indicators")

    audit_fields = ("key", "method", "name", "description", "weight", "params_json", "position", "is_active")

    def audit_label(self) -> str:
        return self.name

    @property
    def params(self) -> dict:
        return json.loads(self.params_json or "{}")


class IndicatorScore(TimestampMixin, VersionedMixin, db.Model):
    """One department's score on one indicator: computed with its figures, possibly adjusted by an inspector."""

    __tablename__ = "review_scores"
    __table_args__ = (sa.UniqueConstraint("cycle_department_id", "indicator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_department_id: Mapped[int] = mapped_column(sa.ForeignKey("review_departments.id"), nullable=False)
    indicator_id: Mapped[int] = mapped_column(sa.ForeignKey("review_indicators.id"), nullable=False)
    position: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    computed: Mapped[float | None] = mapped_column(sa.Float)  # None: no data (the weight goes to the others)
    figures_json: Mapped[str] = mapped_column(sa.Text, default="{}", nullable=False)
    adjusted: Mapped[float | None] = mapped_column(sa.Float)
    adjust_reason: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    effective_weight: Mapped[float] = mapped_column(sa.Float, default=0.0, nullable=False)

    cycle_department = relationship(CycleDepartment, back_populates="scores")
    indicator = relationship(Indicator)
    adjustments = relationship("ScoreAdjustment", back_populates="score", order_by="ScoreAdjustment.id")

    audit_fields = ("computed", "adjusted", "adjust_reason", "effective_weight")

    def audit_label(self) -> str:
        return f"{self.cycle_department.audit_label()} {self.indicator.name}"

    @property
    def final(self) -> float | None:
        return self.adjusted if self.adjusted is not None else self.computed

    @property
    def figures(self) -> dict:
        return json.loads(self.figures_json or "{}")


class ScoreAdjustment(db.Model):
    """An inspector's adjustment of a score, with its reason (append-only)."""

    __tablename__ = "review_score_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(sa.ForeignKey("review_scores.id"), index=True, nullable=False)
    before: Mapped[float | None] = mapped_column(sa.Float)
    after: Mapped[float | None] = mapped_column(sa.Float)
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(sa.String(120), default="", nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    score = relationship(IndicatorScore, back_populates="adjustments")
