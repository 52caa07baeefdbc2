"""Receiving step events (DESIGN §7.2): parse and check a file or JSON array, resolve references, store in bulk.

Policy for bad input (README, "Electronic supervision"): a batch with any malformed row — a missing field, a
timestamp without UTC offset, an event other than enter/complete, a value too long — is refused whole, with
every bad row's number and reasons, and nothing is written. A well-formed event that names an unknown power, a
step that is not in the power's published internal flow, or a case already registered under another power is
*not* an error: it is stored in the quarantine table with its reason (`unknown_reference`) and can be
re-processed after the catalog is fixed. Storing is idempotent: the same event (case, step, event, instant)
sent twice is stored once.

Speed: rows are checked in plain Python, references are preloaded once per batch (a handful of IN queries), and
everything is written with Core multi-row inserts (`INSERT … ON CONFLICT DO NOTHING`); no ORM object per row.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _

from govrisk.catalog.models import Power
from govrisk.core.audit import log_change
from govrisk.core.bulk import bulk_allocations
from govrisk.core.errors import UserError
from govrisk.core.importer import read_table
from govrisk.core.reference import working_calendar
from govrisk.core.types import utcnow
from govrisk.extensions import db
from govrisk.flows.models import Flow, FlowKind, FlowStep
from govrisk.supervision.derive import rebuild_cases
from govrisk.supervision.models import (
    ACTOR_MAX,
    CASE_REF_MAX,
    CODE_MAX,
    DAY_US,
    EVENTS,
    KEY_MAX,
    FlowShape,
    QuarantinedEvent,
    ScanQueue,
    SupervisionBatch,
    SupervisionCase,
    SupervisionEvent,
)
from govrisk.workflow.register import RegisterState

FIELDS = ("case_id", "power_code", "step_id", "event", "actor", "at")
MAX_BATCH = 10_000  # events per API call (and per write chunk of a file)
MAX_LISTED_ERRORS = 200  # bad rows listed in a refusal; the count is always complete
_LIMITS = {"case_id": CASE_REF_MAX, "power_code": CODE_MAX, "step_id": KEY_MAX, "actor": ACTOR_MAX}
_FIELD_LIMITS = tuple(_LIMITS.get(name, 64) for name in FIELDS)  # event and at: generous, they are checked anyway
_CHUNK = 500  # values per IN (…) list
#: Working time is counted from this instant; any fixed instant works, the scan only subtracts.
ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)


class EventRow(NamedTuple):
    line: int
    case_ref: str
    power_code: str
    step_key: str
    event: str
    actor: str
    at: datetime


@dataclass
class RowError:
    line: int
    errors: list[str]


@dataclass
class ParsedEvents:
    rows: list[EventRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    line_word: str = "行"  # CSV/XLSX lines, JSON items (条)


class EventBatchError(UserError):
    """The batch is refused whole; `details["bad_rows"]` lists every bad row (up to MAX_LISTED_ERRORS)."""


class BatchTooLarge(UserError):
    status_code = 413


# ---------------------------------------------------------------- parsing (pure)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with a UTC offset (`Z` or ±hh:mm); ValueError with a reason otherwise."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(_("时间“%(text)s”不是 ISO 8601 格式（如 2026-10-09T09:30:00+08:00）", text=text)) from None
    if moment.tzinfo is None:  # fromisoformat gives a fixed-offset zone exactly when the text has an offset
        raise ValueError(_("时间“%(text)s”缺少 UTC 偏移（如 +08:00 或 Z）", text=text))
    moment = moment.astimezone(UTC)
    if not 2000 <= moment.year <= 2099:
        raise ValueError(_("时间“%(text)s”超出 2000—2099 年", text=text))
    return moment


def check_row(line: int, values: dict) -> tuple[EventRow | None, list[str]]:
    """One event from its six fields (strings), or the reasons it is malformed."""
    return check_values(line, [values.get(name) for name in FIELDS])


def check_values(line: int, values: list) -> tuple[EventRow | None, list[str]]:
    """One event from its six field values in FIELDS order, or the reasons it is malformed."""
    errors, clean = [], []
    for name, limit, value in zip(FIELDS, _FIELD_LIMITS, values, strict=True):
        if value.__class__ is not str:
            if name == "case_id" and isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            elif value is not None:
                errors.append(_("“%(field)s”应为字符串", field=name))
                clean.append("")
                continue
            else:
                value = ""
        value = value.strip()
        if not value:
            errors.append(_("“%(field)s”不能为空", field=name))
        elif len(value) > limit:
            errors.append(_("“%(field)s”超过 %(n)s 个字符", field=name, n=limit))
        clean.append(value)
    case_ref, power_code, step_key, event, actor, at_text = clean
    event_key = event.lower()
    if event and event_key not in EVENTS:
        errors.append(_("事件类型“%(event)s”无效，只能是 enter 或 complete", event=event))
    at = None
    if at_text:
        try:
            at = parse_instant(at_text)
        except ValueError as exc:
            errors.append(str(exc))
    if errors:
        return None, errors
    return EventRow(line, case_ref, power_code, step_key, event_key, actor, at), []


def _collect(items: Iterable[tuple[int, list]], line_word: str) -> ParsedEvents:
    parsed = ParsedEvents(line_word=line_word)
    for line, values in items:
        row, errors = check_values(line, values)
        if row is None:
            parsed.errors.append(RowError(line, errors))
        else:
            parsed.rows.append(row)
    return parsed


def parse_records(items) -> ParsedEvents:
    """Check a JSON array of event objects (items numbered from 1)."""
    with bulk_allocations():
        return _parse_records(items)


def _parse_records(items) -> ParsedEvents:
    if not isinstance(items, list):
        raise EventBatchError(_("请求体应为事件对象组成的 JSON 数组。"))
    if not items:
        raise EventBatchError(_("没有事件。"))
    parsed = ParsedEvents(line_word="条")
    good = []
    for index, item in enumerate(items, start=1):
        if isinstance(item, dict):
            good.append((index, item))
        else:
            parsed.errors.append(RowError(index, [_("应为 JSON 对象")]))
    checked = _collect(((line, [item.get(name) for name in FIELDS]) for line, item in good), "条")
    parsed.rows, parsed.errors = checked.rows, sorted(parsed.errors + checked.errors, key=lambda e: e.line)
    return parsed


def _table_rows(table: list[list[str]]) -> list[tuple[int, list]]:
    if not table or not any(table[0]):
        raise EventBatchError(_("文件没有表头行。"))
    header = [h.strip().lstrip("\ufeff").lower() for h in table[0]]
    missing = [f for f in FIELDS if f not in header]
    if missing:
        raise EventBatchError(_("缺少列：%(missing)s。表头应为：%(columns)s。", missing=", ".join(missing),
                                columns=", ".join(FIELDS)))
    index = [header.index(name) for name in FIELDS]
    width = max(index) + 1
    out = []
    for line, raw in enumerate(table[1:], start=2):
        if len(raw) < width:
            if not "".join(raw).strip():
                continue  # a blank line
            raw = raw + [""] * (width - len(raw))
        out.append((line, [raw[i] for i in index]))
    return out


def parse_file(data: bytes, filename: str = "", *, max_bytes: int) -> ParsedEvents:
    """Check a CSV (UTF-8), XLSX or JSON file of events; file-level problems raise EventBatchError."""
    with bulk_allocations():
        return _parse_file(data, filename, max_bytes=max_bytes)


def _parse_file(data: bytes, filename: str, *, max_bytes: int) -> ParsedEvents:
    if not data:
        raise EventBatchError(_("文件为空。"))
    if len(data) > max_bytes:
        raise EventBatchError(_("文件过大（%(size)s KB），上限为 %(limit)s KB。", size=len(data) // 1024,
                                limit=max_bytes // 1024))
    if (filename or "").lower().endswith(".json") or data.lstrip()[:1] == b"[" or data[:4] == b"\xef\xbb\xbf[":
        try:
            items = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise EventBatchError(_("不是有效的 UTF-8 JSON：%(error)s", error=exc)) from None
        return _parse_records(items)
    if (filename or "").lower().endswith((".csv", ".txt")) or data[:4] != b"PK\x03\x04":
        table = _read_csv(data)
    else:
        table = read_table(data, filename, max_bytes=max_bytes)
    rows = _table_rows(table)
    if not rows:
        raise EventBatchError(_("文件中没有数据行。"))
    return _collect(rows, "行")


def _read_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise EventBatchError(_("文件不是 UTF-8 编码（可能是 GBK）。请另存为“CSV UTF-8”。")) from None
    try:
        return list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise EventBatchError(_("CSV 格式错误：%(error)s", error=exc)) from None


def refuse(parsed: ParsedEvents) -> None:
    """Raise EventBatchError listing every bad row when the batch has any; otherwise do nothing."""
    if not parsed.errors:
        return
    word = _("条") if parsed.line_word == "条" else _("行")
    listed = parsed.errors[:MAX_LISTED_ERRORS]
    lines = _("；").join(_("第 %(line)s %(word)s：%(errors)s", line=e.line, word=word, errors=_("，").join(e.errors))
                        for e in listed[:10])
    more = _("……") if len(parsed.errors) > 10 else ""
    raise EventBatchError(
        _("%(n)s %(word)s有错误，整批未写入。%(lines)s%(more)s", n=len(parsed.errors), word=word, lines=lines,
          more=more),
        details={"bad_rows": [{"line": e.line, "errors": e.errors} for e in listed],
                 "bad_row_count": len(parsed.errors)})


# ---------------------------------------------------------------- resolving references


def dialect_insert(table):
    """INSERT with ON CONFLICT support for the current database (SQLite or PostgreSQL)."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(getattr(table, "__table__", table))


def _chunks(values: Sequence, size: int = _CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _in_chunks(stmt_for, values: Iterable) -> list:
    values = sorted(set(values))
    rows = []
    for chunk in _chunks(values):
        rows.extend(db.session.execute(stmt_for(chunk)).all())
    return rows


class PowerRef(NamedTuple):
    id: int
    department_id: int
    limit_days: int | None
    flow_id: int | None


class CaseRef(NamedTuple):
    id: int | None
    power_id: int
    department_id: int
    flow_id: int
    limit_days: int | None


@dataclass
class Resolution:
    """Where each row of a batch goes: a case (existing or new), quarantine with a reason, or refused (access)."""

    placed: list[tuple[EventRow, str]] = field(default_factory=list)  # (row, case_ref) for storable rows
    quarantined: list[tuple[EventRow, str, PowerRef | None]] = field(default_factory=list)
    cases: dict[str, CaseRef] = field(default_factory=dict)  # every case the placed rows name
    refused: list[RowError] = field(default_factory=list)
    new_refs: set[str] = field(default_factory=set)  # cases this batch created


def _powers(codes: Iterable[str]) -> dict[str, PowerRef]:
    rows = _in_chunks(lambda c: sa.select(Power.code, Power.id, Power.department_id, Power.promised_days,
                                          Power.statutory_days).where(Power.code.in_(c)), codes)
    flows = published_flows([r.id for r in rows])
    return {r.code: PowerRef(r.id, r.department_id, r.promised_days if r.promised_days is not None
                             else r.statutory_days, flows.get(r.id)) for r in rows}


def published_flows(power_ids: Iterable[int]) -> dict[int, int]:
    """The published internal flow id per power (the newest, should there be two)."""
    rows = _in_chunks(lambda c: sa.select(Flow.power_id, sa.func.max(Flow.id)).where(
        Flow.power_id.in_(c), Flow.kind == FlowKind.INTERNAL, Flow.state == RegisterState.PUBLISHED)
        .group_by(Flow.power_id), power_ids)
    return {power_id: flow_id for power_id, flow_id in rows}


def _existing_cases(refs: Iterable[str]) -> dict[str, CaseRef]:
    stmt = sa.select(SupervisionCase.case_ref, SupervisionCase.id, SupervisionCase.power_id,
                     SupervisionCase.department_id, SupervisionCase.flow_id, SupervisionCase.limit_days)
    rows = _in_chunks(lambda c: stmt.where(SupervisionCase.case_ref.in_(c)), refs)
    return {r.case_ref: CaseRef(r.id, r.power_id, r.department_id, r.flow_id, r.limit_days) for r in rows}


def _flow_steps(flow_ids: Iterable[int]) -> set[tuple[int, str]]:
    rows = _in_chunks(lambda c: sa.select(FlowStep.flow_id, FlowStep.key).where(FlowStep.flow_id.in_(c)), flow_ids)
    return {(flow_id, key) for flow_id, key in rows}


def resolve(rows: list[EventRow], *, visible_ids=None) -> Resolution:
    """Place each row on a case of a known power and flow step, or in quarantine; rows of powers outside
    `visible_ids` (a department user's units; None = all) are refused."""
    powers = _powers({r.power_code for r in rows})
    cases = _existing_cases({r.case_ref for r in rows})
    flow_ids = {c.flow_id for c in cases.values()} | {p.flow_id for p in powers.values() if p.flow_id}
    steps = _flow_steps(flow_ids)
    out = Resolution()
    for row in rows:
        power = powers.get(row.power_code)
        if power is not None and visible_ids is not None and power.department_id not in visible_ids:
            reason = _("无权报送职权“%(code)s”的数据（不属于本单位）", code=row.power_code)
            out.refused.append(RowError(row.line, [reason]))
            continue
        case = cases.get(row.case_ref)
        if power is None:
            reason = "unknown_power"
        elif case is not None and case.power_id != power.id:
            reason = "case_conflict"
        elif case is None and power.flow_id is None:
            reason = "no_flow"
        else:
            if case is None:
                case = cases[row.case_ref] = CaseRef(None, power.id, power.department_id, power.flow_id,
                                                     power.limit_days)
            reason = "" if (case.flow_id, row.step_key) in steps else "unknown_step"
        if reason:
            out.quarantined.append((row, reason, power))
        else:
            out.placed.append((row, row.case_ref))
            out.cases[row.case_ref] = case
    return out


# ---------------------------------------------------------------- writing


@dataclass
class IngestResult:
    total: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    batch_id: int | None = None
    quarantined_rows: list = field(default_factory=list)  # (row, reason), filled by preview_events

    def to_dict(self) -> dict:
        return {"received": self.total, "stored": self.stored, "duplicates": self.duplicates,
                "quarantined": self.quarantined, "quarantine_reasons": self.quarantine_reasons,
                "batch_id": self.batch_id}


class Positions:
    """Working-time positions of instants, from the calendar (one per batch)."""

    def __init__(self, calendar=None):
        self.calendar = calendar or working_calendar()

    def work_us(self, at: datetime) -> int:
        # exact: the calendar counts whole microseconds and divides once; this multiplies back
        return round(self.calendar.working_days_between(ORIGIN, at) * DAY_US)


def ensure_flow_shapes(flow_ids: Iterable[int]) -> int:
    """Record start/end/required steps of flows not yet known to the scan (published flows never change)."""
    from govrisk.flows.queries import flow_doc
    from govrisk.flows.validation import ends, flow_graph, required_steps, starts

    flow_ids = set(flow_ids)
    known = {f for (f,) in _in_chunks(lambda c: sa.select(FlowShape.flow_id).where(FlowShape.flow_id.in_(c))
                                      .distinct(), flow_ids)}
    added = 0
    for flow_id in sorted(flow_ids - known):
        flow = db.session.get(Flow, flow_id)
        if flow is None:
            continue
        doc = flow_doc(flow)
        graph = flow_graph(doc)
        first, last, required = set(starts(graph)), set(ends(graph)), required_steps(doc)
        values = [{"flow_id": flow_id, "step_key": key, "is_start": key in first, "is_end": key in last,
                   "is_required": key in required, "role": step.role, "time_limit_days": step.time_limit_days}
                  for key, step in doc.step_map().items()]
        if values:
            db.session.execute(dialect_insert(FlowShape).on_conflict_do_nothing(), values)
            added += 1
    return added


def _create_cases(resolution: Resolution) -> None:
    new = {ref: c for ref, c in resolution.cases.items() if c.id is None}
    if not new:
        return
    ensure_flow_shapes({c.flow_id for c in new.values()})
    values = [{"case_ref": ref, "power_id": c.power_id, "department_id": c.department_id, "flow_id": c.flow_id,
               "limit_days": c.limit_days, "event_count": 0,
               "current_step": "", "created_at": utcnow()} for ref, c in new.items()]
    for chunk in _chunks(values, 2000):
        db.session.execute(dialect_insert(SupervisionCase).on_conflict_do_nothing(index_elements=["case_ref"]), chunk)
    stored = _existing_cases(new)
    placed = []
    for row, ref in resolution.placed:
        case = stored.get(ref)
        if ref in new and (case is None or case.power_id != new[ref].power_id):  # another batch won the race
            resolution.quarantined.append((row, "case_conflict", None))
            continue
        placed.append((row, ref))
    resolution.placed = placed
    resolution.cases.update(stored)
    resolution.new_refs = set(new)


def existing_keys(refs_by_id: dict[int, str]) -> set[tuple]:
    """(case ref, step, event, instant) of the events already stored for these cases."""
    keys: set[tuple] = set()
    E = SupervisionEvent
    for chunk in _chunks(sorted(refs_by_id)):
        rows = db.session.execute(sa.select(E.case_id, E.step_key, E.event, E.at).where(E.case_id.in_(chunk)))
        keys.update((refs_by_id[case_id], step, event, at) for case_id, step, event, at in rows)
    return keys


def _store_events(resolution: Resolution, batch_id: int) -> tuple[int, set[int]]:
    """Insert the events not stored yet; returns how many and the cases they belong to."""
    positions = Positions()
    seen = existing_keys({c.id: ref for ref, c in resolution.cases.items() if ref not in resolution.new_refs})
    values = []
    for row, ref in resolution.placed:
        key = (ref, row.step_key, row.event, row.at)
        if key in seen:
            continue
        seen.add(key)
        values.append({"case_id": resolution.cases[ref].id, "step_key": row.step_key, "event": row.event,
                       "actor": row.actor, "at": row.at, "work_us": positions.work_us(row.at), "batch_id": batch_id})
    # ON CONFLICT still guards the key against a concurrent batch (RETURNING would cost a round trip per row
    # on PostgreSQL); such a race at worst counts an event as new that the other batch stored.
    stmt = dialect_insert(SupervisionEvent).on_conflict_do_nothing()
    for chunk in _chunks(values, MAX_BATCH):
        db.session.execute(stmt, chunk)
    touched = {v["case_id"] for v in values}
    queue_for_scan(touched)
    return len(values), touched


def queue_for_scan(case_ids=None) -> None:
    """Put cases (all when None) back in the scan queue; a case a running scan holds is queued for the next one."""
    stmt = dialect_insert(ScanQueue)
    if case_ids is None:
        every = sa.select(SupervisionCase.id, sa.null()).where(sa.true())  # WHERE: SQLite's upsert-after-SELECT rule
        db.session.execute(stmt.from_select(["case_id", "scan_id"], every)
                           .on_conflict_do_update(index_elements=["case_id"], set_={"scan_id": None}))
        return
    stmt = stmt.on_conflict_do_update(index_elements=["case_id"], set_={"scan_id": None})
    for chunk in _chunks(sorted(case_ids), 5000):
        db.session.execute(stmt, [{"case_id": case_id, "scan_id": None} for case_id in chunk])


def _store_quarantine(resolution: Resolution, batch_id: int | None) -> int:
    if not resolution.quarantined:
        return 0
    values = [{"case_ref": row.case_ref, "power_code": row.power_code, "step_key": row.step_key, "event": row.event,
               "actor": row.actor, "at": row.at, "reason": reason, "power_id": power.id if power else None,
               "department_id": power.department_id if power else None, "state": "pending", "batch_id": batch_id,
               "received_at": utcnow()} for row, reason, power in resolution.quarantined]
    stmt = dialect_insert(QuarantinedEvent).on_conflict_do_nothing().returning(QuarantinedEvent.id)
    return sum(len(db.session.execute(stmt, chunk).scalars().all()) for chunk in _chunks(values, 2000))


def ingest_events(rows: list[EventRow], *, actor, source: str, filename: str = "") -> IngestResult:
    """Store a checked batch (no malformed rows): new cases, events (idempotent), quarantine; one audit entry."""
    with bulk_allocations():
        return _ingest_events(rows, actor=actor, source=source, filename=filename)


def _ingest_events(rows: list[EventRow], *, actor, source: str, filename: str) -> IngestResult:
    visible = actor.visible_department_ids() if actor is not None else None
    resolution = resolve(rows, visible_ids=visible)
    if resolution.refused:
        refuse(ParsedEvents(errors=resolution.refused))
    batch = SupervisionBatch(source=source, filename=filename[:255], actor_id=getattr(actor, "id", None),
                             actor_name=getattr(actor, "username", "") or "system", total=len(rows))
    db.session.add(batch)
    db.session.flush()
    _create_cases(resolution)
    stored, touched = _store_events(resolution, batch.id)
    rebuild_cases(touched)
    quarantined_new = _store_quarantine(resolution, batch.id)
    reasons: dict[str, int] = {}
    for _row, reason, _power in resolution.quarantined:
        reasons[reason] = reasons.get(reason, 0) + 1
    result = IngestResult(total=len(rows), stored=stored, duplicates=len(resolution.placed) - stored,
                          quarantined=len(resolution.quarantined), quarantine_reasons=reasons, batch_id=batch.id)
    batch.stored, batch.duplicates, batch.quarantined = stored, result.duplicates, result.quarantined
    log_change("supervision.import", batch, actor=actor,
               changes={"source": [None, source], "filename": [None, filename], "received": [None, len(rows)],
                        "stored": [None, stored], "duplicates": [None, result.duplicates],
                        "quarantined": [None, result.quarantined], "quarantined_new": [None, quarantined_new]})
    return result


def preview_events(rows: list[EventRow], *, actor) -> IngestResult:
    """What ingest_events would do with these rows, writing nothing."""
    visible = actor.visible_department_ids() if actor is not None else None
    resolution = resolve(rows, visible_ids=visible)
    if resolution.refused:
        refuse(ParsedEvents(errors=resolution.refused))
    existing = existing_keys({c.id: ref for ref, c in resolution.cases.items() if c.id is not None})
    keys = {(ref, row.step_key, row.event, row.at) for row, ref in resolution.placed}
    new = len(keys - existing)
    reasons: dict[str, int] = {}
    for _row, reason, _power in resolution.quarantined:
        reasons[reason] = reasons.get(reason, 0) + 1
    return IngestResult(total=len(rows), stored=new, duplicates=len(resolution.placed) - new,
                        quarantined=len(resolution.quarantined), quarantine_reasons=reasons,
                        quarantined_rows=[(row, reason) for row, reason, _power in resolution.quarantined])
