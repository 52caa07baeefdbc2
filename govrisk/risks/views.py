"""Risk register pages: list and bulk confirmation, risk points, grading, control measures and evidence, analysis
(heat map, breakdowns), disagreements, key-post rotation, grading methods, the 登记表 export and import."""

from datetime import date
from io import BytesIO

from flask import Blueprint, flash, jsonify, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from govrisk.catalog.models import Power
from govrisk.core.errors import Forbidden, NotFound, UserError
from govrisk.core.nav import NavItem, register_nav
from govrisk.core.views import RH, RHImport, add_route
from govrisk.extensions import db
from govrisk.org.queries import department_choices, subtree_ids
from govrisk.risks import operations as ops
from govrisk.risks import pictures, queries, registers
from govrisk.risks.forms import (
    AttachmentForm,
    BulkConfirmForm,
    ConfirmForm,
    MeasureForm,
    MethodForm,
    ResidualForm,
    RiskPointForm,
    RotationForm,
    set_field_errors,
)
from govrisk.risks.grading import suggest
from govrisk.risks.models import ControlMeasure, Discretion, GradingMethod, MeasureAttachment, RiskPoint, level_title
from govrisk.risks.workflow import FORM_TRANSITIONS, MeasureStatus
from govrisk.workflow.register import RegisterState

bp = Blueprint("risks", __name__, url_prefix="/risks")

register_nav(NavItem("risks.register", "廉政风险", "Integrity risks", "business.read", "shield-exclamation", "", 30))

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.app_template_filter("risk_level")
def _risk_level(value) -> str:
    return level_title(value)


@bp.app_context_processor
def _helpers():
    return {"risk_hidden_transitions": FORM_TRANSITIONS, "measure_statuses": MeasureStatus}


def _get(model, object_id, message):
    obj = db.session.get(model, object_id)
    if obj is None:
        raise NotFound(message)
    return obj


def _download(data: bytes, filename: str, mimetype: str):
    return send_file(BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=filename)


class RHRisks(RH):
    permission = "business.read"

    @property
    def visible(self):
        return current_user.visible_department_ids()

    def _department_arg(self) -> int | None:
        return queries.parse_id(request.args.get("department"))


class RHRecord(RHRisks):
    """A page about one record of the URL, visible to its department's users and to inspectors."""

    model, url_key, attr = None, "", ""
    missing, forbidden = _l("记录不存在。"), _l("您只能查看本单位及下属单位的记录。")

    def _load(self, **kwargs):
        obj = db.session.get(self.model, kwargs[self.url_key])
        if obj is None:
            raise NotFound(str(self.missing))
        setattr(self, self.attr, obj)

    def _check_access(self):
        if not getattr(self, self.attr).can_view(current_user):
            raise Forbidden(str(self.forbidden))


class RHPointBase(RHRecord):
    model, url_key, attr = RiskPoint, "point_id", "point"
    missing, forbidden = _l("风险点不存在。"), _l("您只能查看本单位及下属单位的风险点。")


class RHMeasureBase(RHRecord):
    model, url_key, attr = ControlMeasure, "measure_id", "measure"
    missing, forbidden = _l("防控措施不存在。"), _l("您只能查看本单位及下属单位的防控措施。")


# ---------------------------------------------------------------- the register


class RHRegister(RHRisks):
    template = "risks/register.html"

    def _process_GET(self):
        filters = queries.RiskFilters.from_args(request.args)
        page = queries.search_risk_points(filters, self.visible)
        ids = [p.id for p in page.items]
        return self._render(page=page, filters=filters, types=queries.reference_titles("risk_type"),
                            departments=department_choices(self.visible), states=RegisterState,
                            overdue=queries.overdue_point_ids(ids), measure_counts=queries.measure_counts(ids),
                            power=db.session.get(Power, filters.power_id) if filters.power_id else None,
                            bulk_form=BulkConfirmForm())


class RHBulkConfirm(RHRisks):
    permission = "register.confirm"

    def _process_POST(self):
        form = BulkConfirmForm()
        if not form.validate_on_submit():
            raise UserError(_("；").join(str(e) for errors in form.errors.values() for e in errors))
        points = ops.bulk_confirm(request.form.getlist("ids"), form.level.data, form.reason.data, actor=current_user)
        flash(_("已确认 %(n)s 个风险点。", n=len(points)), "success")
        return redirect(request.referrer or url_for("risks.register"))


class RHRiskForm(RHRisks):
    """Register (point_id None) or edit a risk point; every error is shown under its own input."""

    template = "risks/point_form.html"

    def _load(self, point_id=None):
        self.point = _get(RiskPoint, point_id, _("风险点不存在。")) if point_id else None
        if request.method == "POST":
            self.form = RiskPointForm()
        elif self.point is not None:
            self.form = RiskPointForm(data=_point_data(self.point))
        else:
            self.form = RiskPointForm(data={k: request.args.get(k, "") for k in ("power_id", "step_id", "post_id")})
        self.general_errors = []

    def _check_access(self):
        if self.point is None and not current_user.can("register.edit"):
            raise Forbidden(_("只有单位填报员可以登记风险点。"))
        if self.point is not None and not self.point.can_edit(current_user):
            raise Forbidden(_("该风险点当前不能由您修改。"))

    def _render_form(self):
        _choices(self.form, self.visible)
        return self._render(point=self.point, general_errors=self.general_errors,
                            suggestion=_form_suggestion(self.form))

    def _on_user_error(self, exc):
        if isinstance(exc, ops.RiskDataError):
            self.general_errors = set_field_errors(self.form, exc.details["errors"])
            return self._render_form(), 400
        return super()._on_user_error(exc)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        data = {**self.form.data, "methods": request.form.getlist("methods")}
        if self.point is None:
            point = ops.create_risk_point(data, actor=current_user)
            flash(_("风险点已登记为草稿（编号 %(code)s）。", code=point.code), "success")
        else:
            point = self.point
            changes = ops.update_risk_point(point, data, actor=current_user)
            flash(_("已保存。") if changes else _("没有需要保存的修改。"), "success" if changes else "info")
        return redirect(url_for("risks.point", point_id=point.id))


def _point_data(point: RiskPoint) -> dict:
    data = {name: getattr(point, name) for name in ("power_id", "step_id", "post_id", "name", "manifestation",
                                                     "risk_type", "likelihood", "severity", "proposed_level",
                                                     "proposal_note", "responsible_id", "supervisor_id", "indicator")}
    data = {k: ("" if v is None else str(v) if isinstance(v, int) else v) for k, v in data.items()}
    return {**data, "discretion": point.discretion.value if point.discretion else "", "methods": point.method_keys,
            "version": point.version}


def _choices(form: RiskPointForm, visible) -> None:
    power_id = queries.parse_id(form.power_id.data)
    power = db.session.get(Power, power_id) if power_id else None
    if power is not None and not power.can_view(current_user):
        power = None
    form.power_id.choices = [("", "—")] + [(str(i), label) for i, label in queries.power_choices(visible)]
    steps = queries.step_choices(power.id) if power else []
    form.step_id.choices = [("", _("（不指定环节）"))] + [(str(i), label) for i, label in steps]
    posts = queries.post_choices(power.department_id) if power else []
    form.post_id.choices = [("", _("（不指定岗位）"))] + [(str(i), label) for i, label in posts]
    own = subtree_ids(power.department_id) if power else visible
    form.responsible_id.choices = [("", "—")] + [(str(i), n) for i, n in queries.people_choices(own)]
    form.supervisor_id.choices = [("", "—")] + [(str(i), n) for i, n in queries.people_choices(None)]
    form.risk_type.choices = [("", "—")] + list(queries.reference_titles("risk_type").items())
    form.methods.choices = list(queries.reference_titles("identification_method").items())


def _score(value) -> int | None:
    number = queries.parse_id(value)
    return number if number is not None and number <= 5 else None


def _suggestion(power_id, likelihood, severity, discretion):
    """The active method's suggestion for inputs as the form holds them (anything odd counts as not filled in)."""
    power = db.session.get(Power, queries.parse_id(power_id) or 0)
    inputs = {"likelihood": _score(likelihood), "severity": _score(severity),
              "discretion": discretion if discretion in {d.value for d in Discretion} else None,
              "is_major_matter": bool(power is not None and power.can_view(current_user) and power.is_major_matter)}
    return suggest(queries.active_rules(), inputs)


def _form_suggestion(form: RiskPointForm):
    return {"suggestion": _suggestion(form.power_id.data, form.likelihood.data, form.severity.data,
                                      form.discretion.data), "method": queries.active_method()}


class RHSuggest(RHRisks):
    """The suggested level for the inputs in the query string (the form asks while the user types)."""

    def _process_GET(self):
        args = request.args
        result = _suggestion(args.get("power_id"), args.get("likelihood"), args.get("severity"), args.get("discretion"))
        method = queries.active_method()
        return jsonify({"level": result.level, "title": level_title(result.level), "why": result.why,
                        "method": method.number if method else 1})


class RHPowerOptions(RHRisks):
    """Steps, posts and people of a power's department, for the form when the power changes."""

    def _load(self, power_id):
        self.power = db.session.get(Power, power_id)
        if self.power is None or not self.power.can_view(current_user):
            raise NotFound(_("职权不存在。"))

    def _process_GET(self):
        power = self.power
        return jsonify({"steps": queries.step_choices(power.id), "posts": queries.post_choices(power.department_id),
                        "people": queries.people_choices(subtree_ids(power.department_id)),
                        "is_major_matter": power.is_major_matter})


class RHPoint(RHPointBase):
    template = "risks/point.html"

    def _process_GET(self):
        point = self.point
        measures = queries.measures_of(point.id)
        confirm_form = ConfirmForm(data={"level": str(point.proposed_level or ""), "version": point.version})
        residual_default = point.residual_level or point.confirmed_level
        residual_form = ResidualForm(data={"version": point.version, "residual_level": str(residual_default or "")})
        residual_form.measure_ids.choices = [(str(m.id), m.description[:60]) for m in measures
                                             if m.status is MeasureStatus.VERIFIED]
        measure_form = MeasureForm()
        _measure_choices(measure_form, point)
        return self._render(point=point, measures=measures, grades=queries.grades_of(point.id),
                            suggestion=queries.suggestion_for(point), method=queries.active_method(),
                            types=queries.reference_titles("risk_type"),
                            methods=queries.reference_titles("identification_method"),
                            measure_types=queries.reference_titles("measure_type"), confirm_form=confirm_form,
                            residual_form=residual_form, measure_form=measure_form, flows=_flows(point))


def _flows(point: RiskPoint) -> list:
    flows = queries.power_flows(point.power_id)
    if point.step is not None:
        flows.sort(key=lambda f: f.id != point.step.flow_id)
    return [(flow, pictures.flow_svg(flow)) for flow in flows[:1]]


def _measure_choices(form: MeasureForm, point: RiskPoint) -> None:
    form.measure_type.choices = [("", "—")] + list(queries.reference_titles("measure_type").items())
    form.owner_id.choices = [("", "—")] + [(str(i), n) for i, n in
                                           queries.people_choices(subtree_ids(point.department_id))]


class RHPointTransition(RHPointBase):
    def _process_POST(self):
        name = request.form.get("transition", "")
        ops.transition_risk_point(self.point, name, actor=current_user, comment=request.form.get("comment"),
                                  expected_version=request.form.get("version", type=int))
        flash(_("操作成功：当前状态为“%(state)s”。", state=self.point.state.title), "success")
        return redirect(url_for("risks.point", point_id=self.point.id))


class RHPointConfirm(RHPointBase):
    def _process_POST(self):
        form = ConfirmForm()
        if not form.validate_on_submit():
            raise UserError(_("页面已过期或缺少安全令牌，请刷新后重试。"))
        grade = ops.confirm_risk_point(self.point, form.level.data, form.reason.data, actor=current_user,
                                       expected_version=request.form.get("version", type=int))
        flash(_("已确认为%(level)s。", level=level_title(grade.level)), "success")
        return redirect(url_for("risks.point", point_id=self.point.id))


class RHResidual(RHPointBase):
    def _process_POST(self):
        form = ResidualForm()
        if not form.validate_on_submit():
            raise UserError(_("页面已过期或缺少安全令牌，请刷新后重试。"))
        ops.record_residual(self.point, form.residual_level.data, form.residual_reason.data,
                            request.form.getlist("measure_ids"), actor=current_user,
                            expected_version=request.form.get("version", type=int))
        flash(_("剩余风险等级已评定为%(level)s。", level=level_title(self.point.residual_level)), "success")
        return redirect(url_for("risks.point", point_id=self.point.id))


# ---------------------------------------------------------------- control measures


class RHMeasureCreate(RHPointBase):
    def _process_POST(self):
        form = MeasureForm()
        _measure_choices(form, self.point)
        if not form.validate_on_submit():
            raise UserError(_("；").join(str(e) for errors in form.errors.values() for e in errors))
        measure = ops.create_measure(self.point, form.data, actor=current_user)
        flash(_("防控措施已添加。"), "success")
        return redirect(url_for("risks.measure", measure_id=measure.id))


class RHMeasure(RHMeasureBase):
    template = "risks/measure.html"

    def _load(self, measure_id):
        super()._load(measure_id=measure_id)
        self.form = MeasureForm() if request.method == "POST" else MeasureForm(obj=self.measure)
        _measure_choices(self.form, self.measure.risk_point)
        if request.method == "GET":
            self.form.owner_id.data = str(self.measure.owner_id or "")

    def _render_form(self):
        return self._render(measure=self.measure, point=self.measure.risk_point,
                            attachments=queries.live_attachments(self.measure), upload_form=AttachmentForm(),
                            measure_types=queries.reference_titles("measure_type"))

    def _on_user_error(self, exc):
        if isinstance(exc, ops.RiskDataError):
            set_field_errors(self.form, exc.details["errors"])
            return self._render_form(), 400
        return super()._on_user_error(exc)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.measure.can_edit(current_user):
            raise Forbidden(_("该措施当前不能由您修改。"))
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        changes = ops.update_measure(self.measure, self.form.data, actor=current_user)
        flash(_("已保存。") if changes else _("没有需要保存的修改。"), "success" if changes else "info")
        return redirect(url_for("risks.measure", measure_id=self.measure.id))


class RHMeasureTransition(RHMeasureBase):
    def _process_POST(self):
        ops.transition_measure(self.measure, request.form.get("transition", ""), actor=current_user,
                               comment=request.form.get("comment"),
                               expected_version=request.form.get("version", type=int))
        flash(_("操作成功：措施状态为“%(status)s”。", status=self.measure.status.title), "success")
        return redirect(url_for("risks.measure", measure_id=self.measure.id))


class RHAttachmentUpload(RHMeasureBase):
    def _process_POST(self):
        form = AttachmentForm()
        if not form.validate_on_submit():
            raise UserError(_("；").join(str(e) for errors in form.errors.values() for e in errors))
        upload = form.file.data
        attachment = ops.add_attachment(self.measure, upload.filename or "", upload.read(), actor=current_user)
        flash(_("已上传“%(name)s”。", name=attachment.filename), "success")
        return redirect(url_for("risks.measure", measure_id=self.measure.id))


class RHAttachmentBase(RHRecord):
    model, url_key, attr = MeasureAttachment, "attachment_id", "attachment"
    missing, forbidden = _l("文件不存在。"), _l("您只能查看本单位及下属单位的佐证材料。")


class RHAttachmentDownload(RHAttachmentBase):
    def _process_GET(self):
        attachment = self.attachment
        if attachment.is_removed and not current_user.can("inspect.all"):  # kept for the record, not in use
            raise NotFound(_("文件不存在。"))
        response = _download(attachment.content, attachment.filename, attachment.content_type)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


class RHAttachmentRemove(RHAttachmentBase):
    def _process_POST(self):
        ops.remove_attachment(self.attachment, actor=current_user)
        flash(_("已移除“%(name)s”（记录保留）。", name=self.attachment.filename), "success")
        return redirect(url_for("risks.measure", measure_id=self.attachment.measure_id))


class RHMeasures(RHRisks):
    template = "risks/measures.html"

    def _process_GET(self):
        filters = queries.MeasureFilters.from_args(request.args)
        return self._render(page=queries.search_measures(filters, self.visible), filters=filters,
                            departments=department_choices(self.visible),
                            measure_types=queries.reference_titles("measure_type"))


# ---------------------------------------------------------------- analysis


class RHAnalysis(RHRisks):
    template = "risks/analysis.html"

    def _process_GET(self):
        filters = queries.RiskFilters.from_args(request.args)
        args = filters.args(likelihood=None, severity=None, page=None)

        def link(likelihood, severity):
            return url_for("risks.register", **args, likelihood=likelihood, severity=severity)

        rows, totals = queries.breakdown(filters, self.visible)
        types = queries.reference_titles("risk_type")
        return self._render(filters=filters, rows=rows, totals=totals, types=types,
                            heat=pictures.heat_map_svg(queries.heat_counts(filters, self.visible), link),
                            level_chart=pictures.level_bars_svg(rows) if rows else None,
                            type_chart=pictures.type_bars_svg(totals["types"], types) if totals["total"] else None,
                            departments=department_choices(self.visible))


class RHDisagreements(RHRisks):
    template = "risks/disagreements.html"

    def _process_GET(self):
        page, per_department = queries.disagreements(self.visible, department_id=self._department_arg(),
                                                     q=request.args.get("q", "").strip()[:100])
        return self._render(page=page, per_department=per_department, departments=department_choices(self.visible),
                            decisions=queries.latest_confirmation([p.id for p in page.items]))


class RHRotation(RHRisks):
    template = "risks/rotation.html"

    def _load(self):
        self.form = RotationForm(data=vars(queries.rotation_rule()) if request.method == "GET" else None)

    def _render_form(self):
        status = request.args.get("status", "")
        page, counts = queries.rotation_due(self.visible, department_id=self._department_arg(), status=status)
        return self._render(page=page, counts=counts, status=status, rule=queries.rotation_rule(),
                            departments=department_choices(self.visible),
                            summary=queries.key_post_summary(self.visible, department_id=self._department_arg()))

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not current_user.can("risks.rotation.settings"):
            raise Forbidden(_("只有纪检监察员可以设置轮岗规则。"))
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        rule = ops.save_rotation_rule(self.form.data, actor=current_user)
        flash(_("轮岗规则已保存：任职满 %(years)s 年应轮岗，提前 %(months)s 个月提醒。", years=rule.years,
                months=rule.warn_months), "success")
        return redirect(url_for("risks.rotation"))


# ---------------------------------------------------------------- grading methods


class RHMethods(RHRisks):
    template = "risks/methods.html"

    def _process_GET(self):
        return self._render(methods=queries.grading_methods(), active=queries.active_method())


class RHMethodCreate(RHRisks):
    permission = "risks.grading"
    template = "risks/method_form.html"

    def _load(self):
        import json

        self.form = MethodForm()
        if request.method == "GET":
            self.form.rules.data = json.dumps(queries.active_rules(), ensure_ascii=False, indent=2)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        method = ops.create_method(self.form.data, actor=current_user)
        flash(_("已保存第 %(n)s 版（未启用）。请先查看重新评定预览，再决定是否启用。", n=method.number), "success")
        return redirect(url_for("risks.method", method_id=method.id))


class RHMethod(RHRisks):
    template = "risks/method.html"

    def _load(self, method_id):
        self.method = _get(GradingMethod, method_id, _("评定方法不存在。"))

    def _process_GET(self):
        page, counts = queries.regrade_preview(self.method.rules, self.visible,
                                               department_id=self._department_arg())
        return self._render(method=self.method, page=page, counts=counts,
                            departments=department_choices(self.visible))


class RHMethodActivate(RHMethod):
    permission = "risks.grading"

    def _process_POST(self):
        ops.activate_method(self.method, actor=current_user)
        flash(_("第 %(n)s 版已启用：此后的建议等级按该版本计算，已有的等级不变。", n=self.method.number), "success")
        return redirect(url_for("risks.method", method_id=self.method.id))


# ---------------------------------------------------------------- the flow chart of a power


class RHPowerRisks(RHRecord):
    template = "risks/power.html"
    model, url_key, attr = Power, "power_id", "power"
    missing, forbidden = _l("职权不存在。"), _l("您只能查看本单位及下属单位的职权。")

    def _process_GET(self):
        filters = queries.RiskFilters(power_id=self.power.id)
        return self._render(power=self.power, page=queries.search_risk_points(filters, self.visible, per_page=100),
                            charts=[(f, pictures.flow_svg(f)) for f in queries.power_flows(self.power.id)],
                            types=queries.reference_titles("risk_type"))


# ---------------------------------------------------------------- the 登记表


class RHExport(RHRisks):
    permission = "risks.export"

    def _process_GET(self):
        department_id = self._department_arg() or (None if self.visible is None else current_user.department_id)
        if department_id and not current_user.can_see_department(department_id):
            raise Forbidden(_("您只能导出本单位及下属单位的登记表。"))
        stamp = date.today().isoformat()
        if request.view_args.get("fmt") == "pdf":
            return _download(registers.register_pdf(self.visible, department_id=department_id),
                             f"risk-register-{stamp}.pdf", "application/pdf")
        return _download(registers.register_xlsx(self.visible, department_id=department_id),
                         f"risk-register-{stamp}.xlsx", XLSX)


class RHRegisterImport(RHImport):
    importer_class = registers.RiskRegisterImporter
    done_endpoint = "risks.register"
    permission = "risks.import"

    def _load(self, **kwargs):
        super()._load(**kwargs)
        self.importer.actor = current_user


add_route(bp, "/", RHRegister, "register")
add_route(bp, "/bulk-confirm", RHBulkConfirm, "bulk_confirm", ("POST",))
add_route(bp, "/new", RHRiskForm, "point_create", ("GET", "POST"))
add_route(bp, "/suggest", RHSuggest, "suggest")
add_route(bp, "/import", RHRegisterImport, "register_import", ("GET", "POST"))
add_route(bp, "/register.<any(xlsx, pdf):fmt>", RHExport, "export")
add_route(bp, "/analysis", RHAnalysis, "analysis")
add_route(bp, "/disagreements", RHDisagreements, "disagreements")
add_route(bp, "/rotation", RHRotation, "rotation", ("GET", "POST"))
add_route(bp, "/measures", RHMeasures, "measures")
add_route(bp, "/grading", RHMethods, "methods")
add_route(bp, "/grading/new", RHMethodCreate, "method_create", ("GET", "POST"))
add_route(bp, "/grading/<int:method_id>", RHMethod, "method")
add_route(bp, "/grading/<int:method_id>/activate", RHMethodActivate, "method_activate", ("POST",))
add_route(bp, "/powers/<int:power_id>", RHPowerRisks, "power")
add_route(bp, "/powers/<int:power_id>/options", RHPowerOptions, "power_options")
add_route(bp, "/<int:point_id>", RHPoint, "point")
add_route(bp, "/<int:point_id>/edit", RHRiskForm, "point_edit", ("GET", "POST"))
add_route(bp, "/<int:point_id>/transition", RHPointTransition, "point_transition", ("POST",))
add_route(bp, "/<int:point_id>/confirm", RHPointConfirm, "point_confirm", ("POST",))
add_route(bp, "/<int:point_id>/residual", RHResidual, "point_residual", ("POST",))
add_route(bp, "/<int:point_id>/measures", RHMeasureCreate, "measure_create", ("POST",))
add_route(bp, "/measures/<int:measure_id>", RHMeasure, "measure", ("GET", "POST"))
add_route(bp, "/measures/<int:measure_id>/transition", RHMeasureTransition, "measure_transition", ("POST",))
add_route(bp, "/measures/<int:measure_id>/attachments", RHAttachmentUpload, "attachment_upload", ("POST",))
add_route(bp, "/attachments/<int:attachment_id>", RHAttachmentDownload, "attachment")
add_route(bp, "/attachments/<int:attachment_id>/remove", RHAttachmentRemove, "attachment_remove", ("POST",))
