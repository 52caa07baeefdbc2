"""Wiring of the web layer: blueprints, session rules, error pages, template helpers."""

from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from govrisk.core.enums import current_language
from govrisk.core.nav import nav_for
from govrisk.core.permissions import has_permission
from govrisk.core.views import json_error, wants_json
from govrisk.extensions import db, login_manager

EXEMPT_FROM_PASSWORD_CHANGE = {"auth.change_password", "auth.logout", "static", "auth.set_language"}

def _load_user(user_id: str):
    from govrisk.auth.models import User

    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


def _load_user_from_request(req):
    header = req.headers.get("Authorization", "")
    if not (req.path.startswith("/api/") and header.lower().startswith("bearer ")):
        return None
    from govrisk.auth.queries import user_for_token

    user, _token = user_for_token(header[7:].strip())
    return user


def _enforce_session_rules():
    """Idle timeout and forced password change, checked before every request."""
    if request.endpoint == "static" or not current_user.is_authenticated or request.path.startswith("/api/"):
        return None
    from govrisk.auth.queries import security_policy

    now = datetime.now(UTC).timestamp()
    last_seen = session.get("last_seen")
    if last_seen and now - last_seen > security_policy().idle_timeout_minutes * 60:
        logout_user()
        session.clear()
        flash(_("长时间未操作，会话已过期，请重新登录。"), "warning")
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    session["last_seen"] = now
    if current_user.must_change_password and request.endpoint not in EXEMPT_FROM_PASSWORD_CHANGE:
        flash(_("首次登录或密码已被重置，请先修改密码。"), "warning")
        return redirect(url_for("auth.change_password"))
    return None


FORM_MIMETYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(values) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in values.items(multi=True))


def _refuse_nul_characters():
    """Text holding a NUL character is never valid input (and PostgreSQL cannot store it): such an address, query or
    form is refused before any handler runs, the same on every database."""
    if "\x00" in request.path or _has_nul(request.args) or (
            request.method not in ("GET", "HEAD") and request.mimetype in FORM_MIMETYPES and _has_nul(request.form)):
        return _error_page(400, _("输入含有不允许的控制字符（NUL），未写入任何数据。"))
    return None


ERROR_TITLES = {
    400: _l("请求有误"),
    403: _l("没有权限"),
    404: _l("页面不存在"),
    405: _l("不支持的请求方式"),
    409: _l("操作冲突"),
    413: _l("上传文件过大"),
    429: _l("请求过于频繁"),
    500: _l("系统内部错误"),
}


def _error_page(status: int, message: str = ""):
    title = str(ERROR_TITLES.get(status, _l("出错了")))
    if wants_json():
        return json_error(message or title, status)
    return render_template("errors/error.html", status=status, title=title, message=message), status


def _handle_http_error(exc: HTTPException):
    db.session.rollback()
    message = exc.description if isinstance(exc.description, str) and exc.code in (400, 403, 404, 409) else ""
    if exc.code == 413:
        message = _("上传的文件超过了允许的大小。")
    return _error_page(exc.code or 500, message)


def _handle_csrf_error(exc: CSRFError):
    db.session.rollback()
    return _error_page(400, _("页面已过期或缺少安全令牌（CSRF），请刷新页面后重试。"))


def _handle_unexpected(exc: Exception):
    db.session.rollback()
    from govrisk.core.views import bad_input_error

    refusal = bad_input_error(exc)
    if refusal is not None:
        return _error_page(refusal.status_code, refusal.message)
    import logging

    logging.getLogger("govrisk").exception("unhandled error on %s", request.path)
    return _error_page(500, _("系统遇到意外错误，操作未生效，未写入任何数据。请稍后重试或联系管理员。"))


def _unauthorized():
    if wants_json():
        return json_error(_("需要登录或有效的 API 令牌。"), 401)
    flash(_("请先登录。"), "info")
    return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))


def _template_helpers():
    from govrisk.workflow.engine import available, history_for

    def state_badge(state) -> Markup:
        return Markup('<span class="badge badge-state state-{0}">{1}</span>').format(state.value, state.title)

    def state_title(obj, value: str) -> str:
        """The title of a stored state value of obj's workflow (the raw value when unknown)."""
        states = getattr(getattr(type(obj), "__workflow__", None), "states", None)
        try:
            return states(value).title if states is not None else value
        except ValueError:
            return value

    def fmt_dt(value) -> str:
        if value is None:
            return ""
        from zoneinfo import ZoneInfo

        return value.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")

    return {
        "has_perm": lambda name: has_permission(current_user, name),
        "nav_items": lambda: nav_for(current_user),
        "available_transitions": available,
        "workflow_history": history_for,
        "state_badge": state_badge,
        "state_title": state_title,
        "fmt_dt": fmt_dt,
        "lang": current_language,
    }


def init_app(app) -> None:
    login_manager.user_loader(_load_user)
    login_manager.request_loader(_load_user_from_request)
    login_manager.unauthorized_handler(_unauthorized)
    login_manager.session_protection = "strong"
    app.before_request(_refuse_nul_characters)
    app.before_request(_enforce_session_rules)
    app.register_error_handler(CSRFError, _handle_csrf_error)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(Exception, _handle_unexpected)
    app.context_processor(_template_helpers)
    app.jinja_env.globals["config_languages"] = app.config["LANGUAGES"]
