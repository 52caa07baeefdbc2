"""The base view: load → check_access → process, with one commit or rollback per request."""

import re

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import exc as sa_exc

from govrisk.core.errors import Forbidden, UserError
from govrisk.extensions import db, login_manager


def wants_json() -> bool:
    """API paths and clients that prefer JSON get JSON errors."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def json_error(message: str, status: int, **extra):
    """The uniform JSON error body {"error": {...}}."""
    return jsonify({"error": {"message": message, "status": status, **extra}}), status


YEAR_OUT_OF_RANGE = re.compile(r"year -?\d+ is out of range")


def is_out_of_range(exc: BaseException) -> bool:
    """A number too large for the database column (SQLite OverflowError, PostgreSQL numeric/integer range), or a
    year outside the calendar (a filter year turned into date(year, 1, 1): Python dates run from 1 to 9999)."""
    if isinstance(exc, OverflowError):
        return True
    if isinstance(exc, ValueError) and YEAR_OUT_OF_RANGE.fullmatch(str(exc)):
        return True
    orig = getattr(exc, "orig", None)
    if isinstance(orig, OverflowError):
        return True
    return isinstance(exc, sa_exc.DataError) and "out of range" in str(orig or exc).lower()


def is_invalid_choice(exc: BaseException) -> bool:
    """A value that is none of an enum column's values, met when SQLAlchemy binds it (a tampered filter or field)."""
    return isinstance(exc, sa_exc.StatementError) and isinstance(exc.orig, LookupError)


def is_nul_text(exc: BaseException) -> bool:
    """Text with a NUL character, which PostgreSQL cannot store (forms and queries are refused before: JSON bodies)."""
    return isinstance(exc, sa_exc.DataError) and "NUL (0x00)" in str(exc.orig or exc)


def bad_input_error(exc: BaseException) -> UserError | None:
    """The refusal to give for input the database or the calendar cannot take (else None: a real error)."""
    if is_out_of_range(exc):
        return UserError(_("输入的数值超出允许范围，未写入任何数据。"))
    if is_invalid_choice(exc):
        return UserError(_("请求无效，请刷新页面后重试。"))
    if is_nul_text(exc):
        return UserError(_("输入含有不允许的控制字符（NUL），未写入任何数据。"))
    return None


class RH(MethodView):
    """Request handler. Subclasses override _load, _check_access and _process_GET/_process_POST."""

    permission: str | None = None
    login_required = True
    form = None
    template: str | None = None
    #: keep what the operation recorded before refusing (only for refusals that are themselves facts, e.g. login)
    commit_refusals = False

    def dispatch_request(self, **kwargs):
        if self.login_required and not current_user.is_authenticated:
            return login_manager.unauthorized()
        try:
            self._load(**kwargs)
            self._check_access()
            method = getattr(self, f"_process_{request.method}", None) or getattr(self, "_process", None)
            if method is None:
                abort(405)
            response = method()
            db.session.commit()
            return response
        except UserError as exc:
            db.session.commit() if self.commit_refusals else db.session.rollback()
            return self._on_user_error(exc)
        except (OverflowError, ValueError, sa_exc.DataError, sa_exc.StatementError) as exc:
            db.session.rollback()
            refusal = bad_input_error(exc)
            if refusal is None:
                raise
            return self._on_user_error(refusal)
        except BaseException:
            db.session.rollback()
            raise

    def _load(self, **kwargs) -> None:
        """Load the objects the URL names (raise NotFound)."""

    def _check_access(self) -> None:
        """Refuse with Forbidden unless the user may do this (default: the class's permission)."""
        if self.permission and not current_user.can(self.permission):
            raise Forbidden(_("您没有执行此操作的权限。"))

    def _render(self, **context):
        return render_template(self.template, form=self.form, **context)

    def _on_user_error(self, exc: UserError):
        if wants_json():
            extra = {k: v for k, v in exc.to_dict().items() if k != "message"}
            return json_error(exc.message, exc.status_code, **extra)
        if exc.status_code in (403, 404):
            abort(exc.status_code, exc.message)
        if self.form is not None and self.template:
            field = getattr(self.form, exc.field, None) if exc.field else None
            if field is not None:
                field.errors = [*field.errors, exc.message] if isinstance(field.errors, list) else [exc.message]
            else:
                flash(exc.message, "danger")
            return self._render_form(), exc.status_code
        if request.method == "GET" and (not request.referrer or request.referrer == request.url):
            abort(exc.status_code, exc.message)  # redirecting to the same address would loop
        flash(exc.message, "danger")
        return redirect(request.referrer or request.url)

    def _render_form(self):
        """Re-render the form page after a refused submission (subclasses pass extra context)."""
        return self._render()


def add_route(bp, rule: str, handler: type[RH], name: str, methods=("GET",)) -> None:
    """Register a request handler class on a blueprint."""
    bp.add_url_rule(rule, view_func=handler.as_view(name), methods=list(methods))


class RHImport(RH):
    """Upload → preview with per-row errors → confirm (all rows in one transaction, or none)."""

    importer_class = None
    template = "core/import.html"
    done_endpoint = "admin.home"

    def _load(self, **kwargs):
        from govrisk.core.forms import ImportConfirmForm, ImportUploadForm

        self.importer = self.importer_class()
        self.form = ImportUploadForm()
        self.confirm_form = ImportConfirmForm()

    def _render_form(self, preview=None, token=None):
        return self._render(importer=self.importer, preview=preview, token=token, confirm_form=self.confirm_form)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        from flask import current_app
        from flask_login import current_user

        from govrisk.core.importer import stage_upload, staged_upload
        from govrisk.core.types import utcnow

        max_bytes = current_app.config["IMPORT_MAX_BYTES"]
        if request.form.get("token"):
            upload = staged_upload(request.form["token"], self.importer.kind, actor=current_user)
            preview = self.importer.run(upload.content, upload.filename, actor=current_user, max_bytes=max_bytes)
            upload.used_at = utcnow()
            flash(_("导入完成：新增 %(created)s 行，更新 %(updated)s 行，未变 %(unchanged)s 行。",
                    created=preview.count("create"), updated=preview.count("update"),
                    unchanged=preview.count("unchanged")), "success")
            return redirect(url_for(self.done_endpoint))
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        upload_file = self.form.file.data
        content = upload_file.read(max_bytes + 1)
        preview = self.importer.preview(content, upload_file.filename or "", max_bytes=max_bytes)
        token = stage_upload(self.importer.kind, upload_file.filename or "upload", content, actor=current_user).token \
            if preview.ok else None
        return self._render_form(preview=preview, token=token)
