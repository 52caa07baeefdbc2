"""Loading `seed/`: reference data, the working-day calendar and the demo city (idempotent)."""

import csv
import json
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from govrisk import resource_dir
from govrisk.auth import operations as auth_ops
from govrisk.auth.queries import get_user_by_username
from govrisk.core.calendar import load_calendar_csv
from govrisk.core.reference import CalendarDay, ReferenceItem
from govrisk.extensions import db
from govrisk.org import operations as org_ops
from govrisk.org import queries as org_queries
from govrisk.org.models import Person, Post


def seed_dir() -> Path:
    return resource_dir("seed")


def load_reference(actor=None) -> int:
    """Upsert every reference list in seed/reference; returns how many items were added."""
    from govrisk.admin.operations import save_reference_item

    added = 0
    for path in sorted((seed_dir() / "reference").glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        kind = document["kind"]
        existing = {i.key: i for i in db.session.scalars(sa.select(ReferenceItem).where(ReferenceItem.kind == kind))}
        for order, item in enumerate(document["items"]):
            if item["key"] in existing:
                continue
            save_reference_item(None, {"kind": kind, "sort_order": order, "is_active": True, "name_en": "",
                                       "description": "", **item}, actor=actor)
            added += 1
    return added


def load_calendar() -> int:
    """Add the seeded holidays and make-up days that are not in the database yet (edits are kept)."""
    folder = seed_dir() / "calendar"
    present = set(db.session.scalars(sa.select(CalendarDay.day)))
    added = 0
    for path in sorted(folder.glob("*.csv")):
        load_calendar_csv(path)  # validates the file before anything is added
        with path.open(encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                day = date.fromisoformat(row["date"])
                if day not in present:
                    db.session.add(CalendarDay(day=day, kind=row["kind"], name=row.get("name", "")))
                    present.add(day)
                    added += 1
    db.session.flush()
    return added


def load_demo_org(actor=None) -> None:
    """The demo city's departments, sections, posts, people and assignments."""
    folder = seed_dir() / "demo"
    org_ops.DepartmentImporter().run((folder / "departments.csv").read_bytes(), "departments.csv", actor=actor,
                                     max_bytes=10 * 1024 * 1024)
    document = json.loads((folder / "org.json").read_text(encoding="utf-8"))
    for code, unit in document["departments"].items():
        department = org_queries.get_department_by_code(code)
        sections = {s.code: s for s in org_queries.sections_of(department.id)}
        for section in unit.get("sections", []):
            if section["code"] not in sections:
                sections[section["code"]] = org_ops.save_section(None, {**section, "department_id": department.id},
                                                                 actor=actor)
        posts = {p.code: p for p in org_queries.posts_of(department.id)}
        for post in unit.get("posts", []):
            if post["code"] not in posts:
                section = sections.get(post.get("section") or "")
                posts[post["code"]] = org_ops.save_post(None, {**post, "department_id": department.id,
                                                               "section_id": section.id if section else None},
                                                        actor=actor)
        for person_data in unit.get("people", []):
            _load_person(department, person_data, posts, actor)


def _load_person(department, data: dict, posts: dict[str, Post], actor) -> None:
    if db.session.scalar(sa.select(Person.id).where(Person.staff_no == data["staff_no"])):
        return
    person = org_ops.save_person(None, {"department_id": department.id, "staff_no": data["staff_no"],
                                        "name": data["name"], "title": data.get("title", "")}, actor=actor)
    for held in sorted(data.get("posts", []), key=lambda h: h["start_on"]):
        end_on = date.fromisoformat(held["end_on"]) if held.get("end_on") else None
        org_ops.assign_person(person, posts[held["post"]], date.fromisoformat(held["start_on"]), end_on, actor=actor)


def load_demo_users(actor=None) -> list[dict]:
    """The demo accounts (one per role); returns them with their password for printing."""
    document = json.loads((seed_dir() / "demo" / "users.json").read_text(encoding="utf-8"))
    password = document["password"]
    accounts = []
    for data in document["users"]:
        user = get_user_by_username(data["username"])
        if user is None:
            department = org_queries.get_department_by_code(data["department"]) if data.get("department") else None
            user = auth_ops.create_user({"username": data["username"], "display_name": data["display_name"],
                                         "password": password, "department_id": department.id if department else None,
                                         # demo accounts are printed for everyone; real ones must change at first login
                                         "must_change_password": False}, actor=actor)
            for role in data["roles"]:
                auth_ops.grant_role(user, role, actor=actor)
        accounts.append({"username": user.username, "password": password, "display_name": user.display_name,
                         "roles": [r.title for r in sorted(user.role_set)],
                         "department": user.department.name if user.department else ""})
    return accounts


def load_seed(*, demo: bool) -> dict:
    """Reference data and calendar always; the demo city when asked. Safe to run again."""
    summary = {"reference_items": load_reference(), "calendar_days": load_calendar()}
    if demo:
        load_demo_org()
        summary["accounts"] = load_demo_users()
        from govrisk.catalog.seed import load_demo_catalog

        summary["powers"] = load_demo_catalog()
        from govrisk.flows.seed import load_demo_flows  # before the risk points, which attach to flow steps

        summary["flows"] = load_demo_flows()
        from govrisk.campaigns.seed import load_campaign_demo

        summary["accounts"] += load_campaign_demo()
        from govrisk.risks.seed import load_demo_risks

        summary["risk_points"] = load_demo_risks()
        from govrisk.review.seed import load_demo_review  # last: it snapshots the register loaded above

        summary["review_cycles"] = load_demo_review()
    db.session.flush()
    return summary


