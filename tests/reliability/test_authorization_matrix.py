"""Authorization matrix generated from `app.url_map`: every route × every role and anonymous, on the demo city.

For each route, ids come from seeded objects (of the user's own department where the object has one). Expected:
never a 500; anonymous users are sent to the login page (401 JSON on the API) except on public routes;
the three administrators get 403 on every business page (三员分立) and on each other's admin areas; business
users get 403 in the admin area. Then cross-department access by id: every object type owned by department A,
requested (GET and POST) by an editor and a head of department B — 403/404, never 200, nothing written.
"""

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token
from tests.reliability.support import (
    ADMIN_ROLES,
    BUSINESS_ROLES,
    CAMPAIGN_UNITS,
    DEPARTMENTS,
    ROLES,
    ROUTES,
    owned_by,
    pick_ids,
    table_counts,
    table_for,
    url_for_route,
)

ANONYMOUS = "anonymous"
# A refusal: forbidden, or not found when the view looks the object up within the user's scope first (no leak
# either way); 401 on the API, which takes tokens, not sessions. Never 2xx/3xx — a redirect with a flash is
# not a refusal the matrix accepts.
DENIED = (401, 403, 404)


def _request(client, route, url: str, token_url: str):
    if route.method == "GET":
        return client.get(url)
    data = {"csrf_token": csrf_token(client, token_url)}
    if route.is_api:
        return client.post(url, json={}, headers={"X-CSRFToken": data["csrf_token"]})
    return client.post(url, data=data)


def _problem(route, role: str, response) -> str | None:
    status = response.status_code
    if status >= 500:
        return f"{role}: {status}"
    if role == ANONYMOUS:
        if route.is_public:
            return None
        if route.is_api:
            return None if status == 401 else f"{role}: {status}, expected 401 (API)"
        location = response.headers.get("Location", "")
        return None if status == 302 and "/login" in location else f"{role}: {status} {location}, expected login"
    if role in ADMIN_ROLES and route.is_business:
        return None if status in DENIED else f"{role}: {status}, expected 403 (三员分立)"
    owner = route.admin_owner
    if owner is not None and role != owner:
        return None if status in DENIED else f"{role}: {status}, expected 403 (admin area of {owner})"
    if role in ("sec_admin", "audit_admin") and route.starts(("/org", "/campaigns/units", "/account/tokens")):
        return None if status in DENIED else f"{role}: {status}, expected 403"
    return None


@pytest.mark.parametrize("route", ROUTES, ids=[r.id for r in ROUTES])
def test_route_for_every_role(route, app, city, login_demo):
    problems = []
    for role in (ANONYMOUS, *ROLES):
        user = city.users.get(role)
        scope = sorted(user.visible_department_ids() or []) if user is not None and user.department_id else None
        values, _complete = pick_ids(route, scope, avoid_users=[u.id for u in city.users.values()])
        url = url_for_route(route, values)
        client = app.test_client()
        if user is not None:
            login_demo(user, on=client)
        response = _request(client, route, url, "/" if user is not None else "/login")
        problem = _problem(route, role, response)
        if problem:
            problems.append(f"{url} {problem}")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- cross-department access by id


def _traceable(route, hierarchy) -> bool:
    return any(a.endswith("_id") and (t := table_for(route, a)) is not None and owned_by(t, [0], hierarchy) is not None
               for a in route.arguments)


CROSS = [(route, hierarchy) for hierarchy in (DEPARTMENTS, CAMPAIGN_UNITS) for route in ROUTES
         if not route.is_public and _traceable(route, hierarchy)]


def _subtree(table_name: str, root_id: int) -> list[int]:
    from govrisk.extensions import db
    from tests.reliability.support import _table

    table = _table(table_name)
    ids, frontier = {root_id}, {root_id}
    while frontier:
        frontier = set(db.session.scalars(sa.select(table.c.id).where(table.c.parent_id.in_(frontier)))) - ids
        ids |= frontier
    return sorted(ids)


def _sides(city, hierarchy):
    """(owner ids of side A, the two outsiders of side B) for a hierarchy."""
    from govrisk.auth.queries import get_user_by_username
    from tests.reliability.support import _table

    if hierarchy is DEPARTMENTS:  # 市场监管局 (and its offices) vs the editor and head of 住建局
        return sorted(city.users["dept_editor"].visible_department_ids()), [city.other_editor,
                                                                            get_user_by_username("head2")]
    units = _table("campaign_units")  # 东城区处非办 and its sub-units vs the editor and head of 西城区处非办
    from govrisk.extensions import db

    dc = db.session.scalar(sa.select(units.c.id).where(units.c.code == "DC"))
    return _subtree("campaign_units", dc), [get_user_by_username("xc_editor"), get_user_by_username("xc_head")]


@pytest.mark.parametrize(("route", "hierarchy"), CROSS, ids=[f"{r.id} [{h.name}]" for r, h in CROSS])
def test_other_department_gets_no_access_by_id(route, hierarchy, app, city, login_demo):
    """Objects owned by side A, requested by side B's editor and head: 403/404, never 200; a POST writes nothing."""
    owners, outsiders = _sides(city, hierarchy)
    values, complete = pick_ids(route, owners, hierarchy=hierarchy)
    owned_args = [a for a in route.arguments if a.endswith("_id") and _owned(route, a, values[a], owners, hierarchy)]
    if not complete or not owned_args:
        pytest.skip(f"the demo city has no {hierarchy.name}-owned object for {route.rule}")
    url = url_for_route(route, values)
    for outsider in outsiders:
        client = app.test_client()
        login_demo(outsider, on=client)
        before = table_counts() if route.method == "POST" else None
        response = _request(client, route, url, "/")
        assert response.status_code in (403, 404), (
            f"{outsider.username} got {response.status_code} on {url} ({', '.join(owned_args)} of another "
            f"{hierarchy.name})")
        if before is not None:
            after = table_counts()
            assert after == before, {k: (before[k], after[k]) for k in after if after[k] != before[k]}


def _owned(route, arg: str, value, owners, hierarchy) -> bool:
    from govrisk.extensions import db

    table = table_for(route, arg)
    owned = owned_by(table, owners, hierarchy) if table is not None else None
    return owned is not None and db.session.scalar(owned.where(table.c.id == value)) is not None


def test_matrix_covers_every_role_and_route():
    assert len(CROSS) > 60, "cross-department checks lost their routes"
    assert len(ROUTES) > 100 and set(ROLES) == {"dept_editor", "dept_head", "inspector", "sys_admin", "sec_admin",
                                                "audit_admin"}
    assert set(BUSINESS_ROLES) | set(ADMIN_ROLES) == set(ROLES)
