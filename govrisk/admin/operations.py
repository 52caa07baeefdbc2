"""Changes to reference data and the working-day calendar."""

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from govrisk.core.audit import log_change, record_create, record_update
from govrisk.core.errors import UserError
from govrisk.core.reference import CalendarDay, ReferenceItem
from govrisk.extensions import db


def save_reference_item(item: ReferenceItem | None, data: dict, *, actor) -> ReferenceItem:
    """Create or update a reference item (keys are unique per kind and never change)."""
    if item is None:
        exists = db.session.scalar(sa.select(ReferenceItem.id).where(ReferenceItem.kind == data["kind"],
                                                                     ReferenceItem.key == data["key"]))
        if exists:
            raise UserError(_("“%(key)s”在该类参考数据中已存在。", key=data["key"]), field="key")
        item = ReferenceItem(**{k: data[k] for k in ReferenceItem.audit_fields if k in data})
        record_create("reference.create", item, actor=actor)
        return item
    fields = {k: data[k] for k in ("name_zh", "name_en", "description", "sort_order", "is_active") if k in data}
    record_update("reference.update", item, fields, actor=actor)
    return item


def set_calendar_day(day: date, kind: str, name: str, *, actor) -> CalendarDay:
    """Mark a day as a holiday or a make-up working day (replacing what it was)."""
    if kind not in ("holiday", "workday"):
        raise UserError(_("类型必须是“节假日”或“调休上班”。"), field="kind")
    if kind == "workday" and day.weekday() < 5:
        raise UserError(_("%(day)s 是周一至周五，本来就是工作日，无需设为调休上班。", day=day.isoformat()), field="day")
    entry = db.session.get(CalendarDay, day)
    if entry is None:
        entry = CalendarDay(day=day, kind=kind, name=name)
        record_create("calendar.set", entry, actor=actor)
    else:
        record_update("calendar.set", entry, {"kind": kind, "name": name}, actor=actor)
    return entry


def clear_calendar_day(day: date, *, actor) -> None:
    """Return a day to the ordinary week (weekday works, weekend rests)."""
    entry = db.session.get(CalendarDay, day)
    if entry is None:
        raise UserError(_("%(day)s 没有特殊安排。", day=day.isoformat()))
    log_change("calendar.clear", entry, actor=actor, changes={"kind": [entry.kind, None], "name": [entry.name, None]},
               target_type="calendar_days")
    db.session.delete(entry)
    db.session.flush()
