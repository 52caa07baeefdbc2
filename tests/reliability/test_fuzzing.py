"""Hypothesis fuzzing of every form, every page's filters and the JSON API, on the demo city.

Forms are found from `app.url_map` (a rule that answers GET and POST), opened by the first role that may open
them (on an editable record where the rule names one), parsed, and submitted with random values in each field
(CSRF token kept valid: the inputs are fuzzed, not the session). Expected: never a 500; a refused submission (4xx)
writes nothing — the row count of every table is the same before and after. Every route is a test of its own and
every test asserts: a route that no demo role can open fails, it is never skipped.
"""

import json
import re
from urllib.parse import urljoin

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govrisk.extensions import db
from tests.conftest import csrf_token
from tests.reliability.support import (
    ROUTES,
    form_fields,
    parse_fields,
    pick_ids,
    submission,
    table_counts,
    url_for_route,
)

# ~200 tests: 25 examples each keeps the file near two minutes on SQLite (a deeper run found nothing more at 150)
SETTINGS = settings(max_examples=25, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))
NASTY = ["", " ", "0", "-1", "1e309", "NaN", "9" * 30, "' OR 1=1 --", "<script>alert(1)</script>", "{{7*7}}",
         "%(x)s", "../../etc/passwd", "\u202e\u200b", "２０２６", "二〇二六年", "2026-02-30", "2026-13-01",
         "0001-01-01", "9999-12-31T23:59:59+14:00", "null", "[]", "{}", "true", "😀" * 20, "a" * 5000, "\r\n\t",
         "\x00", "a\x00b", "-", "-code", "%", "_", "\\"]
TEXT = st.one_of(st.sampled_from(NASTY), st.text(max_size=40), st.integers(-10 ** 12, 10 ** 12).map(str))

FILE_SUFFIXES = (".pdf", ".xlsx", ".docx", ".csv", ".svg", ".png")
FORM_ROUTES = sorted({r.rule: r for r in ROUTES if r.method == "POST" and any(
    o.rule == r.rule and o.method == "GET" for o in ROUTES)}.values(), key=lambda r: r.rule)
FORM_RULES = {r.rule for r in FORM_ROUTES}
# Every page a browser opens (list pages with their filter forms, detail pages with theirs); downloads excepted.
PAGES = [r for r in ROUTES if r.method == "GET" and not r.is_api and not r.rule.endswith(FILE_SUFFIXES)
         and ".<" not in r.rule and r.endpoint != "auth.set_language"]
API_ROUTES = [r for r in ROUTES if r.is_api]
# Forms carrying the optimistic-locking field; test_fuzz_form checks this list against the rendered forms.
VERSIONED_FORMS = (
    "/accountability/actions/<int:action_id>/edit", "/accountability/actions/new", "/accountability/findings/new",
    "/accountability/rectifications/<int:rectification_id>", "/admin/users/<int:user_id>",
    "/campaigns/<int:campaign_id>/edit", "/campaigns/education/<int:session_id>", "/campaigns/education/new",
    "/campaigns/new", "/campaigns/reports/<int:report_id>/texts", "/campaigns/units/<int:unit_id>/edit",
    "/campaigns/units/new", "/catalog/powers/<int:power_id>/edit", "/catalog/powers/new",
    "/feedback/inbox/<int:feedback_id>", "/flows/<int:flow_id>/edit", "/flows/new",
    "/org/departments/<int:department_id>/edit", "/org/departments/<int:department_id>/people/<int:person_id>",
    "/org/departments/<int:department_id>/people/new", "/org/departments/<int:department_id>/posts/<int:post_id>",
    "/org/departments/<int:department_id>/posts/new", "/org/departments/new", "/review/<int:cycle_id>/edit",
    "/review/new", "/risks/<int:point_id>/edit", "/risks/measures/<int:measure_id>", "/risks/new",
)
ORDER = ("inspector", "dept_editor", "dept_head", "sys_admin", "sec_admin", "audit_admin", None)
# Records the forms can still change (a draft, a returned version, an open finding, a planned measure …)
EDITABLE = ("draft", "returned", "proposed", "ordered", "planned", "in_progress", "planning")


def _reference_kind() -> dict:
    from govrisk.core.reference import reference_kinds

    return {"kind": reference_kinds()[0][0]}


def _power_without_flow(city) -> dict:
    from govrisk.catalog.models import Power
    from govrisk.flows.models import Flow

    code = db.session.scalar(sa.select(Power.code).where(
        Power.department_id == city.home.id, ~sa.select(Flow.id).where(Flow.power_id == Power.id).exists())
        .order_by(Power.id).limit(1))
    return {"power_code": code, "kind": "internal"}


# Pages whose form is shown only for a chosen subject (?kind=, ?power_code=)
QUERIES = {"/admin/reference": lambda city: _reference_kind(), "/flows/new": _power_without_flow}


def _open(app, route, city, login_demo, *, with_form: bool):
    """(client, url, page) for the first role that gets the page (with a POST form when with_form); else fail."""
    tried = []
    for role in ORDER:
        user = city.users.get(role) if role else None
        client = app.test_client()
        if user is not None:
            login_demo(user, on=client)
        scope = sorted(user.visible_department_ids() or []) if user is not None and user.department_id else None
        values, _complete = pick_ids(route, scope, avoid_users=[u.id for u in city.users.values()],
                                     states=EDITABLE if route.rule in FORM_RULES else ())
        url = url_for_route(route, values)
        query = QUERIES[route.rule](city) if route.rule in QUERIES else {}
        if query:
            url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        page = client.get(url)
        tried.append(f"{role}: {page.status_code}")
        if page.status_code != 200:
            continue
        if not with_form or ("text/html" in page.content_type and form_fields(page.get_data(as_text=True), url)):
            return client, url, page
    pytest.fail(f"no demo role opens {'a form on ' if with_form else ''}{route.rule} ({', '.join(tried)})")


def _open_form(app, route, city, login_demo):
    """(client, url, fields without the CSRF token, CSRF token) of the first role that gets the form."""
    client, url, page = _open(app, route, city, login_demo, with_form=True)
    fields = form_fields(page.get_data(as_text=True), url)
    token = fields.pop("csrf_token", None)
    return client, url, fields, token.value if token else csrf_token(client, "/")


def _value_strategy(field):
    if field.kind == "select":
        choice = st.sampled_from(field.options) if field.options else st.just("")
        one = st.one_of(choice, choice, TEXT)
        return st.lists(one, max_size=3) if field.multiple else one
    if field.kind == "checkbox":
        return st.lists(st.one_of(st.sampled_from(field.options or ["y"]), TEXT), max_size=3)
    if field.kind == "radio":
        return st.one_of(st.none(), st.sampled_from(field.options or ["y"]), TEXT)
    if field.kind == "number":
        return st.one_of(st.integers(-10 ** 6, 10 ** 6).map(str), st.floats(allow_nan=True).map(str), TEXT)
    if field.kind == "date":
        return st.one_of(st.dates().map(lambda d: d.isoformat()), TEXT)
    if field.name == "version":  # fuzzed on its own below (test_tampered_version_is_refused)
        return st.just(field.value)
    return st.one_of(st.just(field.value), TEXT)


def _post(client, url: str, data: dict, token: str):
    return client.post(url, data={**{k: v for k, v in data.items() if v is not None}, "csrf_token": token})


def _assert_nothing_written(before: dict, after: dict, url: str, status: int, data) -> None:
    changed = {k: (before[k], after[k]) for k in after if after[k] != before.get(k)}
    if url.startswith("/login"):  # a failed login is itself recorded (audit entry, failure count)
        changed.pop("audit_entries", None)
    assert not changed, f"{url} refused ({status}) but wrote {changed} for {data!r}"


@pytest.mark.parametrize("route", FORM_ROUTES, ids=[r.rule for r in FORM_ROUTES])
def test_fuzz_form(route, app, city, login_demo):
    client, url, fields, token = _open_form(app, route, city, login_demo)
    assert ("version" in fields) == (route.rule in VERSIONED_FORMS), \
        f"{route.rule}: update VERSIONED_FORMS (the form {'has' if 'version' in fields else 'lacks'} `version`)"
    strategy = st.fixed_dictionaries({name: _value_strategy(f) for name, f in fields.items()})

    @SETTINGS
    @given(data=strategy)
    def submit(data):
        before = table_counts()
        response = _post(client, url, data, token)
        assert response.status_code < 500, f"{url}: {response.status_code} for {data!r}"
        if response.status_code >= 400:
            _assert_nothing_written(before, table_counts(), url, response.status_code, data)

    submit()


PREFERRED_TEXT = ("name", "title", "display_name", "topic", "description", "duties", "note", "requirement", "facts",
                  "manifestation", "leadership")


def _edited(fields) -> dict:
    """The form as rendered with one text field changed, so that saving it writes (the audit entry at least)."""
    data = submission(fields)
    texts = [n for n, f in fields.items() if f.kind in ("text", "textarea") and (
        n in PREFERRED_TEXT or n.endswith("-name"))]
    if texts:
        data[texts[0]] = f"{data[texts[0]][:40]}（改）"
    return data


@pytest.mark.parametrize("rule", VERSIONED_FORMS)
def test_tampered_version_is_refused(rule, app, city, login_demo):
    """The hidden optimistic-locking field altered: never a 500, nothing written on refusal. On an edit form a version
    that is not the one loaded (another number, or not a number at all) refuses the edit — nothing is written —
    while the same edit with the version as loaded is saved."""
    route = next(r for r in FORM_ROUTES if r.rule == rule)
    client, url, fields, token = _open_form(app, route, city, login_demo)
    editing = fields["version"].value.isdigit()  # a new record's form carries an empty version
    assert editing == bool(route.arguments and not rule.endswith("/new")), f"{url}: version={fields['version']!r}"
    data = _edited(fields)
    for junk in ("abc", "1.5", "1\x00", "-1", "0", "０", "9" * 30, "9" * 5000):
        before = table_counts()
        response = _post(client, url, {**data, "version": junk}, token)
        assert response.status_code < 500, f"{url}: {response.status_code} for version={junk[:40]!r}"
        if editing:
            assert table_counts() == before, f"{url}: saved with version={junk[:40]!r} ({response.status_code})"
        elif response.status_code >= 400:
            _assert_nothing_written(before, table_counts(), url, response.status_code, junk)
    if editing:  # the control: the edit itself is accepted
        before = table_counts()
        response = _post(client, url, data, token)
        assert response.status_code < 400 and table_counts() != before, \
            f"{url}: the edit with the version as loaded answered {response.status_code} and wrote nothing"
    before = table_counts()  # blank is "no version sent" (a client without one): not checked, never a 500
    response = _post(client, url, {**data, "version": ""}, token)
    assert response.status_code < 500, f"{url}: {response.status_code} for a blank version"
    if response.status_code >= 400:
        _assert_nothing_written(before, table_counts(), url, response.status_code, "")


def _filter_fields(html: str) -> dict:
    """The fields of the page's GET forms (search boxes and filters)."""
    fields = {}
    for attrs, body in re.findall(r"<form\b([^>]*)>(.*?)</form>", html, re.S | re.I):
        if "post" not in attrs.lower():
            fields.update(parse_fields(body))
    return fields


@pytest.mark.parametrize("route", PAGES, ids=[r.rule for r in PAGES])
def test_fuzz_page_filters(route, app, city, login_demo):
    """Random values in the page's own filter fields (and page/sort/per_page/q): never a 500."""
    client, url, page = _open(app, route, city, login_demo, with_form=False)
    base, _sep, query = url.partition("?")
    fixed = dict(p.split("=", 1) for p in query.split("&")) if query else {}
    fields = _filter_fields(page.get_data(as_text=True)) if "text/html" in page.content_type else {}
    names = sorted(set(fields) | {"page", "sort", "per_page", "q"})

    def value(name):
        options = [o for o in (fields[name].options if name in fields else []) if o]
        return st.one_of(st.sampled_from(options), TEXT) if options else TEXT

    @SETTINGS
    @given(params=st.lists(st.sampled_from(names), max_size=4, unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries({n: value(n) for n in chosen})))
    def browse(params):
        before = table_counts()
        response = client.get(base, query_string={**fixed, **params})
        assert response.status_code < 500, f"{base}?{params!r}: {response.status_code}"
        if response.status_code in (301, 302, 303, 307, 308):  # a refusal sent back to the same address would loop
            assert urljoin(response.request.url, response.location) != response.request.url, f"{base}?{params!r}"
        assert table_counts() == before, f"{base}?{params!r} wrote on a GET"

    browse()


def test_nul_characters_are_refused_before_any_handler(app, city, login_demo):
    """A NUL character (which PostgreSQL cannot store) in an address, a filter or a form field: 400 on every database,
    nothing written; the same form without it is saved."""
    inspector = login_demo(city.users["inspector"], on=app.test_client())
    assert inspector.get("/catalog/powers", query_string={"q": "食品\x00"}).status_code == 400
    api = app.test_client().get("/api/v1/powers/XK-0001%00")
    assert api.status_code == 400 and api.is_json and "NUL" in api.get_json()["error"]["message"]
    admin = login_demo(city.users["sys_admin"], on=app.test_client())
    token = csrf_token(admin, "/admin/calendar")
    day = {"day": "2031-05-06", "kind": "holiday", "name": "调休\x00"}
    before = table_counts()
    assert _post(admin, "/admin/calendar", day, token).status_code == 400
    assert table_counts() == before
    assert _post(admin, "/admin/calendar", {**day, "name": "调休"}, token).status_code == 302
    assert table_counts() != before


# ---------------------------------------------------------------- the JSON API


JSON_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                           max_leaves=8)
EVENT = st.fixed_dictionaries({"case_id": TEXT, "power_code": st.one_of(st.just("XK-0001"), TEXT),
                               "step_id": st.one_of(st.sampled_from(["accept", "review", "decide"]), TEXT),
                               "event": st.one_of(st.sampled_from(["enter", "complete"]), TEXT),
                               "actor": TEXT, "at": st.one_of(st.datetimes().map(lambda d: d.isoformat()), TEXT)})
API_TESTS = {  # API rule → the test below that fuzzes it
    ("GET", "/api/v1/powers"): "test_fuzz_api_powers_list",
    ("GET", "/api/v1/powers/<code>"): "test_fuzz_api_power_by_code",
    ("POST", "/api/v1/supervision/events"): "test_fuzz_api_supervision_events",
    ("GET", "/api/v1/flows/<code>"): "test_fuzz_api_flows_of_power",
    ("POST", "/api/v1/flows"): "test_fuzz_api_flow_import",
}
CODE = TEXT.filter(lambda c: c and "/" not in c and "\x00" not in c and c not in (".", ".."))


def test_every_api_endpoint_is_fuzzed():
    assert {(r.method, r.rule) for r in API_ROUTES} == set(API_TESTS)
    assert all(name in globals() for name in API_TESTS.values())


@pytest.fixture
def ingest_token(city):
    from govrisk.auth.operations import create_api_token

    editor = city.users["dept_editor"]
    _token, raw = create_api_token(editor, "fuzz", actor=editor, scopes="read ingest")
    db.session.commit()  # made before the requests (released savepoint): a refused request keeps it
    return raw


def test_fuzz_api_powers_list(app):
    client = app.test_client()

    @SETTINGS
    @given(params=st.dictionaries(st.sampled_from(["q", "page", "per_page", "category", "department", "view",
                                                   "state", "sort", "major"]), TEXT, max_size=4))
    def browse(params):
        response = client.get("/api/v1/powers", query_string=params)
        assert response.status_code < 500 and response.is_json, (params, response.status_code)

    browse()


def test_fuzz_api_power_by_code(app):
    client = app.test_client()

    @SETTINGS
    @given(code=CODE)
    def lookup(code):
        response = client.get(f"/api/v1/powers/{code}")
        assert response.status_code in (200, 404) and response.is_json, (code, response.status_code)

    lookup()


def test_fuzz_api_flows_of_power(app, ingest_token):
    """Anonymous and with a token, a random or real power code and random view/kind/format: never a 500."""
    client = app.test_client()

    @SETTINGS
    @given(code=st.one_of(st.sampled_from(["XK-0001", "YX-SCJG-CF-0001"]), CODE), signed=st.booleans(),
           params=st.dictionaries(st.sampled_from(["view", "kind", "format"]),
                                  st.one_of(st.sampled_from(["public", "internal", "external", "bpmn"]), TEXT),
                                  max_size=3))
    def lookup(code, signed, params):
        headers = {"Authorization": f"Bearer {ingest_token}"} if signed else {}
        response = client.get(f"/api/v1/flows/{code}", query_string=params, headers=headers)
        assert response.status_code < 500, (code, params, response.status_code)
        assert response.is_json or response.mimetype == "application/xml", (code, params, response.mimetype)

    lookup()


def _assert_api_refusal_wrote_nothing(before, response, body):
    assert response.status_code < 500 and response.is_json, (body, response.status_code)
    if response.status_code >= 400:
        after = table_counts()
        changed = {k: (before[k], after[k]) for k in after if after[k] != before[k]}
        assert not changed, f"refused ({response.status_code}) but wrote {changed} for {body!r}"


def test_fuzz_api_supervision_events(app, ingest_token):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {ingest_token}"}

    @SETTINGS
    @given(body=st.one_of(st.lists(EVENT, max_size=4), JSON_VALUES, st.binary(max_size=200)))
    def post(body):
        before = table_counts()
        data = body if isinstance(body, bytes) else json.dumps(body)
        response = client.post("/api/v1/supervision/events", data=data, headers={
            **headers, "Content-Type": "application/json"})
        _assert_api_refusal_wrote_nothing(before, response, body)

    post()


def _flow_document(city) -> dict:
    """The §7.1 document of a published home flow, as the export gives it."""
    from govrisk.flows import queries
    from govrisk.flows.models import Flow

    flow = db.session.scalars(sa.select(Flow).join(Flow.power).where(
        Flow.power.has(department_id=city.home.id)).order_by(Flow.id)).first()
    return queries.flow_doc(flow).to_dict()


def test_fuzz_api_flow_import(app, city, ingest_token):
    """A real document with one field replaced by junk, random JSON, or random bytes (as JSON or as XML)."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {ingest_token}"}
    document = _flow_document(city)

    def mutate(draw_key, junk):
        return {**document, draw_key: junk}

    @SETTINGS
    @given(body=st.one_of(st.builds(mutate, st.sampled_from(sorted(document)), JSON_VALUES), JSON_VALUES,
                          st.binary(max_size=200)),
           xml=st.booleans())
    def post(body, xml):
        before = table_counts()
        data = body if isinstance(body, bytes) else json.dumps(body)
        response = client.post("/api/v1/flows", data=data, headers={
            **headers, "Content-Type": "application/xml" if xml else "application/json"})
        _assert_api_refusal_wrote_nothing(before, response, body)

    post()


def test_fuzz_api_bearer_header(app):
    client = app.test_client()

    @SETTINGS
    @given(header=TEXT.filter(lambda h: h.isprintable() and h.isascii()))
    def call(header):
        response = client.get("/api/v1/powers", headers={"Authorization": header})
        assert response.status_code in (200, 401), (header, response.status_code)

    call()
