"""Every change to the risk register: risk points, grading decisions, methods, measures, evidence, rotation rule.

Operations flush and audit, never commit. `check_risk_data` is the one place that decides whether risk-point data
is acceptable, so the form, the import and the seed refuse the same input with the same messages.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm.attributes import set_committed_value

from govrisk.catalog.models import Power
from govrisk.core.audit import in_audit_batch, log_change, record_bulk_create, record_create, record_update
from govrisk.core.errors import Forbidden, UserError, WorkflowError
from govrisk.core.reference import ReferenceItem
from govrisk.core.types import utcnow
from govrisk.extensions import db
from govrisk.flows.models import FlowStep
from govrisk.org.models import Person, Post
from govrisk.org.queries import subtree_ids
from govrisk.risks import queries
from govrisk.risks.attachments import check_upload
from govrisk.risks.grading import DEFAULT_NAME, RulesError, default_rules, parse_rules, suggest
from govrisk.risks.models import (
    EDITABLE_STATES,
    MEASURE_EDITABLE,
    ControlMeasure,
    Discretion,
    GradeKind,
    GradingMethod,
    MeasureAttachment,
    RiskGrade,
    RiskPoint,
)
from govrisk.risks.workflow import FORM_TRANSITIONS, MeasureStatus
from govrisk.workflow.engine import fire
from govrisk.workflow.register import RegisterState

TEXT_LIMITS = {"name": 300, "manifestation": 4000, "indicator": 2000, "proposal_note": 2000}
DISCRETION_VALUES = frozenset(d.value for d in Discretion)
BULK_LIMIT = 200


class RiskDataError(UserError):
    """Risk-point or measure data with field errors; `details["errors"]` maps field names to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        field, messages = next(iter(errors.items()))
        total = sum(len(v) for v in errors.values())
        text = messages[0] if total == 1 else _("%(message)s（另有 %(n)s 处错误）", message=messages[0], n=total - 1)
        super().__init__(text, field=field, details={"errors": errors})


def _int_or_none(value):
    """An int from form data (None when empty); ValueError for text, booleans and numbers no column holds."""
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValueError
    number = int(value)
    if abs(number) > queries.MAX_ID:
        raise ValueError
    return number


def _active_keys(kind: str) -> set[str]:
    return set(db.session.scalars(sa.select(ReferenceItem.key).where(ReferenceItem.kind == kind,
                                                                     ReferenceItem.is_active.is_(True))))


class StepRef(NamedTuple):
    id: int
    key: str
    power_id: int
    post_id: int | None


class PostRef(NamedTuple):
    id: int
    department_id: int


class PersonRef(NamedTuple):
    id: int
    department_id: int
    is_retired: bool


class Lookups:
    """What checking and writing risk points looks up again and again — powers, steps, posts and people by id,
    active reference keys, department subtrees, the actor's scope, the next code of a department — each read once
    and remembered. A form check gets a fresh instance; an import keeps one for the whole file and loads what its
    rows name in bulk beforehand (`add`, `add_steps`, `add_posts`, `add_people`), so its rows cost no queries.
    Meant for one request: nothing here notices changes made by others meanwhile."""

    def __init__(self):
        self._records: dict[tuple, object] = {}
        self._steps: dict[int, StepRef | None] = {}
        self._posts: dict[int, PostRef | None] = {}
        self._people: dict[int, PersonRef | None] = {}
        self._keys: dict[str, set[str]] = {}
        self._subtrees: dict[int, set[int]] = {}
        self._allowed: dict[tuple, bool] = {}
        self._last_codes: dict[str, str | None] = {}  # code prefix → greatest code with it
        self._covering: dict[str, list[str]] = {}  # code prefix → the known prefixes its codes start with
        self._unstored: list[tuple[str, int]] = []  # codes handed out that the database does not hold yet

    def get(self, model, record_id):
        """db.session.get, remembered (and kept referenced, so the session's identity map keeps it too)."""
        key = (model, record_id)
        if key not in self._records:
            self._records[key] = db.session.get(model, record_id)
        return self._records[key]

    def add(self, records) -> None:
        for record in records:
            self._records[(type(record), record.id)] = record

    def step(self, step_id: int) -> StepRef | None:
        if step_id not in self._steps:
            step = db.session.get(FlowStep, step_id)
            self._steps[step_id] = StepRef(step.id, step.key, step.flow.power_id, step.post_id) if step else None
        return self._steps[step_id]

    def add_steps(self, steps) -> None:
        self._steps.update((s.id, s) for s in steps)

    def post(self, post_id: int) -> PostRef | None:
        if post_id not in self._posts:
            post = db.session.get(Post, post_id)
            self._posts[post_id] = PostRef(post.id, post.department_id) if post else None
        return self._posts[post_id]

    def add_posts(self, posts) -> None:
        self._posts.update((p.id, p) for p in posts)

    def person(self, person_id: int) -> PersonRef | None:
        if person_id not in self._people:
            person = db.session.get(Person, person_id)
            self._people[person_id] = PersonRef(person.id, person.department_id, person.is_retired) \
                if person else None
        return self._people[person_id]

    def add_people(self, people) -> None:
        self._people.update((p.id, p) for p in people)

    def active_keys(self, kind: str) -> set[str]:
        if kind not in self._keys:
            self._keys[kind] = _active_keys(kind)
        return self._keys[kind]

    def subtree(self, department_id: int) -> set[int]:
        if department_id not in self._subtrees:
            self._subtrees[department_id] = subtree_ids(department_id)
        return self._subtrees[department_id]

    def allows(self, obj, predicate: str, actor) -> bool:
        """obj.<predicate>(actor) for the scope predicates of powers and risk points (`can_view`, `can_edit`,
        `can_add_measure`), which depend on the actor, the record's department and its state only."""
        key = (type(obj), predicate, obj.department_id, getattr(obj, "state", None), id(actor))
        if key not in self._allowed:
            self._allowed[key] = bool(getattr(obj, predicate)(actor))
        return self._allowed[key]

    def next_code(self, department) -> str:
        """The code `_next_code` would give if every code handed out so far were stored: the database is asked
        once per department, later codes follow from the ones handed out since (call `stored` once they are)."""
        prefix = f"FX-{department.code}-"
        if prefix not in self._last_codes:
            last = _last_code(prefix)
            for code, _department_id in self._unstored:
                if code.startswith(prefix) and (last is None or code > last):
                    last = code
            self._last_codes[prefix] = last
            self._covering[prefix] = [prefix]
            for other in self._covering:  # "FX-A-" and "FX-A-B-": codes of the second start with the first
                if other != prefix and prefix.startswith(other):
                    self._covering[prefix].append(other)
                elif other != prefix and other.startswith(prefix):
                    self._covering[other].append(prefix)
        last = self._last_codes[prefix]
        try:
            number = int(last[len(prefix):]) + 1 if last else 1
        except ValueError:
            number = _count_points(department) + sum(1 for _c, d in self._unstored if d == department.id) + 1
        code = f"{prefix}{number:04d}"
        for covered in self._covering[prefix]:
            if self._last_codes[covered] is None or code > self._last_codes[covered]:
                self._last_codes[covered] = code
        self._unstored.append((code, department.id))
        return code

    def stored(self) -> None:
        """The codes handed out so far are in the database now."""
        self._unstored.clear()


class _Errors(dict):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


def _check_texts(data: dict, errors: _Errors) -> dict:
    out = {}
    for name, limit in TEXT_LIMITS.items():
        text = (data.get(name) or "").strip()
        if len(text) > limit:
            errors.add(name, _("不能超过 %(n)s 个字", n=limit))
        out[name] = text
    if not out["name"]:
        errors.add("name", _("请填写风险点"))
    return out


def _check_power(data: dict, point: RiskPoint | None, actor, errors: _Errors, lookups: Lookups) -> Power | None:
    try:
        power = lookups.get(Power, _int_or_none(data.get("power_id"))) if data.get("power_id") else None
    except (TypeError, ValueError):
        power = None
    if power is None:
        errors.add("power_id", _("请选择职权"))
        return None
    if actor is not None and not lookups.allows(power, "can_view", actor):
        errors.add("power_id", _("只能为本单位及下属单位的职权登记风险点"))
        return None
    if power.state is RegisterState.RETIRED and (point is None or point.power_id != power.id):
        errors.add("power_id", _("该职权已停用"))
    return power


def _check_links(data: dict, power: Power, errors: _Errors, lookups: Lookups) -> dict:
    """Step (of one of the power's flow charts), post (of the power's department), people."""
    out = {"step_id": None, "step_key": None, "post_id": None, "responsible_id": None, "supervisor_id": None}
    try:
        step_id, post_id = _int_or_none(data.get("step_id")), _int_or_none(data.get("post_id"))
    except (TypeError, ValueError):
        errors.add("step_id", _("环节或岗位无效"))
        return out
    if step_id:
        step = lookups.step(step_id)
        if step is None or step.power_id != power.id:
            errors.add("step_id", _("该环节不属于所选职权的流程图"))
        else:
            out["step_id"], out["step_key"] = step.id, step.key
            post_id = post_id or step.post_id
    if post_id:
        post = lookups.post(post_id)
        if post is None or post.department_id != power.department_id:
            errors.add("post_id", _("岗位不属于该职权的责任单位"))
        else:
            out["post_id"] = post.id
    departments = lookups.subtree(power.department_id)
    for name, own_department in (("responsible_id", True), ("supervisor_id", False)):
        try:
            person_id = _int_or_none(data.get(name))
        except (TypeError, ValueError):
            person_id = -1
        if not person_id:
            continue
        person = lookups.person(person_id)
        if person is None or person.is_retired:
            errors.add(name, _("人员不存在或已停用"))
        elif own_department and person.department_id not in departments:
            errors.add(name, _("责任人应为该单位（或下属单位）的人员"))
        else:
            out[name] = person.id
    return out


def _check_grading_inputs(data: dict, point: RiskPoint | None, errors: _Errors, lookups: Lookups) -> dict:
    out = {}
    for name, low, high, message in (("likelihood", 1, 5, lambda: _("发生几率应为 1–5 的整数")),
                                     ("severity", 1, 5, lambda: _("危害程度应为 1–5 的整数")),
                                     ("proposed_level", 1, 3, lambda: _("拟定等级应为一级、二级或三级"))):
        try:
            value = _int_or_none(data.get(name))
        except (TypeError, ValueError):
            value = -1
        if value is not None and not low <= value <= high:
            errors.add(name, message())  # translated only when needed (an import checks many rows)
        out[name] = value
    discretion = data.get("discretion") or None
    if discretion is not None and discretion not in DISCRETION_VALUES:
        errors.add("discretion", _("自由裁量空间应为大、中或小"))
        discretion = None
    out["discretion"] = Discretion(discretion) if discretion else None
    risk_type = (data.get("risk_type") or "").strip()
    allowed_types = lookups.active_keys("risk_type") | ({point.risk_type} if point is not None else set())
    if risk_type not in allowed_types:
        errors.add("risk_type", _("请选择风险类型") if not risk_type else _("风险类型“%(t)s”无效", t=risk_type))
    out["risk_type"] = risk_type
    methods = data.get("methods") or []
    methods = [m for m in (methods.split(",") if isinstance(methods, str) else methods) if m]
    unknown = [m for m in methods if m not in lookups.active_keys("identification_method")]
    if unknown:
        errors.add("methods", _("排查方法“%(m)s”无效", m=_("、").join(unknown)))
    out["methods"] = ",".join(dict.fromkeys(methods))
    return out


def check_risk_data(data: dict, *, actor, point: RiskPoint | None = None, lookups: Lookups | None = None) -> dict:
    """The clean values of a risk point, or RiskDataError with every problem under its field."""
    lookups = lookups or Lookups()
    errors = _Errors()
    clean = _check_texts(data, errors)
    power = _check_power(data, point, actor, errors, lookups)
    clean.update(_check_grading_inputs(data, point, errors, lookups))
    if power is not None:
        clean.update(_check_links(data, power, errors, lookups))
        clean["power_id"], clean["department_id"] = power.id, power.department_id
        if point is not None and point.power_id != power.id and point.confirmed_level is not None:
            errors.add("power_id", _("已确认过等级的风险点不能改到其他职权"))
    if errors:
        raise RiskDataError(dict(errors))
    return clean


def _search_text(point: RiskPoint, power: Power | None = None) -> str:
    power = power or point.power or db.session.get(Power, point.power_id)
    parts = (point.code, point.name, point.manifestation, power.code if power else "", power.name if power else "")
    return " ".join(p for p in parts if p).lower()


def _last_code(prefix: str) -> str | None:
    return db.session.scalar(sa.select(sa.func.max(RiskPoint.code)).where(RiskPoint.code.startswith(prefix,
                                                                                                    autoescape=True)))


def _count_points(department) -> int:
    return db.session.scalar(sa.select(sa.func.count(RiskPoint.id)).where(RiskPoint.department_id == department.id))


def _next_code(department) -> str:
    prefix = f"FX-{department.code}-"
    last = _last_code(prefix)
    try:
        number = int(last[len(prefix):]) + 1 if last else 1
    except ValueError:
        number = _count_points(department) + 1
    return f"{prefix}{number:04d}"


def create_risk_point(data: dict, *, actor) -> RiskPoint:
    """Register a risk point as a draft of the power's department (many at once: `RiskBatch`)."""
    if actor is not None and not actor.can("register.edit"):
        raise Forbidden(_("只有单位填报员可以登记风险点。"))
    clean = check_risk_data(data, actor=actor)
    power = db.session.get(Power, clean["power_id"])
    point = RiskPoint(code=_next_code(power.department), state=RegisterState.DRAFT, **clean)
    point.power = power
    point.search_text = _search_text(point)
    record_create("risks.point.create", point, actor=actor)
    return point


class RiskBatch:
    """New risk points and new planned measures, registered as `create_risk_point` and `create_measure` register
    them one by one — the same checks and refusals, codes, stored values, ids in the same order and the same audit
    entries — but written with multi-row INSERTs instead of one unit-of-work INSERT per object. For imports, inside
    `audit_batch()`: `create_point` and `add_measures` check and queue their audit entries in their place among the
    batch's others; `insert` writes everything added (call it before the batch ends)."""

    def __init__(self, *, actor, lookups: Lookups):
        self.actor, self.lookups = actor, lookups
        self.points: list[tuple[RiskPoint, object]] = []  # with its audit entry
        self.measures: list[tuple[ControlMeasure, object]] = []

    def create_point(self, data: dict, measures: list[dict]) -> RiskPoint:
        """A new draft point and its measures (RiskDataError, Forbidden as `create_risk_point` would refuse it);
        the objects stay out of the session: they describe the rows `insert` writes."""
        actor, lookups = self.actor, self.lookups
        if actor is not None and not actor.can("register.edit"):
            raise Forbidden(_("只有单位填报员可以登记风险点。"))
        clean = check_risk_data(data, actor=actor, lookups=lookups)
        power = lookups.get(Power, clean["power_id"])
        point = RiskPoint(code=lookups.next_code(power.department), state=RegisterState.DRAFT, **clean)
        point.search_text = _search_text(point, power)
        self.points.append((point, record_bulk_create("risks.point.create", point, actor=actor)))
        self.add_measures(point, measures)
        return point

    def add_measures(self, point: RiskPoint, measures: list[dict]) -> None:
        """Planned measures of a point (new in this batch, or stored), refused as `create_measure` refuses."""
        actor, lookups = self.actor, self.lookups
        for data in measures:
            if point.state is RegisterState.RETIRED or (actor is not None and
                                                         not lookups.allows(point, "can_add_measure", actor)):
                raise Forbidden(_("不能为该风险点添加防控措施。"))
            measure = ControlMeasure(department_id=point.department_id, status=MeasureStatus.PLANNED,
                                     **check_measure_data(point, data, lookups=lookups))
            set_committed_value(measure, "risk_point", point)  # for its audit label; no backref, no cascade
            self.measures.append((measure, record_bulk_create("risks.measure.create", measure, actor=actor)))

    def insert(self) -> None:
        """INSERT the points, then the measures; give the objects their ids and stored audited values."""
        if self.points:
            by_code = {point.code: (point, entry) for point, entry in self.points}
            for row in _insert_rows(RiskPoint, [point for point, _entry in self.points]):
                _stored(*by_code[row.code], row)
            self.lookups.stored()
        if self.measures:
            waiting: dict[tuple, list] = {}
            for measure, entry in self.measures:
                measure.risk_point_id = measure.risk_point.id
                waiting.setdefault((measure.risk_point_id, measure.description), []).append((measure, entry))
            for row in sorted(_insert_rows(ControlMeasure, [m for m, _entry in self.measures]), key=lambda r: r.id):
                _stored(*waiting[row.risk_point_id, row.description].pop(0), row)
            for point in {id(m.risk_point): m.risk_point for m, _entry in self.measures}.values():
                if sa.inspect(point).persistent:  # a stored point's loaded list of measures is out of date
                    db.session.expire(point, ["measures"])
        self.points, self.measures = [], []


def _insert_rows(model, objects: list) -> list:
    """INSERT, in their order, the column values set on these transient objects (the columns' defaults apply to
    the others, as in a flush), RETURNING the id, the code or risk point and description (what the caller matches
    the rows back by) and the audited columns."""
    mapper, table = sa.inspect(model), model.__table__
    columns = [attr.key for attr in mapper.column_attrs]
    returned = dict.fromkeys(["id", *(c for c in ("code", "risk_point_id", "description") if c in table.c),
                              *model.audit_fields])
    stmt = sa.insert(table).returning(*(table.c[name] for name in returned))
    runs: list[list[dict]] = []  # consecutive rows setting the same columns: one multi-row INSERT each
    for obj in objects:
        values = sa.inspect(obj).dict
        row = {key: values[key] for key in columns if key in values}
        if not runs or runs[-1][0].keys() != row.keys():
            runs.append([])
        runs[-1].append(row)
    return [row for rows in runs for row in db.session.execute(stmt, rows)]


def _stored(obj, entry, row) -> None:
    obj.id = row.id
    entry.stored(row._mapping)


def update_risk_point(point: RiskPoint, data: dict, *, actor, lookups: Lookups | None = None) -> dict:
    """Change a draft or returned risk point (optimistic locking on `version`)."""
    lookups = lookups or Lookups()
    point.check_version(_int_or_none(data.get("version")))
    if actor is not None and not lookups.allows(point, "can_edit", actor):
        raise Forbidden(_("该风险点当前为“%(state)s”，不能由您修改。", state=point.state.title))
    if actor is None and point.state not in EDITABLE_STATES:
        raise UserError(_("该风险点当前为“%(state)s”，不能修改。", state=point.state.title))
    clean = check_risk_data(data, actor=actor, point=point, lookups=lookups)
    step_key = clean.pop("step_key")
    changes = record_update("risks.point.update", point, clean, actor=actor)
    point.step_key = step_key
    if "power_id" in changes:
        point.power = lookups.get(Power, point.power_id)
    point.search_text = _search_text(point)
    if not in_audit_batch():
        db.session.flush()
    return changes


# ---------------------------------------------------------------- grading


def ensure_method(*, actor=None) -> GradingMethod:
    """The active grading method, storing the built-in v1 the first time one is needed."""
    method = queries.active_method()
    if method is not None:
        return method
    if db.session.scalar(sa.select(sa.func.count(GradingMethod.id))):
        raise UserError(_("没有启用的风险等级评定方法，请纪检监察员先启用一个版本。"))
    method = GradingMethod(number=1, name=DEFAULT_NAME, note=_("依据《实施意见》三(二)2 的三级划分。"),
                           rules_json=json.dumps(default_rules(), ensure_ascii=False), is_active=True,
                           activated_at=utcnow())
    record_create("risks.method.create", method, actor=actor)
    return method


def _grade_inputs(point: RiskPoint) -> dict:
    step = point.step
    return {**queries.point_inputs(point), "name": point.name, "risk_type": point.risk_type,
            "power": f"{point.power.code} {point.power.name}", "step": step.name if step else "",
            "step_key": step.key if step else "", "post": point.post.name if point.post else "",
            "proposed_level": point.proposed_level}


def record_grade(point: RiskPoint, kind: GradeKind, level: int, *, actor, reason: str = "",
                 previous_level: int | None = None, extra: dict | None = None) -> RiskGrade:
    """Keep one grading decision with its inputs, the method version and what that method suggested."""
    method = ensure_method(actor=actor)
    suggestion = suggest(method.rules, queries.point_inputs(point))
    grade = RiskGrade(risk_point_id=point.id, kind=kind, level=level, previous_level=previous_level,
                      suggested_level=suggestion.level, method_id=method.id, method_number=method.number,
                      inputs_json=json.dumps({**_grade_inputs(point), **(extra or {})}, ensure_ascii=False),
                      why_json=json.dumps(suggestion.why, ensure_ascii=False), reason=reason or "",
                      actor_id=getattr(actor, "id", None),
                      actor_name=getattr(actor, "display_name", "") or getattr(actor, "username", "") or "")
    db.session.add(grade)
    db.session.flush()
    return grade


def transition_risk_point(point: RiskPoint, name: str, *, actor, comment: str | None = None,
                          expected_version: int | None = None):
    """Fire a register transition; submitting records the department's proposal as a grading decision."""
    point.check_version(expected_version)
    if name in FORM_TRANSITIONS:
        raise UserError(_("请在“纪检确认”表单中确定等级后确认。"))
    event = fire(point, name, actor=actor, comment=comment)
    if name == "submit":
        record_grade(point, GradeKind.PROPOSAL, point.proposed_level, actor=actor, reason=point.proposal_note)
    return event


def _level(value, field: str = "level") -> int:
    try:
        level = _int_or_none(value)
    except (TypeError, ValueError):
        level = None
    if level not in (1, 2, 3):
        raise UserError(_("请选择一级、二级或三级。"), field=field)
    return level


def _confirm_refusal(point: RiskPoint, actor) -> str | None:
    if point.state is not RegisterState.DEPT_APPROVED:
        return _("当前状态为“%(state)s”，只有单位已审定的风险点可以确认。", state=point.state.title)
    if not point.can_confirm(actor):
        return _("您不能确认该风险点。")
    return None


def confirm_risk_point(point: RiskPoint, level, reason: str | None, *, actor,
                       expected_version: int | None = None) -> RiskGrade:
    """The inspector confirms the proposed level or sets another one (a reason is then required)."""
    point.check_version(expected_version)
    refusal = _confirm_refusal(point, actor)
    if refusal:
        raise WorkflowError(refusal)
    level, reason = _level(level), (reason or "").strip()
    if len(reason) > 2000:
        raise UserError(_("理由不能超过 %(n)s 个字。", n=2000), field="reason")
    if level != point.proposed_level and not reason:
        raise UserError(_("确认等级（%(new)s）与单位拟定等级（%(old)s）不同，必须填写调整理由。",
                          new=_level_name(level), old=_level_name(point.proposed_level)), field="reason")
    before = {"confirmed_level": point.confirmed_level, "confirmed_reason": point.confirmed_reason}
    point.confirmed_level, point.confirmed_reason = level, reason
    fire(point, "confirm", actor=actor, comment=reason or None)
    log_change("risks.point.grade", point, actor=actor,
               changes={k: [v, getattr(point, k)] for k, v in before.items() if v != getattr(point, k)})
    kind = GradeKind.CONFIRMATION if level == point.proposed_level else GradeKind.CHANGE
    return record_grade(point, kind, level, actor=actor, reason=reason, previous_level=point.proposed_level)


def _level_name(level) -> str:
    from govrisk.risks.models import level_title

    return level_title(level) or _("未定级")


def bulk_confirm(point_ids: list[int], level, reason: str | None, *, actor) -> list[RiskPoint]:
    """Confirm many risk points with one reason, at their proposed level or at `level`: all of them, or none."""
    reason = (reason or "").strip()
    if not reason:
        raise UserError(_("批量确认须填写一条确认意见。"), field="reason")
    ids = list(dict.fromkeys(i for i in (queries.parse_id(i) for i in point_ids) if i))
    if not ids:
        raise UserError(_("请至少勾选一个风险点。"))
    if len(ids) > BULK_LIMIT:
        raise UserError(_("一次最多确认 %(n)s 个风险点。", n=BULK_LIMIT))
    target = _level(level) if level not in (None, "", "proposed") else None
    points = {p.id: p for p in db.session.scalars(sa.select(RiskPoint).where(RiskPoint.id.in_(ids)))}
    problems = []
    for point_id in ids:
        point = points.get(point_id)
        why = _("不存在") if point is None or not point.can_view(actor) else _confirm_refusal(point, actor)
        if why is None and target is None and point.proposed_level is None:
            why = _("没有拟定等级")
        if why:
            problems.append(_("%(code)s：%(why)s", code=point.code if point is not None and point.can_view(actor)
                              else f"#{point_id}", why=why))
    if problems:
        raise UserError(_("未确认任何风险点（%(n)s 个不能确认）：%(problems)s", n=len(problems),
                          problems=_("；").join(problems[:20])))
    for point_id in ids:
        point = points[point_id]
        confirm_risk_point(point, target or point.proposed_level, reason, actor=actor)
    return [points[i] for i in ids]


def record_residual(point: RiskPoint, level, reason: str | None, measure_ids, *, actor,
                    expected_version: int | None = None) -> RiskGrade:
    """After verification, the inspector records the residual level and the verified measures that justify it."""
    point.check_version(expected_version)
    if point.state is not RegisterState.CONFIRMED or (actor is not None and not point.can_record_residual(actor)):
        raise Forbidden(_("只有纪检监察员可以为已确认的风险点评定剩余风险。"))
    level, reason = _level(level, "residual_level"), (reason or "").strip()
    if point.confirmed_level is not None and level < point.confirmed_level:
        raise UserError(_("剩余风险等级不能高于确认等级（%(level)s）。", level=_level_name(point.confirmed_level)),
                        field="residual_level")
    if not reason:
        raise UserError(_("请填写评定理由。"), field="residual_reason")
    chosen = {i for i in (queries.parse_id(i) for i in (measure_ids or [])) if i}
    verified = {m.id: m for m in point.measures if m.status is MeasureStatus.VERIFIED}
    if not chosen:
        raise UserError(_("请至少选择一项已验证有效的防控措施作为依据。"), field="measure_ids")
    if chosen - set(verified):
        raise UserError(_("只能选择本风险点已验证有效的防控措施。"), field="measure_ids")
    record_update("risks.point.residual", point, {"residual_level": level, "residual_reason": reason}, actor=actor)
    measures = [{"id": m.id, "type": m.measure_type, "description": m.description[:200]}
                for m in sorted((verified[i] for i in chosen), key=lambda m: m.id)]
    return record_grade(point, GradeKind.RESIDUAL, level, actor=actor, reason=reason,
                        previous_level=point.confirmed_level, extra={"measures": measures})


# ---------------------------------------------------------------- grading methods


def create_method(data: dict, *, actor) -> GradingMethod:
    """A new, not yet active, method version; old grades keep the version they were made with."""
    ensure_method(actor=actor)
    name = (data.get("name") or "").strip()
    if not name or len(name) > 120:
        raise UserError(_("请填写方法名称（不超过 120 个字）。"), field="name")
    try:
        rules = parse_rules(data.get("rules") or "")
    except RulesError as exc:
        raise UserError(_("规则有误：%(problems)s", problems=_("；").join(exc.problems)), field="rules") from None
    number = (db.session.scalar(sa.select(sa.func.max(GradingMethod.number))) or 0) + 1
    method = GradingMethod(number=number, name=name, note=(data.get("note") or "").strip()[:2000],
                           rules_json=json.dumps(rules, ensure_ascii=False, indent=1), is_active=False,
                           created_by_id=getattr(actor, "id", None))
    record_create("risks.method.create", method, actor=actor)
    return method


def activate_method(method: GradingMethod, *, actor) -> None:
    """Make this version the one new suggestions use; no existing grade changes."""
    if method.is_active:
        raise UserError(_("该版本已经在使用中。"))
    for other in db.session.scalars(sa.select(GradingMethod).where(GradingMethod.is_active.is_(True))):
        record_update("risks.method.deactivate", other, {"is_active": False}, actor=actor)
    record_update("risks.method.activate", method, {"is_active": True}, actor=actor)
    method.activated_at = utcnow()
    db.session.flush()


# ---------------------------------------------------------------- control measures


def check_measure_data(point: RiskPoint, data: dict, *, measure: ControlMeasure | None = None,
                       lookups: Lookups | None = None) -> dict:
    """The clean values of a control measure, or RiskDataError."""
    lookups = lookups or Lookups()
    errors = _Errors()
    measure_type = (data.get("measure_type") or "").strip()
    allowed = lookups.active_keys("measure_type") | ({measure.measure_type} if measure is not None else set())
    if measure_type not in allowed:
        errors.add("measure_type", _("请选择措施类型"))
    description = (data.get("description") or "").strip()
    if not description:
        errors.add("description", _("请填写措施内容"))
    elif len(description) > 4000:
        errors.add("description", _("不能超过 %(n)s 个字", n=4000))
    evidence = (data.get("evidence") or "").strip()
    if len(evidence) > 8000:
        errors.add("evidence", _("不能超过 %(n)s 个字", n=8000))
    due_on = data.get("due_on")
    if due_on is not None and not isinstance(due_on, date):
        try:
            due_on = date.fromisoformat(str(due_on)) if str(due_on).strip() else None
        except ValueError:
            errors.add("due_on", _("日期格式应为 YYYY-MM-DD"))
            due_on = None
    owner_id = None
    try:
        owner_id = _int_or_none(data.get("owner_id"))
    except (TypeError, ValueError):
        errors.add("owner_id", _("人员不存在或已停用"))
    if owner_id:
        owner = lookups.person(owner_id)
        if owner is None or owner.is_retired or owner.department_id not in lookups.subtree(point.department_id):
            errors.add("owner_id", _("负责人应为该单位（或下属单位）的在职人员"))
    if errors:
        raise RiskDataError(dict(errors))
    return {"measure_type": measure_type, "description": description, "evidence": evidence, "due_on": due_on,
            "owner_id": owner_id or None}


def create_measure(point: RiskPoint, data: dict, *, actor) -> ControlMeasure:
    """Add a planned control measure to a risk point (many at once: `RiskBatch`)."""
    if point.state is RegisterState.RETIRED or (actor is not None and not point.can_add_measure(actor)):
        raise Forbidden(_("不能为该风险点添加防控措施。"))
    clean = check_measure_data(point, data)
    measure = ControlMeasure(risk_point_id=point.id, department_id=point.department_id,
                             status=MeasureStatus.PLANNED, **clean)
    measure.risk_point = point
    record_create("risks.measure.create", measure, actor=actor)
    return measure


def update_measure(measure: ControlMeasure, data: dict, *, actor) -> dict:
    """Change a measure that is not yet implemented (or was found ineffective); a later due date clears overdue."""
    measure.check_version(_int_or_none(data.get("version")))
    if measure.status not in MEASURE_EDITABLE or (actor is not None and not measure.can_edit(actor)):
        raise Forbidden(_("该措施当前为“%(status)s”，不能由您修改。", status=measure.status.title))
    clean = check_measure_data(measure.risk_point, data, measure=measure)
    if measure.is_overdue and clean["due_on"] is not None and clean["due_on"] >= date.today() and \
            clean["due_on"] != measure.due_on:
        clean.update(is_overdue=False, escalation_level=0)
    return record_update("risks.measure.update", measure, clean, actor=actor)


def transition_measure(measure: ControlMeasure, name: str, *, actor, comment: str | None = None,
                       expected_version: int | None = None):
    """Move a measure along its workflow; implementing dates it, verifying records the inspector."""
    measure.check_version(expected_version)
    if measure.risk_point.state is RegisterState.RETIRED:
        raise WorkflowError(_("风险点已停用，措施不能再办理。"))
    event = fire(measure, name, actor=actor, comment=comment)
    if name == "implement":
        measure.implemented_on = date.today()
    elif name == "verify":
        measure.verified_by_id, measure.verified_at = getattr(actor, "id", None), utcnow()
    elif name == "rework":
        measure.implemented_on = None
    db.session.flush()
    return event


def add_attachment(measure: ControlMeasure, filename: str, content: bytes, *, actor) -> MeasureAttachment:
    """Keep an evidence file (type checked by content, size limited)."""
    if actor is not None and not measure.can_attach(actor):
        raise Forbidden(_("该措施当前不能上传佐证材料。"))
    name, kind, content_type = check_upload(filename, content)
    digest = hashlib.sha256(content).hexdigest()
    if any(a.sha256 == digest and not a.is_removed for a in measure.attachments):
        raise UserError(_("同样的文件已经上传过了。"), field="file")
    attachment = MeasureAttachment(measure_id=measure.id, filename=name, content_type=content_type, kind=kind,
                                   size=len(content), sha256=digest, content=content,
                                   uploaded_by_id=getattr(actor, "id", None))
    attachment.measure = measure
    record_create("risks.attachment.add", attachment, actor=actor)
    return attachment


def remove_attachment(attachment: MeasureAttachment, *, actor) -> None:
    """Take a file off the evidence (the record and the bytes stay, marked removed)."""
    if actor is not None and not attachment.measure.can_attach(actor):
        raise Forbidden(_("该措施当前不能修改佐证材料。"))
    if attachment.is_removed:
        raise UserError(_("该文件已经移除。"))
    record_update("risks.attachment.remove", attachment, {"is_removed": True}, actor=actor)


# ---------------------------------------------------------------- rotation rule


def save_rotation_rule(data: dict, *, actor) -> queries.RotationRule:
    """Set the years in a key post before rotation and the warning window (months)."""
    from govrisk.auth.models import Setting

    try:
        years, months = int(data.get("years")), int(data.get("warn_months"))
    except (TypeError, ValueError):
        raise UserError(_("请填写整数。"), field="years") from None
    if not 1 <= years <= 20:
        raise UserError(_("任职年限应为 1–20 年。"), field="years")
    if not 1 <= months <= 24:
        raise UserError(_("提前提醒应为 1–24 个月。"), field="warn_months")
    before = queries.rotation_rule()
    setting = db.session.get(Setting, queries.ROTATION_KEY) or Setting(key=queries.ROTATION_KEY, value="{}")
    setting.value = json.dumps({"years": years, "warn_months": months})
    db.session.add(setting)
    changes = {k: [getattr(before, k), v] for k, v in (("years", years), ("warn_months", months))
               if getattr(before, k) != v}
    if changes:
        log_change("risks.rotation.update", None, actor=actor, changes=changes, target_type="settings")
    db.session.flush()
    return queries.RotationRule(years, months)
