"""Electronic supervision (科技防控): step events of real cases, the cases they make up, alerts and statistics.

Working time is stored, not computed in SQL: every event carries `work_us`, the working time (microseconds of
working days, `govrisk.core.calendar`) from a fixed origin to its instant, so the scan compares limits by
subtraction. `govrisk supervision recompute` rewrites these after the calendar changes.

Derived data is rebuilt set-based from the events, never edited by hand: the visits and case summary columns
for the cases each batch touches (`derive.py`), the alerts and the monthly statistics by the scan (`scan.py`).
"""

import json
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govrisk.core.models import TimestampMixin, VersionedMixin
from govrisk.core.permissions import BUSINESS_ROLES, Role, register_permission
from govrisk.core.types import UTCDateTime, enum_column, utcnow
from govrisk.extensions import db
from govrisk.supervision.workflow import ALERT_WORKFLOW, AlertState
from govrisk.workflow.engine import register_tick_hook

register_permission("supervision.view", BUSINESS_ROLES, "查阅电子监察数据", "View electronic supervision")
register_permission("supervision.import", [Role.DEPT_EDITOR, Role.INSPECTOR], "报送办件过程数据",
                    "Send case step events")

def _tick_scan(today):
    from govrisk.supervision.scan import tick_scan

    return tick_scan(today)


register_tick_hook("supervision.scan", _tick_scan)

DAY_US = 86_400_000_000
CASE_REF_MAX, KEY_MAX, ACTOR_MAX, CODE_MAX = 80, 60, 120, 60
EVENTS = ("enter", "complete")
ALERT_CODES = ("yellow_card", "red_card", "out_of_flow", "skipped_step", "sod_violation", "unknown_reference")
ALERT_TITLES = {
    "yellow_card": lazy_pgettext("alert", "黄牌"), "red_card": lazy_pgettext("alert", "红牌"),
    "out_of_flow": _l("越流程"), "skipped_step": _l("缺环节"),
    "sod_violation": _l("一人兼办不相容职责"), "unknown_reference": _l("数据引用错误"),
}
QUARANTINE_REASONS = {
    "unknown_power": _l("职权编码不存在"),
    "no_flow": _l("该职权没有已发布的内部流程图"),
    "unknown_step": _l("流程图中没有该环节"),
    "case_conflict": _l("该案件已登记在另一项职权下"),
}


class SupervisionBatch(db.Model):
    """One delivery of events (a file or an API call), for tracing where an event came from."""

    __tablename__ = "supervision_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(10), nullable=False)  # api / web / cli
    filename: Mapped[str] = mapped_column(sa.String(255), default="", nullable=False)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(sa.String(120), default="", nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    total: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    stored: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    duplicates: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    quarantined: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)

    def audit_label(self) -> str:
        return f"{self.source} {self.filename or '#' + str(self.id)}"


class SupervisionCase(db.Model):
    """A case (办件) of one power, checked against the flow version published when its first event arrived."""

    __tablename__ = "supervision_cases"
    __table_args__ = (
        sa.Index("ix_supervision_cases_department_received", "department_id", "received_at"),
        sa.Index("ix_supervision_cases_power_received", "power_id", "received_at"),
        sa.Index("ix_supervision_cases_received", "received_at"),
        sa.Index("ix_supervision_cases_on_time_received", "is_on_time", "received_at"),
        sa.Index("ix_supervision_cases_completed", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_ref: Mapped[str] = mapped_column(sa.String(CASE_REF_MAX), unique=True, nullable=False)
    power_id: Mapped[int] = mapped_column(sa.ForeignKey("powers.id"), nullable=False)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), nullable=False)
    flow_id: Mapped[int] = mapped_column(sa.ForeignKey("flows.id"), nullable=False)
    limit_days: Mapped[int | None] = mapped_column(sa.Integer)  # the power's promised limit when the case came in
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_us: Mapped[int | None] = mapped_column(sa.BigInteger)
    received_month: Mapped[int | None] = mapped_column(sa.Integer)  # YYYYMM, Beijing time
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_us: Mapped[int | None] = mapped_column(sa.BigInteger)
    completed_month: Mapped[int | None] = mapped_column(sa.Integer)
    used_us: Mapped[int | None] = mapped_column(sa.BigInteger)  # working time from receipt to completion
    is_on_time: Mapped[bool | None] = mapped_column(sa.Boolean)
    is_early: Mapped[bool | None] = mapped_column(sa.Boolean)
    event_count: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    current_step: Mapped[str] = mapped_column(sa.String(KEY_MAX), default="", nullable=False)
    missing_required: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)  # required steps not passed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    power = relationship("Power")
    department = relationship("Department")
    flow = relationship("Flow")

    @property
    def used_days(self) -> float | None:
        return None if self.used_us is None else self.used_us / DAY_US

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None

    def can_view(self, user) -> bool:
        return bool(user.is_authenticated and user.can("supervision.view")
                    and user.can_see_department(self.department_id))


class ScanQueue(db.Model):
    """Cases whose events changed since the last scan; `scan_id` is set while a scan works on them.

    A narrow table of its own, so that marking cases touches no row (and no index) of the case table.
    """

    __tablename__ = "supervision_scan_queue"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("supervision_cases.id"), primary_key=True)
    scan_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)


class SupervisionEvent(db.Model):
    """One step event as received, idempotent on (case, step, instant, event).

    On SQLite the table is stored WITHOUT ROWID, clustered on that key, so the scan reads a case's events in
    order without a lookup per row.
    """

    __tablename__ = "supervision_events"
    __table_args__ = {"sqlite_with_rowid": False}

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("supervision_cases.id"), primary_key=True)
    step_key: Mapped[str] = mapped_column(sa.String(KEY_MAX), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    event: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    actor: Mapped[str] = mapped_column(sa.String(ACTOR_MAX), nullable=False)
    work_us: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    batch_id: Mapped[int | None] = mapped_column(sa.Integer)  # supervision_batches.id (no FK: kept lean)


class StepVisit(db.Model):
    """One pass of a case through a step (the n-th enter paired with the n-th complete); see `derive.py`.

    `role`, `limit_days`, `is_end` and `is_required` are copied from the case's flow so the checks need no join.
    """

    __tablename__ = "supervision_visits"
    __table_args__ = (
        sa.Index("ix_supervision_visits_open", "case_id", sqlite_where=sa.text("end_at IS NULL"),
                 postgresql_where=sa.text("end_at IS NULL")),
        {"sqlite_with_rowid": False},
    )

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("supervision_cases.id"), primary_key=True)
    step_key: Mapped[str] = mapped_column(sa.String(KEY_MAX), primary_key=True)
    n: Mapped[int] = mapped_column(sa.Integer, primary_key=True)  # 1 for the first pass through this step
    seq: Mapped[int] = mapped_column(sa.Integer, nullable=False)  # order of the pass within the case
    prev_step: Mapped[str | None] = mapped_column(sa.String(KEY_MAX))
    is_last: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    start_us: Mapped[int | None] = mapped_column(sa.BigInteger)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_us: Mapped[int | None] = mapped_column(sa.BigInteger)
    enter_actor: Mapped[str | None] = mapped_column(sa.String(ACTOR_MAX))
    complete_actor: Mapped[str | None] = mapped_column(sa.String(ACTOR_MAX))
    role: Mapped[str | None] = mapped_column(sa.String(20))
    limit_days: Mapped[int | None] = mapped_column(sa.Integer)
    is_end: Mapped[bool | None] = mapped_column(sa.Boolean)
    is_required: Mapped[bool | None] = mapped_column(sa.Boolean)

    @property
    def used_days(self) -> float | None:
        if self.start_us is None or self.end_us is None:
            return None
        return (self.end_us - self.start_us) / DAY_US


class FlowShape(db.Model):
    """Per step of a published flow: start, end, and required on every start→end path (from the pure validator)."""

    __tablename__ = "supervision_flow_shapes"

    flow_id: Mapped[int] = mapped_column(sa.ForeignKey("flows.id"), primary_key=True)
    step_key: Mapped[str] = mapped_column(sa.String(KEY_MAX), primary_key=True)
    is_start: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    is_end: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    is_required: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    role: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    time_limit_days: Mapped[int | None] = mapped_column(sa.Integer)


class QuarantinedEvent(db.Model):
    """An event naming a power, step or case that does not fit the register: kept aside, re-processable."""

    __tablename__ = "supervision_quarantine"
    __table_args__ = (
        sa.UniqueConstraint("case_ref", "power_code", "step_key", "event", "at"),
        sa.Index("ix_supervision_quarantine_state_reason", "state", "reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_ref: Mapped[str] = mapped_column(sa.String(CASE_REF_MAX), nullable=False)
    power_code: Mapped[str] = mapped_column(sa.String(CODE_MAX), nullable=False)
    step_key: Mapped[str] = mapped_column(sa.String(KEY_MAX), nullable=False)
    event: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    actor: Mapped[str] = mapped_column(sa.String(ACTOR_MAX), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    reason: Mapped[str] = mapped_column(sa.String(20), nullable=False)  # QUARANTINE_REASONS
    power_id: Mapped[int | None] = mapped_column(sa.ForeignKey("powers.id"))
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    state: Mapped[str] = mapped_column(sa.String(10), default="pending", nullable=False)  # pending / resolved
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("supervision_batches.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def reason_title(self) -> str:
        return str(QUARANTINE_REASONS.get(self.reason, self.reason))


class Alert(TimestampMixin, VersionedMixin, db.Model):
    """A card raised by the scan; stored once per (code, case, subject) and then lives through ALERT_WORKFLOW."""

    __tablename__ = "supervision_alerts"
    __workflow__ = ALERT_WORKFLOW
    __table_args__ = (
        sa.UniqueConstraint("code", "case_ref", "subject"),
        sa.Index("ix_supervision_alerts_state_code_department", "state", "code", "department_id"),
        sa.Index("ix_supervision_alerts_department_detected", "department_id", "detected_at"),
        sa.Index("ix_supervision_alerts_detected", "detected_at"),
        sa.Index("ix_supervision_alerts_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    case_ref: Mapped[str] = mapped_column(sa.String(CASE_REF_MAX), nullable=False)
    subject: Mapped[str] = mapped_column(sa.String(400), nullable=False)  # what in the case; part of the unique key
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("supervision_cases.id"))
    power_id: Mapped[int | None] = mapped_column(sa.ForeignKey("powers.id"))
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    step_key: Mapped[str] = mapped_column(sa.String(KEY_MAX), default="", nullable=False)
    other_step_key: Mapped[str] = mapped_column(sa.String(KEY_MAX), default="", nullable=False)
    actor: Mapped[str] = mapped_column(sa.String(ACTOR_MAX), default="", nullable=False)
    used_us: Mapped[int | None] = mapped_column(sa.BigInteger)
    limit_days: Mapped[int | None] = mapped_column(sa.Integer)
    is_completed: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)  # the instant the scan looked at
    scan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("supervision_scans.id"), index=True)  # raised by
    seen_scan_id: Mapped[int | None] = mapped_column(sa.Integer)  # the last scan that still found it
    quarantine_id: Mapped[int | None] = mapped_column(sa.ForeignKey("supervision_quarantine.id"))
    state: Mapped[AlertState] = mapped_column(enum_column(AlertState), default=AlertState.OPEN, nullable=False)
    escalation_note: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    finding_ref: Mapped[str] = mapped_column(sa.String(120), default="", nullable=False)

    case = relationship(SupervisionCase)
    power = relationship("Power")
    department = relationship("Department")
    quarantined = relationship(QuarantinedEvent)

    audit_fields = ("state", "escalation_note", "finding_ref")

    def audit_label(self) -> str:
        return f"{self.code} {self.case_ref} {self.subject}"

    @property
    def title(self) -> str:
        return str(ALERT_TITLES.get(self.code, self.code))

    @property
    def used_days(self) -> float | None:
        return None if self.used_us is None else self.used_us / DAY_US

    def can_view(self, user) -> bool:
        return bool(user.is_authenticated and user.can("supervision.view")
                    and user.can_see_department(self.department_id))

    def can_act_on(self, user) -> bool:
        """Workflow scope: the alert's department (and its parents' users); inspectors everywhere."""
        return self.can_view(user)


class StatsColumns:
    """The counters shared by the stats tables (completed cases are counted in their completion month)."""

    received: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    completed: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    timed: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)  # completed cases that have a limit
    on_time: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    early: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    used_us: Mapped[int] = mapped_column(sa.BigInteger, default=0, nullable=False)  # sum over completed cases


class PowerStats(StatsColumns, db.Model):
    """Per power and month: cases received (by receipt month) and completed (by completion month)."""

    __tablename__ = "supervision_power_stats"
    __table_args__ = (sa.Index("ix_supervision_power_stats_department_month", "department_id", "month"),)

    power_id: Mapped[int] = mapped_column(sa.ForeignKey("powers.id"), primary_key=True)
    month: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), nullable=False)


class DepartmentStats(StatsColumns, db.Model):
    """Per department and month: the sums of its powers' stats."""

    __tablename__ = "supervision_department_stats"

    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), primary_key=True)
    month: Mapped[int] = mapped_column(sa.Integer, primary_key=True)


STAT_FIELDS = ("received", "completed", "timed", "on_time", "early", "used_us")


class ScanRun(db.Model):
    """One run of the scan: when, at which instant, and what it found."""

    __tablename__ = "supervision_scans"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    duration_ms: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    cases: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    new_alerts: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    withdrawn: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    yellow_ratio: Mapped[float] = mapped_column(sa.Float, nullable=False)
    actor_name: Mapped[str] = mapped_column(sa.String(120), default="", nullable=False)
    counts_json: Mapped[str] = mapped_column(sa.Text, default="{}", nullable=False)

    def audit_label(self) -> str:
        return f"scan #{self.id}"

    @property
    def counts(self) -> dict:
        return json.loads(self.counts_json or "{}")
