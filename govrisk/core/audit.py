"""The audit trail: append-only, hash-chained, written by every operation through `log_change`."""

import hashlib
import json
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


def entry_hash(entry: AuditEntry) -> str:
    """The SHA-256 over an entry's content and the previous hash."""
    payload = {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "target_label": entry.target_label,
        "changes": entry.changes,
        "ip": entry.ip,
        "prev_hash": entry.prev_hash,
    }
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


def diff_fields(before: dict, after: dict) -> dict:
    """Field-level {field: [before, after]} for the fields that changed."""
    keys = sorted(set(before) | set(after))
    return {k: [_jsonable(before.get(k)), _jsonable(after.get(k))] for k in keys if before.get(k) != after.get(k)}


def snapshot(obj, fields) -> dict:
    """The current values of `fields` on obj, JSON-ready."""
    return {f: _jsonable(getattr(obj, f)) for f in fields}


def _lock_head() -> AuditHead:
    # The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) before we read the tip.
    updated = db.session.execute(sa.update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    if updated.rowcount == 0:
        db.session.add(AuditHead(id=1, seq=1, hash=GENESIS_HASH))
        db.session.flush()
    return db.session.execute(
        sa.select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
    ).scalar_one()


def log_change(action: str, obj=None, *, actor=None, changes: dict | None = None, target_type: str = "") -> AuditEntry:
    """Append one audit entry for `action` on obj by actor, chained to the previous entry."""
    db.session.flush()
    head = _lock_head()
    entry = AuditEntry(
        seq=head.seq,
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", "") or ("system" if actor is None else str(actor)),
        action=action,
        target_type=target_type or (getattr(obj, "__tablename__", "") if obj is not None else ""),
        target_id=getattr(obj, "id", None),
        target_label=model_label(obj)[:255] if obj is not None else "",
        changes=_canonical(changes or {}),
        # anonymous citizens (portal feedback, reports) are not traced by address
        ip=(request.remote_addr or "") if has_request_context() and actor is not None else "",
        prev_hash=head.hash,
    )
    entry.hash = entry_hash(entry)
    head.hash = entry.hash
    db.session.add(entry)
    db.session.flush()
    return entry


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


def apply_changes(obj, data: dict, fields) -> dict:
    """Set the given fields from data on obj; return {field: [before, after]} for those that changed."""
    before = snapshot(obj, fields)
    for name in fields:
        if name in data:
            setattr(obj, name, data[name])
    return diff_fields(before, snapshot(obj, fields))


def record_create(action: str, obj, *, actor) -> AuditEntry:
    """Audit a new record with all of its audited fields as 'after' values."""
    db.session.add(obj)
    db.session.flush()
    fields = getattr(obj, "audit_fields", ())
    return log_change(action, obj, actor=actor, changes=diff_fields({}, snapshot(obj, fields)))


def record_update(action: str, obj, data: dict, *, actor, expected_version: int | None = None) -> dict:
    """Apply data to obj's audited fields with optimistic locking; audit and return the changes (none → no entry)."""
    if hasattr(obj, "check_version"):
        obj.check_version(expected_version)
    changes = apply_changes(obj, data, getattr(obj, "audit_fields", ()))
    if changes:
        if hasattr(obj, "bump_version"):
            obj.bump_version()
        db.session.flush()
        log_change(action, obj, actor=actor, changes=changes)
    return changes
