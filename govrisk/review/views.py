"""Annual review pages: cycles and their stages, setup (indicators, grade thresholds, checklist), a department's
self-check, inspection notes, appraisal and scores, the ranking, the year-over-year view and the early-warning
board; the home page's to-do list comes from `todo_for` through a context processor."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from govrisk.accountability.queries import parse_id
from govrisk.core.charts import bar_chart, drawing_to_svg
from govrisk.core.errors import Forbidden, NotFound, UserError
from govrisk.core.nav import NavItem, register_nav
from govrisk.core.views import RH, RHImport, add_route
from govrisk.extensions import db
from govrisk.org.models import Department
from govrisk.org.queries import department_choices
from govrisk.review import indicators as ind
from govrisk.review import operations as ops
from govrisk.review import queries, snapshot, warnings
from govrisk.review.forms import (
    AdjustForm,
    AppraisalForm,
    ChecklistItemForm,
    CommendForm,
    CycleForm,
    IndicatorForm,
    InspectionNoteForm,
    SelfCheckForm,
    ThresholdForm,
)
from govrisk.review.models import ChecklistItem, CheckResult, Grade, Indicator, IndicatorScore
from govrisk.review.workflow import CycleState

bp = Blueprint("review", __name__, url_prefix="/review")

register_nav(NavItem("review.warnings", "预警", "Early warning", "business.read", "exclamation-triangle", "", 26))
register_nav(NavItem("review.cycles", "年度考核", "Annual review", "business.read", "clipboard-check", "", 70))


@bp.app_context_processor
def _helpers():
    def todo():
        return warnings.todo_for(current_user) if current_user.is_authenticated else []

    return {"review_todo": todo, "explain_score": ind.explain, "check_results": CheckResult, "grades": Grade}


def _fire(operation, obj) -> None:
    """Run a transition operation with the posted transition, comment and version."""
    operation(obj, request.form.get("transition", ""), actor=current_user, comment=request.form.get("comment"),
              expected_version=request.form.get("version", type=int))


def _form_errors(form) -> str:
    return _("；").join(str(e) for errors in form.errors.values() for e in errors)


class RHReview(RH):
    permission = "business.read"

    @property
    def visible(self):
        return current_user.visible_department_ids()


class RHCycleBase(RHReview):
    def _load(self, cycle_id, **kwargs):
        self.cycle = queries.get_cycle(cycle_id)
        if self.cycle is None:
            raise NotFound(_("考核周期不存在。"))


class RHManage(RHCycleBase):
    permission = "review.manage"


class RHParticipantBase(RHCycleBase):
    def _load(self, cycle_id, department_id, **kwargs):
        super()._load(cycle_id)
        self.cd = queries.get_cycle_department(self.cycle, department_id)
        if self.cd is None:
            raise NotFound(_("该单位未参加本周期考核。"))

    def _check_access(self):
        super()._check_access()
        if not self.cd.can_view(current_user):
            raise Forbidden(_("您只能查看本单位及下属单位的考核情况。"))

    def _back(self, anchor: str = ""):
        return redirect(url_for("review.department", cycle_id=self.cycle.id, department_id=self.cd.department_id)
                        + anchor)


# ---------------------------------------------------------------- cycles


class RHCycles(RHReview):
    template = "review/cycles.html"

    def _process_GET(self):
        page = queries.search_cycles(state=request.args.get("state", ""), q=request.args.get("q", "").strip())
        return self._render(page=page, states=CycleState)


class RHCycleCreate(RHReview):
    permission = "review.manage"
    template = "review/cycle_form.html"

    def _load(self):
        self.form = CycleForm()
        self.form.department_ids.choices = department_choices()
        if request.method == "GET":
            self.form.department_ids.data = queries.top_level_department_ids()

    def _render_form(self):
        return self._render(cycle=None)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        cycle = ops.create_cycle(self.form.data, actor=current_user)
        flash(_("%(year)s 年度考核周期已创建（筹备阶段）。", year=cycle.year), "success")
        return redirect(url_for("review.cycle", cycle_id=cycle.id))


class RHCycleEdit(RHManage):
    template = "review/cycle_form.html"

    def _load(self, cycle_id):
        super()._load(cycle_id)
        self.form = CycleForm(obj=self.cycle if request.method == "GET" else None)
        self.form.department_ids.choices = department_choices()
        if request.method == "GET":
            self.form.department_ids.data = [cd.department_id for cd in self.cycle.departments]

    def _render_form(self):
        return self._render(cycle=self.cycle)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        data = {k: v for k, v in self.form.data.items() if k != "year"}
        changes = ops.update_cycle(self.cycle, data, actor=current_user)
        flash(_("已保存。") if changes else _("没有需要保存的修改。"), "success" if changes else "info")
        return redirect(url_for("review.cycle", cycle_id=self.cycle.id))


class RHCycle(RHCycleBase):
    template = "review/cycle.html"

    def _process_GET(self):
        args = request.args
        page = queries.cycle_departments(self.cycle, visible_ids=self.visible, q=args.get("q", "").strip(),
                                         grade=args.get("grade", ""))
        return self._render(cycle=self.cycle, page=page, notes=queries.note_counts(self.cycle),
                            checks=queries.self_check_counts(self.cycle),
                            size=snapshot.snapshot_size(self.cycle.id), previous=queries.previous_cycle(self.cycle))


class RHCycleTransition(RHManage):
    def _process_POST(self):
        _fire(ops.transition_cycle, self.cycle)
        flash(_("考核周期已进入“%(state)s”阶段。", state=self.cycle.state.title), "success")
        return redirect(url_for("review.cycle", cycle_id=self.cycle.id))


# ---------------------------------------------------------------- setup


class RHSetup(RHCycleBase):
    template = "review/setup.html"

    def _render_form(self, **forms):
        threshold_form = forms.get("threshold_form") or ThresholdForm(data={**self.cycle.thresholds,
                                                                             "version": self.cycle.version})
        return self._render(cycle=self.cycle, indicator_form=forms.get("indicator_form") or IndicatorForm(),
                            threshold_form=threshold_form, item_form=forms.get("item_form") or ChecklistItemForm(),
                            methods=ind.METHODS, can_manage=self.cycle.can_manage(current_user))

    def _process_GET(self):
        return self._render_form()


class RHSetupPost(RHManage):
    """Shared handling of the setup forms: validate, run the operation, back to the setup page."""

    template = "review/setup.html"
    anchor = ""

    def _render_form(self):
        return RHSetup._render_form(self, **{self.form_name: self.form})

    def _process_POST(self):
        if not self.form.validate_on_submit():
            flash(_form_errors(self.form), "danger")
            return self._render_form(), 400
        self._save()
        flash(_("已保存。"), "success")
        return redirect(url_for("review.setup", cycle_id=self.cycle.id) + self.anchor)


class RHIndicatorSave(RHSetupPost):
    form_name, anchor = "indicator_form", "#indicators"

    def _load(self, cycle_id, indicator_id=None):
        super()._load(cycle_id)
        self.indicator = db.session.get(Indicator, indicator_id) if parse_id(indicator_id) else None
        if indicator_id and (self.indicator is None or self.indicator.cycle_id != self.cycle.id):
            raise NotFound(_("指标不存在。"))
        self.form = IndicatorForm()

    def _save(self):
        ops.save_indicator(self.cycle, self.indicator, self.form.data, actor=current_user)


class RHThresholds(RHSetupPost):
    form_name, anchor = "threshold_form", "#thresholds"

    def _load(self, cycle_id):
        super()._load(cycle_id)
        self.form = ThresholdForm()

    def _save(self):
        ops.set_thresholds(self.cycle, self.form.data, actor=current_user)


class RHChecklistSave(RHSetupPost):
    form_name, anchor = "item_form", "#checklist"

    def _load(self, cycle_id, item_id=None):
        super()._load(cycle_id)
        self.item = db.session.get(ChecklistItem, item_id) if parse_id(item_id) else None
        if item_id and (self.item is None or self.item.cycle_id != self.cycle.id):
            raise NotFound(_("自查项目不存在。"))
        self.form = ChecklistItemForm()

    def _save(self):
        ops.save_checklist_item(self.cycle, self.item, self.form.data, actor=current_user)


class RHChecklistRetire(RHChecklistSave):
    def _process_POST(self):
        if self.item is None:
            raise NotFound(_("自查项目不存在。"))
        ops.retire_checklist_item(self.item, actor=current_user)
        flash(_("已从自查清单中移除（记录保留）。"), "success")
        return redirect(url_for("review.setup", cycle_id=self.cycle.id) + "#checklist")


# ---------------------------------------------------------------- one department in a cycle


class RHDepartment(RHParticipantBase):
    template = "review/department.html"

    def _process_GET(self):
        from govrisk.accountability.queries import FindingFilters, search_findings

        cd = self.cd
        findings = search_findings(FindingFilters(department_id=cd.department_id, year=self.cycle.year), None)
        answers = {a.item_id: a for a in cd.self_check.answers} if cd.self_check else {}
        return self._render(cycle=self.cycle, cd=cd, check=cd.self_check, answers=answers,
                            items=[i for i in self.cycle.checklist_items if not i.is_retired],
                            notes=queries.notes_of(cd), scores=queries.scores_of(cd), findings=findings,
                            note_form=InspectionNoteForm(), appraisal_form=AppraisalForm(obj=cd),
                            adjust_form=AdjustForm(), commend_form=CommendForm(obj=cd),
                            check_form=SelfCheckForm(obj=cd.self_check))


class RHSelfCheckSave(RHParticipantBase):
    def _process_POST(self):
        check = self.cd.self_check
        answers = {item.id: (request.form.get(f"result_{item.id}", ""), request.form.get(f"note_{item.id}", ""))
                   for item in self.cycle.checklist_items if not item.is_retired}
        ops.save_self_check(check, {"answers": answers, "summary": request.form.get("summary", ""),
                                    "version": request.form.get("version", type=int)}, actor=current_user)
        flash(_("自查已保存。"), "success")
        return self._back("#selfcheck")


class RHSelfCheckTransition(RHParticipantBase):
    def _process_POST(self):
        check = self.cd.self_check
        _fire(ops.transition_self_check, check)
        flash(_("自查状态为“%(state)s”。", state=check.state.title), "success")
        return self._back("#selfcheck")


class RHInspectionNote(RHParticipantBase):
    permission = "review.inspect"

    def _process_POST(self):
        form = InspectionNoteForm()
        if not form.validate_on_submit():
            raise UserError(_form_errors(form))
        ops.add_inspection_note(self.cd, form.data, actor=current_user)
        flash(_("检查记录已保存。"), "success")
        return self._back("#notes")


class RHAppraisal(RHParticipantBase):
    permission = "review.score"

    def _process_POST(self):
        form = AppraisalForm()
        if not form.validate_on_submit():
            raise UserError(_form_errors(form))
        ops.set_appraisal(self.cd, form.data, actor=current_user)
        flash(_("社会评议得分已保存。"), "success")
        return self._back("#appraisal")


class RHAdjust(RHParticipantBase):
    permission = "review.score"

    def _load(self, cycle_id, department_id, score_id):
        super()._load(cycle_id, department_id)
        self.score = db.session.get(IndicatorScore, score_id) if parse_id(score_id) else None
        if self.score is None or self.score.cycle_department_id != self.cd.id:
            raise UserError(_("该得分不属于本单位本周期的考核，不能调整。"))

    def _process_POST(self):
        form = AdjustForm()
        if not form.validate_on_submit():
            raise UserError(_form_errors(form))
        ops.adjust_score(self.score, form.value.data, form.reason.data, actor=current_user,
                         expected_version=request.form.get("version", type=int))
        flash(_("“%(name)s”得分已调整为 %(value)s，理由已记录。", name=self.score.indicator.name,
                value=self.score.adjusted), "success")
        return self._back("#scores")


class RHCommend(RHParticipantBase):
    permission = "review.score"

    def _process_POST(self):
        form = CommendForm()
        if not form.validate_on_submit():
            raise UserError(_form_errors(form))
        ops.set_commendation(self.cd, form.commended.data, form.note.data, actor=current_user)
        flash(_("已建议表彰。") if self.cd.is_commended else _("已取消表彰建议。"), "success")
        return self._back("#scores")


# ---------------------------------------------------------------- scores, appraisal import, year over year


class RHScores(RHCycleBase):
    template = "review/scores.html"

    def _process_GET(self):
        page = queries.cycle_departments(self.cycle, visible_ids=self.visible, q=request.args.get("q", "").strip(),
                                         grade=request.args.get("grade", ""), order="rank")
        totals = [(cd.department.name, cd.total) for cd in page.items if cd.total is not None]
        chart = Markup(drawing_to_svg(bar_chart(totals, title=_("考核总分"), horizontal=True))) if totals else None
        return self._render(cycle=self.cycle, page=page, indicators=queries.active_indicators(self.cycle),
                            matrix=queries.score_matrix(self.cycle), chart=chart)


class RHCompute(RHCycleBase):
    permission = "review.score"

    def _process_POST(self):
        changed = ops.compute_scores(self.cycle, actor=current_user)
        flash(_("得分已重新计算（%(n)s 项有变化），调整过的得分保持不变。", n=changed), "success")
        return redirect(url_for("review.scores", cycle_id=self.cycle.id))


class RHAppraisalImport(RHImport):
    permission = "review.score"
    importer_class = ops.AppraisalImporter

    def _load(self, cycle_id):
        super()._load()
        self.cycle = queries.get_cycle(cycle_id)
        if self.cycle is None:
            raise NotFound(_("考核周期不存在。"))
        self.importer = ops.AppraisalImporter(self.cycle)
        self.done_endpoint = "review.cycles"


class RHYearOverYear(RHCycleBase):
    template = "review/yoy.html"

    def _process_GET(self):
        previous = queries.previous_cycle(self.cycle)
        visible = self.visible
        ids = [cd.department_id for cd in self.cycle.departments if visible is None or cd.department_id in visible]
        department_id = parse_id(request.args.get("department"))
        if department_id and department_id not in ids:
            raise NotFound(_("该单位未参加本周期考核或不在您的查看范围内。"))
        changes = snapshot.compare_cycles(previous, self.cycle, [department_id] if department_id else ids)
        names = {cd.department_id: cd.department.name for cd in self.cycle.departments}
        return self._render(cycle=self.cycle, previous=previous, changes=changes, names=names,
                            department_id=department_id, keys=snapshot.YOY_KEYS,
                            titles=snapshot.YOY_TITLES)


# ---------------------------------------------------------------- early warning


class RHWarnings(RHReview):
    template = "review/warnings.html"

    def _process_GET(self):
        scope = self.visible
        selected = parse_id(request.args.get("department"))
        if selected:
            from govrisk.org.queries import subtree_ids

            scope = subtree_ids(selected) & scope if scope is not None else subtree_ids(selected)
        rows, totals = warnings.board(scope, only_with_warnings=request.args.get("all") != "1")
        return self._render(rows=rows, totals=totals, kinds=warnings.KINDS, link=warnings.kind_link,
                            departments=department_choices(self.visible), selected=selected)


class RHWarningDepartment(RHReview):
    template = "review/warning_department.html"

    def _load(self, department_id):
        self.department = db.session.get(Department, department_id) if parse_id(department_id) else None
        if self.department is None:
            raise NotFound(_("单位不存在。"))

    def _check_access(self):
        super()._check_access()
        if not current_user.can_see_department(self.department.id):
            raise Forbidden(_("您只能查看本单位及下属单位。"))

    def _process_GET(self):
        return self._render(department=self.department, items=warnings.department_detail(self.department.id))


add_route(bp, "/", RHCycles, "cycles")
add_route(bp, "/new", RHCycleCreate, "cycle_create", ("GET", "POST"))
add_route(bp, "/<int:cycle_id>", RHCycle, "cycle")
add_route(bp, "/<int:cycle_id>/edit", RHCycleEdit, "cycle_edit", ("GET", "POST"))
add_route(bp, "/<int:cycle_id>/transition", RHCycleTransition, "cycle_transition", ("POST",))
add_route(bp, "/<int:cycle_id>/setup", RHSetup, "setup")
add_route(bp, "/<int:cycle_id>/indicators", RHIndicatorSave, "indicator_create", ("POST",))
add_route(bp, "/<int:cycle_id>/indicators/<int:indicator_id>", RHIndicatorSave, "indicator_edit", ("POST",))
add_route(bp, "/<int:cycle_id>/thresholds", RHThresholds, "thresholds", ("POST",))
add_route(bp, "/<int:cycle_id>/checklist", RHChecklistSave, "checklist_create", ("POST",))
add_route(bp, "/<int:cycle_id>/checklist/<int:item_id>", RHChecklistSave, "checklist_edit", ("POST",))
add_route(bp, "/<int:cycle_id>/checklist/<int:item_id>/retire", RHChecklistRetire, "checklist_retire", ("POST",))
add_route(bp, "/<int:cycle_id>/departments/<int:department_id>", RHDepartment, "department")
add_route(bp, "/<int:cycle_id>/departments/<int:department_id>/selfcheck", RHSelfCheckSave, "selfcheck_save",
          ("POST",))
add_route(bp, "/<int:cycle_id>/departments/<int:department_id>/selfcheck/transition", RHSelfCheckTransition,
          "selfcheck_transition", ("POST",))
add_route(bp, "/<int:cycle_id>/departments/<int:department_id>/notes", RHInspectionNote, "note_create", ("POST",))
add_route(bp, "/<int:cycle_id>/departments/<int:department_id>/appraisal", RHAppraisal, "appraisal", ("POST",))
add_route(bp, "/<int:cycle_id>/departments/<int:department_id>/scores/<int:score_id>/adjust", RHAdjust, "adjust",
          ("POST",))
add_route(bp, "/<int:cycle_id>/departments/<int:department_id>/commend", RHCommend, "commend", ("POST",))
add_route(bp, "/<int:cycle_id>/scores", RHScores, "scores")
add_route(bp, "/<int:cycle_id>/compute", RHCompute, "compute", ("POST",))
add_route(bp, "/<int:cycle_id>/appraisal/import", RHAppraisalImport, "appraisal_import", ("GET", "POST"))
add_route(bp, "/<int:cycle_id>/yoy", RHYearOverYear, "yoy")
add_route(bp, "/warnings", RHWarnings, "warnings")
add_route(bp, "/warnings/<int:department_id>", RHWarningDepartment, "warning_department")
