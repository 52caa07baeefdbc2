"""Flow charts of a power (内部/外部流程图): versions under the register workflow, their steps and edges.

A `Flow` row is one version of one kind of chart of one power. Versions are numbered per (power, kind); at most
one version is open (draft … approved) at a time, and publishing a version retires the version it replaces, so at
most one version per (power, kind) is published. The summary columns (`error_count`, `decision_step_count` …)
are written on every save from the pure validator, so lists and the coverage view count in SQL.
"""

import json

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govrisk.core.enums import TitledEnum
from govrisk.core.models import TimestampMixin, VersionedMixin
from govrisk.core.permissions import Role, register_permission
from govrisk.core.types import enum_column
from govrisk.extensions import db
from govrisk.flows.workflow import EDITABLE_STATES, FLOW_WORKFLOW
from govrisk.workflow.register import OPEN_STATES, RegisterState

register_permission("flows.coverage", [Role.INSPECTOR, Role.DEPT_HEAD, Role.DEPT_EDITOR], "查看流程图覆盖情况",
                    "View flow coverage")

# Column sizes; the save path refuses longer values with a clear message instead of truncating.
KEY_MAX, NAME_MAX, POST_MAX, LABEL_MAX, DOCUMENT_MAX = 60, 200, 200, 200, 200


class FlowKind(TitledEnum):
    INTERNAL = ("internal", "内部流程图", "Internal flow chart")
    EXTERNAL = ("external", "外部流程图", "External flow chart")


class Flow(TimestampMixin, VersionedMixin, db.Model):
    """One version of a power's internal or external flow chart."""

    __tablename__ = "flows"
    __workflow__ = FLOW_WORKFLOW
    __table_args__ = (
        sa.UniqueConstraint("power_id", "kind", "number"),
        sa.Index("ix_flows_power_kind_state", "power_id", "kind", "state"),
        sa.Index("ix_flows_state_errors", "state", "error_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    power_id: Mapped[int] = mapped_column(sa.ForeignKey("powers.id"), nullable=False)
    kind: Mapped[FlowKind] = mapped_column(enum_column(FlowKind), nullable=False)
    number: Mapped[int] = mapped_column(sa.Integer, default=1, nullable=False)  # 第 N 版
    state: Mapped[RegisterState] = mapped_column(enum_column(RegisterState), default=RegisterState.DRAFT,
                                                 nullable=False)
    time_limit_days: Mapped[int | None] = mapped_column(sa.Integer)  # the document's own limit (§7.1)
    step_count: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    decision_step_count: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    error_count: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    warning_count: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    critical_path_days: Mapped[int | None] = mapped_column(sa.Integer)
    findings_json: Mapped[str] = mapped_column(sa.Text, default="[]", nullable=False)  # as of the last save

    power = relationship("Power")
    steps = relationship("FlowStep", order_by="FlowStep.position", cascade="all, delete-orphan",
                         back_populates="flow")
    edges = relationship("FlowEdge", order_by="FlowEdge.position", cascade="all, delete-orphan",
                         back_populates="flow")

    audit_fields = ("kind", "number", "time_limit_days")

    def audit_label(self) -> str:
        code = self.power.code if self.power is not None else self.power_id
        return f"{code} {self.kind.zh} 第{self.number}版"

    @property
    def findings(self) -> list[dict]:
        return json.loads(self.findings_json or "[]")

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def can_view(self, user) -> bool:
        return bool(user is not None and user.is_authenticated and self.power is not None
                    and user.can_see_department(self.power.department_id))

    def can_act_on(self, user) -> bool:
        """Workflow scope: the power's department (and its parents' users), inspectors everywhere."""
        return self.can_view(user)

    def can_edit(self, user) -> bool:
        """Editors of the department while the version is a draft or was returned."""
        return self.can_view(user) and user.can("register.edit") and self.state in EDITABLE_STATES

    def can_revise(self, user) -> bool:
        """Editors start a new version from the published one."""
        return self.can_view(user) and user.can("register.edit") and self.state is RegisterState.PUBLISHED


class FlowStep(db.Model):
    """A step (环节): `key` is the step id of the flow document; internal flows link the department's post."""

    __tablename__ = "flow_steps"
    __table_args__ = (sa.UniqueConstraint("flow_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(sa.ForeignKey("flows.id"), index=True, nullable=False)
    position: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    key: Mapped[str] = mapped_column(sa.String(KEY_MAX), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX), nullable=False)
    post_id: Mapped[int | None] = mapped_column(sa.ForeignKey("posts.id"), index=True)
    post_name: Mapped[str] = mapped_column(sa.String(POST_MAX), default="", nullable=False)
    role: Mapped[str] = mapped_column(sa.String(20), nullable=False)  # validation.ROLES
    time_limit_days: Mapped[int | None] = mapped_column(sa.Integer)
    documents_json: Mapped[str] = mapped_column(sa.Text, default="[]", nullable=False)

    flow = relationship(Flow, back_populates="steps")
    post = relationship("Post")

    @property
    def documents(self) -> list[str]:
        return json.loads(self.documents_json or "[]")


class FlowEdge(db.Model):
    """An edge between two steps of the same flow; `is_loop` marks a return (补正/退回)."""

    __tablename__ = "flow_edges"

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(sa.ForeignKey("flows.id"), index=True, nullable=False)
    position: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    source_key: Mapped[str] = mapped_column(sa.String(KEY_MAX), nullable=False)
    target_key: Mapped[str] = mapped_column(sa.String(KEY_MAX), nullable=False)
    label: Mapped[str] = mapped_column(sa.String(LABEL_MAX), default="", nullable=False)
    is_loop: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)

    flow = relationship(Flow, back_populates="edges")
