"""The scan: each alert of DESIGN §7.2, stored once, the working-day rule, withdrawal, and the demo month exactly."""

import csv
from datetime import timedelta

import pytest
import sqlalchemy as sa

from govrisk.core.reference import CalendarDay, working_calendar
from govrisk.extensions import db
from govrisk.supervision.models import Alert, SupervisionCase
from govrisk.supervision.operations import recompute_working_time
from govrisk.supervision.scan import run_scan
from govrisk.workflow.engine import run_tick_hooks
from tests.supervision.conftest import DEMO_EVENTS, at, csv_of

P = "XK-0001"


def steps(case, *passes):
    """Rows for a case from (step, actor, enter, complete-or-None) tuples."""
    rows = []
    for step, actor, enter, complete in passes:
        rows.append((case, P, step, "enter", actor, enter))
        if complete:
            rows.append((case, P, step, "complete", actor, complete))
    return rows


FULL = (("accept", "侯佳怡", "2026-10-12 09:30", "2026-10-12 11:00"),
        ("review", "周雅楠", "2026-10-12 11:00", "2026-10-13 16:00"),
        ("inspect", "贺子轩", "2026-10-13 16:00", "2026-10-14 15:00"),
        ("decide", "陆承泽", "2026-10-14 15:00", "2026-10-15 10:00"),
        ("deliver", "侯佳怡", "2026-10-15 10:00", "2026-10-16 11:00"),
        ("supervise", "邢可欣", "2026-10-16 11:00", "2026-10-16 11:30"))


def test_a_case_that_follows_the_flow_in_time_raises_nothing(food, ingest, scan):
    ingest(csv_of(*steps("OK1", *FULL)))
    assert scan("2026-10-30 18:00") == set()
    case = db.session.scalar(sa.select(SupervisionCase).where(SupervisionCase.case_ref == "OK1"))
    # Mon 09:30 → Fri 11:30 is 4 days and 2 hours of working time
    assert case.used_days == pytest.approx(4 + 2 / 24) and case.is_on_time and case.is_early


@pytest.mark.parametrize("passes, when, expected", [
    # review used 3.2 of 3 working days: red when completed late
    ((FULL[0], ("review", "周雅楠", "2026-10-12 11:00", "2026-10-15 16:00")), "2026-10-16 09:00",
     {("red_card", "step:review")}),
    # review open since Mon 11:00: Wed 16:00 is 2.2 days = 73 % — nothing yet
    ((FULL[0], ("review", "周雅楠", "2026-10-12 11:00", None)), "2026-10-14 16:00", set()),
    # Thu 09:00 is 2.92 days = 97 %: yellow
    ((FULL[0], ("review", "周雅楠", "2026-10-12 11:00", None)), "2026-10-15 09:00", {("yellow_card", "step:review")}),
    # Thu 12:00 is 3.04 days: red (the case itself at 3.1 of 10 days is fine)
    ((FULL[0], ("review", "周雅楠", "2026-10-12 11:00", None)), "2026-10-15 12:00", {("red_card", "step:review")}),
    # review → decide: no edge in the flow, and 现场核查 (required) never passed
    ((*FULL[:2], ("decide", "陆承泽", "2026-10-13 16:00", "2026-10-14 10:00"), *FULL[4:]), "2026-10-30 18:00",
     {("out_of_flow", "move:review>decide"), ("skipped_step", "skip:inspect")}),
    # the same person reviewed and decided (分权制衡: review + decision)
    ((*FULL[:3], ("decide", "周雅楠", "2026-10-14 15:00", "2026-10-15 10:00"), *FULL[4:]), "2026-10-30 18:00",
     {("sod_violation", "sod:周雅楠:review+decision")}),
    # a return for correction (review → accept is a loop edge) is in the flow
    ((FULL[0], ("review", "周雅楠", "2026-10-12 11:00", "2026-10-12 15:00"),
      ("accept", "侯佳怡", "2026-10-13 09:00", "2026-10-13 10:00"),
      ("review", "周雅楠", "2026-10-13 10:00", "2026-10-14 16:00"),
      ("inspect", "贺子轩", "2026-10-14 16:00", "2026-10-15 15:00"),
      ("decide", "陆承泽", "2026-10-15 15:00", "2026-10-16 10:00"),
      ("deliver", "侯佳怡", "2026-10-16 10:00", "2026-10-19 11:00"),
      ("supervise", "邢可欣", "2026-10-19 11:00", "2026-10-19 11:30")), "2026-10-30 18:00", set()),
])
def test_each_rule(food, ingest, scan, passes, when, expected):
    ingest(csv_of(*steps("R1", *passes)))
    found = {(code, subject.split("@")[0]) for code, _case, subject in scan(when)}
    assert found == expected


def test_a_case_past_its_promised_limit(food, ingest, scan):
    slow = (*FULL[:4], ("deliver", "侯佳怡", "2026-10-15 10:00", "2026-10-16 11:00"),
            ("supervise", "邢可欣", "2026-10-26 11:00", None))
    ingest(csv_of(*steps("L1", *slow)))
    # 10 days after Mon 12 Oct 09:30 is Mon 26 Oct 09:30: at 09:00 the open case has used 9.98 days
    assert scan("2026-10-26 09:00") == {("yellow_card", "L1", "case")}
    assert scan("2026-10-26 10:00") == {("red_card", "L1", "case")}
    assert scan("2026-10-26 10:00") == set()  # stored once


def test_red_means_past_due_at(food, ingest):
    """The limit runs out at WorkingCalendar.due_at(start, n): not red at that instant, red right after it."""
    ingest(csv_of(*steps("D1", ("accept", "侯佳怡", "2026-10-09 15:00", "2026-10-09 16:00"),
                         ("review", "周雅楠", "2026-10-09 16:00", None))))
    due = working_calendar().due_at(at("2026-10-09 16:00"), 3)
    assert due == at("2026-10-13 16:00")  # Fri → Sat 10 Oct (a make-up working day) → Mon → Tue 16:00
    assert run_scan(due).new == {"yellow_card": 1}
    assert run_scan(due + timedelta(seconds=1)).new == {"red_card": 1}


def test_the_yellow_share_is_configurable(food, ingest):
    ingest(csv_of(*steps("Y1", FULL[0], ("review", "周雅楠", "2026-10-12 11:00", None))))
    assert run_scan(at("2026-10-14 16:00"), ratio=0.5).new == {"yellow_card": 1}  # 73 % ≥ 50 %
    with pytest.raises(ValueError):
        run_scan(at("2026-10-14 16:00"), ratio=1.5)


def test_an_alert_that_no_longer_holds_is_withdrawn(food, ingest, scan):
    ingest(csv_of(*steps("W1", *FULL[:2], *FULL[3:])))  # 现场核查 not yet received
    assert {c for c, *_ in scan("2026-10-30 18:00")} == {"out_of_flow", "skipped_step"}
    ingest(csv_of(*steps("W1", FULL[2])))  # it arrives late
    result = run_scan(at("2026-10-30 18:00"))
    assert result.withdrawn == 2 and result.new_total == 0
    states = {a.code: a.state.value for a in db.session.scalars(sa.select(Alert).where(Alert.case_ref == "W1"))}
    assert states == {"out_of_flow": "withdrawn", "skipped_step": "withdrawn"}


def test_the_demo_month_gives_exactly_the_expected_cards(food, ingest, scan):
    result = ingest(DEMO_EVENTS.read_bytes())
    assert (result.total, result.stored, result.quarantined) == (214, 213, 1)
    found = {(code, case, subject.split("@")[0]) for code, case, subject in scan("2026-10-30 18:00")}
    assert found == {
        ("red_card", "XK2026-1007", "step:review"), ("red_card", "XK2026-1007", "case"),  # late review, late case
        ("red_card", "XK2026-1008", "step:decide"),  # a late decision, the case still on time
        ("out_of_flow", "XK2026-1009", "move:review>decide"), ("skipped_step", "XK2026-1009", "skip:inspect"),
        ("sod_violation", "XK2026-1010", "sod:周雅楠:review+decision"),  # one person reviewed and decided
        ("red_card", "XK2026-1017", "step:review"), ("red_card", "XK2026-1017", "case"),  # stuck in review
        ("yellow_card", "XK2026-1018", "case"),  # 9.4 of 10 days, waiting for delivery
        ("yellow_card", "XK2026-1019", "step:decide"),  # 1.9 of 2 days in the decision
        ("unknown_reference", "XK2026-1099", "q:" + str(db.session.scalar(sa.text(
            "SELECT id FROM supervision_quarantine WHERE case_ref = 'XK2026-1099'")))),
    }
    assert scan("2026-10-30 18:00") == set()  # a re-scan stores nothing twice


def test_demo_month_statistics_match_a_hand_count(food, ingest, scan):
    """Counted from the CSV with the calendar alone: no SQL involved."""
    from govrisk.supervision.queries import department_rows

    ingest(DEMO_EVENTS.read_bytes())
    scan("2026-10-30 18:00")
    calendar = working_calendar()
    cases: dict[str, list] = {}
    with DEMO_EVENTS.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["power_code"] == P:
                cases.setdefault(row["case_id"], []).append(row)
    used = []
    for rows in cases.values():
        done = [r for r in rows if r["step_id"] == "supervise" and r["event"] == "complete"]
        if done:
            first = min(at(r["at"][:16].replace("T", " ")) for r in rows)
            used.append(calendar.working_days_between(first, at(done[0]["at"][:16].replace("T", " "))))
    [(department, figures)] = department_rows({food.department.id}, 2026, 10)
    assert (figures.received, figures.completed) == (len(cases), len(used)) == (19, 16)
    assert figures.on_time == sum(u <= 10 for u in used) == 15
    assert figures.early == sum(u <= 9 for u in used) == 14
    assert figures.average_days == pytest.approx(sum(used) / len(used))
    assert (figures.yellow, figures.red) == (2, 5)


def test_tick_runs_the_scan(food, ingest):
    ingest(csv_of(*steps("T1", FULL[0], ("review", "周雅楠", "2026-10-12 11:00", None))))
    from datetime import date

    results = run_tick_hooks(date(2026, 10, 23))
    assert results["supervision.scan"] == 2  # as of the end of Fri 23 Oct: review red, the case (9.6 days) yellow
    assert run_tick_hooks(date(2026, 10, 23))["supervision.scan"] == 0


def test_recompute_after_a_calendar_change(food, ingest, scan):
    ingest(csv_of(*steps("H1", FULL[0], ("review", "周雅楠", "2026-10-12 11:00", "2026-10-15 10:00"))))
    assert scan("2026-10-16 12:00") == set()  # 2.96 of 3 days
    db.session.add(CalendarDay(day=at("2026-10-13 00:00").date(), kind="holiday", name="测试假日"))
    db.session.flush()
    from flask import g

    g.pop("working_calendar", None)
    assert recompute_working_time(actor=None) == 4
    # with Tuesday off the same review used 1.96 days: still fine; but now the case is re-checked
    case = db.session.scalar(sa.select(SupervisionCase).where(SupervisionCase.case_ref == "H1"))
    from govrisk.supervision.models import ScanQueue

    assert db.session.get(ScanQueue, case.id) is not None and case.received_us is not None
    db.session.execute(sa.delete(CalendarDay).where(CalendarDay.name == "测试假日"))
