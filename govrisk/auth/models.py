"""User accounts, their roles and API tokens."""

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govrisk.core.models import TimestampMixin, VersionedMixin
from govrisk.core.permissions import ADMIN_ROLES, DEPARTMENT_ROLES, Role, has_permission
from govrisk.core.types import UTCDateTime, enum_column, utcnow
from govrisk.extensions import db


class UserRole(db.Model):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(enum_column(Role), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class User(UserMixin, TimestampMixin, VersionedMixin, db.Model):
    """A login account. Accounts are deactivated, never deleted."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    password_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"))
    locale: Mapped[str] = mapped_column(sa.String(10), default="zh_CN")
    is_enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    must_change_password: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    failed_login_count: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    locked_until_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    department = relationship("Department", foreign_keys=[department_id])
    roles = relationship(
        UserRole, foreign_keys=[UserRole.user_id], cascade="all, delete-orphan", lazy="selectin", order_by=UserRole.role
    )

    audit_fields = ("username", "display_name", "department_id", "is_enabled", "must_change_password", "locale")

    @property
    def role_set(self) -> frozenset:
        return frozenset(r.role for r in self.roles)

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    @property
    def is_admin(self) -> bool:
        return bool(self.role_set & ADMIN_ROLES)

    def is_locked(self, now: datetime | None = None) -> bool:
        return self.locked_until_at is not None and self.locked_until_at > (now or utcnow())

    def has_role(self, role) -> bool:
        return Role(role) in self.role_set

    def can(self, permission: str) -> bool:
        """Whether this user holds a permission (the one registry decides)."""
        return has_permission(self, permission)

    def visible_department_ids(self):
        """None means every department; otherwise the ids of the user's department and its sub-units."""
        from govrisk.org.queries import subtree_ids

        if self.can("inspect.all"):
            return None
        if not (self.role_set & DEPARTMENT_ROLES) or self.department_id is None:
            return set()
        return subtree_ids(self.department_id)

    def can_see_department(self, department_id: int | None) -> bool:
        """Department scoping for business data: own department and sub-units; inspectors see all."""
        if not self.can("business.read"):
            return False
        visible = self.visible_department_ids()
        return visible is None or department_id in visible

    def audit_label(self) -> str:
        return f"{self.username}（{self.display_name}）"


class ApiToken(TimestampMixin, db.Model):
    """A revocable API token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    prefix: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    scopes: Mapped[str] = mapped_column(sa.String(255), default="read")
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship(User)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def can_revoke(self, user) -> bool:
        return user.is_authenticated and (user.id == self.user_id or user.can("users.manage"))


class Setting(db.Model):
    """A key/value setting (JSON text) that administrators edit at run time."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
