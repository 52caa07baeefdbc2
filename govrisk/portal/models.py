"""Citizen feedback (评议、举报、咨询、建议) submitted on the portal and triaged by inspectors."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govrisk.core.models import TimestampMixin, VersionedMixin
from govrisk.core.types import UTCDateTime, enum_column
from govrisk.extensions import db
from govrisk.portal.workflow import FEEDBACK_WORKFLOW, FeedbackState


class Feedback(TimestampMixin, VersionedMixin, db.Model):
    """One piece of feedback; the citizen follows it with `tracking_code` (random, not guessable)."""

    __tablename__ = "feedback"
    __workflow__ = FEEDBACK_WORKFLOW
    __table_args__ = (
        sa.Index("ix_feedback_address_created", "address_hash", "created_at"),
        sa.Index("ix_feedback_state_created", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_code: Mapped[str] = mapped_column(sa.String(20), unique=True, nullable=False)
    category: Mapped[str] = mapped_column(sa.String(60), nullable=False)  # reference kind feedback_category
    power_id: Mapped[int | None] = mapped_column(sa.ForeignKey("powers.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"), index=True)
    contact: Mapped[str] = mapped_column(sa.String(200), default="")
    text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    state: Mapped[FeedbackState] = mapped_column(enum_column(FeedbackState), default=FeedbackState.RECEIVED,
                                                 nullable=False)
    # HMAC of the sender's address (never the address itself): the rate limit counts rows per hash.
    address_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    reply: Mapped[str] = mapped_column(sa.Text, default="")  # the reason shown to the citizen
    handled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The finding opened from this feedback (accountability domain, later); a plain id until that table exists.
    finding_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)

    power = relationship("Power")
    department = relationship("Department")
    handled_by = relationship("User")

    audit_fields = ("category", "power_id", "department_id", "state", "reply", "finding_id")

    def audit_label(self) -> str:
        return self.tracking_code

    def can_view(self, user) -> bool:
        return bool(user is not None and user.is_authenticated and user.can("feedback.handle"))

    def can_act_on(self, user) -> bool:
        return self.can_view(user)
