"""Read side of the audit trail and the platform overview."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from govrisk.core.audit import AuditEntry
from govrisk.core.pagination import paginate
from govrisk.core.reference import CalendarDay
from govrisk.extensions import db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def search_audit(*, actor: str = "", target_type: str = "", target_id: int | None = None, action: str = "",
                 date_from: date | None = None, date_to: date | None = None):
    """A page of audit entries, newest first, filtered by user, object, action and date range (Beijing time)."""
    stmt = sa.select(AuditEntry)
    if actor:
        stmt = stmt.where(AuditEntry.actor_name.ilike(f"%{actor}%"))
    if target_type:
        stmt = stmt.where(AuditEntry.target_type == target_type)
    if target_id:
        stmt = stmt.where(AuditEntry.target_id == target_id)
    if action:
        stmt = stmt.where(AuditEntry.action.ilike(f"{action}%"))
    if date_from:
        stmt = stmt.where(AuditEntry.at >= _day_start(date_from))
    if date_to:
        stmt = stmt.where(AuditEntry.at < _day_start(date_to + timedelta(days=1)))
    return paginate(stmt.order_by(AuditEntry.seq.desc()))


def audit_target_types() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.target_type).distinct().order_by(AuditEntry.target_type)))


def calendar_days(year: int) -> list[CalendarDay]:
    stmt = sa.select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    return list(db.session.scalars(stmt.order_by(CalendarDay.day)))
