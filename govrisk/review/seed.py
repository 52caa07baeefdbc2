"""The demo city's previous annual review (seed/review/demo.json), loaded idempotently by `govrisk seed load`.

The 2025 cycle is run through the same operations as in the application (by the demo inspector), then its register
snapshot is 'aged' as the seed file describes, so that the 2026 cycle a user opens has changes to compare with.
"""

import json
from datetime import date

import sqlalchemy as sa

from govrisk import resource_dir
from govrisk.accountability import operations as acc_ops
from govrisk.auth.queries import get_user_by_username
from govrisk.core.audit import log_change
from govrisk.extensions import db
from govrisk.org.models import Person
from govrisk.org.queries import get_department_by_code
from govrisk.review import operations as ops
from govrisk.review import queries, snapshot
from govrisk.review.models import CheckResult, SelfCheckAnswer, SnapshotPart
from govrisk.review.workflow import SelfCheckState
from govrisk.risks.seed import SEED_ACTOR
from govrisk.workflow.models import WorkflowEvent


def _age_snapshot(cycle, rules: dict) -> None:
    """Rewrite the cycle's register snapshot as the register stood a year before (see the seed file)."""
    retired = {}
    for entry in rules.get("retired_risks", []):
        department = get_department_by_code(entry["department"])
        if department is not None:
            retired.setdefault(department.id, []).append(entry)
    for cd in cycle.departments:
        kinds = {kind: list(snapshot.items(cycle.id, cd.department_id, kind)) for kind in snapshot.ITEM_KINDS}
        kinds["powers"] = [p for i, p in enumerate(kinds["powers"]) if i % rules["left_out_powers_every"] != 1]
        risks = []
        for i, item in enumerate(kinds["risks"]):
            if i % rules["left_out_risks_every"] == 3:
                continue
            if i % rules["lower_level_every"] == 0 and (snapshot.level_of(item) or 3) < 3:
                item[snapshot.RISK["confirmed"]] = (snapshot.level_of(item) or 2) + 1
            risks.append(item)
        for entry in retired.get(cd.department_id, []):
            risks.append([entry["code"], entry["power"], entry["name"], entry["type"], 3, 3, entry["level"],
                          entry["level"], "confirmed", "", cd.department.code, "aged"])
        kinds["risks"] = sorted(risks)
        for i, measure in enumerate(kinds["measures"]):
            if i % rules["open_measure_every"] == 0:
                measure[snapshot.MEASURE["status"]] = "in_progress"
        db.session.execute(sa.delete(SnapshotPart).where(SnapshotPart.cycle_id == cycle.id,
                                                         SnapshotPart.department_id == cd.department_id))
        snapshot.write_department(cycle, cd.department, {k: [v] if v else [] for k, v in kinds.items()},
                                  at=cycle.snapshot_at)


def _person(staff_no: str) -> Person | None:
    return db.session.scalar(sa.select(Person).where(Person.staff_no == staff_no))


def _findings(entries: list[dict], cycle, inspector) -> None:
    for entry in entries:
        department = get_department_by_code(entry["department"])
        people = [(p, role) for p, role in ((_person(s), role) for s, role in entry.get("people", [])) if p]
        finding = acc_ops.create_finding({
            "source": entry["source"], "department_id": department.id, "title": entry["title"],
            "description": entry.get("description", ""), "found_on": date.fromisoformat(entry["found_on"]),
            "cycle_id": cycle.id, "person_ids": [p.id for p, _r in people], "person_roles": [r for _p, r in people]},
            actor=inspector)
        data = entry.get("rectification")
        if data:
            rect = acc_ops.order_rectification(finding, {
                "requirement": data["requirement"], "ordered_on": date.fromisoformat(data["ordered_on"]),
                "due_on": date.fromisoformat(data["due_on"])}, actor=inspector)
            head = _department_user(department)
            acc_ops.update_rectification(rect, {"plan": data["plan"], "evidence": data["evidence"]}, actor=head)
            for name in ("submit_plan", "report"):
                acc_ops.transition_rectification(rect, name, actor=head,
                                                 today=date.fromisoformat(data["reported_on"]))
            acc_ops.transition_rectification(rect, "verify", actor=inspector)
            if rect.completed_on > rect.due_on:
                rect.is_overdue = True
        for action in entry.get("actions", []):
            created = acc_ops.record_action(_person(action["person"]), {
                "action_type": action["type"], "facts": action.get("facts", ""), "basis": action.get("basis", ""),
                "decision_no": action.get("decision_no", ""), "decided_by": action.get("decided_by", ""),
                "decided_on": date.fromisoformat(action["decided_on"]), "finding_id": finding.id}, actor=inspector)
            acc_ops.transition_action(created, "decide", actor=inspector)
            acc_ops.transition_action(created, "complete", actor=inspector)
        if not any(not r.is_finished for r in finding.rectifications):
            acc_ops.transition_finding(finding, "close", actor=inspector)


def _signed_self_check(cd) -> None:
    """A past year's self-check, as a data load records it: every item done, signed (history by 初始化数据)."""
    check = cd.self_check
    for item in cd.cycle.checklist_items:
        db.session.add(SelfCheckAnswer(self_check_id=check.id, item_id=item.id, result=CheckResult.DONE))
    check.summary, check.state, check.signed_at = "已按清单逐项自查。", SelfCheckState.SIGNED, cd.cycle.snapshot_at
    check.bump_version()
    db.session.flush()
    for transition, source, target in (("submit", "draft", "submitted"), ("sign", "submitted", "signed")):
        db.session.add(WorkflowEvent(target_type=check.__tablename__, target_id=check.id, workflow="self_check",
                                     transition=transition, from_state=source, to_state=target, actor_name=SEED_ACTOR))
        log_change(f"self_check.{transition}", check, actor=None, changes={"state": [source, target]})


def _department_user(department):
    """A demo account that may carry out the department's rectification (the head if there is one)."""
    from govrisk.auth.models import User

    users = db.session.scalars(sa.select(User).where(User.department_id == department.id)).all()
    return next((u for u in users if u.can("accountability.rectify")), None)


def load_demo_review(path=None) -> int:
    """The closed 2025 review of the demo city; returns 1 when it was added, 0 when it was there already."""
    path = path or resource_dir("seed") / "review" / "demo.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    inspector = get_user_by_username("inspector")
    if inspector is None or queries.cycle_for_year(document["year"]) is not None:
        return 0
    cycle = ops.create_cycle({"year": document["year"], "title": document["title"],
                              "self_check_due_on": date.fromisoformat(document["self_check_due_on"]),
                              "inspection_due_on": date.fromisoformat(document["inspection_due_on"]),
                              "department_ids": queries.top_level_department_ids()}, actor=inspector)
    ops.transition_cycle(cycle, "open", actor=inspector)
    _age_snapshot(cycle, document["previous_register"])
    _findings(document.get("findings", []), cycle, inspector)
    for cd in cycle.departments:
        _signed_self_check(cd)
        score = document.get("appraisal", {}).get(cd.department.code)
        if score is not None:
            ops.set_appraisal(cd, {"appraisal_score": score}, actor=inspector)
    for name in ("start_inspection", "start_assessment", "publish", "close"):
        ops.transition_cycle(cycle, name, actor=inspector)
    return 1
