"""Receiving events: the bad-input policy (whole batch refused, every bad row listed), idempotency, arrival order,
quarantine of unknown references and their re-processing."""

import json
import random

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govrisk.core.errors import UserError
from govrisk.extensions import db
from govrisk.supervision.ingest import EventBatchError, check_row, parse_file, parse_instant, parse_records, refuse
from govrisk.supervision.models import (
    Alert,
    QuarantinedEvent,
    ScanQueue,
    StepVisit,
    SupervisionBatch,
    SupervisionCase,
    SupervisionEvent,
)
from govrisk.supervision.operations import reprocess_quarantine
from tests.supervision.conftest import HEADER, csv_of, food_flow_document, publish_flow

GOOD = {"case_id": "C1", "power_code": "XK-0001", "step_id": "accept", "event": "enter", "actor": "侯佳怡",
        "at": "2026-10-12T09:30:00+08:00"}


def _events():
    return db.session.scalar(sa.select(sa.func.count()).select_from(SupervisionEvent))


@pytest.mark.parametrize("field, value, reason", [
    ("at", "2026-10-12T09:30:00", "缺少 UTC 偏移"),
    ("at", "2026-10-12 09:30", "缺少 UTC 偏移"),
    ("at", "12/10/2026 09:30+08:00", "不是 ISO 8601"),
    ("at", "1999-12-31T23:00:00+00:00", "2000—2099"),
    ("event", "start", "只能是 enter 或 complete"),
    ("event", "", "不能为空"),
    ("case_id", "", "不能为空"),
    ("actor", "   ", "不能为空"),
    ("step_id", "x" * 61, "超过 60 个字符"),
    ("power_code", 12, "应为字符串"),
])
def test_a_malformed_field_is_reported_with_its_reason(field, value, reason):
    row, errors = check_row(7, {**GOOD, field: value})
    assert row is None and any(reason in e for e in errors), errors


def test_a_good_row_is_read_with_its_instant_in_utc():
    row, errors = check_row(2, {**GOOD, "event": " COMPLETE ", "at": "2026-10-12T01:30:00Z"})
    assert not errors and row.event == "complete" and row.at == parse_instant("2026-10-12T09:30:00+08:00")


def test_a_file_with_bad_rows_is_refused_whole_with_every_row_number(food, ingest):
    data = (HEADER + "C1,XK-0001,accept,enter,侯佳怡,2026-10-12T09:30:00+08:00\n"
            "C1,XK-0001,accept,start,侯佳怡,2026-10-12T10:00:00+08:00\n"
            "C2,XK-0001,accept,enter,侯佳怡,2026-10-12T10:00:00\n"
            ",XK-0001,accept,enter,侯佳怡,2026-10-12T10:00:00+08:00\n").encode()
    with pytest.raises(EventBatchError) as caught:
        ingest(data)
    bad = caught.value.details["bad_rows"]
    assert [r["line"] for r in bad] == [3, 4, 5]
    assert "第 3 行" in caught.value.message and "整批未写入" in caught.value.message
    assert _events() == 0 and db.session.scalar(sa.select(sa.func.count()).select_from(SupervisionBatch)) == 0


@pytest.mark.parametrize("data, message", [
    (b"", "文件为空"),
    (b"case_id,power_code,step_id,event,at\nC1,XK-0001,accept,enter,2026-10-12T09:30:00+08:00\n", "缺少列：actor"),
    (HEADER.encode(), "没有数据行"),
    ("\ufeffcase_id;power_code\n".encode(), "缺少列"),
    ("case_id,power_code,step_id,event,actor,at\nC1,XK-0001,受理,enter,张,2026\n".encode("gbk"), "UTF-8"),
    (b'{"case_id": "C1"}', "JSON 数组"),
    (b"[]", "没有事件"),
    (b"[1, 2", "不是有效的 UTF-8 JSON"),
])
def test_a_file_that_cannot_be_read_is_refused_with_a_reason(data, message):
    with pytest.raises(EventBatchError, match=message):
        refuse(parse_file(data, "events.csv" if not data.lstrip().startswith((b"[", b"{")) else "events.json",
                          max_bytes=1024 * 1024))


def test_json_items_are_numbered_and_non_objects_reported():
    parsed = parse_records([GOOD, "oops", {**GOOD, "at": "2026-10-12"}])
    assert len(parsed.rows) == 1 and [e.line for e in parsed.errors] == [2, 3]
    with pytest.raises(EventBatchError, match="第 2 条"):
        refuse(parsed)


def test_xlsx_files_are_read_like_csv(food, ingest):
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(list(GOOD))
    sheet.append(list(GOOD.values()))
    buffer = io.BytesIO()
    book.save(buffer)
    parsed = parse_file(buffer.getvalue(), "events.xlsx", max_bytes=1024 * 1024)
    assert not parsed.errors and parsed.rows[0].case_ref == "C1"


def test_the_same_event_twice_is_stored_once(food, ingest):
    data = csv_of(("C1", "XK-0001", "accept", "enter", "侯佳怡", "2026-10-12 09:30"),
                  ("C1", "XK-0001", "accept", "enter", "侯佳怡", "2026-10-12 09:30"))
    first = ingest(data)
    assert (first.stored, first.duplicates) == (1, 1)
    again = ingest(data)
    assert (again.stored, again.duplicates) == (0, 2) and _events() == 1
    # the same instant written with another offset is the same event
    utc = (HEADER + "C1,XK-0001,accept,enter,侯佳怡,2026-10-12T01:30:00Z\n").encode()
    assert ingest(utc).duplicates == 1 and _events() == 1


CASE = [("K9", "XK-0001", step, event, actor, when) for step, event, actor, when in (
    ("accept", "enter", "侯佳怡", "2026-10-12 09:30"), ("accept", "complete", "侯佳怡", "2026-10-12 11:00"),
    ("review", "enter", "周雅楠", "2026-10-12 11:00"), ("review", "complete", "周雅楠", "2026-10-13 16:00"),
    ("accept", "enter", "侯佳怡", "2026-10-14 09:00"), ("accept", "complete", "侯佳怡", "2026-10-14 10:00"),
    ("review", "enter", "周雅楠", "2026-10-14 10:00"), ("review", "complete", "周雅楠", "2026-10-15 10:00"),
    ("inspect", "enter", "贺子轩", "2026-10-15 10:00"))]


def _visits(case_ref="K9"):
    case = db.session.scalar(sa.select(SupervisionCase).where(SupervisionCase.case_ref == case_ref))
    return [(v.step_key, v.n, v.seq, v.prev_step, v.start_at, v.end_at) for v in db.session.scalars(
        sa.select(StepVisit).where(StepVisit.case_id == case.id).order_by(StepVisit.seq))]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(len(CASE))), cut=st.integers(0, len(CASE)))
def test_arrival_order_and_batching_do_not_change_the_case(food, ingest, order, cut):
    db.session.execute(sa.delete(StepVisit))
    db.session.execute(sa.delete(ScanQueue))
    db.session.execute(sa.delete(SupervisionEvent))
    db.session.execute(sa.delete(SupervisionCase))
    shuffled = [CASE[i] for i in order]
    if cut:
        ingest(csv_of(*shuffled[:cut]))
    if cut < len(shuffled):
        ingest(csv_of(*shuffled[cut:]))
    visits = _visits()
    assert [(s, n, seq, prev) for s, n, seq, prev, *_ in visits] == [
        ("accept", 1, 1, None), ("review", 1, 2, "accept"), ("accept", 2, 3, "review"), ("review", 2, 4, "accept"),
        ("inspect", 1, 5, "review")]
    case = db.session.scalar(sa.select(SupervisionCase).where(SupervisionCase.case_ref == "K9"))
    assert case.event_count == 9 and case.current_step == "inspect" and case.completed_at is None


@pytest.mark.parametrize("row, reason", [
    (("Q1", "XK-9999", "accept", "enter", "张三", "2026-10-12 09:30"), "unknown_power"),
    (("Q2", "XK-0001", "approve", "enter", "张三", "2026-10-12 09:30"), "unknown_step"),
    (("Q3", "NOFLOW", "accept", "enter", "张三", "2026-10-12 09:30"), "no_flow"),
    (("K1", "NOFLOW", "accept", "complete", "张三", "2026-10-12 10:30"), "case_conflict"),
])
def test_unknown_references_are_kept_aside_with_their_reason(food, ingest, create_power, row, reason):
    create_power(food.department, code="NOFLOW")
    ingest(csv_of(("K1", "XK-0001", "accept", "enter", "张三", "2026-10-12 09:30")))
    result = ingest(csv_of(row))
    assert result.quarantined == 1 and result.quarantine_reasons == {reason: 1} and result.stored == 0
    kept = db.session.scalar(sa.select(QuarantinedEvent).where(QuarantinedEvent.case_ref == row[0]))
    assert (kept.reason, kept.state, kept.step_key) == (reason, "pending", row[2])
    assert ingest(csv_of(row)).quarantined == 1  # sent again: still kept once
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuarantinedEvent)) == 1


def test_quarantined_events_are_stored_after_the_catalog_is_fixed(food, ingest, scan, create_power, create_user):
    ingest(csv_of(("N1", "XK-0100", "accept", "enter", "张三", "2026-10-12 09:30"),
                  ("N1", "XK-0100", "accept", "complete", "张三", "2026-10-12 10:00")))
    assert {code for code, *_ in scan("2026-10-12 12:00")} == {"unknown_reference"}
    inspector = create_user("inspector")
    assert reprocess_quarantine(actor=inspector)["resolved"] == 0  # nothing fixed yet: still kept
    power = create_power(food.department, code="XK-0100")
    publish_flow(power, food_flow_document())
    counts = reprocess_quarantine(actor=inspector)
    assert counts == {"pending": 2, "resolved": 2, "still_pending": 0, "stored": 2}
    assert db.session.scalar(sa.select(SupervisionCase.event_count).where(SupervisionCase.case_ref == "N1")) == 2
    states = set(db.session.scalars(sa.select(Alert.state).where(Alert.code == "unknown_reference")))
    assert {s.value for s in states} == {"handled"}


def test_a_department_user_may_only_send_events_of_own_powers(food, ingest, create_department, create_user):
    other = create_department(code="T-OTHER")
    editor = create_user("dept_editor", department=other)
    with pytest.raises(UserError, match="无权报送"):
        ingest(csv_of(("D1", "XK-0001", "accept", "enter", "张三", "2026-10-12 09:30")), actor=editor)
    own = create_user("dept_editor", department=food.department)
    assert ingest(csv_of(("D1", "XK-0001", "accept", "enter", "张三", "2026-10-12 09:30")), actor=own).stored == 1


def test_each_batch_is_one_audited_delivery(food, ingest):
    from govrisk.core.audit import AuditEntry

    result = ingest(csv_of(("A1", "XK-0001", "accept", "enter", "张三", "2026-10-12 09:30"),
                           ("A1", "XK-9", "accept", "enter", "张三", "2026-10-12 09:30")))
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "supervision.import")
                              .order_by(AuditEntry.seq.desc()).limit(1))
    changes = json.loads(entry.changes)
    assert changes["stored"] == [None, 1] and changes["quarantined"] == [None, 1]
    assert db.session.get(SupervisionBatch, result.batch_id).stored == 1


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(list(GOOD)), st.one_of(st.text(max_size=30), st.integers(), st.none())))
def test_check_row_never_raises_and_either_reads_or_explains(values):
    row, errors = check_row(1, {**GOOD, **values})
    assert (row is None) == bool(errors)


def test_large_shuffled_batches_keep_every_event(food, ingest):
    rnd = random.Random(4)
    rows = []
    for n in range(300):
        rows += [(f"B{n}", "XK-0001", "accept", "enter", "张三", f"2026-10-{12 + n % 5} 09:{n % 60:02d}"),
                 (f"B{n}", "XK-0001", "accept", "complete", "张三", f"2026-10-{12 + n % 5} 10:{n % 60:02d}")]
    rnd.shuffle(rows)
    assert ingest(csv_of(*rows)).stored == 600 and _events() == 600
