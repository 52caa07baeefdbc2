"""Campaigns, reporting units, unit reports (with figure extraction), roll-ups and summaries, education sessions."""

from functools import partial
from io import BytesIO
from urllib.parse import quote

from flask import Blueprint, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from govrisk.campaigns import documents, queries
from govrisk.campaigns import operations as ops
from govrisk.campaigns.forms import (
    ActivityForm,
    CampaignForm,
    EducationForm,
    ExtractionConfirmForm,
    ExtractionSourceForm,
    MemberForm,
    ReportTextsForm,
    UnitForm,
    ValueForm,
)
from govrisk.campaigns.models import (
    Campaign,
    CampaignKind,
    EducationSession,
    IndicatorValue,
    ReportActivity,
    ReportingUnit,
    ReportState,
    UnitKind,
    UnitMember,
    UnitReport,
)
from govrisk.core.charts import drawing_to_svg
from govrisk.core.errors import Forbidden, NotFound, UserError
from govrisk.core.forms import TransitionForm
from govrisk.core.nav import NavItem, register_nav
from govrisk.core.views import RH, RHImport, add_route
from govrisk.extensions import db

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")

register_nav(NavItem("campaigns.campaigns", "宣传教育", "Campaigns", "campaigns.view", "megaphone", "", 60))
register_nav(NavItem("campaigns.units", "报送单位", "Reporting units", "campaigns.units.manage", "diagram-2", "", 92))

@bp.app_template_filter("fmt_figure")
def _fmt_figure(value) -> str:
    return documents.fmt_number(value)


@bp.context_processor
def _today():
    from datetime import date

    return {"today": date.today()}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _get(model, object_id, message):
    obj = db.session.get(model, object_id)
    if obj is None:
        raise NotFound(message)
    return obj


def _download(data: bytes, filename: str, mimetype: str, ascii_name: str):
    """A file download named in Chinese, with a readable ASCII name for clients that ignore filename*."""
    response = send_file(BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=filename)
    response.headers["Content-Disposition"] = (f'attachment; filename="{ascii_name}"; '
                                               f"filename*=UTF-8''{quote(filename)}")
    return response


def _svg(drawing) -> Markup:
    return Markup(drawing_to_svg(drawing))  # our own SVG: every text in it is escaped by the renderer


# --------------------------------------------------------------------------------------------
# reporting units
# --------------------------------------------------------------------------------------------


class RHUnitsBase(RH):
    def _check_access(self):
        if not (current_user.can("campaigns.view") or current_user.can("campaigns.units.manage")):
            raise Forbidden(_("您没有查看报送单位的权限。"))


class RHUnitBase(RHUnitsBase):
    def _load(self, unit_id, **kwargs):
        self.unit = _get(ReportingUnit, unit_id, _("报送单位不存在。"))

    def _check_access(self):
        if not self.unit.can_view(current_user):
            raise Forbidden(_("您只能查看本单位及下属单位。"))


class RHUnitManageMixin:
    def _check_access(self):
        if not current_user.can("campaigns.units.manage"):
            raise Forbidden(_("只有系统管理员可以维护报送单位。"))


class RHUnits(RHUnitsBase):
    template = "campaigns/units.html"

    def _process_GET(self):
        args = request.args
        page = queries.search_units(q=args.get("q", "").strip(), kind=args.get("kind", ""),
                                    include_retired=args.get("retired") == "1",
                                    paths=queries.visible_paths(current_user))
        return self._render(page=page, kinds=UnitKind, members=queries.member_counts([u.id for u in page.items]),
                            my_units=queries.my_units(current_user))


class RHUnit(RHUnitBase):
    template = "campaigns/unit.html"

    def _process_GET(self):
        return self._render(unit=self.unit, children=queries.children_of(self.unit.id),
                            members=queries.members_of(self.unit.id), member_form=MemberForm(),
                            can_manage=self.unit.can_manage(current_user))


class RHUnitForm(RHUnitManageMixin, RHUnitsBase):
    template = "campaigns/unit_form.html"

    def _load(self, unit_id=None):
        from govrisk.org.queries import department_choices

        self.unit = _get(ReportingUnit, unit_id, _("报送单位不存在。")) if unit_id else None
        self.form = UnitForm(obj=self.unit if request.method == "GET" else None)
        exclude = self.unit.path if self.unit else None
        self.form.parent_id.choices = [(0, _("（无，顶级单位）"))] + queries.unit_choices(exclude_path=exclude)
        self.form.department_id.choices = [(0, _("—"))] + department_choices()
        if request.method == "GET":
            self.form.parent_id.data = self.unit.parent_id if self.unit else request.args.get("parent_id", 0, int)
            self.form.department_id.data = (self.unit.department_id or 0) if self.unit else 0
            self.form.kind.data = self.unit.kind.value if self.unit else "other"

    def _render_form(self):
        return self._render(unit=self.unit)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        if self.unit is None:
            self.unit = ops.create_unit(self.form.data, actor=current_user)
        else:
            ops.update_unit(self.unit, self.form.data, actor=current_user)
        flash(_("报送单位“%(name)s”已保存。", name=self.unit.name), "success")
        return redirect(url_for("campaigns.unit", unit_id=self.unit.id))


class RHUnitRetire(RHUnitManageMixin, RHUnitBase):
    def _process_POST(self):
        ops.retire_unit(self.unit, actor=current_user, expected_version=request.form.get("version", type=int))
        flash(_("报送单位“%(name)s”已停用（记录保留）。", name=self.unit.name), "success")
        return redirect(url_for("campaigns.units"))


class RHMemberAdd(RHUnitManageMixin, RHUnitBase):
    def _process_POST(self):
        form = MemberForm()
        if not form.validate_on_submit():
            raise UserError(_("请填写用户名。"))
        member = ops.add_member(self.unit, form.username.data, actor=current_user)
        flash(_("%(user)s已加入“%(unit)s”。", user=member.user.display_name, unit=self.unit.name), "success")
        return redirect(url_for("campaigns.unit", unit_id=self.unit.id))


class RHMemberRemove(RHUnitManageMixin, RHUnitBase):
    def _load(self, unit_id, member_id):
        super()._load(unit_id)
        self.member = db.session.get(UnitMember, member_id)
        if self.member is None or self.member.unit_id != self.unit.id:
            raise NotFound(_("该人员不属于本单位。"))

    def _process_POST(self):
        name = self.member.user.display_name
        ops.remove_member(self.member, actor=current_user)
        flash(_("%(user)s已不再代表“%(unit)s”。", user=name, unit=self.unit.name), "success")
        return redirect(url_for("campaigns.unit", unit_id=self.unit.id))


# --------------------------------------------------------------------------------------------
# campaigns
# --------------------------------------------------------------------------------------------


class RHCampaignsBase(RH):
    permission = "campaigns.view"


class RHCampaignBase(RHCampaignsBase):
    def _load(self, campaign_id, **kwargs):
        self.campaign = _get(Campaign, campaign_id, _("活动不存在。"))

    def _check_access(self):
        if not self.campaign.can_view(current_user):
            raise Forbidden(_("您所在的单位不参加该活动。"))


class RHCampaigns(RHCampaignsBase):
    template = "campaigns/campaigns.html"

    def _process_GET(self):
        args = request.args
        page = queries.search_campaigns(current_user, q=args.get("q", "").strip(), year=args.get("year", type=int),
                                        kind=args.get("kind", ""), include_retired=args.get("retired") == "1")
        return self._render(page=page, kinds=CampaignKind)


class RHCampaign(RHCampaignBase):
    template = "campaigns/campaign.html"

    def _process_GET(self):
        args = request.args
        page = queries.unit_status(self.campaign, current_user, q=args.get("q", "").strip(),
                                   state=args.get("state", ""), kind=args.get("kind", ""))
        mine = [u for u in queries.my_units(current_user) if self.campaign.covers(u)]
        counts = queries.status_counts(self.campaign, current_user)
        return self._render(campaign=self.campaign, page=page, counts=counts, states=ReportState, kinds=UnitKind,
                            my_units=mine, my_reports={u.id: queries.report_for(self.campaign.id, u.id) for u in mine})


class RHCampaignForm(RHCampaignsBase):
    template = "campaigns/campaign_form.html"
    permission = "campaigns.manage"

    def _load(self, campaign_id=None):
        self.campaign = _get(Campaign, campaign_id, _("活动不存在。")) if campaign_id else None
        self.form = CampaignForm(obj=self.campaign if request.method == "GET" else None)
        paths = None if current_user.can("inspect.all") else [u.path for u in queries.my_units(current_user)]
        self.form.root_unit_id.choices = queries.unit_choices(paths)
        self.form.previous_id.choices = [(0, _("—"))] + queries.campaign_choices(current_user, exclude_id=campaign_id)
        if request.method == "GET" and self.campaign:
            self.form.kind.data = self.campaign.kind.value
            self.form.venues.data = self.campaign.venue_keys
            self.form.previous_id.data = self.campaign.previous_id or 0

    def _check_access(self):
        super()._check_access()
        if self.campaign is not None and not self.campaign.can_manage(current_user):
            raise Forbidden(_("只有牵头单位可以修改该活动。"))
        if not self.form.root_unit_id.choices:
            raise Forbidden(_("还没有报送单位，请系统管理员先建立报送单位。") if current_user.can("inspect.all")
                            else _("您还不是任何报送单位的人员，不能发起活动。"))

    def _render_form(self):
        return self._render(campaign=self.campaign)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        data = self.form.data
        if self.campaign is None:
            previous = queries.guess_previous(data["kind"], data["year"], data["root_unit_id"])
            data["previous_id"] = data["previous_id"] or (previous.id if previous else None)
            self.campaign = ops.create_campaign(data, actor=current_user)
        else:
            ops.update_campaign(self.campaign, data, actor=current_user)
        flash(_("活动“%(name)s”已保存。", name=self.campaign.name), "success")
        return redirect(url_for("campaigns.campaign", campaign_id=self.campaign.id))


class RHCampaignRetire(RHCampaignBase):
    def _check_access(self):
        if not self.campaign.can_manage(current_user):
            raise Forbidden(_("只有牵头单位可以停用该活动。"))

    def _process_POST(self):
        ops.retire_campaign(self.campaign, actor=current_user, expected_version=request.form.get("version", type=int))
        flash(_("活动“%(name)s”已停用，报告仍可查阅。", name=self.campaign.name), "success")
        return redirect(url_for("campaigns.campaigns"))


class RHReportOpen(RHCampaignBase):
    def _load(self, campaign_id, unit_id):
        super()._load(campaign_id)
        self.unit = _get(ReportingUnit, unit_id, _("报送单位不存在。"))

    def _process_POST(self):
        report = ops.open_report(self.campaign, self.unit, actor=current_user)
        return redirect(url_for("campaigns.report", report_id=report.id))


class RHIndicatorImport(RHImport):
    permission = "campaigns.report.edit"
    done_endpoint = "campaigns.campaigns"

    def _load(self, campaign_id):
        self.campaign = _get(Campaign, campaign_id, _("活动不存在。"))
        self.importer_class = partial(ops.IndicatorImporter, self.campaign, current_user)
        super()._load()

    def _check_access(self):
        super()._check_access()
        if not self.campaign.can_view(current_user) or self.campaign.is_retired:
            raise Forbidden(_("您不能向该活动导入数据。"))

    def _process_POST(self):
        response = super()._process_POST()
        if request.form.get("token"):
            return redirect(url_for("campaigns.campaign", campaign_id=self.campaign.id))
        return response


# --------------------------------------------------------------------------------------------
# roll-up and summaries
# --------------------------------------------------------------------------------------------


class RHRollupBase(RHCampaignBase):
    def _load(self, campaign_id, unit_id):
        super()._load(campaign_id)
        self.unit = _get(ReportingUnit, unit_id, _("报送单位不存在。"))
        if not self.campaign.covers(self.unit):
            raise NotFound(_("“%(name)s”不在本次活动的范围内。", name=self.unit.name))
        self.include_submitted = request.args.get("submitted") == "1"

    def _check_access(self):
        super()._check_access()
        if not self.unit.can_view(current_user):
            raise Forbidden(_("您只能查看本单位及下属单位的汇总。"))

    def _rollup(self):
        return queries.rollup(self.campaign, self.unit, include_submitted=self.include_submitted)

    def _activities(self):
        return queries.rollup_activities(self.campaign, self.unit, include_submitted=self.include_submitted)

    def _send(self, data: bytes, title: str, name: str, mimetype: str):
        extension = name.rsplit(".", 1)[-1]
        return _download(data, f"{self.unit.name}-{self.campaign.full_name}-{title}.{extension}", mimetype,
                         f"{self.campaign.code}-{self.unit.code}-{name}")


class RHRollup(RHRollupBase):
    template = "campaigns/rollup.html"

    def _process_GET(self):
        rollup = self._rollup()
        rows = {"/".join(r.identity): r for r in rollup.rows_for_chart()}
        chosen = rows.get(request.args.get("indicator", "")) or next(iter(documents.chart_rows(rollup, 1)), None)
        ancestors = [u for u in queries.units_by_ids(self.unit.ancestor_ids[:-1])
                     if self.campaign.covers(u) and u.can_view(current_user)]
        return self._render(campaign=self.campaign, unit=self.unit, rollup=rollup, ancestors=ancestors,
                            chart_choices=rows, chosen=chosen, fmt_change=documents.fmt_change,
                            indicator_svg=_svg(documents.indicator_chart(rollup, width=560)),
                            unit_svg=_svg(documents.unit_chart(rollup, chosen, width=560)) if chosen else None)


class RHSummaryPdf(RHRollupBase):
    def _process_GET(self):
        return self._send(documents.summary_pdf(self._rollup(), self._activities()), "工作总结", "summary.pdf",
                          "application/pdf")


class RHSummaryDocx(RHRollupBase):
    def _process_GET(self):
        return self._send(documents.summary_docx(self._rollup(), self._activities()), "工作总结", "summary.docx", DOCX)


class RHRollupXlsx(RHRollupBase):
    def _process_GET(self):
        return self._send(documents.rollup_xlsx(self._rollup()), "指标汇总", "rollup.xlsx", XLSX)


# --------------------------------------------------------------------------------------------
# unit reports
# --------------------------------------------------------------------------------------------


class RHReports(RHCampaignsBase):
    template = "campaigns/reports.html"

    def _process_GET(self):
        args = request.args
        page = queries.search_reports(current_user, campaign_id=args.get("campaign_id", type=int),
                                      state=args.get("state", ""), q=args.get("q", "").strip(),
                                      to_review=args.get("review") == "1")
        return self._render(page=page, states=ReportState, campaigns=queries.campaign_choices(current_user))


class RHReportBase(RHCampaignsBase):
    def _load(self, report_id, **kwargs):
        self.report = _get(UnitReport, report_id, _("报告不存在。"))

    def _check_access(self):
        if not self.report.can_view(current_user):
            raise Forbidden(_("您只能查看本单位及下属单位的报告。"))


class RHReportEditBase(RHReportBase):
    def _check_access(self):
        super()._check_access()
        if not self.report.can_edit(current_user):
            raise Forbidden(_("报告当前为“%(state)s”，或您不是本单位的填报人员，不能修改。",
                              state=self.report.state.title))


class RHReport(RHReportBase):
    template = "campaigns/report.html"

    def _process_GET(self):
        report = self.report
        values = queries.report_values(report.id)
        spans = [(v.text_start, v.text_end, v) for v in values if v.text_start is not None]
        return self._render(report=report, values=values, totals=queries.report_totals(report),
                            activities=queries.report_activities(report.id), can_edit=report.can_edit(current_user),
                            segments=documents.segments(report.narrative, spans),
                            titles=dict(queries.indicator_choices()), types=queries.activity_type_titles())


class RHReportTexts(RHReportEditBase):
    template = "campaigns/report_texts.html"

    def _load(self, report_id):
        super()._load(report_id)
        self.form = ReportTextsForm(obj=self.report if request.method == "GET" else None)

    def _render_form(self):
        return self._render(report=self.report)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        changes = ops.update_report_texts(self.report, self.form.data, actor=current_user)
        flash(_("已保存。") if changes else _("没有需要保存的修改。"), "success" if changes else "info")
        return redirect(url_for("campaigns.report", report_id=self.report.id))


class RHReportTransition(RHReportBase):
    def _process_POST(self):
        form = TransitionForm()
        if not form.validate_on_submit():
            raise UserError(_("请求无效，请刷新页面后重试。"))
        ops.transition_report(self.report, form.transition.data, actor=current_user, comment=form.comment.data,
                              expected_version=request.form.get("version", type=int))
        flash(_("报告状态已变为“%(state)s”。", state=self.report.state.title), "success")
        return redirect(url_for("campaigns.report", report_id=self.report.id))


class RHExtract(RHReportEditBase):
    """Paste or upload the narrative → every figure highlighted with its indicator → confirm, correct or drop each."""

    template = "campaigns/extract.html"

    def _load(self, report_id):
        super()._load(report_id)
        self.form = ExtractionSourceForm()
        self.confirm = None

    def _render_form(self):
        rows = [entry.form for entry in self.confirm.rows] if self.confirm else []
        text = documents.normalize_text(self.confirm.narrative.data) if self.confirm else ""
        spans = [(row.start.data, row.end.data, (i, row)) for i, row in enumerate(rows)]
        return self._render(report=self.report, confirm=self.confirm, segments=documents.segments(text, spans),
                            titles=dict(queries.indicator_choices()))

    def _process_GET(self):
        self.form.narrative.data = self.report.narrative
        return self._render_form()

    def _process_POST(self):
        step = request.form.get("step")
        if step == "save":
            return self._save()
        if step == "back":
            self.form.narrative.data = request.form.get("narrative", "")
            return self._render_form()
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        text = documents.source_text(self.form.narrative.data, self.form.file.data)
        self.confirm = ExtractionConfirmForm(formdata=None, data=documents.mention_rows(text))
        return self._render_form()

    def _save(self):
        self.confirm = ExtractionConfirmForm()
        if not self.confirm.validate_on_submit():
            return self._render_form(), 400
        text = documents.normalize_text(self.confirm.narrative.data)
        values = ops.save_extraction(self.report, text, [e.data for e in self.confirm.rows], actor=current_user)
        flash(_("已保存总结文字和确认的 %(n)s 个数字。", n=len(values)), "success")
        return redirect(url_for("campaigns.report", report_id=self.report.id))


class RHActivityForm(RHReportEditBase):
    template = "campaigns/item_form.html"

    def _load(self, report_id, activity_id=None):
        super()._load(report_id)
        self.activity = _get(ReportActivity, activity_id, _("活动不存在。")) if activity_id else None
        if self.activity is not None and self.activity.report_id != self.report.id:
            raise NotFound(_("活动不存在。"))
        self.form = ActivityForm(obj=self.activity if request.method == "GET" else None)

    def _render_form(self):
        return self._render(report=self.report, title=_("编辑活动") if self.activity else _("添加活动"))

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        ops.save_activity(self.report, self.activity, self.form.data, actor=current_user)
        flash(_("活动已保存。"), "success")
        return redirect(url_for("campaigns.report", report_id=self.report.id, _anchor="activities"))


class RHValueForm(RHReportEditBase):
    template = "campaigns/item_form.html"

    def _load(self, report_id, value_id=None):
        super()._load(report_id)
        self.value = _get(IndicatorValue, value_id, _("指标不存在。")) if value_id else None
        if self.value is not None and self.value.report_id != self.report.id:
            raise NotFound(_("指标不存在。"))
        self.form = ValueForm(obj=self.value if request.method == "GET" else None)
        if request.method == "GET" and self.value:
            self.form.value.data = documents.fmt_number(self.value.value)

    def _render_form(self):
        return self._render(report=self.report, title=_("修改指标") if self.value else _("添加指标"))

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        ops.save_value(self.report, self.value, self.form.data, actor=current_user)
        flash(_("指标已保存。"), "success")
        return redirect(url_for("campaigns.report", report_id=self.report.id, _anchor="values"))


class RHItemRemove(RHReportEditBase):
    """Remove an activity or a figure from a draft report."""

    def _load(self, report_id, kind, item_id):
        super()._load(report_id)
        model, self.remove = {"activities": (ReportActivity, ops.remove_activity),
                              "values": (IndicatorValue, ops.remove_value)}.get(kind, (None, None))
        self.item = db.session.get(model, item_id) if model else None
        if self.item is None or self.item.report_id != self.report.id:
            raise NotFound(_("记录不存在。"))
        self.anchor = kind

    def _process_POST(self):
        self.remove(self.item, actor=current_user)
        flash(_("已删除。"), "success")
        return redirect(url_for("campaigns.report", report_id=self.report.id, _anchor=self.anchor))


# --------------------------------------------------------------------------------------------
# education sessions
# --------------------------------------------------------------------------------------------


class RHEducationBase(RH):
    permission = "education.view"


class RHEducation(RHEducationBase):
    template = "campaigns/education.html"

    def _process_GET(self):
        from govrisk.org.queries import department_choices

        args = request.args
        visible = current_user.visible_department_ids()
        department_id, year = args.get("department_id", type=int), args.get("year", type=int)
        page = queries.search_education(visible_ids=visible, department_id=department_id, year=year,
                                        form=args.get("form", ""), q=args.get("q", "").strip(),
                                        include_retired=args.get("retired") == "1")
        stats = queries.education_stats(department_id, year) if department_id and year and \
            current_user.can_see_department(department_id) else None
        return self._render(page=page, stats=stats, departments=department_choices(visible),
                            forms=queries.education_form_choices(), form_titles=queries.education_form_titles())


class RHEducationForm(RHEducationBase):
    template = "campaigns/education_form.html"
    permission = "education.edit"

    def _load(self, session_id=None):
        from govrisk.org.queries import department_choices

        self.session = _get(EducationSession, session_id, _("记录不存在。")) if session_id else None
        self.form = EducationForm(obj=self.session if request.method == "GET" else None)
        self.form.department_id.choices = department_choices(current_user.visible_department_ids())
        education = [(c.id, c.full_name) for c in queries.education_campaigns()]
        self.form.campaign_id.choices = [(0, _("—"))] + education
        if request.method == "GET" and self.session:
            self.form.campaign_id.data = self.session.campaign_id or 0

    def _check_access(self):
        super()._check_access()
        if self.session is not None and not self.session.can_edit(current_user):
            raise Forbidden(_("只能修改本单位及下属单位的廉政教育记录。"))

    def _render_form(self):
        return self._render(session=self.session)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        self.session = ops.save_session(self.session, self.form.data, actor=current_user)
        flash(_("廉政教育记录已保存。"), "success")
        return redirect(url_for("campaigns.education", department_id=self.session.department_id,
                                year=self.session.held_on.year))


class RHEducationRetire(RHEducationBase):
    permission = "education.edit"

    def _load(self, session_id):
        self.session = _get(EducationSession, session_id, _("记录不存在。"))

    def _check_access(self):
        super()._check_access()
        if not self.session.can_edit(current_user):
            raise Forbidden(_("只能修改本单位及下属单位的廉政教育记录。"))

    def _process_POST(self):
        ops.retire_session(self.session, actor=current_user, expected_version=request.form.get("version", type=int))
        flash(_("记录已作废（保留在历史中，不再计入统计）。"), "success")
        return redirect(url_for("campaigns.education"))


add_route(bp, "/", RHCampaigns, "campaigns")
add_route(bp, "/new", RHCampaignForm, "campaign_create", ("GET", "POST"))
add_route(bp, "/<int:campaign_id>", RHCampaign, "campaign")
add_route(bp, "/<int:campaign_id>/edit", RHCampaignForm, "campaign_edit", ("GET", "POST"))
add_route(bp, "/<int:campaign_id>/retire", RHCampaignRetire, "campaign_retire", ("POST",))
add_route(bp, "/<int:campaign_id>/import", RHIndicatorImport, "indicator_import", ("GET", "POST"))
add_route(bp, "/<int:campaign_id>/units/<int:unit_id>/report", RHReportOpen, "report_open", ("POST",))
add_route(bp, "/<int:campaign_id>/units/<int:unit_id>/rollup", RHRollup, "rollup")
add_route(bp, "/<int:campaign_id>/units/<int:unit_id>/summary.pdf", RHSummaryPdf, "summary_pdf")
add_route(bp, "/<int:campaign_id>/units/<int:unit_id>/summary.docx", RHSummaryDocx, "summary_docx")
add_route(bp, "/<int:campaign_id>/units/<int:unit_id>/rollup.xlsx", RHRollupXlsx, "rollup_xlsx")
add_route(bp, "/reports", RHReports, "reports")
add_route(bp, "/reports/<int:report_id>", RHReport, "report")
add_route(bp, "/reports/<int:report_id>/texts", RHReportTexts, "report_texts", ("GET", "POST"))
add_route(bp, "/reports/<int:report_id>/transition", RHReportTransition, "report_transition", ("POST",))
add_route(bp, "/reports/<int:report_id>/extract", RHExtract, "report_extract", ("GET", "POST"))
add_route(bp, "/reports/<int:report_id>/activities/new", RHActivityForm, "activity_create", ("GET", "POST"))
add_route(bp, "/reports/<int:report_id>/activities/<int:activity_id>", RHActivityForm, "activity_edit",
          ("GET", "POST"))
add_route(bp, "/reports/<int:report_id>/values/new", RHValueForm, "value_create", ("GET", "POST"))
add_route(bp, "/reports/<int:report_id>/values/<int:value_id>", RHValueForm, "value_edit", ("GET", "POST"))
add_route(bp, "/reports/<int:report_id>/<any(activities, values):kind>/<int:item_id>/remove", RHItemRemove,
          "item_remove", ("POST",))
add_route(bp, "/units", RHUnits, "units")
add_route(bp, "/units/new", RHUnitForm, "unit_create", ("GET", "POST"))
add_route(bp, "/units/<int:unit_id>", RHUnit, "unit")
add_route(bp, "/units/<int:unit_id>/edit", RHUnitForm, "unit_edit", ("GET", "POST"))
add_route(bp, "/units/<int:unit_id>/retire", RHUnitRetire, "unit_retire", ("POST",))
add_route(bp, "/units/<int:unit_id>/members", RHMemberAdd, "member_add", ("POST",))
add_route(bp, "/units/<int:unit_id>/members/<int:member_id>/remove", RHMemberRemove, "member_remove", ("POST",))
add_route(bp, "/education", RHEducation, "education")
add_route(bp, "/education/new", RHEducationForm, "education_create", ("GET", "POST"))
add_route(bp, "/education/<int:session_id>", RHEducationForm, "education_edit", ("GET", "POST"))
add_route(bp, "/education/<int:session_id>/retire", RHEducationRetire, "education_retire", ("POST",))
