"""Every route of the application, with sensible ids taken from the seeded demo city (helpers for the matrix,
CSRF, fuzzing and concurrency tests). Tables are looked up by name in db.metadata, so a domain that is not there
yet only leaves its ids unresolved (a placeholder id, answered 404)."""

import re
from dataclasses import dataclass, field
from html import unescape

import sqlalchemy as sa

from govrisk import create_app
from govrisk.extensions import db
from tests.conftest import csrf_token

MISSING_ID = 987654321
ROLES = ("dept_editor", "dept_head", "inspector", "sys_admin", "sec_admin", "audit_admin")
ADMIN_ROLES = ("sys_admin", "sec_admin", "audit_admin")
BUSINESS_ROLES = ("dept_editor", "dept_head", "inspector")

# URL argument → table holding the object (by argument name; the rule's prefix settles `item_id`)
ARG_TABLES = {
    "action_id": "accountability_actions", "finding_id": "findings", "rectification_id": "rectifications",
    "user_id": "users", "token_id": "api_tokens", "campaign_id": "campaigns", "unit_id": "campaign_units",
    "session_id": "education_sessions", "report_id": "campaign_reports", "activity_id": "campaign_activities",
    "value_id": "campaign_indicator_values", "member_id": "campaign_unit_members", "power_id": "powers",
    "feedback_id": "feedback", "flow_id": "flows", "department_id": "departments", "assignment_id": "assignments",
    "post_id": "posts", "cycle_id": "review_cycles", "indicator_id": "review_indicators", "score_id": "review_scores",
    "point_id": "risk_points", "attachment_id": "risk_measure_attachments", "method_id": "risk_grading_methods",
    "measure_id": "risk_measures", "alert_id": "supervision_alerts", "case_id": "supervision_cases",
    "person_id": "people",
}
ITEM_TABLES = (("/admin/reference", "reference_items"), ("/review/", "review_checklist_items"),
               ("/campaigns/reports", "campaign_activities"))
# Business data (三员分立: no administrator reads or edits it). Campaign reporting units are set up by sys_admin.
BUSINESS_PREFIXES = ("/catalog", "/flows", "/risks", "/review", "/accountability", "/supervision", "/campaigns",
                     "/reports", "/feedback", "/api/v1/supervision")
NOT_BUSINESS = ("/campaigns/units",)
ADMIN_AREAS = {"/admin/users": "sys_admin", "/admin/reference": "sys_admin", "/admin/calendar": "sys_admin",
               "/admin/roles": "sec_admin", "/admin/policy": "sec_admin", "/admin/audit": "audit_admin"}
PUBLIC_ENDPOINTS = {"auth.login", "auth.set_language", "static"}
PUBLIC_PREFIXES = ("/portal", "/api/v1/powers", "/api/v1/flows")  # flows: published external charts only
# hop columns that name who did something, not who owns the record
FORM_RE = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
NOT_OWNERSHIP = re.compile(r"(_by_id|^actor_id|^author_id|^owner_id|^responsible_id|^supervisor_id|^root_unit_id)$")


def _rules():
    app = create_app({"CONFIG_NAME": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return sorted(((r.rule, r.endpoint, tuple(sorted(r.methods - {"HEAD", "OPTIONS"})), tuple(r.arguments),
                    {k: getattr(c, "items", None) for k, c in r._converters.items()})
                   for r in app.url_map.iter_rules() if r.endpoint != "static"), key=lambda r: (r[0], r[2]))


@dataclass(frozen=True)
class Route:
    rule: str
    endpoint: str
    method: str
    arguments: tuple
    choices: dict

    @property
    def id(self) -> str:
        return f"{self.method} {self.rule}"

    def starts(self, prefixes) -> bool:
        return any(self.rule == p or self.rule.startswith(p.rstrip("/") + "/") or self.rule.startswith(p + ".")
                   for p in prefixes)

    @property
    def is_business(self) -> bool:
        return self.starts(BUSINESS_PREFIXES) and not self.starts(NOT_BUSINESS)

    @property
    def is_public(self) -> bool:
        return self.endpoint in PUBLIC_ENDPOINTS or self.starts(PUBLIC_PREFIXES)

    @property
    def is_api(self) -> bool:
        return self.rule.startswith("/api/")

    @property
    def admin_owner(self) -> str | None:
        return next((role for prefix, role in ADMIN_AREAS.items() if self.starts((prefix,))), None)


ROUTES = [Route(rule, endpoint, method, arguments, choices)
          for rule, endpoint, methods, arguments, choices in _rules() for method in methods]


def _table(name: str) -> sa.Table | None:
    import govrisk.models  # noqa: F401

    return db.metadata.tables.get(name)


@dataclass(frozen=True)
class Hierarchy:
    """Who owns records: departments (department_id) or campaign reporting units (unit_id)."""

    name: str
    table: str
    column: str


DEPARTMENTS = Hierarchy("department", "departments", "department_id")
CAMPAIGN_UNITS = Hierarchy("campaign unit", "campaign_units", "unit_id")


def owner_path(table: sa.Table, hierarchy: Hierarchy = DEPARTMENTS, depth: int = 3):
    """FK hops from table to one that carries the owner column (shortest first); [] when table has it itself."""
    if table.name == hierarchy.table or hierarchy.column in table.c:
        return []
    if depth == 0:
        return None
    best = None
    for column in table.columns:
        if NOT_OWNERSHIP.search(column.name):
            continue
        for fk in column.foreign_keys:
            target = fk.column.table
            if target is table:
                continue
            rest = owner_path(target, hierarchy, depth - 1)
            if rest is not None and (best is None or len(rest) + 1 < len(best)):
                best = [(column, target), *rest]
    return best


def owned_by(table: sa.Table, owner_ids, hierarchy: Hierarchy = DEPARTMENTS) -> sa.Select | None:
    """SELECT table.id of the rows owned by one of owner_ids (None when ownership cannot be traced)."""
    path = owner_path(table, hierarchy)
    if path is None or "id" not in table.c:
        return None
    stmt, current = sa.select(table.c.id), table
    for column, target in path:
        stmt = stmt.join(target, column == target.c.id)
        current = target
    owner = current.c.id if current.name == hierarchy.table else current.c[hierarchy.column]
    return stmt.where(owner.in_(list(owner_ids)))


def table_for(route: Route, arg: str) -> sa.Table | None:
    if arg == "item_id":
        name = next((t for prefix, t in ITEM_TABLES if route.rule.startswith(prefix)), None)
        return _table(name) if name else None
    return _table(ARG_TABLES.get(arg, ""))


def pick_ids(route: Route, owner_ids=None, *, hierarchy: Hierarchy = DEPARTMENTS, avoid_users=(),
             states=()) -> tuple[dict, bool]:
    """Values for the route's arguments (rows owned by owner_ids when possible); and whether all exist."""
    values, complete = {}, True
    for arg in _ordered(route):
        if arg in route.choices and route.choices[arg]:
            values[arg] = sorted(route.choices[arg])[0]
            continue
        if arg == "code" and route.endpoint == "auth.set_language":
            values[arg] = "en"
            continue
        if arg == "code":  # a published power
            powers = _table("powers")
            code = db.session.scalar(sa.select(powers.c.code).where(powers.c.published_number.is_not(None))
                                     .order_by(powers.c.id).limit(1)) if powers is not None else None
            values[arg], complete = code or "NO-SUCH-CODE", complete and code is not None
            continue
        if arg == "fmt":
            values[arg] = "json"
            continue
        if arg == "number":
            versions = _table("power_versions")
            number = db.session.scalar(sa.select(versions.c.number).where(versions.c.power_id == values.get(
                "power_id", MISSING_ID)).order_by(versions.c.number).limit(1)) if versions is not None else None
            values[arg], complete = number or 1, complete and number is not None
            continue
        if arg == "year":
            cycles = _table("review_cycles")
            year = db.session.scalar(sa.select(cycles.c.year).order_by(cycles.c.year).limit(1)) \
                if cycles is not None else None
            values[arg], complete = year or 2099, complete and year is not None
            continue
        table = table_for(route, arg)
        found = _pick(table, values, owner_ids, hierarchy, avoid_users, states) if table is not None else None
        values[arg] = found if found is not None else MISSING_ID
        complete = complete and found is not None
    return values, complete


def _ordered(route: Route) -> list[str]:
    """Arguments in the order they appear in the rule (parents first)."""
    return sorted(route.arguments, key=lambda a: route.rule.find(f"{a}>"))


def _pick(table: sa.Table, chosen: dict, owner_ids, hierarchy: Hierarchy, avoid_users, states=(),
          only=None) -> int | None:
    """The first matching row: owned by owner_ids if any is, in one of `states` (e.g. editable drafts; the `state`
    or `status` column) if any is."""
    state = next((table.c[name] for name in ("state", "status") if name in table.c), None)
    if states and state is not None:
        in_state = sa.type_coerce(state, sa.String()).in_(states)
        found = _pick(table, chosen, owner_ids, hierarchy, avoid_users, only=in_state)
        if found is not None:
            return found
    stmt = sa.select(table.c.id).order_by(table.c.id).limit(1)
    if only is not None:
        stmt = stmt.where(only)
    for condition in _related(table, {k: v for k, v in chosen.items() if isinstance(v, int)}):
        stmt = stmt.where(condition)
    if table.name == "users" and avoid_users:
        stmt = stmt.where(table.c.id.not_in(list(avoid_users)))
    if owner_ids is not None:
        owned = owned_by(table, owner_ids, hierarchy)
        if owned is not None:
            preferred = db.session.scalar(stmt.where(table.c.id.in_(owned)))
            if preferred is not None:
                return preferred
    return db.session.scalar(stmt)


def _related(table: sa.Table, chosen: dict) -> list:
    """Conditions tying a child to the parents already chosen for the same URL.

    Direct (posts.department_id = the department), one hop up (review_scores.cycle_department_id in the
    participant rows of that cycle and department), or through a link table (a department taking part in the
    cycle: departments.id in review_departments.department_id where cycle_id = the cycle).
    """
    conditions = [table.c[name] == value for name, value in chosen.items() if name in table.c and name != "id"]
    if conditions:
        return conditions
    for column in table.columns:
        for fk in column.foreign_keys:
            parent = fk.column.table
            matches = [parent.c[n] == v for n, v in chosen.items() if n in parent.c and n != "id"]
            if matches and parent is not table:
                return [column.in_(sa.select(parent.c.id).where(*matches))]
    for link in db.metadata.sorted_tables:
        if link is table:
            continue
        matches = [link.c[n] == v for n, v in chosen.items() if n in link.c and n != "id"]
        refs = [c for c in link.columns if any(fk.column.table is table for fk in c.foreign_keys)]
        if matches and refs:
            condition = table.c.id.in_(sa.select(refs[0]).where(*matches))
            if db.session.scalar(sa.select(table.c.id).where(condition).limit(1)) is not None:
                return [condition]
    return []


def url_for_route(route: Route, values: dict) -> str:
    url = route.rule
    for arg, value in values.items():
        url = re.sub(r"<(?:[^:<>]+(?:\([^)]*\))?:)?" + re.escape(arg) + ">", str(value), url)
    return url


# ---------------------------------------------------------------- forms and row counts


def table_counts() -> dict[str, int]:
    """Rows per table (one query), to prove that a refused request wrote nothing."""
    import govrisk.models  # noqa: F401

    tables = db.metadata.sorted_tables
    stmt = sa.union_all(*[sa.select(sa.literal(t.name).label("t"), sa.func.count().label("n")).select_from(t)
                          for t in tables])
    return dict(db.session.execute(stmt).all())


def token_for(client, url: str = "/") -> str:
    return csrf_token(client, url)


def form_fields(html: str, action: str | None = None) -> dict:
    """The first POST form's fields (optionally the one whose action ends with `action`): name → value/choices."""
    for attrs, body in FORM_RE.findall(html):
        if "post" not in attrs.lower():
            continue
        target = re.search(r'action="([^"]*)"', attrs)
        if action is not None and target and target.group(1) and not unescape(target.group(1)).split("?")[0] \
                .endswith(action.split("?")[0]):
            continue
        return parse_fields(body)
    return {}


@dataclass
class Field:
    name: str
    kind: str  # text, hidden, number, date, checkbox, select, textarea, file, password, …
    value: str = ""
    options: list = field(default_factory=list)
    multiple: bool = False
    checked: bool = False
    chosen: list = field(default_factory=list)


def parse_fields(body: str) -> dict[str, Field]:
    """Fields of a form's markup; checkbox groups and multiple selects keep every chosen value in `chosen`."""
    fields: dict[str, Field] = {}
    for tag in re.findall(r"<input\b[^>]*>", body, re.I):
        name = re.search(r'\bname="([^"]+)"', tag)
        if not name:
            continue
        kind = (re.search(r'\btype="([^"]+)"', tag) or [None, "text"])[1].lower()
        value = unescape((re.search(r'\bvalue="([^"]*)"', tag) or [None, ""])[1])
        checked = bool(re.search(r"\bchecked\b", tag))
        key = unescape(name.group(1))
        field = fields.get(key)
        if kind in ("checkbox", "radio"):
            if field is None:
                field = fields[key] = Field(key, kind, multiple=kind == "checkbox")
            field.options.append(value or "y")
            if checked:
                field.checked, field.value = True, value or "y"
                field.chosen.append(value or "y")
            continue
        fields[key] = Field(key, kind, value)
    for attrs, inner in re.findall(r"<select\b([^>]*)>(.*?)</select>", body, re.S | re.I):
        name = re.search(r'\bname="([^"]+)"', attrs)
        if not name:
            continue
        key = unescape(name.group(1))
        tags = re.findall(r"<option\b[^>]*>", inner, re.I)
        values = [(unescape((re.search(r'\bvalue="([^"]*)"', t) or [None, ""])[1]), bool(re.search(r"\bselected\b", t)))
                  for t in tags]
        options = [v for v, _sel in values]
        selected = [v for v, sel in values if sel]
        fields[key] = Field(key, "select", selected[0] if selected else (options[0] if options else ""), options,
                            multiple="multiple" in attrs, chosen=selected)
    for attrs, inner in re.findall(r"<textarea\b([^>]*)>(.*?)</textarea>", body, re.S | re.I):
        name = re.search(r'\bname="([^"]+)"', attrs)
        if name:
            text = unescape(inner)
            fields[unescape(name.group(1))] = Field(unescape(name.group(1)), "textarea",
                                                    text[1:] if text.startswith("\n") else text)
    return fields


def submission(fields: dict[str, Field]) -> dict:
    """What a browser sends for the form as rendered (checked boxes, selected options, text values)."""
    data = {}
    for f in fields.values():
        if f.kind in ("submit", "button", "file", "image", "reset"):
            continue
        if f.multiple:
            if f.chosen:
                data[f.name] = list(f.chosen)
            continue
        if f.kind in ("checkbox", "radio"):
            if f.checked:
                data[f.name] = f.value
            continue
        data[f.name] = f.value
    return data
