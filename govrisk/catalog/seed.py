"""The demo city's power catalog (seed/catalog/powers.json), loaded idempotently by `govrisk seed load`.

Powers are checked by the same `normalize_power` as the forms. Their initial state is set as a data load
would (the history shows one "初始化" entry per step, by the system), and published versions get the
publication dates from the file so that "the catalog as it stood on date D" has a history to show.
"""

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from govrisk import resource_dir
from govrisk.catalog import operations as ops
from govrisk.catalog import queries
from govrisk.catalog.models import Power
from govrisk.core.audit import log_change
from govrisk.extensions import db
from govrisk.org.queries import get_department_by_code, sections_of
from govrisk.workflow.models import WorkflowEvent
from govrisk.workflow.register import RegisterState

S = RegisterState
SEED_ACTOR = "初始化数据"
PATHS = {
    "draft": (),
    "submitted": ("submit",),
    "returned": ("submit", "return"),
    "dept_approved": ("submit", "approve"),
    "published": ("submit", "approve", "publish"),
}
TARGETS = {"submit": S.SUBMITTED, "approve": S.DEPT_APPROVED, "return": S.RETURNED, "publish": S.PUBLISHED,
           "revise": S.DRAFT}


def _at(day: str | None) -> datetime | None:
    if not day:
        return None
    return datetime.combine(date.fromisoformat(day), time(9, 30), tzinfo=ZoneInfo("Asia/Shanghai"))


def _step(power: Power, transition: str, *, comment: str = "", at: datetime | None = None) -> None:
    """Move a seeded power one step, recorded in its history as done by the data load."""
    source, power.state = power.state, TARGETS[transition]
    power.bump_version()
    db.session.flush()
    event = WorkflowEvent(target_type=power.__tablename__, target_id=power.id, workflow="power",
                          transition=transition, from_state=source.value, to_state=power.state.value,
                          actor_name=SEED_ACTOR, comment=comment)
    if at is not None:
        event.at = at
    db.session.add(event)
    log_change(f"power.{transition}", power, actor=None, changes={"state": [source.value, power.state.value]})


def _before(day: str | None, days: int) -> datetime | None:
    at = _at(day)
    return at - timedelta(days=days) if at is not None else None


def _publish(power: Power, day: str | None) -> None:
    _step(power, "publish", at=_at(day))
    version = ops.publish_version(power, actor=None)
    if day:
        previous = queries.get_version(power.id, version.number - 1)
        version.published_at = _at(day)
        if previous is not None:
            previous.superseded_at = version.published_at


def _raw(entry: dict, department, sections: dict) -> dict:
    raw = {k: v for k, v in entry.items() if k not in (
        "department", "section", "state", "published_on", "revisions", "revision", "return_comment")}
    raw["department_id"] = department.id
    section = sections.get(entry.get("section") or "")
    raw["section_id"] = section.id if section else None
    return raw


def load_demo_catalog(path=None) -> int:
    """Add the demo powers that are not there yet (matched by code, or by department and name); returns how many."""
    path = path or resource_dir("seed") / "catalog" / "powers.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    added = 0
    for entry in document["powers"]:
        department = get_department_by_code(entry["department"])
        if department is None:
            continue
        if entry.get("code") and queries.get_power_by_code(entry["code"]) is not None:
            continue
        if not entry.get("code") and db.session.scalar(db.select(Power.id).where(
                Power.department_id == department.id, Power.name == entry["name"])) is not None:
            continue
        sections = {s.code: s for s in sections_of(department.id)}
        power = ops.create_power(_raw(entry, department, sections), actor=None)
        day = entry.get("published_on")
        for transition in PATHS[entry.get("state", "draft")]:
            if transition == "publish":
                _publish(power, day)
            else:
                _step(power, transition, comment=entry.get("return_comment", "") if transition == "return" else "",
                      at=_before(day, {"submit": 3, "approve": 1}.get(transition, 0)))
        for revision in entry.get("revisions", []):
            day = revision.get("published_on")
            _revise(power, revision["changes"], at=_before(day, 6))
            for transition, days in (("submit", 3), ("approve", 1)):
                _step(power, transition, at=_before(day, days))
            _publish(power, day)
        if entry.get("revision"):
            _revise(power, entry["revision"]["changes"])
        added += 1
    db.session.flush()
    return added


def _revise(power: Power, changes: dict, *, at: datetime | None = None) -> None:
    raw = {**ops.power_state(power), **changes}
    _step(power, "revise", comment="修订", at=at)
    raw["version"] = power.version
    ops.update_power(power, raw, actor=None)
