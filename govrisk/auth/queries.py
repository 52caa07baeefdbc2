"""Read side of accounts: policy, users, tokens."""

import json
from dataclasses import asdict, dataclass

import sqlalchemy as sa
from flask import current_app

from govrisk.auth.models import ApiToken, Setting, User, UserRole
from govrisk.core.pagination import paginate
from govrisk.extensions import db

POLICY_KEY = "security_policy"


@dataclass
class SecurityPolicy:
    password_min_length: int
    password_min_classes: int
    lockout_threshold: int
    lockout_minutes: int
    idle_timeout_minutes: int

    def to_dict(self) -> dict:
        return asdict(self)


def security_policy() -> SecurityPolicy:
    """The policy in force: the settings table over the configuration defaults."""
    cfg = current_app.config
    values = {
        "password_min_length": cfg["PASSWORD_MIN_LENGTH"],
        "password_min_classes": cfg["PASSWORD_MIN_CLASSES"],
        "lockout_threshold": cfg["LOCKOUT_THRESHOLD"],
        "lockout_minutes": cfg["LOCKOUT_MINUTES"],
        "idle_timeout_minutes": cfg["IDLE_TIMEOUT_MINUTES"],
    }
    stored = db.session.get(Setting, POLICY_KEY)
    if stored is not None:
        values.update({k: v for k, v in json.loads(stored.value).items() if k in values})
    return SecurityPolicy(**values)


def get_user_by_username(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.username) == (username or "").lower()))


def search_users(*, q: str = "", role: str = "", department_id: int | None = None, enabled: str = ""):
    """A page of accounts filtered by text, role, department and status."""
    stmt = sa.select(User)
    if q:
        stmt = stmt.where(sa.or_(User.username.ilike(f"%{q}%"), User.display_name.ilike(f"%{q}%")))
    if role:
        stmt = stmt.where(User.id.in_(sa.select(UserRole.user_id).where(UserRole.role == role)))
    if department_id:
        stmt = stmt.where(User.department_id == department_id)
    if enabled in ("1", "0"):
        stmt = stmt.where(User.is_enabled.is_(enabled == "1"))
    return paginate(stmt.order_by(User.username))


def tokens_of(user: User) -> list[ApiToken]:
    stmt = sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
    return list(db.session.scalars(stmt))


def user_for_token(raw: str) -> tuple[User | None, ApiToken | None]:
    """The active user behind a bearer token, or (None, None)."""
    import hashlib

    digest = hashlib.sha256((raw or "").encode()).hexdigest()
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None)))
    if token is None or not token.user.is_active:
        return None, None
    return token.user, token
