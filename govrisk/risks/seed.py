"""The demo city's risk points (seed/risks/risks.json), loaded idempotently by `govrisk seed load`.

Points are checked by the same `check_risk_data` as the forms. Their state is set as a data load would: each step
is in the history as done by "初始化数据", and the grading decisions are recorded with the method of the day.
"""

import json
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from govrisk import resource_dir
from govrisk.catalog.models import Power
from govrisk.core.audit import log_change
from govrisk.extensions import db
from govrisk.org.models import Person, Post
from govrisk.org.queries import get_department_by_code
from govrisk.risks import operations as ops
from govrisk.risks import queries
from govrisk.risks.models import ControlMeasure, GradeKind, RiskPoint
from govrisk.risks.workflow import MeasureStatus
from govrisk.workflow.engine import apply_deadline_rule, deadline_rules
from govrisk.workflow.models import WorkflowEvent
from govrisk.workflow.register import RegisterState

SEED_ACTOR = "初始化数据"
S, M = RegisterState, MeasureStatus
PATHS = {"draft": (), "submitted": ("submit",), "returned": ("submit", "return"),
         "dept_approved": ("submit", "approve"), "confirmed": ("submit", "approve", "confirm")}
TARGETS = {"submit": S.SUBMITTED, "approve": S.DEPT_APPROVED, "return": S.RETURNED, "confirm": S.CONFIRMED}
MEASURE_PATHS = {"planned": (), "in_progress": ("start",), "implemented": ("start", "implement"),
                 "verified": ("start", "implement", "verify")}
MEASURE_TARGETS = {"start": M.IN_PROGRESS, "implement": M.IMPLEMENTED, "verify": M.VERIFIED}


def _at(day: str | None) -> datetime | None:
    if not day:
        return None
    return datetime.combine(date.fromisoformat(day), time(10, 0), tzinfo=ZoneInfo("Asia/Shanghai"))


def _event(obj, workflow: str, transition: str, source, target, *, comment: str = "", at=None) -> None:
    event = WorkflowEvent(target_type=obj.__tablename__, target_id=obj.id, workflow=workflow, transition=transition,
                          from_state=source.value, to_state=target.value, actor_name=SEED_ACTOR, comment=comment)
    if at is not None:
        event.at = at
    db.session.add(event)
    log_change(f"{workflow}.{transition}", obj, actor=None, changes={"state": [source.value, target.value]})


def _step(point: RiskPoint, transition: str, entry: dict, at) -> None:
    source, point.state = point.state, TARGETS[transition]
    if transition == "confirm":
        point.confirmed_level = entry.get("confirmed_level", point.proposed_level)
        point.confirmed_reason = entry.get("confirmed_reason", "")
    point.bump_version()
    db.session.flush()
    comment = entry.get("return_comment", "") if transition == "return" else entry.get("confirmed_reason", "") \
        if transition == "confirm" else ""
    _event(point, "risk_point", transition, source, point.state, comment=comment, at=at)
    grade = None
    if transition == "submit":
        grade = ops.record_grade(point, GradeKind.PROPOSAL, point.proposed_level, actor=None)
    elif transition == "confirm":
        kind = GradeKind.CONFIRMATION if point.confirmed_level == point.proposed_level else GradeKind.CHANGE
        grade = ops.record_grade(point, kind, point.confirmed_level, actor=None, reason=point.confirmed_reason,
                                 previous_level=point.proposed_level)
    if grade is not None:
        grade.actor_name = SEED_ACTOR
        grade.at = at or grade.at


def _find_power(department, name: str) -> Power | None:
    return db.session.scalar(sa.select(Power).where(Power.department_id == department.id,
                                                    sa.or_(Power.name == name, Power.code == name)).limit(1))


def _person_id(name: str | None) -> int | None:
    if not name:
        return None
    return db.session.scalar(sa.select(Person.id).where(Person.name == name).limit(1))


def _load_flows(document: dict, folder) -> None:
    from govrisk.flows.operations import import_flow
    from govrisk.flows.queries import flows_of_power

    for entry in document.get("flows", []):
        department = get_department_by_code(entry["department"])
        power = _find_power(department, entry["power"]) if department else None
        if power is None or flows_of_power(power.id):
            continue
        doc = json.loads((folder / entry["file"]).read_text(encoding="utf-8"))
        doc["power_code"] = power.code
        import_flow(json.dumps(doc, ensure_ascii=False).encode(), "seed.json", actor=None)


def _step_id(power: Power, key: str | None) -> int | None:
    for flow in queries.power_flows(power.id) if key else []:
        for step in flow.steps:
            if step.key == key:
                return step.id
    return None


def _add_measures(point: RiskPoint, entries: list[dict], at) -> None:
    for data in entries:
        measure = ops.create_measure(point, {"measure_type": data["type"], "description": data["description"],
                                             "owner_id": _person_id(data.get("owner")),
                                             "due_on": data.get("due_on"), "evidence": data.get("evidence", "")},
                                     actor=None)
        for transition in MEASURE_PATHS[data.get("status", "planned")]:
            source, measure.status = measure.status, MEASURE_TARGETS[transition]
            if transition == "implement":
                measure.implemented_on = date.fromisoformat(data["due_on"]) if data.get("due_on") else date.today()
            measure.bump_version()
            db.session.flush()
            _event(measure, "risk_measure", transition, source, measure.status, at=at)


def load_demo_risks(path=None) -> int:
    """Add the demo risk points that are not there yet (matched by power and name); returns how many."""
    path = path or resource_dir("seed") / "risks" / "risks.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    _load_flows(document, path.parent)
    ops.ensure_method()
    added = 0
    for entry in document["risks"]:
        department = get_department_by_code(entry["department"])
        power = _find_power(department, entry["power"]) if department else None
        if power is None or db.session.scalar(sa.select(RiskPoint.id).where(
                RiskPoint.power_id == power.id, RiskPoint.name == entry["name"])) is not None:
            continue
        post_id = db.session.scalar(sa.select(Post.id).where(Post.department_id == power.department_id,
                                                             Post.name == entry.get("post", "")).limit(1))
        data = {k: entry.get(k) for k in ("name", "manifestation", "risk_type", "methods", "likelihood", "severity",
                                          "discretion", "proposed_level", "indicator")}
        point = ops.create_risk_point({**data, "power_id": power.id, "step_id": _step_id(power, entry.get("step")),
                                       "post_id": post_id, "responsible_id": _person_id(entry.get("responsible")),
                                       "supervisor_id": _person_id(entry.get("supervisor"))}, actor=None)
        at = _at(entry.get("on"))
        for transition in PATHS[entry.get("state", "draft")]:
            _step(point, transition, entry, at)
        _add_measures(point, entry.get("measures", []), at)
        if entry.get("residual"):
            verified = [m.id for m in point.measures if m.status is M.VERIFIED]
            ops.record_residual(point, entry["residual"]["level"], entry["residual"]["reason"], verified, actor=None)
        added += 1
    for rule in deadline_rules():
        if rule.model is ControlMeasure:
            apply_deadline_rule(rule, date.today())
    db.session.flush()
    return added
