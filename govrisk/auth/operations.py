"""Every change to accounts, roles, tokens and the security policy."""

import hashlib
import json
import re
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.security import check_password_hash, generate_password_hash

from govrisk.auth.models import ApiToken, Setting, User, UserRole
from govrisk.auth.queries import POLICY_KEY, get_user_by_username, security_policy
from govrisk.core.audit import diff_fields, log_change, record_create, record_update
from govrisk.core.errors import UserError
from govrisk.core.permissions import ADMIN_ROLES, DEPARTMENT_ROLES, Role
from govrisk.core.types import utcnow
from govrisk.extensions import db

CHARACTER_CLASSES = (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^a-zA-Z0-9]")


def password_problems(password: str, *, username: str = "") -> list[str]:
    """What is wrong with a password under the policy in force (empty list = acceptable)."""
    policy = security_policy()
    problems = []
    if len(password) < policy.password_min_length:
        problems.append(_("密码至少 %(n)s 位", n=policy.password_min_length))
    classes = sum(1 for pattern in CHARACTER_CLASSES if re.search(pattern, password))
    if classes < policy.password_min_classes:
        problems.append(_("密码须包含大写字母、小写字母、数字、符号中的至少 %(n)s 类", n=policy.password_min_classes))
    if username and username.lower() in password.lower():
        problems.append(_("密码不能包含用户名"))
    return problems


def _problems_message(problems: list[str]) -> str:
    return _("%(problems)s。", problems=_("；").join(problems))


def _hash(password: str) -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


def create_user(data: dict, *, actor) -> User:
    """Create an account; its first login must change the initial password."""
    if get_user_by_username(data["username"]) is not None:
        raise UserError(_("用户名“%(username)s”已存在。", username=data["username"]), field="username")
    problems = password_problems(data["password"], username=data["username"])
    if problems:
        raise UserError(_problems_message(problems), field="password")
    user = User(username=data["username"], display_name=data["display_name"], password_hash=_hash(data["password"]),
                department_id=data.get("department_id") or None,
                must_change_password=data.get("must_change_password", True),
                is_enabled=True, locale=data.get("locale") or "zh_CN")
    record_create("auth.user.create", user, actor=actor)
    return user


def update_user(user: User, data: dict, *, actor) -> dict:
    """Change an account's name, department or status."""
    fields = {k: data[k] for k in ("display_name", "department_id", "is_enabled") if k in data}
    if "department_id" in fields:
        fields["department_id"] = fields["department_id"] or None
        if fields["department_id"] is None and user.role_set & DEPARTMENT_ROLES:
            raise UserError(_("单位用户必须属于一个单位。"), field="department_id")
    if fields.get("is_enabled") is False and actor is not None and user.id == actor.id:
        raise UserError(_("不能停用自己的账号。"), field="is_enabled")
    return record_update("auth.user.update", user, fields, actor=actor, expected_version=data.get("version"))


def set_password(user: User, password: str, *, actor, must_change: bool) -> None:
    """Replace a password (policy-checked); an administrator's reset forces a change at next login."""
    problems = password_problems(password, username=user.username)
    if problems:
        raise UserError(_problems_message(problems), field="password")
    if check_password_hash(user.password_hash, password):
        raise UserError(_("新密码不能与当前密码相同。"), field="password")
    user.password_hash = _hash(password)
    user.must_change_password = must_change
    user.password_changed_at = utcnow()
    user.failed_login_count, user.locked_until_at = 0, None
    user.bump_version()
    db.session.flush()
    log_change("auth.password.reset" if must_change else "auth.password.change", user, actor=actor,
               changes={"password": ["***", "***"], "must_change_password": [None, must_change]})


def authenticate(username: str, password: str) -> User:
    """The user for these credentials, counting failures and locking per policy; raises with a clear reason."""
    user = get_user_by_username(username)
    generic = UserError(_("用户名或密码错误。"))
    if user is None:
        generate_password_hash(password or "x")  # same work either way, so timing does not reveal names
        raise generic
    now = utcnow()
    if user.is_locked(now):
        minutes = max(1, int((user.locked_until_at - now).total_seconds() // 60) + 1)
        raise UserError(ngettext("账号已被锁定，请 %(num)s 分钟后再试，或联系安全管理员解锁。",
                                 "账号已被锁定，请 %(num)s 分钟后再试，或联系安全管理员解锁。", minutes))
    if not check_password_hash(user.password_hash, password or ""):
        _record_failure(user, now)
        raise generic
    if not user.is_enabled:
        raise UserError(_("账号已停用，请联系系统管理员。"))
    user.failed_login_count, user.locked_until_at, user.last_login_at = 0, None, now
    log_change("auth.login", user, actor=user, changes={})
    return user


def _record_failure(user: User, now) -> None:
    policy = security_policy()
    user.failed_login_count += 1
    changes = {"failed_login_count": [user.failed_login_count - 1, user.failed_login_count]}
    if user.failed_login_count >= policy.lockout_threshold:
        user.locked_until_at = now + timedelta(minutes=policy.lockout_minutes)
        user.failed_login_count = 0
        changes["locked_until_at"] = [None, user.locked_until_at.isoformat()]
    db.session.flush()
    log_change("auth.login_failed", user, actor=None, changes=changes)


def unlock_user(user: User, *, actor) -> None:
    """Lift a lockout before it expires."""
    before = {"locked_until_at": user.locked_until_at, "failed_login_count": user.failed_login_count}
    user.locked_until_at, user.failed_login_count = None, 0
    db.session.flush()
    log_change("auth.user.unlock", user, actor=actor, changes=diff_fields(before, {"locked_until_at": None,
                                                                                   "failed_login_count": 0}))


def role_conflict(user: User, role: Role) -> str | None:
    """Why `role` may not be added to the user's roles (三员分立 and department rules), or None."""
    current = user.role_set
    if role in current:
        return _("该用户已拥有“%(role)s”角色。", role=role.title)
    if role in ADMIN_ROLES and current:
        return _("三员分立：管理员角色“%(role)s”不能与其他角色（%(others)s）兼任。", role=role.title,
                 others=_("、").join(r.title for r in sorted(current)))
    if current & ADMIN_ROLES:
        return _("三员分立：该用户是%(roles)s，不能再兼任其他角色。",
                 roles=_("、").join(r.title for r in sorted(current & ADMIN_ROLES)))
    if role in DEPARTMENT_ROLES and user.department_id is None:
        return _("“%(role)s”须属于某个单位，请先为该用户设置单位。", role=role.title)
    return None


def grant_role(user: User, role: Role, *, actor) -> None:
    """Grant a role, refusing any combination that 三员分立 forbids."""
    role = Role(role)
    reason = role_conflict(user, role)
    if reason:
        raise UserError(reason, field="role")
    if actor is not None and user.id == actor.id:
        raise UserError(_("不能给自己授予角色。"), field="role")
    user.roles.append(UserRole(role=role, granted_by_id=getattr(actor, "id", None)))
    user.bump_version()
    db.session.flush()
    log_change("auth.role.grant", user, actor=actor, changes={"roles": [None, role.value]})


def revoke_role(user: User, role: Role, *, actor) -> None:
    """Take a role away."""
    role = Role(role)
    grant = next((g for g in user.roles if g.role == role), None)
    if grant is None:
        raise UserError(_("该用户没有“%(role)s”角色。", role=role.title))
    if actor is not None and user.id == actor.id:
        raise UserError(_("不能撤销自己的角色。"))
    user.roles.remove(grant)
    user.bump_version()
    db.session.flush()
    log_change("auth.role.revoke", user, actor=actor, changes={"roles": [role.value, None]})


def update_security_policy(data: dict, *, actor) -> dict:
    """Store a new security policy (values already validated by the form)."""
    before = security_policy().to_dict()
    after = {**before, **{k: int(v) for k, v in data.items() if k in before}}
    if after["password_min_length"] < 8 or after["password_min_classes"] < 3:
        raise UserError(_("密码策略不得低于等级保护要求：至少 8 位、3 类字符。"))
    setting = db.session.get(Setting, POLICY_KEY) or Setting(key=POLICY_KEY, value="{}")
    setting.value = json.dumps(after)
    db.session.add(setting)
    db.session.flush()
    changes = diff_fields(before, after)
    log_change("auth.policy.update", None, actor=actor, changes=changes, target_type="settings")
    return changes


def create_api_token(user: User, name: str, *, actor, scopes: str = "read") -> tuple[ApiToken, str]:
    """Issue a token; the raw value is returned once and only its hash is kept."""
    raw = "gr_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=hashlib.sha256(raw.encode()).hexdigest(),
                     prefix=raw[:10], scopes=scopes)
    db.session.add(token)
    db.session.flush()
    log_change("auth.token.create", token, actor=actor, changes={"name": [None, name], "scopes": [None, scopes]})
    return token, raw


def revoke_api_token(token: ApiToken, *, actor) -> None:
    """Revoke a token (kept for the record)."""
    if token.is_revoked:
        raise UserError(_("该令牌已撤销。"))
    token.revoked_at = utcnow()
    db.session.flush()
    log_change("auth.token.revoke", token, actor=actor, changes={"revoked_at": [None, token.revoked_at.isoformat()]})
