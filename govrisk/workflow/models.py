"""The history of every workflow transition, for any object."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from govrisk.core.types import UTCDateTime, utcnow
from govrisk.extensions import db


class WorkflowEvent(db.Model):
    __tablename__ = "workflow_events"
    __table_args__ = (sa.Index("ix_workflow_events_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    target_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    workflow: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    transition: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    from_state: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    to_state: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(sa.String(120), default="")
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class DeadlineMixin:
    """An object with a due date that `govrisk tick` marks overdue and escalates."""

    due_on: Mapped[date | None] = mapped_column(sa.Date)
    is_overdue: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    escalation_level: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
