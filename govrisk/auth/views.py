"""Login, logout, own password and tokens; account, role and policy administration."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from govrisk.auth import operations as ops
from govrisk.auth.forms import (
    ChangePasswordForm,
    LoginForm,
    PolicyForm,
    ResetPasswordForm,
    RoleGrantForm,
    TokenForm,
    UserCreateForm,
    UserEditForm,
)
from govrisk.auth.models import ApiToken, User
from govrisk.auth.queries import search_users, security_policy, tokens_of
from govrisk.core.errors import NotFound, UserError
from govrisk.core.nav import NavItem, register_nav
from govrisk.core.permissions import Role
from govrisk.core.views import RH, add_route
from govrisk.extensions import db
from govrisk.org.queries import department_choices

bp = Blueprint("auth", __name__)

register_nav(NavItem("auth.users", "用户账号", "Accounts", "users.manage", "people", "admin", 10))
register_nav(NavItem("auth.roles", "角色授权", "Role grants", "roles.grant", "shield-lock", "admin", 20))
register_nav(NavItem("auth.policy", "安全策略", "Security policy", "security.policy", "sliders", "admin", 21))


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("admin.home")


class RHLogin(RH):
    login_required = False
    template = "auth/login.html"
    commit_refusals = True  # failed attempts are counted and audited even though the login is refused

    def _load(self):
        self.form = LoginForm()

    def _process_GET(self):
        if current_user.is_authenticated:
            return redirect(url_for("admin.home"))
        return self._render()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render(), 400
        user = ops.authenticate(self.form.username.data.strip(), self.form.password.data)
        chosen_language = session.get("lang")  # a language picked on the login page outlives the new session
        session.clear()
        login_user(user)
        session["lang"] = chosen_language or user.locale
        return redirect(_safe_next(request.args.get("next")))

    def _on_user_error(self, exc):
        flash(exc.message, "danger")
        return self._render(), 401


class RHLogout(RH):
    def _process_POST(self):
        from govrisk.core.audit import log_change

        log_change("auth.logout", current_user._get_current_object(), actor=current_user._get_current_object())
        logout_user()
        session.clear()
        flash(_("您已安全退出。"), "info")
        return redirect(url_for("auth.login"))


class RHSetLanguage(RH):
    login_required = False

    def _process_GET(self):
        code = request.view_args.get("code")
        if code in ("zh_CN", "en"):
            session["lang"] = code
        return redirect(_safe_next(request.args.get("next") or request.referrer and urlsplit(request.referrer).path))


class RHChangePassword(RH):
    template = "auth/change_password.html"

    def _load(self):
        self.form = ChangePasswordForm()

    def _process_GET(self):
        return self._render(policy=security_policy())

    def _render_form(self):
        return self._render(policy=security_policy())

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render(policy=security_policy()), 400
        from werkzeug.security import check_password_hash

        if not check_password_hash(current_user.password_hash, self.form.current_password.data):
            raise UserError(_("当前密码不正确。"), field="current_password")
        ops.set_password(current_user, self.form.password.data, actor=current_user, must_change=False)
        flash(_("密码已修改。"), "success")
        return redirect(url_for("admin.home"))


class RHTokens(RH):
    permission = "business.read"
    template = "auth/tokens.html"

    def _load(self):
        self.form = TokenForm()

    def _render_form(self, new_token=None):
        return self._render(tokens=tokens_of(current_user), new_token=new_token)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        _token, raw = ops.create_api_token(current_user, self.form.name.data.strip(), actor=current_user,
                                           scopes=self.form.scopes.data)
        flash(_("令牌已创建。请立即复制保存，它只显示这一次。"), "success")
        return self._render_form(new_token=raw)


class RHTokenRevoke(RH):
    permission = "business.read"

    def _load(self, token_id):
        self.token = db.session.get(ApiToken, token_id)
        if self.token is None:
            raise NotFound(_("令牌不存在。"))

    def _check_access(self):
        if not self.token.can_revoke(current_user):
            raise NotFound(_("令牌不存在。"))

    def _process_POST(self):
        ops.revoke_api_token(self.token, actor=current_user)
        flash(_("令牌已撤销。"), "success")
        return redirect(url_for("auth.tokens"))


class RHUserBase(RH):
    def _load(self, user_id):
        self.user = db.session.get(User, user_id)
        if self.user is None:
            raise NotFound(_("用户不存在。"))


class RHUsers(RH):
    permission = "users.manage"
    template = "auth/users.html"

    def _process_GET(self):
        args = request.args
        page = search_users(q=args.get("q", "").strip(), role=args.get("role", ""),
                            department_id=args.get("department_id", type=int), enabled=args.get("enabled", ""))
        return self._render(page=page, roles=Role, departments=department_choices())


class RHUserCreate(RH):
    permission = "users.manage"
    template = "auth/user_form.html"

    def _load(self):
        self.form = UserCreateForm()
        self.form.department_id.choices = [(0, "—")] + department_choices()

    def _process_GET(self):
        return self._render(user=None, policy=security_policy())

    def _render_form(self):
        return self._render(user=None, policy=security_policy())

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        user = ops.create_user(self.form.data, actor=current_user)
        flash(_("账号“%(username)s”已创建。请安全管理员为其授予角色；首次登录须修改密码。", username=user.username),
              "success")
        return redirect(url_for("auth.user_edit", user_id=user.id))


class RHUserEdit(RHUserBase):
    permission = "users.manage"
    template = "auth/user_form.html"

    def _load(self, user_id):
        super()._load(user_id)
        self.form = UserEditForm(obj=self.user if request.method == "GET" else None)
        self.form.department_id.choices = [(0, "—")] + department_choices()
        self.reset_form = ResetPasswordForm(prefix="reset")

    def _render_form(self):
        return self._render(user=self.user, reset_form=self.reset_form, policy=security_policy())

    def _process_GET(self):
        self.form.version.data = self.user.version
        self.form.department_id.data = self.user.department_id or 0
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        changes = ops.update_user(self.user, self.form.data, actor=current_user)
        flash(_("已保存。") if changes else _("没有需要保存的修改。"), "success" if changes else "info")
        return redirect(url_for("auth.user_edit", user_id=self.user.id))


class RHUserResetPassword(RHUserBase):
    permission = "users.manage"

    def _process_POST(self):
        form = ResetPasswordForm(prefix="reset")
        if not form.validate_on_submit():
            raise UserError(_("请输入新的初始密码。"))
        ops.set_password(self.user, form.password.data, actor=current_user, must_change=True)
        flash(_("密码已重置，用户下次登录时须修改密码。"), "success")
        return redirect(url_for("auth.user_edit", user_id=self.user.id))


class RHRoles(RH):
    permission = "roles.grant"
    template = "auth/roles.html"

    def _process_GET(self):
        args = request.args
        page = search_users(q=args.get("q", "").strip(), role=args.get("role", ""))
        return self._render(page=page, roles=Role, grant_form=RoleGrantForm())


class RHRoleGrant(RHUserBase):
    permission = "roles.grant"

    def _process_POST(self):
        form = RoleGrantForm()
        if not form.validate_on_submit():
            raise UserError(_("请选择要授予的角色。"))
        ops.grant_role(self.user, Role(form.role.data), actor=current_user)
        flash(_("已为“%(user)s”授予“%(role)s”。", user=self.user.display_name, role=Role(form.role.data).title),
              "success")
        return redirect(request.referrer or url_for("auth.roles"))


class RHRoleRevoke(RHUserBase):
    permission = "roles.grant"

    def _process_POST(self):
        role = request.form.get("role", "")
        if role not in {r.value for r in Role}:
            raise UserError(_("未知的角色。"))
        ops.revoke_role(self.user, Role(role), actor=current_user)
        flash(_("已撤销“%(user)s”的“%(role)s”角色。", user=self.user.display_name, role=Role(role).title), "success")
        return redirect(request.referrer or url_for("auth.roles"))


class RHUserUnlock(RHUserBase):
    permission = "roles.grant"

    def _process_POST(self):
        ops.unlock_user(self.user, actor=current_user)
        flash(_("账号已解锁。"), "success")
        return redirect(request.referrer or url_for("auth.roles"))


class RHPolicy(RH):
    permission = "security.policy"
    template = "auth/policy.html"

    def _load(self):
        self.form = PolicyForm(data=security_policy().to_dict() if request.method == "GET" else None)

    def _render_form(self):
        locked = db.session.scalars(sa.select(User).where(User.locked_until_at.is_not(None))).all()
        return self._render(locked=[u for u in locked if u.is_locked()])

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        changes = ops.update_security_policy(self.form.data, actor=current_user)
        flash(_("安全策略已更新。") if changes else _("没有修改。"), "success")
        return redirect(url_for("auth.policy"))


add_route(bp, "/login", RHLogin, "login", ("GET", "POST"))
add_route(bp, "/logout", RHLogout, "logout", ("POST",))
add_route(bp, "/lang/<code>", RHSetLanguage, "set_language")
add_route(bp, "/account/password", RHChangePassword, "change_password", ("GET", "POST"))
add_route(bp, "/account/tokens", RHTokens, "tokens", ("GET", "POST"))
add_route(bp, "/account/tokens/<int:token_id>/revoke", RHTokenRevoke, "token_revoke", ("POST",))
add_route(bp, "/admin/users", RHUsers, "users")
add_route(bp, "/admin/users/new", RHUserCreate, "user_create", ("GET", "POST"))
add_route(bp, "/admin/users/<int:user_id>", RHUserEdit, "user_edit", ("GET", "POST"))
add_route(bp, "/admin/users/<int:user_id>/reset-password", RHUserResetPassword, "user_reset_password", ("POST",))
add_route(bp, "/admin/roles", RHRoles, "roles")
add_route(bp, "/admin/roles/<int:user_id>/grant", RHRoleGrant, "role_grant", ("POST",))
add_route(bp, "/admin/roles/<int:user_id>/revoke", RHRoleRevoke, "role_revoke", ("POST",))
add_route(bp, "/admin/roles/<int:user_id>/unlock", RHUserUnlock, "user_unlock", ("POST",))
add_route(bp, "/admin/policy", RHPolicy, "policy", ("GET", "POST"))
