"""audit_batch: many operations' entries written at once, chained exactly as entry-by-entry logging chains them."""

import pytest
import sqlalchemy as sa

from govrisk.core.audit import (
    AuditEntry,
    AuditHead,
    audit_batch,
    log_change,
    record_bulk_create,
    verify_chain,
)
from govrisk.extensions import db
from govrisk.org.models import Department
from govrisk.org.operations import create_department, update_department


def _work(n: int, start: int = 0) -> None:
    """Creates, updates and plain entries, interleaved."""
    for i in range(start, start + n):
        department = create_department({"code": f"AB-{i}", "name": f"批量{i}", "kind": "government",
                                         "parent_id": None}, actor=None)
        update_department(department, {"code": f"AB-{i}", "name": f"批量{i}改", "parent_id": None}, actor=None)
        log_change("test.note", department, actor=None, changes={"i": [None, i]})


def _entries(first_seq: int) -> list[tuple]:
    names = dict(db.session.execute(sa.select(Department.id, Department.code)).all())
    return [(e.seq - first_seq, e.action, e.target_type, names.get(e.target_id), e.target_label, e.change_dict)
            for e in db.session.scalars(sa.select(AuditEntry).where(AuditEntry.seq >= first_seq)
                                        .order_by(AuditEntry.seq))]


def _next_seq() -> int:
    return (db.session.scalar(sa.select(sa.func.max(AuditEntry.seq))) or 0) + 1


def test_a_batch_writes_the_entries_one_by_one_logging_writes():
    first = _next_seq()
    savepoint = db.session.begin_nested()
    _work(4)
    db.session.flush()
    one_by_one = _entries(first)
    savepoint.rollback()
    with audit_batch():
        _work(4)
        assert _next_seq() == first  # nothing written yet
    assert _entries(first) == one_by_one and len(one_by_one) == 12
    assert verify_chain().ok
    head = db.session.get(AuditHead, 1)
    last = db.session.scalar(sa.select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
    assert (head.seq, head.hash) == (last.seq, last.hash)


def test_a_batch_inside_a_batch_joins_it():
    first = _next_seq()
    with audit_batch():
        _work(1)
        with audit_batch():
            _work(1, start=1)
        assert _next_seq() == first
    assert len(_entries(first)) == 6 and verify_chain().ok


def test_a_failing_batch_writes_no_entry():
    first = _next_seq()
    with pytest.raises(ValueError), audit_batch():
        _work(2)
        raise ValueError("stop")
    db.session.flush()
    assert _next_seq() == first


def test_bulk_created_records_need_their_stored_values():
    department = Department(code="AB-X", name="未存", kind="government")
    with pytest.raises(RuntimeError):
        record_bulk_create("test.create", department, actor=None)
    with pytest.raises(RuntimeError, match="not stored"), audit_batch():
        record_bulk_create("test.create", department, actor=None)
    first = _next_seq()
    with audit_batch():
        entry = record_bulk_create("test.create", department, actor=None)
        table = Department.__table__
        row = db.session.execute(sa.insert(table).values(code="AB-X", name="未存", kind="government", path="/")
                                 .returning(*table.c)).one()
        department.id = row.id
        entry.stored(row._mapping)
    (created,) = _entries(first)
    assert created[1:5] == ("test.create", "departments", "AB-X", "AB-X")
    assert created[5]["name"] == [None, "未存"] and verify_chain().ok
