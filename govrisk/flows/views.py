"""Flow charts: list, chart page, table editor with live preview, JSON/BPMN import and export, coverage."""

import json
from datetime import date
from io import BytesIO

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup

from govrisk.catalog.queries import get_power_by_code
from govrisk.core.errors import Forbidden, NotFound, UserError
from govrisk.core.forms import TransitionForm
from govrisk.core.nav import NavItem, register_nav
from govrisk.core.views import RH, add_route
from govrisk.flows import operations as ops
from govrisk.flows import queries
from govrisk.flows.bpmn import flow_to_bpmn
from govrisk.flows.forms import ROLE_CHOICES, FlowEditForm, FlowImportForm, NewFlowForm
from govrisk.flows.models import FlowKind
from govrisk.flows.validation import parse_flow
from govrisk.workflow.register import RegisterState

bp = Blueprint("flows", __name__, url_prefix="/flows")

register_nav(NavItem("flows.flows", "流程图", "Flow charts", "business.read", "diagram-2", "", 30))


class RHFlowsBase(RH):
    permission = "business.read"

    def _visible_ids(self):
        return current_user.visible_department_ids()


class RHFlowBase(RHFlowsBase):
    def _load(self, flow_id, **kwargs):
        self.flow = queries.get_flow(flow_id)
        if self.flow is None:
            raise NotFound(_("流程图不存在。"))

    def _check_access(self):
        super()._check_access()
        if not self.flow.can_view(current_user):
            raise Forbidden(_("您只能查看本单位及下属单位的流程图。"))


class RHFlows(RHFlowsBase):
    template = "flows/list.html"

    def _process_GET(self):
        from govrisk.org.queries import department_choices

        args, visible = request.args, self._visible_ids()
        page = queries.search_flows(visible_ids=visible, q=args.get("q", "").strip(), kind=args.get("kind", ""),
                                    state=args.get("state", ""), validity=args.get("validity", ""),
                                    department_id=args.get("department_id", type=int))
        return self._render(page=page, kinds=FlowKind, states=RegisterState, departments=department_choices(visible))


class RHFlow(RHFlowBase):
    template = "flows/flow.html"

    def _process_GET(self):
        flow = self.flow
        doc, report = queries.flow_doc(flow), queries.flow_report(flow)
        due_on = None
        if report.critical_path_days is not None:
            from govrisk.core.reference import working_calendar

            due_on = working_calendar().add_working_days(date.today(), report.critical_path_days)
        return self._render(flow=flow, doc=doc, report=report, due_on=due_on, flagged=queries.flagged_steps(report),
                            role_names=dict(ROLE_CHOICES),
                            svg=Markup(queries.chart_svg(doc, report, badges=queries.step_risk_levels(flow))),
                            versions=queries.versions_of(flow.power_id, flow.kind), transition_form=TransitionForm())


class EditorMixin:
    """The table editor, shared by a new flow and an existing draft."""

    template = "flows/editor.html"

    def _prepare(self, power, kind, data=None):
        self.power, self.kind = power, kind
        self.posts = queries.department_posts(power.department_id) if kind is FlowKind.INTERNAL else []
        self.form = FlowEditForm(data=data) if request.method == "GET" else FlowEditForm()
        if request.method == "GET" and not self.form.steps.entries:
            self.form.steps.append_entry()
            self.form.edges.append_entry()
        self.form.set_posts(self.posts)

    def _render_form(self):
        return self._render(power=self.power, kind=self.kind, posts=self.posts, flow=getattr(self, "flow", None),
                            roles=ROLE_CHOICES)

    def _document(self):
        """The posted rows as a document, or None after marking what is wrong."""
        if not self.form.validate_on_submit():
            return None
        names = {p.id: p.name for p in self.posts}
        doc, problems = parse_flow(self.form.document(self.power, self.kind, names))
        if doc is None:
            raise ops.FlowDocumentError(problems)
        return doc

    def _on_user_error(self, exc):
        if isinstance(exc, ops.FlowDocumentError):
            mark_rows(self.form, exc.findings)
        return super()._on_user_error(exc)


def mark_rows(form: FlowEditForm, findings) -> None:
    """Put each unstorable-document finding on the cells it is about."""
    for finding in findings:
        for entry in form.steps:
            if entry.form.key.data in finding.steps:
                entry.form.key.errors = [*entry.form.key.errors, finding.message]
        if finding.code == "unknown_step":
            for entry in form.edges:
                for cell in (entry.form.source, entry.form.target):
                    if cell.data in finding.steps:
                        cell.errors = [*cell.errors, _("没有这个编号的步骤")]


def _form_data(flow) -> dict:
    doc = queries.flow_doc(flow)
    post_ids = {s.key: s.post_id or 0 for s in flow.steps}
    steps = [{"key": s.id, "name": s.name, "post": s.post or "", "post_id": post_ids.get(s.id, 0), "role": s.role,
              "time_limit_days": s.time_limit_days, "documents": "；".join(s.documents)} for s in doc.steps]
    edges = [{"source": e.source, "target": e.target, "label": e.label, "loop": e.loop} for e in doc.edges]
    return {"version": flow.version, "time_limit_days": flow.time_limit_days, "steps": steps, "edges": edges}


class RHFlowNew(EditorMixin, RHFlowsBase):
    """Choose a power and a kind, then fill the table; the first save creates version 1 (or the next one)."""

    def _load(self):
        kind = request.args.get("kind", "")
        power = get_power_by_code(request.args.get("power_code", "")) if request.args.get("power_code") else \
            queries.visible_power(request.args.get("power_id", type=int), current_user)
        self.chooser = NewFlowForm(request.args, meta={"csrf": False})
        if power is None or not power.can_view(current_user) or kind not in {k.value for k in FlowKind}:
            self.power = None
            if request.args.get("power_code") and power is None:
                self.chooser.power_code.errors = [_("没有这个职权编码（或不在您的单位）")]
            return
        self._prepare(power, FlowKind(kind), {"time_limit_days": power.promised_days})

    def _check_access(self):
        super()._check_access()
        if not current_user.can("register.edit"):
            raise Forbidden(_("只有单位填报员可以编制流程图。"))

    def _process_GET(self):
        if self.power is None:
            status = 400 if self.chooser.power_code.errors else 200
            return self._render_chooser(), status
        current = queries.open_flow(self.power.id, self.kind)
        if current is not None:
            flash(_("该职权的%(kind)s已有第 %(n)s 版正在办理，已为您打开。", kind=self.kind.title, n=current.number),
                  "info")
            return redirect(url_for("flows.flow", flow_id=current.id))
        return self._render_form()

    def _render_chooser(self):
        return render_template("flows/new.html", form=self.chooser)

    def _process_POST(self):
        if self.power is None:
            raise UserError(_("请先选择职权和流程图类型。"))
        doc = self._document()
        if doc is None:
            return self._render_form(), 400
        flow = ops.create_flow(self.power, self.kind, doc, actor=current_user)
        flash(_("已保存%(kind)s第 %(n)s 版：%(counts)s。", kind=flow.kind.title, n=flow.number, counts=_counts(flow)),
              "success")
        return redirect(url_for("flows.flow", flow_id=flow.id))


class RHFlowEdit(EditorMixin, RHFlowBase):
    def _load(self, flow_id):
        super()._load(flow_id)
        self._prepare(self.flow.power, self.flow.kind, _form_data(self.flow))

    def _check_access(self):
        super()._check_access()
        if not self.flow.can_edit(current_user):
            raise Forbidden(_("只有本单位填报员可以修改草稿或被退回的流程图。"))

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        doc = self._document()
        if doc is None:
            return self._render_form(), 400
        ops.save_flow(self.flow, doc, actor=current_user, expected_version=request.form.get("version", type=int))
        flash(_("已保存：%(counts)s。", counts=_counts(self.flow)), "success")
        return redirect(url_for("flows.flow", flow_id=self.flow.id))


def _counts(flow) -> str:
    findings = queries.flow_report(flow).findings
    errors = sum(1 for f in findings if f.severity == "error")
    if not findings:
        return _("校验通过")
    return _("、").join([ngettext("%(num)s 个错误", "%(num)s 个错误", errors),
                        ngettext("%(num)s 个提醒", "%(num)s 个提醒", len(findings) - errors)])


class RHFlowPreview(RHFlowsBase):
    """POST a §7.1 document as JSON → the chart and the findings (nothing is stored)."""

    def _load(self):
        self.power = queries.visible_power(request.args.get("power_id", type=int), current_user)
        if self.power is None:
            raise NotFound(_("职权不存在。"))
        flow = queries.get_flow(request.args.get("flow_id", type=int) or 0)
        self.flow = flow if flow is not None and flow.power_id == self.power.id else None

    def _process_POST(self):
        raw = request.get_data(cache=False, as_text=False)
        if len(raw) > 2 * 1024 * 1024:
            raise UserError(_("文档过大。"))
        doc, problems = parse_flow(raw)
        if doc is not None:
            try:
                doc, _posts = ops.storable_document(self.power, doc)
            except ops.FlowDocumentError as exc:
                doc, problems = None, exc.findings
        if doc is None:
            return jsonify({"ok": False, "stored": False, "critical_path_days": None, "svg": None,
                            "findings": [f.to_dict() for f in problems], "flagged": []})
        report = queries.report_for(doc, self.power, self.flow)
        svg = queries.chart_svg(doc, report) if doc.steps else None
        return jsonify({**report.to_dict(), "stored": True, "svg": svg, "limit": queries.effective_limit(
            self.power, doc.time_limit_days), "flagged": sorted(queries.flagged_steps(report))})


class RHFlowTransition(RHFlowBase):
    def _process_POST(self):
        form = TransitionForm()
        if not form.validate_on_submit():
            raise UserError(_("请求无效，请刷新页面后重试。"))
        ops.transition_flow(self.flow, form.transition.data, actor=current_user, comment=form.comment.data,
                            expected_version=request.form.get("version", type=int))
        flow = self.flow
        flash(_("%(kind)s第 %(n)s 版：%(state)s。", kind=flow.kind.title, n=flow.number, state=flow.state.title),
              "success")
        return redirect(url_for("flows.flow", flow_id=flow.id))


class RHFlowRevise(RHFlowBase):
    def _check_access(self):
        super()._check_access()
        if not self.flow.can_revise(current_user):
            raise Forbidden(_("只有本单位填报员可以从已发布的版本新建版本。"))

    def _process_POST(self):
        flow = ops.revise_flow(self.flow, actor=current_user)
        flash(_("已新建第 %(n)s 版（草稿），发布前公众仍看到第 %(old)s 版。", n=flow.number, old=self.flow.number),
              "success")
        return redirect(url_for("flows.flow_edit", flow_id=flow.id))


EXPORTS = {"json": "application/json", "bpmn": "application/xml", "svg": "image/svg+xml", "pdf": "application/pdf"}


class RHFlowExport(RHFlowBase):
    def _load(self, flow_id, fmt):
        super()._load(flow_id)
        if fmt not in EXPORTS:
            raise NotFound(_("不支持的导出格式。"))
        self.fmt = fmt

    def _process_GET(self):
        flow, doc = self.flow, queries.flow_doc(self.flow)
        if self.fmt == "json":
            data = json.dumps(doc.to_dict(), ensure_ascii=False, indent=2).encode("utf-8")
        elif self.fmt == "bpmn":
            data = flow_to_bpmn(doc, name=f"{flow.power.name} {flow.kind.zh}")
        elif self.fmt == "svg":
            data = queries.chart_svg(doc, badges=queries.step_risk_levels(flow)).encode("utf-8")
        else:
            data = queries.flow_pdf(flow)
        name = f"{flow.power.code}-{flow.kind.value}-v{flow.number}.{self.fmt}"
        return send_file(BytesIO(data), mimetype=EXPORTS[self.fmt], as_attachment=True, download_name=name)


class RHFlowImport(RHFlowsBase):
    template = "flows/import.html"

    def _load(self):
        self.form = FlowImportForm()
        self.findings = []

    def _check_access(self):
        super()._check_access()
        if not current_user.can("register.edit"):
            raise Forbidden(_("只有单位填报员可以导入流程图。"))

    def _render_form(self):
        return self._render(findings=self.findings)

    def _on_user_error(self, exc):
        self.findings = getattr(exc, "findings", [])
        return super()._on_user_error(exc)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        upload, limit = self.form.file.data, current_app.config["IMPORT_MAX_BYTES"]
        data = upload.read(limit + 1)
        if len(data) > limit:
            raise UserError(_("文件过大，上限为 %(kb)s KB。", kb=limit // 1024), field="file")
        flow, action = ops.import_flow(data, upload.filename or "", actor=current_user,
                                       power_code=self.form.power_code.data or None, kind=self.form.kind.data or None)
        messages = {"create": _("已导入为%(kind)s第 %(n)s 版（草稿）。", kind=flow.kind.title, n=flow.number),
                    "update": _("已更新%(kind)s第 %(n)s 版。", kind=flow.kind.title, n=flow.number),
                    "unchanged": _("文件与现有流程图相同，没有变化。")}
        flash(messages[action], "success" if action != "unchanged" else "info")
        return redirect(url_for("flows.flow", flow_id=flow.id))


class RHCoverage(RHFlowsBase):
    permission = "flows.coverage"
    template = "flows/coverage.html"

    def _process_GET(self):
        page, counts = queries.coverage(visible_ids=self._visible_ids(), q=request.args.get("q", "").strip())
        return self._render(page=page, counts=counts)


class RHCoverageXlsx(RHFlowsBase):
    permission = "flows.coverage"

    def _process_GET(self):
        data = queries.coverage_xlsx(visible_ids=self._visible_ids(), q=request.args.get("q", "").strip())
        name = f"flow-coverage-{date.today().isoformat()}.xlsx"
        return send_file(BytesIO(data), as_attachment=True, download_name=name,
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


class RHCoveragePowers(RHFlowsBase):
    permission = "flows.coverage"
    template = "flows/coverage_powers.html"

    def _process_GET(self):
        from govrisk.org.queries import department_choices

        args, visible = request.args, self._visible_ids()
        page, flows = queries.coverage_powers(visible_ids=visible, department_id=args.get("department_id", type=int),
                                              status=args.get("status", ""), q=args.get("q", "").strip())
        return self._render(page=page, flows=flows,
                            departments=department_choices(visible), kinds=FlowKind)


add_route(bp, "/", RHFlows, "flows")
add_route(bp, "/new", RHFlowNew, "flow_new", ("GET", "POST"))
add_route(bp, "/import", RHFlowImport, "flow_import", ("GET", "POST"))
add_route(bp, "/preview", RHFlowPreview, "preview", ("POST",))
add_route(bp, "/coverage", RHCoverage, "coverage")
add_route(bp, "/coverage/powers", RHCoveragePowers, "coverage_powers")
add_route(bp, "/coverage.xlsx", RHCoverageXlsx, "coverage_xlsx")
add_route(bp, "/<int:flow_id>", RHFlow, "flow")
add_route(bp, "/<int:flow_id>/edit", RHFlowEdit, "flow_edit", ("GET", "POST"))
add_route(bp, "/<int:flow_id>/transition", RHFlowTransition, "transition", ("POST",))
add_route(bp, "/<int:flow_id>/revise", RHFlowRevise, "revise", ("POST",))
add_route(bp, "/<int:flow_id>/export.<fmt>", RHFlowExport, "export")
