"""Frozen copies of the register and of the results, per participating department, and the year-over-year view.

Opening a cycle writes, for every participating department (its sub-units included), a `summary` part (counts by
level, type, state, the 5 × 5 matrix, measures by status, decision-step coverage) and the register items as compact
JSON arrays in chunks of CHUNK items (`powers`, `flows`, `risks`, `measures`). Each department is read with keyset
pages and written with a Core INSERT, so memory stays flat whatever the size of the city. Closing a cycle adds a
`results` part per department. The year-over-year view compares two cycles' parts only.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from govrisk.core.types import utcnow
from govrisk.extensions import db
from govrisk.org.models import Department
from govrisk.review.models import SnapshotPart
from govrisk.review.queries import subtree_condition
from govrisk.workflow.register import RegisterState

CHUNK = 2000
ITEM_KINDS = ("powers", "flows", "risks", "measures")
RETIRED = RegisterState.RETIRED
#: Column positions in the compact item arrays (documented once, used by the readers below).
POWER = {"code": 0, "name": 1, "category": 2, "state": 3, "major": 4, "basis": 5, "published": 6, "fp": 7}
FLOW = {"power": 0, "kind": 1, "number": 2, "state": 3, "steps": 4, "decisions": 5, "errors": 6, "warnings": 7}
RISK = {"code": 0, "power": 1, "name": 2, "type": 3, "likelihood": 4, "severity": 5, "proposed": 6, "confirmed": 7,
        "state": 8, "step": 9, "department": 10, "fp": 11}
MEASURE = {"id": 0, "risk": 1, "type": 2, "status": 3, "due_on": 4, "implemented_on": 5, "overdue": 6}
CLOSED_MEASURE_STATES = ("implemented", "verified")


def _fingerprint(*values) -> str:
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _value(v):
    return getattr(v, "value", v)


def _keyset(stmt, key_column, *, batch: int | None = None) -> Iterator[list]:
    """Pages of rows ordered by a unique key, each page a fresh query (no cursor held open)."""
    batch, last = batch or CHUNK, None
    while True:
        page_stmt = stmt.order_by(key_column).limit(batch)
        if last is not None:
            page_stmt = page_stmt.where(key_column > last)
        rows = db.session.execute(page_stmt).all()
        if not rows:
            return
        yield rows
        last = rows[-1]._mapping[key_column.key]
        if len(rows) < batch:
            return


def _power_rows(department: Department) -> Iterator[list]:
    from govrisk.catalog.models import Power, PowerLegalBasis

    basis = sa.exists().where(PowerLegalBasis.power_id == Power.id).label("basis")
    stmt = sa.select(Power.code, Power.name, Power.category, Power.state, Power.is_major_matter, basis,
                     Power.published_number, Power.statutory_days, Power.promised_days, Power.is_public,
                     Power.sub_items).where(Power.state != RETIRED, subtree_condition(Power.department_id, department))
    for rows in _keyset(stmt, Power.code):
        yield [[r.code, r.name, r.category, _value(r.state), bool(r.is_major_matter), bool(r.basis),
                r.published_number is not None,
                _fingerprint(r.name, r.category, r.statutory_days, r.promised_days, r.is_major_matter, r.is_public,
                             r.sub_items, r.published_number)] for r in rows]


def _flow_rows(department: Department) -> Iterator[list]:
    from govrisk.catalog.models import Power
    from govrisk.flows.models import Flow

    stmt = (sa.select(Flow.id, Power.code, Flow.kind, Flow.number, Flow.state, Flow.step_count,
                      Flow.decision_step_count, Flow.error_count, Flow.warning_count)
            .join(Power, Power.id == Flow.power_id)
            .where(Flow.state != RETIRED, subtree_condition(Power.department_id, department)))
    for rows in _keyset(stmt, Flow.id):
        yield [[r.code, _value(r.kind), r.number, _value(r.state), r.step_count, r.decision_step_count,
                r.error_count, r.warning_count] for r in rows]


def _risk_rows(department: Department) -> Iterator[list]:
    from govrisk.catalog.models import Power
    from govrisk.risks.models import RiskPoint

    stmt = (sa.select(RiskPoint.code, Power.code.label("power_code"), RiskPoint.name, RiskPoint.risk_type,
                      RiskPoint.likelihood, RiskPoint.severity, RiskPoint.proposed_level, RiskPoint.confirmed_level,
                      RiskPoint.state, RiskPoint.step_key, Department.code.label("department_code"),
                      RiskPoint.manifestation, RiskPoint.discretion, RiskPoint.post_id, RiskPoint.indicator)
            .join(Power, Power.id == RiskPoint.power_id).join(Department, Department.id == RiskPoint.department_id)
            .where(RiskPoint.state != RETIRED, subtree_condition(RiskPoint.department_id, department)))
    for rows in _keyset(stmt, RiskPoint.code):
        yield [[r.code, r.power_code, r.name, r.risk_type, r.likelihood, r.severity, r.proposed_level,
                r.confirmed_level, _value(r.state), r.step_key or "", r.department_code,
                _fingerprint(r.name, r.manifestation, r.risk_type, r.step_key, _value(r.discretion), r.post_id,
                             r.indicator, r.power_code)] for r in rows]


def _measure_rows(department: Department) -> Iterator[list]:
    from govrisk.risks.models import ControlMeasure, RiskPoint

    stmt = (sa.select(ControlMeasure.id, RiskPoint.code, ControlMeasure.measure_type, ControlMeasure.status,
                      ControlMeasure.due_on, ControlMeasure.implemented_on, ControlMeasure.is_overdue)
            .join(RiskPoint, RiskPoint.id == ControlMeasure.risk_point_id)
            .where(RiskPoint.state != RETIRED, subtree_condition(ControlMeasure.department_id, department)))
    for rows in _keyset(stmt, ControlMeasure.id):
        yield [[r.id, r.code, r.measure_type, _value(r.status), r.due_on.isoformat() if r.due_on else "",
                r.implemented_on.isoformat() if r.implemented_on else "", bool(r.is_overdue)] for r in rows]


READERS = {"powers": _power_rows, "flows": _flow_rows, "risks": _risk_rows, "measures": _measure_rows}


@dataclass
class _Summary:
    """Counts accumulated while the items stream past."""

    powers: int = 0
    powers_major: int = 0
    powers_with_basis: int = 0
    powers_published: int = 0
    flows: int = 0
    flows_with_errors: int = 0
    risks: int = 0
    by_level: Counter = field(default_factory=Counter)
    by_type: Counter = field(default_factory=Counter)
    by_state: Counter = field(default_factory=Counter)
    heat: Counter = field(default_factory=Counter)
    type_levels: Counter = field(default_factory=Counter)
    measures: int = 0
    measures_by_status: Counter = field(default_factory=Counter)
    measures_overdue: int = 0

    def add(self, kind: str, item: list) -> None:
        if kind == "powers":
            self.powers += 1
            self.powers_major += item[POWER["major"]]
            self.powers_with_basis += item[POWER["basis"]]
            self.powers_published += item[POWER["published"]]
        elif kind == "flows":
            self.flows += 1
            self.flows_with_errors += 1 if item[FLOW["errors"]] else 0
        elif kind == "risks":
            self.risks += 1
            level = level_of(item)
            self.by_level[str(level) if level else "none"] += 1
            self.by_type[item[RISK["type"]]] += 1
            self.type_levels[f"{item[RISK['type']]}|{level or 'none'}"] += 1
            self.by_state[item[RISK["state"]]] += 1
            if item[RISK["likelihood"]] and item[RISK["severity"]]:
                self.heat[f"{item[RISK['likelihood']]},{item[RISK['severity']]}"] += 1
        else:
            self.measures += 1
            self.measures_by_status[item[MEASURE["status"]]] += 1
            open_now = item[MEASURE["status"]] not in CLOSED_MEASURE_STATES
            self.measures_overdue += 1 if item[MEASURE["overdue"]] and open_now else 0

    def as_dict(self) -> dict:
        return {k: (dict(sorted(v.items())) if isinstance(v, Counter) else v) for k, v in self.__dict__.items()}


def level_of(item: list) -> int | None:
    """The level in force of a snapshot risk item: confirmed, else proposed."""
    confirmed = item[RISK["confirmed"]]
    return confirmed if confirmed is not None else item[RISK["proposed"]]


def _write_part(cycle_id: int, department_id: int, kind: str, seq: int, value, count: int, at) -> None:
    db.session.execute(sa.insert(SnapshotPart.__table__), [{
        "cycle_id": cycle_id, "department_id": department_id, "kind": kind, "seq": seq, "item_count": count,
        "data": json.dumps(value, ensure_ascii=False, separators=(",", ":")), "frozen_at": at}])


def freeze_department(cycle, department: Department, *, at=None) -> dict:
    """Write one participating department's register snapshot; returns its summary."""
    return write_department(cycle, department, {kind: READERS[kind](department) for kind in ITEM_KINDS}, at=at)


def write_department(cycle, department: Department, chunks: dict, *, at=None) -> dict:
    """Write the parts of one department from chunks of items per kind, and its summary; returns the summary."""
    from govrisk.risks.queries import decision_step_coverage, reference_titles

    at = at or utcnow()
    summary = _Summary()
    for kind in ITEM_KINDS:
        for seq, chunk in enumerate(chunks.get(kind, ())):
            for item in chunk:
                summary.add(kind, item)
            _write_part(cycle.id, department.id, kind, seq, chunk, len(chunk), at)
    coverage = decision_step_coverage(department.id)
    data = {**summary.as_dict(), "department": {"id": department.id, "code": department.code,
                                                "name": department.name},
            "decision_steps": coverage["decision_steps"], "decision_covered": coverage["covered"],
            "type_names": dict(sorted(reference_titles("risk_type").items()))}
    _write_part(cycle.id, department.id, "summary", 0, data, summary.risks, at)
    return data


def freeze_register(cycle) -> int:
    """Snapshot the register for every participant of the cycle (once); returns the number of departments."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(SnapshotPart).where(
            SnapshotPart.cycle_id == cycle.id, SnapshotPart.kind == "summary")):
        return 0
    at = utcnow()
    for participant in cycle.departments:
        freeze_department(cycle, participant.department, at=at)
        db.session.expire(participant.department)
    cycle.snapshot_at = at
    return len(cycle.departments)


def freeze_results(cycle, results: dict[int, dict]) -> None:
    """Write the `results` part of every participant (department id → results dict)."""
    at = utcnow()
    db.session.execute(sa.delete(SnapshotPart).where(SnapshotPart.cycle_id == cycle.id,
                                                     SnapshotPart.kind == "results"))
    for department_id, value in sorted(results.items()):
        _write_part(cycle.id, department_id, "results", 0, value, 1, at)


def summary(cycle_id: int, department_id: int) -> dict | None:
    data = db.session.scalar(sa.select(SnapshotPart.data).where(
        SnapshotPart.cycle_id == cycle_id, SnapshotPart.department_id == department_id,
        SnapshotPart.kind == "summary"))
    return json.loads(data) if data is not None else None


def frozen_results(cycle_id: int, department_id: int) -> dict | None:
    data = db.session.scalar(sa.select(SnapshotPart.data).where(
        SnapshotPart.cycle_id == cycle_id, SnapshotPart.department_id == department_id,
        SnapshotPart.kind == "results"))
    return json.loads(data) if data is not None else None


def snapshot_departments(cycle_id: int) -> list[int]:
    """Department ids that have a register snapshot in this cycle."""
    stmt = sa.select(SnapshotPart.department_id).where(SnapshotPart.cycle_id == cycle_id,
                                                       SnapshotPart.kind == "summary")
    return sorted(db.session.scalars(stmt))


def items(cycle_id: int, department_id: int, kind: str) -> Iterator[list]:
    """The frozen items of one kind, chunk by chunk (one chunk in memory at a time)."""
    seqs = db.session.scalars(sa.select(SnapshotPart.seq).where(
        SnapshotPart.cycle_id == cycle_id, SnapshotPart.department_id == department_id, SnapshotPart.kind == kind)
        .order_by(SnapshotPart.seq)).all()
    for seq in seqs:
        data = db.session.scalar(sa.select(SnapshotPart.data).where(
            SnapshotPart.cycle_id == cycle_id, SnapshotPart.department_id == department_id,
            SnapshotPart.kind == kind, SnapshotPart.seq == seq))
        yield from json.loads(data)


def snapshot_size(cycle_id: int) -> dict:
    """Rows, items and characters stored for a cycle's snapshot (shown on the cycle page)."""
    rows, count, chars = db.session.execute(sa.select(sa.func.count(), sa.func.sum(SnapshotPart.item_count),
                                                      sa.func.sum(sa.func.length(SnapshotPart.data)))
                                            .where(SnapshotPart.cycle_id == cycle_id)).one()
    return {"rows": rows or 0, "items": int(count or 0), "chars": int(chars or 0)}


# ---------------------------------------------------------------- year over year


@dataclass
class Change:
    """What changed in one department between two snapshots (codes kept for the detail view)."""

    department_id: int
    counts: Counter = field(default_factory=Counter)
    details: dict = field(default_factory=dict)

    def note(self, key: str, code: str, limit: int) -> None:
        self.counts[key] += 1
        listed = self.details.setdefault(key, [])
        if len(listed) < limit:
            listed.append(code)


YOY_TITLES = {
    "powers_new": _l("新增职权"), "powers_changed": _l("变更职权"), "powers_retired": _l("取消职权"),
    "risks_new": _l("新增风险点"), "risks_changed": _l("变更风险点"), "risks_retired": _l("取消风险点"),
    "level_up": _l("等级调高"), "level_down": _l("等级调低"), "measures_added": _l("新增措施"),
    "measures_closed": _l("完成措施"),
}
YOY_KEYS = tuple(YOY_TITLES)


def _keyed(cycle_id: int | None, department_id: int, kind: str, key: int, keep) -> dict:
    if cycle_id is None:
        return {}
    return {item[key]: keep(item) for item in items(cycle_id, department_id, kind)}


def compare_department(previous_id: int | None, current_id: int, department_id: int, *, limit: int = 200) -> Change:
    """New, changed and retired powers and risk points, level changes, measures added and closed."""
    change = Change(department_id)
    before = _keyed(previous_id, department_id, "powers", POWER["code"], lambda i: i[POWER["fp"]])
    for item in items(current_id, department_id, "powers"):
        code = item[POWER["code"]]
        if code not in before:
            change.note("powers_new", code, limit)
        elif before.pop(code) != item[POWER["fp"]]:
            change.note("powers_changed", code, limit)
    for code in sorted(before):
        change.note("powers_retired", code, limit)
    before = _keyed(previous_id, department_id, "risks", RISK["code"], lambda i: (i[RISK["fp"]], level_of(i)))
    for item in items(current_id, department_id, "risks"):
        code = item[RISK["code"]]
        if code not in before:
            change.note("risks_new", code, limit)
            continue
        fp, old_level = before.pop(code)
        if fp != item[RISK["fp"]]:
            change.note("risks_changed", code, limit)
        new_level = level_of(item)
        if old_level and new_level and new_level != old_level:
            change.note("level_up" if new_level < old_level else "level_down", code, limit)
    for code in sorted(before):
        change.note("risks_retired", code, limit)
    before = _keyed(previous_id, department_id, "measures", MEASURE["id"], lambda i: i[MEASURE["status"]])
    for item in items(current_id, department_id, "measures"):
        mid, status = item[MEASURE["id"]], item[MEASURE["status"]]
        if mid not in before:
            change.note("measures_added", f"#{mid}", limit)
        elif before.pop(mid) not in CLOSED_MEASURE_STATES and status in CLOSED_MEASURE_STATES:
            change.note("measures_closed", f"#{mid}", limit)
    for mid, status in sorted(before.items()):
        if status not in CLOSED_MEASURE_STATES:
            change.note("measures_closed", f"#{mid}", limit)
    return change


def compare_cycles(previous, current, department_ids: list[int] | None = None) -> list[Change]:
    """The change of every (or the given) department with a snapshot in `current`, in department-id order."""
    ids = snapshot_departments(current.id)
    if department_ids is not None:
        ids = [d for d in ids if d in set(department_ids)]
    return [compare_department(previous.id if previous else None, current.id, d) for d in ids]
