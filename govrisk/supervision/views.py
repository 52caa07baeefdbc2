"""Electronic supervision pages (/supervision/…) and the event intake API (POST /api/v1/supervision/events)."""

from datetime import date

from flask import Blueprint, current_app, flash, g, jsonify, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from govrisk.core.errors import Forbidden, NotFound, UserError
from govrisk.core.importer import stage_upload, staged_upload
from govrisk.core.nav import NavItem, register_nav
from govrisk.core.types import utcnow
from govrisk.core.views import RH, add_route
from govrisk.extensions import csrf
from govrisk.org.queries import department_choices
from govrisk.supervision import exports, queries
from govrisk.supervision import operations as ops
from govrisk.supervision.forms import ConfirmUploadForm, EventUploadForm
from govrisk.supervision.ingest import (
    MAX_BATCH,
    BatchTooLarge,
    EventBatchError,
    ingest_events,
    parse_file,
    parse_records,
    preview_events,
    refuse,
)
from govrisk.supervision.models import ALERT_CODES, ALERT_TITLES, QUARANTINE_REASONS
from govrisk.supervision.scan import run_scan
from govrisk.supervision.workflow import AlertState

bp = Blueprint("supervision", __name__)
UPLOAD_KIND = "supervision_events"

register_nav(NavItem("supervision.dashboard", "电子监察", "E-supervision", "supervision.view", "activity", "", 50))


class Unauthorized(UserError):
    status_code = 401


class RHSupervision(RH):
    permission = "supervision.view"

    @property
    def visible(self):
        return current_user.visible_department_ids()

    def _render(self, **context):
        return super()._render(alert_titles=ALERT_TITLES, alert_codes=ALERT_CODES, **context)


def _period(visible) -> tuple[int, int | None]:
    """?year=&month= of the request; the newest year with data when no valid year is asked for."""
    year, month = request.args.get("year", type=int), request.args.get("month", type=int)
    year = year if year and 2000 <= year <= 2099 else queries.default_year(visible)
    return year, month if month and 1 <= month <= 12 else None


class RHDashboard(RHSupervision):
    template = "supervision/dashboard.html"

    def _process_GET(self):
        year, month = _period(self.visible)
        rows = queries.department_rows(self.visible, year, month)
        trend = queries.monthly_trend(self.visible, year)
        return self._render(rows=rows, total=queries.total(rows), year=year, month=month,
                            years=queries.data_years(self.visible), charts=queries.trend_charts(trend, year),
                            trend=trend, last_scan=queries.last_scan(), cards=queries.alert_counts(self.visible))


class RHDepartmentDashboard(RHSupervision):
    template = "supervision/department.html"

    def _load(self, department_id):
        from govrisk.extensions import db
        from govrisk.org.models import Department

        self.department = db.session.get(Department, department_id) if department_id <= queries.MAX_ID else None
        if self.department is None:
            raise NotFound(_("单位不存在。"))

    def _check_access(self):
        super()._check_access()
        if not current_user.can_see_department(self.department.id):
            raise Forbidden(_("您只能查看本单位及下属单位。"))

    def _process_GET(self):
        year, month = _period(self.visible)
        ids = [self.department.id]
        page = queries.power_rows(ids, year, month)
        trend = queries.monthly_trend(ids, year)
        return self._render(department=self.department, page=page, year=year, month=month,
                            total=queries.total(queries.department_rows(set(ids), year, month)),
                            years=queries.data_years(self.visible), charts=queries.trend_charts(trend, year),
                            trend=trend)


class RHAlerts(RHSupervision):
    template = "supervision/alerts.html"

    def _process_GET(self):
        filters = queries.AlertFilters.from_args(request.args)
        page = queries.search_alerts(filters, self.visible)
        return self._render(page=page, filters=filters, messages=queries.messages_for(page.items),
                            states=AlertState, departments=department_choices(self.visible),
                            counts=queries.alert_counts(self.visible))


class RHAlertsExport(RHSupervision):
    def _process_GET(self):
        filters = queries.AlertFilters.from_args(request.args)
        data = exports.alerts_xlsx(filters, self.visible)
        return send_file(exports.stream(data), download_name=f"supervision-alerts-{date.today():%Y%m%d}.xlsx",
                         mimetype=exports.XLSX, as_attachment=True)


class RHRecord(RHSupervision):
    """A page of one record, seen only within the user's departments (inspectors everywhere)."""

    missing = outside = ""

    def _get(self, record_id):
        """The record, or None."""

    def _load(self, **ids):
        self.record = self._get(*ids.values())
        if self.record is None:
            raise NotFound(str(self.missing))

    def _check_access(self):
        super()._check_access()
        if not self.record.can_view(current_user):
            raise Forbidden(str(self.outside))


class RHAlertBase(RHRecord):
    missing, outside = _l("预警不存在。"), _l("您只能查看本单位及下属单位的预警。")

    def _get(self, alert_id):
        return queries.get_alert(alert_id)

    @property
    def alert(self):
        return self.record


class RHAlert(RHAlertBase):
    template = "supervision/alert.html"

    def _process_GET(self):
        alert = self.alert
        return self._render(alert=alert, message=queries.messages_for([alert])[alert.id],
                            names=queries.names_in_flow(alert.case.flow_id if alert.case else None),
                            finding_url=_finding_url(alert))


def _finding_url(alert) -> str | None:
    """The accountability domain's "open a finding from this card" page, when that domain is installed."""
    if alert.code != "red_card" or alert.finding_ref or "accountability.finding_create" not in \
            current_app.view_functions or not current_user.can("accountability.manage"):
        return None
    return url_for("accountability.finding_create", alert_id=alert.id)


class RHAlertTransition(RHAlertBase):
    def _process_POST(self):
        form = request.form
        ops.transition_alert(self.alert, form.get("transition", ""), actor=current_user, comment=form.get("comment"),
                             expected_version=form.get("version", type=int))
        flash(_("预警状态为“%(state)s”。", state=self.alert.state.title), "success")
        return redirect(url_for("supervision.alert", alert_id=self.alert.id))


class RHCases(RHSupervision):
    template = "supervision/cases.html"

    def _process_GET(self):
        filters = queries.CaseFilters.from_args(request.args)
        return self._render(page=queries.search_cases(filters, self.visible), filters=filters,
                            departments=department_choices(self.visible))


class RHCase(RHRecord):
    template = "supervision/case.html"
    missing, outside = _l("案件不存在。"), _l("您只能查看本单位及下属单位的案件。")

    def _get(self, case_id):
        return queries.get_case(case_id)

    def _process_GET(self):
        case = self.record
        visits, alerts = queries.visits_of(case), queries.alerts_of_case(case)
        return self._render(case=case, visits=visits, alerts=alerts, messages=queries.messages_for(alerts),
                            names=queries.names_in_flow(case.flow_id),
                            chart=queries.case_chart_svg(case, visits, alerts))


class RHImport(RHSupervision):
    """Upload → check every row and preview → confirm: stored, then scanned, in one request."""

    permission = "supervision.import"
    template = "supervision/import.html"

    def _load(self):
        self.form, self.confirm_form = EventUploadForm(), ConfirmUploadForm()

    def _render_form(self, **context):
        return self._render(confirm_form=self.confirm_form, max_batch=MAX_BATCH, reasons=QUARANTINE_REASONS, **context)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        max_bytes = current_app.config["IMPORT_MAX_BYTES"]
        if request.form.get("token"):
            return self._confirm(max_bytes)
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        upload = self.form.file.data
        content, filename = upload.read(max_bytes + 1), upload.filename or "upload.csv"
        parsed = _parse_upload(content, filename, max_bytes)
        if parsed.errors:
            return self._render_form(parsed=parsed), 400
        preview = preview_events(parsed.rows, actor=current_user)
        token = stage_upload(UPLOAD_KIND, filename, content, actor=current_user).token
        return self._render_form(parsed=parsed, preview=preview, token=token, filename=filename)

    def _confirm(self, max_bytes):
        upload = staged_upload(request.form["token"], UPLOAD_KIND, actor=current_user)
        parsed = _parse_upload(upload.content, upload.filename, max_bytes)
        refuse(parsed)
        result = ingest_events(parsed.rows, actor=current_user, source="web", filename=upload.filename)
        upload.used_at = utcnow()
        scan = run_scan(actor=current_user)
        flash(_("导入完成：收到 %(total)s 条，新存 %(stored)s 条，重复 %(duplicates)s 条，暂存 %(quarantined)s 条；"
                "扫描发现新预警 %(alerts)s 条。", total=result.total, stored=result.stored,
                duplicates=result.duplicates, quarantined=result.quarantined, alerts=scan.new_total), "success")
        return redirect(url_for("supervision.alerts", state="unresolved"))


def _parse_upload(content: bytes, filename: str, max_bytes: int):
    parsed = parse_file(content, filename, max_bytes=max_bytes)
    if len(parsed.rows) + len(parsed.errors) > 10 * MAX_BATCH:
        raise EventBatchError(_("网页上传一次最多 %(n)s 条事件；更大的文件请用命令 govrisk supervision import。",
                                n=10 * MAX_BATCH))
    return parsed


class RHQuarantine(RHSupervision):
    template = "supervision/quarantine.html"

    def _process_GET(self):
        args = request.args
        state = args.get("state", "pending")
        page = queries.search_quarantine(self.visible, state=state, reason=args.get("reason", ""),
                                         q=args.get("q", "").strip()[:100])
        return self._render(page=page, state=state, reasons=QUARANTINE_REASONS,
                            counts=queries.quarantine_counts(self.visible))


class RHReprocess(RHSupervision):
    permission = "supervision.manage"

    def _process_POST(self):
        counts = ops.reprocess_quarantine(actor=current_user)
        scan = run_scan(actor=current_user) if counts["resolved"] else None
        flash(_("重新处理 %(pending)s 条暂存事件：%(resolved)s 条已入库，%(still)s 条仍暂存。",
                pending=counts["pending"], resolved=counts["resolved"], still=counts["still_pending"]), "success")
        if scan is not None and scan.new_total:
            flash(_("扫描发现新预警 %(n)s 条。", n=scan.new_total), "info")
        return redirect(url_for("supervision.quarantine"))


class RHScanNow(RHSupervision):
    permission = "supervision.manage"

    def _process_POST(self):
        result = run_scan(actor=current_user)
        flash(_("扫描完成：检查 %(cases)s 件有新事件的案件，新预警 %(alerts)s 条，系统撤回 %(withdrawn)s 条。",
                cases=result.cases, alerts=result.new_total, withdrawn=result.withdrawn), "success")
        return redirect(request.referrer or url_for("supervision.dashboard"))


class RHReportPdf(RHSupervision):
    def _process_GET(self):
        year, month = _period(self.visible)
        data = exports.dashboard_pdf(self.visible, year, month)
        return send_file(exports.stream(data), download_name=f"supervision-{year}{month or ''}.pdf",
                         mimetype="application/pdf", as_attachment=True)


class RHApiEvents(RH):
    """POST a JSON array (or CSV) of up to MAX_BATCH events with a token that has the `ingest` scope."""

    login_required = False

    def _check_access(self):
        from govrisk.auth.queries import user_for_token

        scheme, _sep, raw = request.headers.get("Authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise Unauthorized(_("需要 API 令牌：请求头 Authorization: Bearer <令牌>。"))
        user, token = user_for_token(raw.strip())
        if user is None:
            raise Unauthorized(_("API 令牌无效、已撤销或其账号已停用。"))
        g._login_user = user  # the token's owner acts, whatever session cookie comes along
        if "ingest" not in (token.scopes or "").split():
            raise Forbidden(_("该 API 令牌没有数据接入（ingest）权限。"))
        if not user.can("supervision.import"):
            raise Forbidden(_("令牌所属账号没有报送办件过程数据的权限。"))
        self.user = user

    def _process_POST(self):
        if request.mimetype in ("text/csv", "application/csv"):
            parsed = parse_file(request.get_data(), "events.csv", max_bytes=current_app.config["MAX_CONTENT_LENGTH"])
        else:
            payload = request.get_json(silent=True)
            if payload is None:
                raise EventBatchError(_("请求体不是有效的 JSON（应为事件对象组成的数组）。"))
            if isinstance(payload, list):
                _check_batch_size(len(payload))
            parsed = parse_records(payload)
        _check_batch_size(len(parsed.rows) + len(parsed.errors))
        refuse(parsed)
        result = ingest_events(parsed.rows, actor=self.user, source="api")
        return jsonify(result.to_dict()), 201 if result.stored else 200


def _check_batch_size(count: int) -> None:
    if count > MAX_BATCH:
        raise BatchTooLarge(_("一批最多 %(max)s 条事件，本批 %(n)s 条；请分批发送。", max=MAX_BATCH, n=count))


add_route(bp, "/supervision/", RHDashboard, "dashboard")
add_route(bp, "/supervision/departments/<int:department_id>", RHDepartmentDashboard, "department")
add_route(bp, "/supervision/report.pdf", RHReportPdf, "report_pdf")
add_route(bp, "/supervision/alerts", RHAlerts, "alerts")
add_route(bp, "/supervision/alerts.xlsx", RHAlertsExport, "alerts_xlsx")
add_route(bp, "/supervision/alerts/<int:alert_id>", RHAlert, "alert")
add_route(bp, "/supervision/alerts/<int:alert_id>/transition", RHAlertTransition, "alert_transition", ("POST",))
add_route(bp, "/supervision/cases", RHCases, "cases")
add_route(bp, "/supervision/cases/<int:case_id>", RHCase, "case")
add_route(bp, "/supervision/import", RHImport, "import_events", ("GET", "POST"))
add_route(bp, "/supervision/quarantine", RHQuarantine, "quarantine")
add_route(bp, "/supervision/quarantine/reprocess", RHReprocess, "reprocess", ("POST",))
add_route(bp, "/supervision/scan", RHScanNow, "scan", ("POST",))
_api_view = RHApiEvents.as_view("api_events")
csrf.exempt(_api_view)  # token calls only: a cross-site page cannot set the Authorization header
bp.add_url_rule("/api/v1/supervision/events", view_func=_api_view, methods=["POST"])
