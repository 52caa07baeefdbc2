"""The demo city's flow charts (seed/flows/demo.json), loaded idempotently by `govrisk seed load`.

Each chart goes through the same import as a user's file; its state is then set as a data load would: every step
is in the history as done by "初始化数据". A power that already has a chart of that kind is left alone.
"""

import json

import sqlalchemy as sa

from govrisk import resource_dir
from govrisk.catalog.models import Power
from govrisk.core.audit import log_change
from govrisk.extensions import db
from govrisk.flows import queries
from govrisk.flows.models import Flow, FlowKind
from govrisk.flows.operations import import_flow
from govrisk.org.queries import get_department_by_code
from govrisk.workflow.models import WorkflowEvent
from govrisk.workflow.register import RegisterState

SEED_ACTOR = "初始化数据"
S = RegisterState
PATHS = {"draft": (), "submitted": ("submit",), "dept_approved": ("submit", "approve"),
         "published": ("submit", "approve", "publish")}
TARGETS = {"submit": S.SUBMITTED, "approve": S.DEPT_APPROVED, "publish": S.PUBLISHED}


def _power(department_code: str, name: str) -> Power | None:
    department = get_department_by_code(department_code)
    if department is None:
        return None
    return db.session.scalar(sa.select(Power).where(Power.department_id == department.id, Power.name == name))


def _advance(flow: Flow, transition: str) -> None:
    source, flow.state = flow.state, TARGETS[transition]
    flow.bump_version()
    db.session.flush()
    db.session.add(WorkflowEvent(target_type=flow.__tablename__, target_id=flow.id, workflow="flow",
                                 transition=transition, from_state=source.value, to_state=flow.state.value,
                                 actor_name=SEED_ACTOR))
    log_change(f"flow.{transition}", flow, actor=None, changes={"state": [source.value, flow.state.value]})


def load_demo_flows(path=None) -> int:
    """Add the demo charts whose power exists and has no chart of that kind yet; returns how many were added."""
    path = path or resource_dir("seed") / "flows" / "demo.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    added = 0
    for entry in document["flows"]:
        power = _power(entry["department"], entry["power"])
        kind = FlowKind(entry["kind"])
        if power is None or queries.versions_of(power.id, kind):
            continue
        data = json.loads((path.parent / entry["file"]).read_text(encoding="utf-8"))
        data.update(power_code=power.code, kind=kind.value)
        flow, _action = import_flow(json.dumps(data, ensure_ascii=False).encode("utf-8"), "seed.json", actor=None)
        for transition in PATHS[entry.get("state", "draft")]:
            _advance(flow, transition)
        added += 1
    db.session.flush()
    return added
