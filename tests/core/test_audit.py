"""The audit chain: every operation appends a linked entry; verify finds alteration, deletion, insertion."""

import sqlalchemy as sa

from govrisk.core.audit import AuditEntry, AuditHead, entry_hash, log_change, verify_chain
from govrisk.extensions import db
from govrisk.org.operations import update_department


def test_operations_write_field_level_entries(create_department):
    department = create_department(code="A-1", name="甲")
    update_department(department, {"name": "乙", "code": "A-1", "parent_id": None}, actor=None)
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.target_type == "departments",
                                                             AuditEntry.target_id == department.id)
                                 .order_by(AuditEntry.seq)).all()
    assert [e.action for e in entries] == ["org.department.create", "org.department.update"]
    assert entries[1].change_dict == {"name": ["甲", "乙"]}
    assert entries[1].prev_hash == entries[0].hash
    assert verify_chain().ok


def test_unchanged_update_writes_no_entry(create_department):
    department = create_department(code="A-2", name="甲")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    update_department(department, {"name": "甲", "code": "A-2", "parent_id": None}, actor=None)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == before


def _chain(n: int) -> list[AuditEntry]:
    return [log_change("test.event", None, actor=None, changes={"i": [None, i]}, target_type="test") for i in range(n)]


def test_verify_reports_altered_row():
    entries = _chain(5)
    db.session.execute(sa.update(AuditEntry).where(AuditEntry.id == entries[2].id).values(changes='{"i":[null,99]}'))
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == entries[2].seq and "篡改" in report.reason


def test_verify_reports_deleted_row():
    entries = _chain(5)
    db.session.execute(sa.delete(AuditEntry).where(AuditEntry.id == entries[1].id))
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == entries[2].seq


def test_verify_reports_deleted_last_row():
    entries = _chain(3)
    db.session.execute(sa.delete(AuditEntry).where(AuditEntry.id == entries[-1].id))
    assert not verify_chain().ok


def test_verify_reports_inserted_row():
    entries = _chain(3)
    forged = AuditEntry(seq=entries[1].seq, at=entries[1].at, actor_name="x", action="forged", target_type="t",
                        changes="{}", prev_hash=entries[0].hash, hash="")
    db.session.execute(sa.update(AuditEntry).where(AuditEntry.seq >= entries[1].seq)
                       .values(seq=AuditEntry.seq + 1000))
    forged.hash = entry_hash(forged)
    db.session.add(forged)
    db.session.flush()
    assert not verify_chain().ok


def test_head_tracks_tip():
    entries = _chain(2)
    head = db.session.get(AuditHead, 1)
    assert head.hash == entries[-1].hash and head.seq == entries[-1].seq
