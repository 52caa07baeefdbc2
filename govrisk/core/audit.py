"""The audit trail: append-only, hash-chained, written by every operation through `log_change`."""

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

import sqlalchemy as sa
from flask import has_request_context, request
from flask_babel import gettext as _
from sqlalchemy.orm import Mapped, mapped_column

from govrisk.core.models import model_label
from govrisk.core.types import UTCDateTime, utcnow
from govrisk.extensions import db

GENESIS_HASH = "0" * 64


class AuditEntry(db.Model):
    """One recorded change. Never updated, never deleted."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, unique=True, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    actor_name: Mapped[str] = mapped_column(sa.String(120), default="")
    action: Mapped[str] = mapped_column(sa.String(80), nullable=False, index=True)
    target_type: Mapped[str] = mapped_column(sa.String(60), default="", index=True)
    target_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    target_label: Mapped[str] = mapped_column(sa.String(255), default="")
    changes: Mapped[str] = mapped_column(sa.Text, default="{}")
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    prev_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)

    @property
    def change_dict(self) -> dict:
        return json.loads(self.changes or "{}")


class AuditHead(db.Model):
    """A single row holding the chain's tip; updating it first serializes concurrent appends."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, default=GENESIS_HASH)


def _jsonable(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def _canonical(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_jsonable)


HASHED_FIELDS = ("seq", "at", "actor_id", "actor_name", "action", "target_type", "target_id", "target_label",
                 "changes", "ip", "prev_hash")


def _values_hash(values: dict) -> str:
    payload = {name: values[name] for name in HASHED_FIELDS}
    payload["at"] = payload["at"].isoformat()
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


def entry_hash(entry: AuditEntry) -> str:
    """The SHA-256 over an entry's content and the previous hash."""
    return _values_hash({name: getattr(entry, name) for name in HASHED_FIELDS})


def diff_fields(before: dict, after: dict) -> dict:
    """Field-level {field: [before, after]} for the fields that changed."""
    keys = sorted(set(before) | set(after))
    return {k: [_jsonable(before.get(k)), _jsonable(after.get(k))] for k in keys if before.get(k) != after.get(k)}


def snapshot(obj, fields) -> dict:
    """The current values of `fields` on obj, JSON-ready."""
    return {f: _jsonable(getattr(obj, f)) for f in fields}


def _lock_head(count: int = 1) -> AuditHead:
    """The chain's tip with `count` sequence numbers reserved (head.seq is the last of them)."""
    # The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) before we read the tip.
    updated = db.session.execute(sa.update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + count))
    if updated.rowcount == 0:
        db.session.add(AuditHead(id=1, seq=count, hash=GENESIS_HASH))
        db.session.flush()
    return db.session.execute(
        sa.select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
    ).scalar_one()


def _target(obj, target_type: str) -> dict:
    return {"target_type": target_type or (getattr(obj, "__tablename__", "") if obj is not None else ""),
            "target_id": getattr(obj, "id", None),
            "target_label": model_label(obj)[:255] if obj is not None else ""}


def _author(actor) -> dict:
    return {"actor_id": getattr(actor, "id", None),
            "actor_name": getattr(actor, "username", "") or ("system" if actor is None else str(actor)),
            # anonymous citizens (portal feedback, reports) are not traced by address
            "ip": (request.remote_addr or "") if has_request_context() and actor is not None else ""}


def log_change(action: str, obj=None, *, actor=None, changes: dict | None = None,
               target_type: str = "") -> AuditEntry | None:
    """Append one audit entry for `action` on obj by actor, chained to the previous entry.

    Inside `audit_batch()` the entry is queued instead (and None returned); the batch writes it at its end."""
    batch = _current_batch()
    if batch is not None:
        batch.settle(obj)
        unsaved = obj is not None and getattr(obj, "id", None) is None  # named once the batch has flushed it
        batch.entries.append(_Queued(action, obj, _canonical(changes or {}), _author(actor),
                                     None if unsaved else _target(obj, target_type), target_type))
        return None
    db.session.flush()
    head = _lock_head()
    entry = AuditEntry(seq=head.seq, at=utcnow(), action=action, changes=_canonical(changes or {}),
                       prev_hash=head.hash, **_author(actor), **_target(obj, target_type))
    entry.hash = entry_hash(entry)
    head.hash = entry.hash
    db.session.add(entry)
    db.session.flush()
    return entry


@dataclass
class _Queued:
    """An entry waiting in an audit batch: `target` is None until the new record it names has been stored;
    `fields` is set for a `record_create` until its changes are read (after a flush) and for a
    `record_bulk_create`, which gets its changes from `stored`."""

    action: str
    obj: object
    changes: str | None
    author: dict
    target: dict | None
    target_type: str = ""
    fields: tuple | None = None
    bulk: bool = False

    def stored(self, values) -> None:
        """The values the bulk INSERT stored (a mapping with every audited field); the caller sets the object's id."""
        self.changes = _canonical(created_changes(values, self.fields))

    def read_created(self) -> None:
        """A flushed new record's entry: its id and audited values as stored, as `record_create` reads them."""
        self.changes = _canonical(diff_fields({}, snapshot(self.obj, self.fields)))
        self.target = _target(self.obj, self.target_type)
        self.fields = None


class _Batch:
    def __init__(self):
        self.entries: list[_Queued] = []
        self.created: dict[int, _Queued] = {}  # id(obj) → its record_create entry, not read yet

    def settle(self, obj) -> None:
        """Before a record created in the batch changes again: store it and read its creation entry now."""
        queued = self.created.pop(id(obj), None) if obj is not None else None
        if queued is not None:
            db.session.flush()
            queued.read_created()


_BATCH_KEY = "govrisk.audit_batch"


def _current_batch() -> _Batch | None:
    return db.session.info.get(_BATCH_KEY)


def in_audit_batch() -> bool:
    """Whether changes are being collected by `audit_batch()` (operations then leave the flush to the batch)."""
    return _current_batch() is not None


@contextmanager
def audit_batch(*, chunk: int = 1000) -> Iterator[None]:
    """Collect the audit entries of many operations and write them together when the block ends, for bulk writes
    (imports): the objects are flushed once, then the entries are numbered and chained in the order the operations
    recorded them — the entries and the chain that entry-by-entry logging gives — with one lock of the chain's head
    and multi-row INSERTs. A new record's entry gets its id and audited values as that flush stores them (or as an
    earlier flush does, when an audited change — `record_update`, `log_change` — comes to the record in the same
    block). Entries are dated when the batch is written. Inside the block `record_create` and `log_change` return
    None; a block inside a block joins it; if the block raises, nothing is written (the caller rolls back)."""
    if _current_batch() is not None:
        yield
        return
    batch = _Batch()
    db.session.info[_BATCH_KEY] = batch
    try:
        yield
    finally:
        db.session.info.pop(_BATCH_KEY, None)
    db.session.flush()
    if not batch.entries:
        return
    rows = []
    for queued in batch.entries:
        if queued.fields is not None and not queued.bulk:
            queued.read_created()
        if queued.target is None and getattr(queued.obj, "id", None) is None or queued.bulk and not queued.changes:
            raise RuntimeError(f"{queued.action}: the record was not stored before its audit batch ended")
        rows.append({"action": queued.action, "changes": queued.changes, **queued.author,
                     **(queued.target or _target(queued.obj, queued.target_type))})
    head = _lock_head(len(rows))
    seq, prev_hash = head.seq - len(rows), head.hash
    for values in rows:
        seq += 1
        values.update(seq=seq, at=utcnow(), prev_hash=prev_hash)
        values["hash"] = prev_hash = _values_hash(values)
    for start in range(0, len(rows), chunk):
        db.session.execute(sa.insert(AuditEntry), rows[start:start + chunk])
    head.hash = prev_hash
    db.session.flush()


@dataclass
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


def verify_chain(batch_size: int = 5000) -> ChainReport:
    """Walk the chain in order; report the first entry whose hash or link does not hold."""
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    stmt = sa.select(AuditEntry).order_by(AuditEntry.seq)
    for entry in db.session.execute(stmt.execution_options(yield_per=batch_size)).scalars():
        if entry.seq != expected_seq:
            reason = _("序号不连续：期望 %(expected)s，实际 %(actual)s（记录被删除或插入）", expected=expected_seq,
                       actual=entry.seq)
            return ChainReport(False, checked, entry.seq, reason)
        if entry.prev_hash != prev_hash:
            return ChainReport(False, checked, entry.seq, _("前一条记录的哈希不匹配（链条断裂）"))
        if entry_hash(entry) != entry.hash:
            return ChainReport(False, checked, entry.seq, _("记录内容与其哈希不符（记录被篡改）"))
        prev_hash, expected_seq, checked = entry.hash, entry.seq + 1, checked + 1
    head = db.session.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.hash != prev_hash):
        return ChainReport(False, checked, checked + 1, _("链尾与记录不符（最后的记录被删除或篡改）"))
    return ChainReport(True, checked)


def created_changes(values, fields) -> dict:
    """What `diff_fields({}, snapshot(obj, fields))` gives for a new record whose stored values are `values`."""
    return {name: [None, value] for name in fields if (value := _jsonable(values[name])) is not None}


def record_bulk_create(action: str, obj, *, actor) -> _Queued:
    """Audit a new record that a multi-row INSERT writes outside the session, inside `audit_batch()`. The entry
    keeps its place in the batch; once the record is stored, the caller sets obj's id and passes the stored values
    to the returned entry's `stored(values)`. The entry is then the one `record_create` makes."""
    batch = _current_batch()
    if batch is None:
        raise RuntimeError("record_bulk_create is for records written in an audit_batch()")
    queued = _Queued(action, obj, None, _author(actor), None, fields=tuple(getattr(obj, "audit_fields", ())),
                     bulk=True)
    batch.entries.append(queued)
    return queued


def apply_changes(obj, data: dict, fields) -> dict:
    """Set the given fields from data on obj; return {field: [before, after]} for those that changed."""
    before = snapshot(obj, fields)
    for name in fields:
        if name in data:
            setattr(obj, name, data[name])
    return diff_fields(before, snapshot(obj, fields))


def record_create(action: str, obj, *, actor) -> AuditEntry | None:
    """Audit a new record with all of its audited fields as 'after' values (inside `audit_batch()`: when the batch
    has flushed it)."""
    db.session.add(obj)
    fields = getattr(obj, "audit_fields", ())
    batch = _current_batch()
    if batch is not None:
        queued = _Queued(action, obj, None, _author(actor), None, fields=tuple(fields))
        batch.entries.append(queued)
        batch.created[id(obj)] = queued
        return None
    db.session.flush()
    return log_change(action, obj, actor=actor, changes=diff_fields({}, snapshot(obj, fields)))


def record_update(action: str, obj, data: dict, *, actor, expected_version: int | None = None) -> dict:
    """Apply data to obj's audited fields with optimistic locking; audit and return the changes (none → no entry)."""
    if hasattr(obj, "check_version"):
        obj.check_version(expected_version)
    batch = _current_batch()
    if batch is not None:
        batch.settle(obj)
    changes = apply_changes(obj, data, getattr(obj, "audit_fields", ()))
    if changes:
        if hasattr(obj, "bump_version"):
            obj.bump_version()
        if batch is None:
            db.session.flush()
        log_change(action, obj, actor=actor, changes=changes)
    return changes
