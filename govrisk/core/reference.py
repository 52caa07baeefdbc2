"""Editable reference data (categories, types, methods …) and the working-day calendar's exceptions."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from govrisk.core.enums import current_language
from govrisk.extensions import db


class ReferenceItem(db.Model):
    """One entry of a reference list, e.g. kind='power_category', key='xk', name_zh='行政许可'."""

    __tablename__ = "reference_items"
    __table_args__ = (sa.UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40), nullable=False, index=True)
    key: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    name_zh: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    name_en: Mapped[str] = mapped_column(sa.String(120), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    sort_order: Mapped[int] = mapped_column(sa.Integer, default=0)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)

    audit_fields = ("kind", "key", "name_zh", "name_en", "description", "sort_order", "is_active")

    @property
    def title(self) -> str:
        return (self.name_en or self.name_zh) if current_language() == "en" else self.name_zh


class CalendarDay(db.Model):
    """An exception to the Monday–Friday week: a holiday, or a make-up working day (调休)."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False)  # 'holiday' or 'workday'
    name: Mapped[str] = mapped_column(sa.String(80), default="")

    audit_fields = ("day", "kind", "name")


def reference_items(kind: str, *, active_only: bool = True) -> list[ReferenceItem]:
    """The items of one reference list, in display order."""
    stmt = sa.select(ReferenceItem).where(ReferenceItem.kind == kind)
    if active_only:
        stmt = stmt.where(ReferenceItem.is_active.is_(True))
    return list(db.session.scalars(stmt.order_by(ReferenceItem.sort_order, ReferenceItem.key)))


def reference_kinds() -> list[tuple[str, int]]:
    """Each reference kind with its item count."""
    stmt = sa.select(ReferenceItem.kind, sa.func.count()).group_by(ReferenceItem.kind).order_by(ReferenceItem.kind)
    return [(k, n) for k, n in db.session.execute(stmt)]


def working_calendar():
    """The working-day calendar built from the stored exceptions (cached for the request)."""
    from flask import g, has_app_context

    from govrisk.core.calendar import WorkingCalendar

    if has_app_context() and "working_calendar" in g:
        return g.working_calendar
    rows = db.session.execute(sa.select(CalendarDay.day, CalendarDay.kind)).all()
    calendar = WorkingCalendar.from_rows([(day, kind) for day, kind in rows])
    if has_app_context():
        g.working_calendar = calendar
    return calendar
