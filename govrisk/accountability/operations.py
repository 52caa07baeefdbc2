"""Every change of findings, rectifications and accountability actions; flush and audit, never commit.

Findings can be opened from a supervision red card (`finding_from_alert`), from accepted citizen feedback
(`finding_from_feedback`) or from an assessment score; the origin is kept on the finding and linked back.
Overdue rectifications are escalated by `govrisk tick` (the rule is in models); the escalation is written into the
rectification's history here.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from govrisk.accountability import queries
from govrisk.accountability.models import (
    DISCIPLINARY,
    AccountabilityAction,
    Finding,
    FindingPerson,
    PersonRole,
    Rectification,
    action_category,
    escalation_title,
)
from govrisk.accountability.workflow import FindingState
from govrisk.core.audit import log_change, record_create, record_update
from govrisk.core.errors import NotFound, UserError
from govrisk.core.reference import ReferenceItem
from govrisk.core.signals import deadline_escalated
from govrisk.core.types import utcnow
from govrisk.extensions import db
from govrisk.org.models import Department, Person
from govrisk.supervision.operations import register_escalation_handler
from govrisk.workflow import fire
from govrisk.workflow.models import WorkflowEvent


def _reference_keys(kind: str) -> set[str]:
    return set(db.session.scalars(sa.select(ReferenceItem.key).where(ReferenceItem.kind == kind,
                                                                     ReferenceItem.is_active.is_(True))))


def _text(data: dict, key: str, *, required: str | None = None, limit: int | None = None) -> str:
    value = (data.get(key) or "").strip()
    if required and not value:
        raise UserError(required, field=key)
    if limit and len(value) > limit:
        raise UserError(_("内容过长（最多 %(n)s 字）。", n=limit), field=key)
    return value


def _department(department_id, actor) -> Department:
    department_id = queries.parse_id(department_id)
    department = db.session.get(Department, department_id) if department_id else None
    if department is None or department.is_retired:
        raise UserError(_("请选择有效的单位。"), field="department_id")
    if actor is not None and not actor.can_see_department(department.id):
        raise UserError(_("您只能为本单位及下属单位登记。"), field="department_id")
    return department


def _links(data: dict, department: Department) -> dict:
    """The power and risk point a finding names: both must belong to the department's subtree."""
    from govrisk.catalog.models import Power
    from govrisk.risks.models import RiskPoint

    in_tree = set(db.session.scalars(sa.select(Department.id).where(
        Department.path.startswith(department.path, autoescape=True))))
    power_id, point_id = queries.parse_id(data.get("power_id")), queries.parse_id(data.get("risk_point_id"))
    power = db.session.get(Power, power_id) if power_id else None
    if data.get("power_id") and (power is None or power.department_id not in in_tree):
        raise UserError(_("所选职权不属于该单位。"), field="power_id")
    point = db.session.get(RiskPoint, point_id) if point_id else None
    if data.get("risk_point_id") and (point is None or point.department_id not in in_tree):
        raise UserError(_("所选风险点不属于该单位。"), field="risk_point_id")
    if point is not None and power is None:
        power = point.power
    if point is not None and power is not None and point.power_id != power.id:
        raise UserError(_("所选风险点不属于所选职权。"), field="risk_point_id")
    return {"power_id": power.id if power else None, "risk_point_id": point.id if point else None}


def _people(person_ids, roles=None) -> list[tuple[Person, PersonRole]]:
    out = []
    for index, raw in enumerate(person_ids or []):
        person_id = queries.parse_id(raw)
        person = db.session.get(Person, person_id) if person_id else None
        if person is None or person.is_retired:
            raise UserError(_("所选人员不存在或已停用。"), field="person_ids")
        role = (roles or [])[index] if roles and index < len(roles) else PersonRole.RESPONSIBLE.value
        out.append((person, PersonRole(role) if role in {r.value for r in PersonRole} else PersonRole.RESPONSIBLE))
    return out


# ---------------------------------------------------------------- findings


def create_finding(data: dict, *, actor) -> Finding:
    """Open a finding naming the department, optionally the power or risk point, and the people concerned."""
    source = _text(data, "source", required=_("请选择问题来源。"))
    if source not in _reference_keys("finding_source"):
        raise UserError(_("问题来源“%(source)s”无效。", source=source), field="source")
    department = _department(data.get("department_id"), actor)
    title = _text(data, "title", required=_("请填写问题标题。"), limit=300)
    found_on = data.get("found_on") or date.today()
    if found_on > date.today():
        raise UserError(_("发现日期不能晚于今天。"), field="found_on")
    links = _links(data, department)
    people = _people(data.get("person_ids"), data.get("person_roles"))
    cycle_id = queries.parse_id(data.get("cycle_id"))
    if data.get("cycle_id") and not cycle_id:
        raise UserError(_("考核周期不存在。"), field="cycle_id")
    if cycle_id:
        from govrisk.review.models import ReviewCycle

        if db.session.get(ReviewCycle, cycle_id) is None:
            raise UserError(_("考核周期不存在。"), field="cycle_id")
    finding = Finding(code=queries.next_code(Finding, "WT", found_on.year), year=found_on.year, source=source,
                      cycle_id=cycle_id, department_id=department.id, title=title,
                      description=_text(data, "description"), found_on=found_on,
                      origin_type=data.get("origin_type", ""), origin_id=data.get("origin_id"),
                      created_by_id=getattr(actor, "id", None), **links)
    record_create("accountability.finding.create", finding, actor=actor)
    for person, role in people:
        db.session.add(FindingPerson(finding_id=finding.id, person_id=person.id, role=role))
    if people:
        log_change("accountability.finding.people", finding, actor=actor,
                   changes={"people": [None, [f"{p.name}（{r.zh}）" for p, r in people]]})
    db.session.flush()
    return finding


def update_finding(finding: Finding, data: dict, *, actor) -> dict:
    """Edit a finding while it is open or being rectified."""
    if not finding.is_editable:
        raise UserError(_("问题已“%(state)s”，不能再修改。", state=finding.state.title))
    fields = {"title": _text(data, "title", required=_("请填写问题标题。"), limit=300),
              "description": _text(data, "description"), **_links(data, finding.department)}
    return record_update("accountability.finding.update", finding, fields, actor=actor,
                         expected_version=data.get("version"))


def add_finding_person(finding: Finding, person_id, role: str, *, actor) -> FindingPerson:
    """Name one more person in a finding."""
    if not finding.is_editable:
        raise UserError(_("问题已“%(state)s”，不能再修改。", state=finding.state.title))
    (person, person_role), = _people([person_id], [role])
    if any(fp.person_id == person.id for fp in finding.people):
        raise UserError(_("%(name)s已列入该问题。", name=person.name), field="person_ids")
    link = FindingPerson(finding_id=finding.id, person_id=person.id, role=person_role)
    db.session.add(link)
    log_change("accountability.finding.people", finding, actor=actor,
               changes={"added": [None, f"{person.name}（{person_role.zh}）"]})
    db.session.flush()
    db.session.expire(finding, ["people"])
    return link


def transition_finding(finding: Finding, name: str, *, actor, comment: str | None = None,
                       expected_version: int | None = None):
    """Close or dismiss a finding (ordering a rectification moves it on by itself)."""
    finding.check_version(expected_version)
    if name == "start_rectification":
        raise UserError(_("请通过“下达整改”表单下达整改。"))
    return fire(finding, name, actor=actor, comment=comment)


def finding_from_alert(alert, data: dict, *, actor) -> Finding:
    """Open a finding from a supervision red card and note it on the card (one finding per card)."""
    existing = queries.finding_for_origin("alert", alert.id)
    if existing is not None:
        raise UserError(_("该预警已转为问题 %(code)s。", code=existing.code))
    if alert.department_id is None:
        raise UserError(_("该预警没有对应的单位，不能转为问题。"))
    finding = create_finding({"source": "e_supervision_alert", "department_id": alert.department_id,
                              "power_id": alert.power_id, "origin_type": "alert", "origin_id": alert.id,
                              "title": data.get("title") or _("电子监察红牌：%(case)s %(subject)s",
                                                              case=alert.case_ref, subject=alert.subject)[:300],
                              **{k: v for k, v in data.items() if k != "title"}}, actor=actor)
    record_update("supervision.alert.finding", alert, {"finding_ref": finding.code}, actor=actor)
    return finding


def _finding_for_escalated_card(alert, note: str, actor) -> str | None:
    """Supervision's escalation hook: an escalated red card opens a finding (its code goes on the card)."""
    if alert.department_id is None or queries.finding_for_origin("alert", alert.id) is not None:
        return None
    finding = create_finding({"source": "e_supervision_alert", "department_id": alert.department_id,
                              "power_id": alert.power_id, "origin_type": "alert", "origin_id": alert.id,
                              "title": _("电子监察红牌：%(case)s %(subject)s", case=alert.case_ref,
                                         subject=alert.subject)[:300], "description": note or ""}, actor=actor)
    return finding.code


def finding_from_feedback(feedback, data: dict, *, actor) -> Finding:
    """Open a finding from accepted citizen feedback and link it back to the feedback."""
    from govrisk.portal.operations import link_feedback_to_finding

    if feedback.finding_id:
        raise UserError(_("该反馈已关联问题。"))
    if feedback.department_id is None and not data.get("department_id"):
        raise UserError(_("请选择被反映的单位。"), field="department_id")
    finding = create_finding({"source": "public_report", "department_id": feedback.department_id,
                              "power_id": feedback.power_id, "origin_type": "feedback", "origin_id": feedback.id,
                              "description": feedback.text,
                              **{k: v for k, v in data.items() if v not in (None, "")}}, actor=actor)
    link_feedback_to_finding(feedback, finding.id, actor=actor)
    return finding


# ---------------------------------------------------------------- rectification


def order_rectification(finding: Finding, data: dict, *, actor) -> Rectification:
    """Order a rectification by a deadline (限期整改) for the finding's department."""
    if not finding.is_editable:
        raise UserError(_("问题已“%(state)s”，不能再下达整改。", state=finding.state.title))
    requirement = _text(data, "requirement", required=_("请写明整改要求。"))
    due_on = data.get("due_on")
    if due_on is None:
        raise UserError(_("请填写整改期限。"), field="due_on")
    ordered_on = data.get("ordered_on") or date.today()
    if due_on < ordered_on:
        raise UserError(_("整改期限不能早于下达日期。"), field="due_on")
    responsible_id = queries.parse_id(data.get("responsible_id"))
    responsible = db.session.get(Person, responsible_id) if responsible_id else None
    if data.get("responsible_id") and responsible is None:
        raise UserError(_("所选责任人不存在。"), field="responsible_id")
    if finding.state is FindingState.OPEN:
        fire(finding, "start_rectification", actor=actor)
    rectification = Rectification(code=queries.next_code(Rectification, "ZG", ordered_on.year),
                                  finding_id=finding.id, department_id=finding.department_id,
                                  requirement=requirement, due_on=due_on, ordered_on=ordered_on,
                                  responsible_id=responsible.id if responsible else None)
    record_create("accountability.rectification.create", rectification, actor=actor)
    db.session.expire(finding, ["rectifications"])
    return rectification


def update_rectification(rectification: Rectification, data: dict, *, actor) -> dict:
    """The department writes its plan and evidence; an inspector may change the requirement and deadline."""
    fields = {}
    if rectification.can_edit_plan(actor):
        fields.update({k: _text(data, k) for k in ("plan", "evidence") if k in data})
    if rectification.can_edit_terms(actor):
        if "requirement" in data:
            fields["requirement"] = _text(data, "requirement", required=_("请写明整改要求。"))
        if data.get("due_on"):
            if data["due_on"] < rectification.ordered_on:
                raise UserError(_("整改期限不能早于下达日期。"), field="due_on")
            fields["due_on"] = data["due_on"]
            if data["due_on"] != rectification.due_on and data["due_on"] >= date.today():
                fields.update({"is_overdue": False, "escalation_level": 0})
    if not fields:
        raise UserError(_("当前不能修改该整改。"))
    return record_update("accountability.rectification.update", rectification, fields, actor=actor,
                         expected_version=data.get("version"))


def transition_rectification(rectification: Rectification, name: str, *, actor, comment: str | None = None,
                             expected_version: int | None = None, today: date | None = None):
    """Submit the plan, report completion (needs evidence), verify (needs evidence) or return."""
    rectification.check_version(expected_version)
    event = fire(rectification, name, actor=actor, comment=comment)
    if name == "report":
        rectification.completed_on = today or date.today()
    elif name == "return":
        rectification.completed_on = None
    elif name == "verify":
        rectification.verified_by_id, rectification.verified_at = getattr(actor, "id", None), utcnow()
    db.session.flush()
    return event


def _record_escalation(sender, level: int, rule, **_kwargs) -> None:
    """History entry for an overdue rectification (the engine has marked it and audited the change)."""
    if not isinstance(sender, Rectification):
        return
    state = sender.state.value
    db.session.add(WorkflowEvent(target_type=sender.__tablename__, target_id=sender.id, workflow="rectification",
                                 transition=f"escalate_{level}", from_state=state, to_state=state,
                                 actor_name="", comment=escalation_title(level)))


deadline_escalated.connect(_record_escalation)
register_escalation_handler(_finding_for_escalated_card)


# ---------------------------------------------------------------- accountability actions


def _action_fields(data: dict) -> dict:
    action_type = _text(data, "action_type", required=_("请选择责任追究方式。"))
    if action_type not in _reference_keys("accountability_action"):
        raise UserError(_("责任追究方式“%(type)s”无效。", type=action_type), field="action_type")
    category = action_category(action_type)
    basis = _text(data, "basis")
    if category in DISCIPLINARY and not basis:
        raise UserError(_("纪律处分必须写明依据（党纪或政务处分的条款）。"), field="basis")
    start_on, end_on, decided_on = data.get("start_on"), data.get("end_on"), data.get("decided_on")
    if start_on and end_on and end_on < start_on:
        raise UserError(_("结束日期不能早于开始日期。"), field="end_on")
    if decided_on and decided_on > date.today():
        raise UserError(_("决定日期不能晚于今天。"), field="decided_on")
    return {"action_type": action_type, "category": category, "basis": basis,
            "facts": _text(data, "facts"), "decision_no": _text(data, "decision_no", limit=120),
            "decided_by": _text(data, "decided_by", limit=200), "decided_on": decided_on, "start_on": start_on,
            "end_on": end_on}


def record_action(person: Person, data: dict, *, actor) -> AccountabilityAction:
    """Record an accountability action against a person (basis required for disciplinary sanctions)."""
    if person is None or person.is_retired:
        raise UserError(_("所选人员不存在或已停用。"), field="person_id")
    finding_id = queries.parse_id(data.get("finding_id"))
    finding = db.session.get(Finding, finding_id) if finding_id else None
    if data.get("finding_id") and finding is None:
        raise NotFound(_("问题不存在。"))
    fields = _action_fields(data)
    recorded_on = date.today()
    year = (fields["decided_on"] or recorded_on).year
    action = AccountabilityAction(code=queries.next_code(AccountabilityAction, "ZZ", year),
                                  person_id=person.id, department_id=person.department_id,
                                  finding_id=finding.id if finding else None, recorded_on=recorded_on,
                                  created_by_id=getattr(actor, "id", None), **fields)
    record_create("accountability.action.create", action, actor=actor)
    return action


def update_action(action: AccountabilityAction, data: dict, *, actor) -> dict:
    """Edit a proposed action."""
    if not action.can_edit(actor):
        raise UserError(_("只有“拟处理”状态的责任追究可以修改。"))
    return record_update("accountability.action.update", action, _action_fields(data),
                         actor=actor, expected_version=data.get("version"))


def transition_action(action: AccountabilityAction, name: str, *, actor, comment: str | None = None,
                      expected_version: int | None = None):
    """Decide (needs date; document number for organisational and disciplinary), complete or revoke."""
    action.check_version(expected_version)
    return fire(action, name, actor=actor, comment=comment)
