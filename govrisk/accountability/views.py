"""Findings, rectifications, accountability actions and a person's record."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from govrisk.accountability import operations as ops
from govrisk.accountability import queries
from govrisk.accountability.forms import (
    ActionForm,
    FindingForm,
    FindingPersonForm,
    RectificationForm,
    RectificationProgressForm,
)
from govrisk.accountability.models import (
    AccountabilityAction,
    ActionCategory,
    Finding,
    Rectification,
    action_category,
)
from govrisk.accountability.queries import parse_id
from govrisk.accountability.workflow import FINDING_FORM_TRANSITIONS, ActionState, FindingState, RectificationState
from govrisk.core.errors import Forbidden, NotFound, UserError
from govrisk.core.nav import NavItem, register_nav
from govrisk.core.reference import reference_items
from govrisk.core.views import RH, add_route
from govrisk.extensions import db
from govrisk.org.models import Department, Person
from govrisk.org.queries import department_choices, subtree_ids

bp = Blueprint("accountability", __name__, url_prefix="/accountability")

register_nav(NavItem("accountability.findings", "问题整改", "Findings", "business.read", "flag", "", 72))
register_nav(NavItem("accountability.actions", "责任追究", "Accountability", "accountability.records",
                     "person-exclamation", "", 74))


@bp.app_context_processor
def _helpers():
    return {"finding_hidden_transitions": FINDING_FORM_TRANSITIONS}


def _get(model, object_id, message):
    obj = db.session.get(model, object_id) if parse_id(object_id) else None
    if obj is None:
        raise NotFound(message)
    return obj


def _fire(operation, obj) -> None:
    """Run a domain's transition operation with the posted transition, comment and version."""
    operation(obj, request.form.get("transition", ""), actor=current_user, comment=request.form.get("comment"),
              expected_version=request.form.get("version", type=int))


def _errors(form) -> str:
    return _("；").join(str(e) for errors in form.errors.values() for e in errors)


def _titles(kind: str) -> dict[str, str]:
    return {item.key: item.title for item in reference_items(kind, active_only=False)}


def _people_choices(department: Department | None) -> list[tuple[int, str]]:
    from govrisk.risks.queries import people_choices

    return people_choices(subtree_ids(department.id) if department else set())


def _action_type_choices() -> dict:
    grouped: dict[str, list] = {}
    for item in reference_items("accountability_action"):
        grouped.setdefault(action_category(item.key).title, []).append((item.key, item.title))
    return grouped


class RHAccountability(RH):
    permission = "business.read"

    @property
    def visible(self):
        return current_user.visible_department_ids()


class RHFindingBase(RHAccountability):
    def _load(self, finding_id, **kwargs):
        self.finding = _get(Finding, finding_id, _("问题不存在。"))

    def _check_access(self):
        if not self.finding.can_view(current_user):
            raise Forbidden(_("您只能查看本单位及下属单位的问题。"))


class RHRectificationBase(RHAccountability):
    def _load(self, rectification_id, **kwargs):
        self.rectification = _get(Rectification, rectification_id, _("整改不存在。"))

    def _check_access(self):
        if not self.rectification.can_view(current_user):
            raise Forbidden(_("您只能查看本单位及下属单位的整改。"))


class RHActionBase(RHAccountability):
    permission = "accountability.records"

    def _load(self, action_id, **kwargs):
        self.action = _get(AccountabilityAction, action_id, _("责任追究记录不存在。"))

    def _check_access(self):
        if not self.action.can_view(current_user):
            raise Forbidden(_("您只能查看本单位及下属单位人员的责任追究记录。"))


# ---------------------------------------------------------------- findings


class RHFindings(RHAccountability):
    template = "accountability/findings.html"

    def _process_GET(self):
        filters = queries.FindingFilters.from_args(request.args)
        return self._render(page=queries.search_findings(filters, self.visible), filters=filters,
                            sources=_titles("finding_source"), states=FindingState,
                            departments=department_choices(self.visible))


class RHFindingCreate(RHAccountability):
    """Open a finding; ?alert_id= or ?feedback_id= open it from a red card or from citizen feedback."""

    permission = "accountability.manage"
    template = "accountability/finding_form.html"

    def _load(self):
        self.alert = self.feedback = None
        if parse_id(request.args.get("alert_id")):
            from govrisk.supervision.models import Alert

            self.alert = _get(Alert, parse_id(request.args.get("alert_id")), _("预警不存在。"))
        if parse_id(request.args.get("feedback_id")):
            from govrisk.portal.models import Feedback

            self.feedback = _get(Feedback, parse_id(request.args.get("feedback_id")), _("反馈不存在。"))
        origin = self.alert or self.feedback
        department_id = parse_id(request.args.get("department_id")) or getattr(origin, "department_id", None)
        self.department = db.session.get(Department, department_id) if department_id else None
        self.form = FindingForm()
        if request.method == "GET":
            self.form.process(data={"department_id": department_id, "cycle_id": request.args.get("cycle_id"),
                                    "source": request.args.get("source") or self._origin_source(),
                                    "power_id": getattr(origin, "power_id", None),
                                    "description": getattr(self.feedback, "text", "")})
        self._choices()

    def _origin_source(self) -> str:
        return "e_supervision_alert" if self.alert else ("public_report" if self.feedback else "")

    def _choices(self):
        from govrisk.risks.queries import power_choices

        form, department = self.form, self.department
        form.source.choices = [("", "—")] + list(_titles("finding_source").items())
        form.department_id.choices = [("", "—")] + department_choices(self.visible)
        scope = subtree_ids(department.id) if department else set()
        form.power_id.choices = [("", "—")] + (power_choices(scope) if department else [])
        form.risk_point_id.choices = [("", "—")] + self._point_choices(scope)
        form.person_ids.choices = _people_choices(department)

    @staticmethod
    def _point_choices(scope) -> list:
        import sqlalchemy as sa

        from govrisk.risks.models import RiskPoint

        if not scope:
            return []
        stmt = (sa.select(RiskPoint.id, RiskPoint.code, RiskPoint.name).where(RiskPoint.department_id.in_(scope))
                .order_by(RiskPoint.code).limit(3000))
        return [(pid, f"{code} {name}") for pid, code, name in db.session.execute(stmt)]

    def _render_form(self):
        return self._render(department=self.department, alert=self.alert, feedback=self.feedback)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        data = {**self.form.data, "person_roles": [self.form.person_role.data] * len(self.form.person_ids.data or [])}
        if self.alert is not None:
            finding = ops.finding_from_alert(self.alert, data, actor=current_user)
        elif self.feedback is not None:
            finding = ops.finding_from_feedback(self.feedback, data, actor=current_user)
        else:
            finding = ops.create_finding(data, actor=current_user)
        flash(_("问题 %(code)s 已登记。", code=finding.code), "success")
        return redirect(url_for("accountability.finding", finding_id=finding.id))


class RHFinding(RHFindingBase):
    template = "accountability/finding.html"

    def _process_GET(self):
        finding = self.finding
        rect_form = RectificationForm()
        rect_form.responsible_id.choices = [("", "—")] + _people_choices(finding.department)
        person_form = FindingPersonForm()
        person_form.person_id.choices = [("", "—")] + _people_choices(finding.department)
        return self._render(finding=finding, sources=_titles("finding_source"), rect_form=rect_form,
                            person_form=person_form, action_types=_titles("accountability_action"))


class RHFindingEdit(RHFindingBase):
    permission = "accountability.manage"

    def _process_POST(self):
        data = {"title": request.form.get("title"), "description": request.form.get("description"),
                "power_id": self.finding.power_id, "risk_point_id": self.finding.risk_point_id,
                "version": request.form.get("version", type=int)}
        ops.update_finding(self.finding, data, actor=current_user)
        flash(_("已保存。"), "success")
        return redirect(url_for("accountability.finding", finding_id=self.finding.id))


class RHFindingTransition(RHFindingBase):
    def _process_POST(self):
        _fire(ops.transition_finding, self.finding)
        flash(_("问题状态为“%(state)s”。", state=self.finding.state.title), "success")
        return redirect(url_for("accountability.finding", finding_id=self.finding.id))


class RHFindingPerson(RHFindingBase):
    permission = "accountability.manage"

    def _process_POST(self):
        form = FindingPersonForm()
        form.person_id.choices = []
        if not form.validate_on_submit():
            raise UserError(_errors(form))
        ops.add_finding_person(self.finding, form.person_id.data, form.role.data, actor=current_user)
        flash(_("已添加涉及人员。"), "success")
        return redirect(url_for("accountability.finding", finding_id=self.finding.id) + "#people")


class RHRectificationCreate(RHFindingBase):
    permission = "accountability.manage"

    def _process_POST(self):
        form = RectificationForm()
        if not form.validate_on_submit():
            raise UserError(_errors(form))
        rectification = ops.order_rectification(self.finding, form.data, actor=current_user)
        flash(_("已下达整改 %(code)s，期限 %(due)s。", code=rectification.code, due=rectification.due_on), "success")
        return redirect(url_for("accountability.rectification", rectification_id=rectification.id))


# ---------------------------------------------------------------- rectifications


class RHRectifications(RHAccountability):
    template = "accountability/rectifications.html"

    def _process_GET(self):
        filters = queries.RectificationFilters.from_args(request.args)
        return self._render(page=queries.search_rectifications(filters, self.visible), filters=filters,
                            states=RectificationState, departments=department_choices(self.visible))


class RHRectification(RHRectificationBase):
    template = "accountability/rectification.html"

    def _load(self, rectification_id):
        super()._load(rectification_id)
        self.form = RectificationProgressForm(obj=self.rectification if request.method == "GET" else None)

    def _render_form(self):
        return self._render(rectification=self.rectification, finding=self.rectification.finding)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        data = {k: v for k, v in self.form.data.items() if k in request.form or k == "version"}
        ops.update_rectification(self.rectification, data, actor=current_user)
        flash(_("已保存。"), "success")
        return redirect(url_for("accountability.rectification", rectification_id=self.rectification.id))


class RHRectificationTransition(RHRectificationBase):
    def _process_POST(self):
        _fire(ops.transition_rectification, self.rectification)
        flash(_("整改状态为“%(state)s”。", state=self.rectification.state.title), "success")
        return redirect(url_for("accountability.rectification", rectification_id=self.rectification.id))


# ---------------------------------------------------------------- accountability actions and people


class RHActions(RHAccountability):
    permission = "accountability.records"
    template = "accountability/actions.html"

    def _process_GET(self):
        filters = queries.ActionFilters.from_args(request.args)
        return self._render(page=queries.search_actions(filters, self.visible), filters=filters,
                            categories=ActionCategory, states=ActionState, types=_titles("accountability_action"),
                            departments=department_choices(self.visible))


class RHActionForm(RHAccountability):
    """Record an action (action_id None; ?person_id=&finding_id= preselect) or edit a proposed one."""

    permission = "accountability.manage"
    template = "accountability/action_form.html"

    def _load(self, action_id=None):
        self.action = _get(AccountabilityAction, action_id, _("责任追究记录不存在。")) if action_id else None
        self.finding = db.session.get(Finding, parse_id(request.args.get("finding_id")) or 0) or (
            self.action.finding if self.action else None)
        self.form = ActionForm(obj=self.action if request.method == "GET" else None)
        if request.method == "GET" and self.action is None:
            self.form.person_id.data = parse_id(request.args.get("person_id"))
            self.form.finding_id.data = self.finding.id if self.finding else None
        self.form.action_type.choices = _action_type_choices()
        department = self.finding.department if self.finding else None
        people = ([(fp.person_id, f"{fp.person.name} · {fp.role.title}") for fp in self.finding.people]
                  if self.finding else [])
        self.form.person_id.choices = [("", "—")] + (people or _people_choices(department) or
                                                     self._visible_people())

    def _check_access(self):
        super()._check_access()
        if self.action is not None and not self.action.can_edit(current_user):
            raise Forbidden(_("只有“拟处理”状态的责任追究可以修改，且须在您的查看范围内。"))

    def _visible_people(self):
        from govrisk.risks.queries import people_choices

        return people_choices(self.visible)

    def _render_form(self):
        return self._render(action=self.action, finding=self.finding)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        if self.action is None:
            person = db.session.get(Person, self.form.person_id.data or 0)
            if person is None or not current_user.can_see_department(person.department_id):
                raise UserError(_("请选择有效的人员。"), field="person_id")
            self.action = ops.record_action(person, self.form.data, actor=current_user)
        else:
            ops.update_action(self.action, self.form.data, actor=current_user)
        flash(_("责任追究 %(code)s 已保存。", code=self.action.code), "success")
        return redirect(url_for("accountability.action", action_id=self.action.id))


class RHAction(RHActionBase):
    template = "accountability/action.html"

    def _process_GET(self):
        return self._render(action=self.action, types=_titles("accountability_action"))


class RHActionTransition(RHActionBase):
    def _process_POST(self):
        _fire(ops.transition_action, self.action)
        flash(_("责任追究状态为“%(state)s”。", state=self.action.state.title), "success")
        return redirect(url_for("accountability.action", action_id=self.action.id))


class RHPeople(RHAccountability):
    permission = "accountability.records"
    template = "accountability/people.html"

    def _process_GET(self):
        page = queries.search_people(request.args.get("q", "").strip(), self.visible)
        return self._render(page=page, counts=queries.action_counts([p.id for p in page.items]))


class RHPersonRecord(RHAccountability):
    permission = "accountability.records"
    template = "accountability/person.html"

    def _load(self, person_id):
        self.person = _get(Person, person_id, _("人员不存在。"))

    def _check_access(self):
        super()._check_access()
        if not current_user.can_see_department(self.person.department_id):
            raise Forbidden(_("您只能查看本单位及下属单位人员的记录。"))

    def _process_GET(self):
        from govrisk.org.queries import assignments_of_person

        return self._render(person=self.person, record=queries.person_record(self.person),
                            assignments=assignments_of_person(self.person.id), types=_titles("accountability_action"))


add_route(bp, "/findings", RHFindings, "findings")
add_route(bp, "/findings/new", RHFindingCreate, "finding_create", ("GET", "POST"))
add_route(bp, "/findings/<int:finding_id>", RHFinding, "finding")
add_route(bp, "/findings/<int:finding_id>/edit", RHFindingEdit, "finding_edit", ("POST",))
add_route(bp, "/findings/<int:finding_id>/transition", RHFindingTransition, "finding_transition", ("POST",))
add_route(bp, "/findings/<int:finding_id>/people", RHFindingPerson, "finding_person", ("POST",))
add_route(bp, "/findings/<int:finding_id>/rectifications", RHRectificationCreate, "rectification_create", ("POST",))
add_route(bp, "/rectifications", RHRectifications, "rectifications")
add_route(bp, "/rectifications/<int:rectification_id>", RHRectification, "rectification", ("GET", "POST"))
add_route(bp, "/rectifications/<int:rectification_id>/transition", RHRectificationTransition,
          "rectification_transition", ("POST",))
add_route(bp, "/actions", RHActions, "actions")
add_route(bp, "/actions/new", RHActionForm, "action_create", ("GET", "POST"))
add_route(bp, "/actions/<int:action_id>", RHAction, "action")
add_route(bp, "/actions/<int:action_id>/edit", RHActionForm, "action_edit", ("GET", "POST"))
add_route(bp, "/actions/<int:action_id>/transition", RHActionTransition, "action_transition", ("POST",))
add_route(bp, "/people", RHPeople, "people")
add_route(bp, "/people/<int:person_id>", RHPersonRecord, "person")
