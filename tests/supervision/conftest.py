"""Fixtures for supervision tests: a department with a published food-licensing flow (as in the demo city)."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from govrisk.extensions import db
from govrisk.workflow.register import RegisterState

ROOT = Path(__file__).resolve().parents[2]
DEMO_FLOW = ROOT / "seed" / "flows" / "demo" / "food-licensing-internal.json"
DEMO_EVENTS = ROOT / "seed" / "supervision" / "food-licensing-2026-10.csv"
BJ = timezone(timedelta(hours=8))
HEADER = "case_id,power_code,step_id,event,actor,at\n"


def at(text: str) -> datetime:
    """'2026-10-12 09:30' on Beijing time."""
    return datetime.fromisoformat(text).replace(tzinfo=BJ)


def csv_of(*rows) -> bytes:
    """A CSV file of (case, power, step, event, actor, 'YYYY-MM-DD HH:MM' Beijing) rows."""
    lines = [",".join([c, p, s, e, a, at(t).isoformat()]) for c, p, s, e, a, t in rows]
    return (HEADER + "\n".join(lines) + "\n").encode()


@dataclass
class Setup:
    department: object
    power: object
    flow: object
    code: str


def publish_flow(power, document: dict, *, number: int = 1):
    """A published internal flow for the power, written straight through the models."""
    from govrisk.flows.models import Flow, FlowEdge, FlowKind, FlowStep

    flow = Flow(power_id=power.id, kind=FlowKind.INTERNAL, number=number, state=RegisterState.PUBLISHED,
                time_limit_days=document.get("time_limit_days"))
    for position, step in enumerate(document["steps"]):
        flow.steps.append(FlowStep(position=position, key=step["id"], name=step["name"], post_name=step["post"] or "",
                                   role=step["role"], time_limit_days=step["time_limit_days"]))
    for position, edge in enumerate(document["edges"]):
        flow.edges.append(FlowEdge(position=position, source_key=edge["from"], target_key=edge["to"],
                                   is_loop=edge.get("loop", False), label=edge.get("label", "")))
    db.session.add(flow)
    db.session.flush()
    return flow


def food_flow_document() -> dict:
    return json.loads(DEMO_FLOW.read_text(encoding="utf-8"))


@pytest.fixture
def create_power(db_session):
    from govrisk.catalog.models import Power

    counter = iter(range(1, 10_000))

    def factory(department, *, code=None, promised_days=10, statutory_days=20):
        n = next(counter)
        power = Power(code=code or f"XK-S{n:04d}", name=f"测试许可{n}", category="xk", department_id=department.id,
                      promised_days=promised_days, statutory_days=statutory_days, state=RegisterState.PUBLISHED,
                      published_number=1)
        db.session.add(power)
        db.session.flush()
        return power

    return factory


@pytest.fixture
def food(create_department, create_power):
    """市场监督管理局 with 食品经营许可 XK-0001 (promised 10 working days) and its published internal flow."""
    department = create_department(code="T-SCJG", name="市场监督管理局")
    power = create_power(department, code="XK-0001", promised_days=10)
    flow = publish_flow(power, food_flow_document())
    return Setup(department, power, flow, power.code)


@pytest.fixture
def ingest(db_session):
    """Parse and store CSV bytes as the command line would; returns the IngestResult."""
    from govrisk.supervision.ingest import ingest_events, parse_file, refuse

    def run(data: bytes, *, actor=None, source="cli"):
        parsed = parse_file(data, "events.csv", max_bytes=10 * 1024 * 1024)
        refuse(parsed)
        return ingest_events(parsed.rows, actor=actor, source=source, filename="events.csv")

    return run


@pytest.fixture
def scan(db_session):
    """Scan as of a Beijing time ('2026-10-30 18:00'); returns the alerts it raised as (code, case, subject)."""
    from govrisk.supervision.queries import scan_alerts
    from govrisk.supervision.scan import run_scan

    def run(when: str, **kwargs):
        result = run_scan(at(when), **kwargs)
        return {(a.code, a.case_ref, a.subject) for a in scan_alerts(result.scan_id)}

    return run
