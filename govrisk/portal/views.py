"""The public portal (no login): published catalog, power pages, feedback and its status; the inspector inbox."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from govrisk.catalog import queries as catalog_queries
from govrisk.core.errors import Forbidden, NotFound
from govrisk.core.nav import NavItem, register_nav
from govrisk.core.views import RH, add_route
from govrisk.extensions import db
from govrisk.org.queries import department_choices
from govrisk.portal import operations as ops
from govrisk.portal import queries
from govrisk.portal.forms import FeedbackForm, TrackForm
from govrisk.portal.models import Feedback
from govrisk.portal.workflow import FeedbackState

bp = Blueprint("portal", __name__)

register_nav(NavItem("portal.inbox", "群众反馈", "Citizen feedback", "feedback.handle", "chat-left-text", "", 60))


@bp.app_template_global("flow_chart_for")
def _flow_chart_for(power_code, public=True):
    return queries.flow_chart_for(power_code, public=bool(public))


@bp.app_template_filter("tracking_code")
def _tracking_code(value):
    return ops.format_code(value) if value else ""


class RHPublic(RH):
    login_required = False


class RHPortalHome(RHPublic):
    """Search the published, public catalog by department, category and text."""

    template = "portal/index.html"

    def _process_GET(self):
        filters = catalog_queries.PowerFilters.from_args(request.args)
        filters.state, filters.major = "", ""
        facets = catalog_queries.counts(filters, None, published=True)
        page = catalog_queries.search_published(filters, total=facets.total)
        return self._render(page=page, filters=filters, facets=facets,
                            categories=catalog_queries.reference_names("power_category"),
                            departments=catalog_queries.portal_departments())


class RHPortalPower(RHPublic):
    """A power's public page: only a published version of a public power, never a draft or an internal one."""

    template = "portal/power.html"

    def _load(self, code):
        self.version = catalog_queries.public_version(code)
        if self.version is None:
            raise NotFound(_("该职权事项不存在或未公开。"))

    def _process_GET(self):
        return self._render(version=self.version, p=self.version.data)


class RHFeedback(RHPublic):
    template = "portal/feedback.html"

    def _load(self):
        self.form = FeedbackForm()
        self.form.category.choices = [("", "—")] + catalog_queries.reference_choices("feedback_category")
        self.form.department_id.choices = [(0, "—")] + department_choices()
        code = request.values.get("power_code") or request.args.get("power") or ""
        self.version = catalog_queries.public_version(code) if code else None
        if request.method == "GET" and self.version is not None:
            self.form.power_code.data = self.version.code

    def _render_form(self):
        return self._render(version=self.version)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        feedback = ops.submit_feedback({**self.form.data, "power_code": self.form.power_code.data or ""},
                                       address=ops.client_address())
        flash(_("提交成功。请记下查询码，凭查询码查看办理进度。"), "success")
        return redirect(url_for("portal.track", code=feedback.tracking_code, new=1))


class RHTrack(RHPublic):
    """The status of one piece of feedback, by its tracking code (the text and contact are not shown)."""

    template = "portal/track.html"

    def _process_GET(self):
        form = self.form = TrackForm(request.args)
        feedback = None
        if request.args.get("code"):
            feedback = queries.feedback_by_code(request.args["code"])
            if feedback is None:
                form.code.errors = [_("未找到该查询码，请核对后重试（不区分大小写，可省略连字符）。")]
        return self._render(feedback=feedback, is_new=request.args.get("new") == "1",
                            categories=catalog_queries.reference_names("feedback_category"))


class RHInbox(RH):
    permission = "feedback.handle"
    template = "portal/inbox.html"

    def _process_GET(self):
        args = request.args
        page = queries.search_feedback(state=args.get("state", ""), category=args.get("category", ""),
                                       q=args.get("q", "").strip())
        return self._render(page=page, states=FeedbackState, counts=queries.state_counts(),
                            categories=catalog_queries.reference_names("feedback_category"))


class RHFeedbackItem(RH):
    permission = "feedback.handle"
    template = "portal/feedback_item.html"

    def _load(self, feedback_id):
        self.feedback = db.session.get(Feedback, feedback_id)
        if self.feedback is None:
            raise NotFound(_("反馈不存在。"))

    def _check_access(self):
        super()._check_access()
        if not self.feedback.can_view(current_user):
            raise Forbidden(_("您没有处理群众反馈的权限。"))

    def _process_GET(self):
        return self._render(feedback=self.feedback, categories=catalog_queries.reference_names("feedback_category"))

    def _process_POST(self):
        ops.triage_feedback(self.feedback, request.form.get("transition", ""), actor=current_user,
                            comment=request.form.get("comment"), expected_version=request.form.get("version"))
        flash(_("已处理：%(state)s。", state=self.feedback.state.title), "success")
        return redirect(url_for("portal.feedback_item", feedback_id=self.feedback.id))


add_route(bp, "/portal/", RHPortalHome, "index")
add_route(bp, "/portal/powers/<code>", RHPortalPower, "power")
add_route(bp, "/portal/feedback", RHFeedback, "feedback", ("GET", "POST"))
add_route(bp, "/portal/track", RHTrack, "track")
add_route(bp, "/feedback/inbox", RHInbox, "inbox")
add_route(bp, "/feedback/inbox/<int:feedback_id>", RHFeedbackItem, "feedback_item", ("GET", "POST"))
