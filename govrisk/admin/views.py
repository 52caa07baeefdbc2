"""Home page, audit trail, reference data and the working-day calendar."""

from datetime import date

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from govrisk.admin import operations as ops
from govrisk.admin.forms import CalendarDayForm, ReferenceItemForm
from govrisk.admin.queries import audit_target_types, calendar_days, search_audit
from govrisk.core.audit import verify_chain
from govrisk.core.errors import NotFound, UserError
from govrisk.core.nav import NavItem, register_nav
from govrisk.core.reference import ReferenceItem, reference_items, reference_kinds
from govrisk.core.views import RH, add_route
from govrisk.extensions import db

bp = Blueprint("admin", __name__)

register_nav(NavItem("admin.audit", "审计日志", "Audit trail", "audit.read", "journal-check", "admin", 30))
register_nav(NavItem("admin.reference", "参考数据", "Reference data", "reference.manage", "list-ul", "admin", 40))
register_nav(NavItem("admin.calendar", "工作日历", "Working calendar", "reference.manage", "calendar3", "admin", 41))


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


class RHHome(RH):
    template = "admin/home.html"

    def _process_GET(self):
        return self._render()


class RHAudit(RH):
    permission = "audit.read"
    template = "admin/audit.html"

    def _process_GET(self):
        args = request.args
        page = search_audit(actor=args.get("actor", "").strip(), target_type=args.get("target_type", ""),
                            target_id=args.get("target_id", type=int), action=args.get("action", "").strip(),
                            date_from=_date_arg("date_from"), date_to=_date_arg("date_to"))
        return self._render(page=page, target_types=audit_target_types())


class RHAuditVerify(RH):
    permission = "audit.read"
    template = "admin/audit_verify.html"

    def _process_POST(self):
        return self._render(report=verify_chain())


class RHReference(RH):
    permission = "reference.manage"
    template = "admin/reference.html"

    def _load(self):
        self.kind = request.args.get("kind", "")
        self.form = ReferenceItemForm()

    def _render_form(self):
        items = reference_items(self.kind, active_only=False) if self.kind else []
        return self._render(kinds=reference_kinds(), kind=self.kind, items=items)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.kind or not self.form.validate_on_submit():
            return self._render_form(), 400
        ops.save_reference_item(None, {**self.form.data, "kind": self.kind}, actor=current_user)
        flash(_("已添加。"), "success")
        return redirect(url_for("admin.reference", kind=self.kind))


class RHReferenceToggle(RH):
    permission = "reference.manage"

    def _load(self, item_id):
        self.item = db.session.get(ReferenceItem, item_id)
        if self.item is None:
            raise NotFound(_("参考数据项不存在。"))

    def _process_POST(self):
        ops.save_reference_item(self.item, {"is_active": not self.item.is_active}, actor=current_user)
        flash(_("已启用。") if self.item.is_active else _("已停用。"), "success")
        return redirect(url_for("admin.reference", kind=self.item.kind))


class RHCalendar(RH):
    permission = "reference.manage"
    template = "admin/calendar.html"

    def _load(self):
        self.year = request.args.get("year", type=int) or date.today().year
        self.form = CalendarDayForm()

    def _render_form(self):
        return self._render(year=self.year, days=calendar_days(self.year))

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        ops.set_calendar_day(self.form.day.data, self.form.kind.data, self.form.name.data or "", actor=current_user)
        flash(_("%(day)s 已保存。", day=self.form.day.data.isoformat()), "success")
        return redirect(url_for("admin.calendar", year=self.form.day.data.year))


class RHCalendarClear(RH):
    permission = "reference.manage"

    def _process_POST(self):
        try:
            day = date.fromisoformat(request.form.get("day", ""))
        except ValueError:
            raise UserError(_("日期格式不正确。")) from None
        ops.clear_calendar_day(day, actor=current_user)
        flash(_("%(day)s 已恢复为普通日。", day=day.isoformat()), "success")
        return redirect(url_for("admin.calendar", year=day.year))


add_route(bp, "/", RHHome, "home")
add_route(bp, "/admin/audit", RHAudit, "audit")
add_route(bp, "/admin/audit/verify", RHAuditVerify, "audit_verify", ("POST",))
add_route(bp, "/admin/reference", RHReference, "reference", ("GET", "POST"))
add_route(bp, "/admin/reference/<int:item_id>/toggle", RHReferenceToggle, "reference_toggle", ("POST",))
add_route(bp, "/admin/calendar", RHCalendar, "calendar", ("GET", "POST"))
add_route(bp, "/admin/calendar/clear", RHCalendarClear, "calendar_clear", ("POST",))
