"""Base mixins shared by every table."""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from govrisk.core.errors import StaleEditError, UserError
from govrisk.core.types import UTCDateTime, utcnow


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class VersionedMixin:
    """Optimistic locking: operations bump `version`; the UPDATE checks the old value."""

    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.version, "version_id_generator": False}

    def check_version(self, expected: int | str | None) -> None:
        """Refuse a form loaded at another version of this record (None or blank: no version sent, nothing to check;
        anything but a whole number: a tampered form, refused)."""
        if expected is None or (isinstance(expected, str) and not expected.strip()):
            return
        try:
            number = int(expected)
        except (TypeError, ValueError):
            raise UserError(_("请求无效，请刷新页面后重试。")) from None
        if number != self.version:
            raise StaleEditError(
                _("该记录已被他人修改（您打开的是第 %(expected)s 版，当前为第 %(current)s 版），请刷新后重试。",
                  expected=expected, current=self.version))

    def bump_version(self) -> None:
        """Mark a change; the flush's UPDATE will require the previous version."""
        self.version = (self.version or 0) + 1


def model_label(obj) -> str:
    """A short human label for any record, used in the audit trail and history."""
    for attr in ("audit_label", "code", "name", "username"):
        value = getattr(obj, attr, None)
        if value:
            return str(value() if callable(value) else value)
    return f"#{getattr(obj, 'id', '?')}"
