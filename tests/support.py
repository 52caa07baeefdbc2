"""A test-only table with a workflow and a deadline, to exercise the engine without a domain."""

import sqlalchemy as sa
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from govrisk.core.models import VersionedMixin
from govrisk.core.types import enum_column
from govrisk.workflow.models import DeadlineMixin
from govrisk.workflow.register import RegisterState, register_workflow


class TestBase(DeclarativeBase):
    metadata = MetaData()


class Ticket(VersionedMixin, DeadlineMixin, TestBase):
    """A register-like record owned by a department."""

    __tablename__ = "test_tickets"
    __workflow__ = register_workflow("ticket", final=RegisterState.CONFIRMED)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int | None] = mapped_column(sa.Integer)
    title: Mapped[str] = mapped_column(sa.String(100), default="")
    state: Mapped[RegisterState] = mapped_column(enum_column(RegisterState), default=RegisterState.DRAFT)

    def can_act_on(self, user) -> bool:
        return user.can_see_department(self.department_id)
