"""The demo city's campaigns (seed/campaigns/): reporting units, their accounts, the 2025 and 2026 防范非法集资宣传月
with reports built from narrative texts through the same extraction and workflow users go through, and a few
education sessions. Idempotent: whatever exists already is left alone."""

import json
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from govrisk.campaigns import operations as ops
from govrisk.campaigns import queries
from govrisk.campaigns.documents import mention_rows
from govrisk.campaigns.models import EducationSession, ReportState
from govrisk.extensions import db


def _folder() -> Path:
    from govrisk.demo import seed_dir

    return seed_dir() / "campaigns"


def _read(name: str) -> dict:
    return json.loads((_folder() / name).read_text(encoding="utf-8"))


def _user(username: str):
    from govrisk.auth.queries import get_user_by_username

    user = get_user_by_username(username)
    if user is None:
        raise LookupError(f"demo user {username} is missing")
    return user


def _department_id(code: str | None) -> int | None:
    from govrisk.org.queries import get_department_by_code

    department = get_department_by_code(code) if code else None
    return department.id if department else None


def load_units() -> int:
    """The reporting-unit tree; returns how many units were added."""
    added = 0
    for data in _read("units.json")["units"]:
        if queries.get_unit_by_code(data["code"]) is not None:
            continue
        parent = queries.get_unit_by_code(data["parent"]) if data["parent"] else None
        ops.create_unit({"code": data["code"], "name": data["name"], "kind": data["kind"],
                         "parent_id": parent.id if parent else None,
                         "department_id": _department_id(data.get("department"))}, actor=None)
        added += 1
    return added


def load_users(password: str) -> list[dict]:
    """The units' demo accounts and their memberships; returns the accounts created or found."""
    from govrisk.auth import operations as auth_ops
    from govrisk.auth.queries import get_user_by_username

    document = _read("users.json")
    external = document["external_department"]
    if _department_id(external["code"]) is None:
        from govrisk.org.operations import create_department

        create_department({**external, "parent_id": None}, actor=None)
    accounts = []
    for data in document["users"]:
        user = get_user_by_username(data["username"])
        if user is None:
            user = auth_ops.create_user({"username": data["username"], "display_name": data["display_name"],
                                         "password": password, "department_id": _department_id(data.get("department")),
                                         "must_change_password": False}, actor=None)
            for role in data["roles"]:
                auth_ops.grant_role(user, role, actor=None)
        for code in data["units"]:
            unit = queries.get_unit_by_code(code)
            if not queries.is_member(user, unit.id):
                ops.add_member(unit, user.username, actor=None)
        if "roles" in data:
            accounts.append({"username": user.username, "password": password, "display_name": user.display_name,
                             "roles": [r.title for r in sorted(user.role_set)],
                             "department": queries.get_unit_by_code(data["units"][0]).name})
    return accounts


def load_campaigns() -> None:
    for data in _read("campaigns.json")["campaigns"]:
        if queries.get_campaign_by_code(data["code"]) is not None:
            continue
        previous = queries.get_campaign_by_code(data["previous"]) if data["previous"] else None
        days = {k: date.fromisoformat(data[k]) if data[k] else None
                for k in ("start_on", "end_on", "central_day_on", "report_due_on")}
        fields = {**data, **days, "root_unit_id": queries.get_unit_by_code(data["root"]).id,
                  "previous_id": previous.id if previous else None}
        ops.create_campaign(fields, actor=_user(data["by"]))


def _load_report(data: dict) -> None:
    campaign = queries.get_campaign_by_code(data["campaign"])
    unit = queries.get_unit_by_code(data["unit"])
    if queries.report_for(campaign.id, unit.id) is not None:
        return
    editor = _user(data["editor"])
    report = ops.open_report(campaign, unit, actor=editor)
    text = (_folder() / "reports" / data["text"]).read_text(encoding="utf-8").strip()
    rows = mention_rows(text)["rows"]
    for row in rows:
        row["keep"] = row["phrase"] not in data.get("drop", ())
    ops.save_extraction(report, text, rows, actor=editor)
    for extra in data.get("extra", ()):
        ops.save_value(report, None, extra, actor=editor)
    for activity in data.get("activities", ()):
        ops.save_activity(report, None, {**activity, "held_on": date.fromisoformat(activity["held_on"])}, actor=editor)
    if data.get("leadership") or data.get("problems"):
        ops.update_report_texts(report, {"leadership": data.get("leadership", ""),
                                         "problems": data.get("problems", "")}, actor=editor)
    if data["state"] in (ReportState.SUBMITTED, ReportState.ACCEPTED):
        ops.transition_report(report, "submit", actor=editor)
    if data["state"] == ReportState.ACCEPTED:
        ops.transition_report(report, "accept", actor=_user(data["reviewer"]))


def load_education() -> None:
    for data in _read("education.json")["sessions"]:
        held_on = date.fromisoformat(data["held_on"])
        department_id = _department_id(data["department"])
        exists = db.session.scalar(sa.select(EducationSession.id).where(
            EducationSession.department_id == department_id, EducationSession.held_on == held_on,
            EducationSession.topic == data["topic"]))
        if exists:
            continue
        campaign = queries.get_campaign_by_code(data["campaign"]) if data.get("campaign") else None
        ops.save_session(None, {**data, "department_id": department_id, "held_on": held_on,
                                "campaign_id": campaign.id if campaign else None, "notes": ""},
                         actor=_user(data["by"]))


def load_campaign_demo() -> list[dict]:
    """Everything above, in order (after the demo city's org and accounts); returns the units' demo accounts."""
    from govrisk.demo import seed_dir

    password = json.loads((seed_dir() / "demo" / "users.json").read_text(encoding="utf-8"))["password"]
    load_units()
    accounts = load_users(password)
    load_campaigns()
    for data in _read("reports.json")["reports"]:
        _load_report(data)
    load_education()
    db.session.flush()
    return accounts
