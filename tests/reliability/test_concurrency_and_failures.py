"""Concurrent edits of one record, and an exception injected in the middle of each domain's main create operation.

Concurrent edits: two browsers open the same edit form (found from `app.url_map`: every GET+POST rule whose form
carries the optimistic-locking `version` field), the first saves, the second saves → refused with the stale-version
message (409), and the first one's value is what the record holds.

Injected failures: the operation does its work (rows and audit entry flushed) and then raises. Expected: the
friendly 500 page ("nothing was written"), not one row more in any table, and the audit chain still verifies.
"""

import io
import json
import sys
from dataclasses import dataclass, field
from datetime import date

import pytest
import sqlalchemy as sa

from govrisk.core.audit import verify_chain
from govrisk.extensions import db
from tests.conftest import csrf_token
from tests.reliability.support import ROUTES, form_fields, pick_ids, submission, table_counts, url_for_route

STALE = "已被他人修改"
PREFERRED_TEXT = ("name", "title", "display_name", "topic", "summary", "description", "duties", "note", "narrative",
                  "requirement", "plan", "facts", "manifestation", "indicator")
EDIT_FORMS = sorted({r.rule: r for r in ROUTES if r.method == "POST" and r.arguments and any(
    o.rule == r.rule and o.method == "GET" for o in ROUTES)}.values(), key=lambda r: r.rule)
ORDER = ("dept_editor", "inspector", "dept_head", "sys_admin", "sec_admin")
EDITABLE = ("draft", "returned", "proposed", "planned", "open", "preparing", "self_check")


def _text_field(fields) -> str | None:
    texts = [n for n, f in fields.items() if f.kind in ("text", "textarea") and n != "version"]
    return next((n for n in PREFERRED_TEXT if n in texts), texts[0] if texts else None)


def _open(app, route, user, login_demo):
    client = login_demo(user, on=app.test_client())
    scope = sorted(user.visible_department_ids() or []) if user.department_id else None
    url = url_for_route(route, pick_ids(route, scope, states=EDITABLE)[0])
    page = client.get(url)
    if page.status_code != 200:
        return None
    fields = form_fields(page.get_data(as_text=True), url)
    return client, url, fields


@pytest.mark.parametrize("route", EDIT_FORMS, ids=[r.rule for r in EDIT_FORMS])
def test_second_of_two_concurrent_edits_is_refused(route, app, city, login_demo):
    for role in ORDER:
        first = _open(app, route, city.users[role], login_demo)
        if first is not None and "version" in first[2] and _text_field(first[2]):
            break
    else:
        pytest.skip(f"no versioned edit form with a text field on {route.rule} in the demo city")
    client_a, url, fields_a = first
    client_b, _url, fields_b = _open(app, route, city.users[role], login_demo)
    name = _text_field(fields_a)
    data_a, data_b = submission(fields_a), submission(fields_b)
    original = data_a[name]
    data_a[name], data_b[name] = f"{original}（甲改）"[:60], f"{original}（乙改）"[:60]
    saved = client_a.post(url, data={**data_a, "csrf_token": fields_a["csrf_token"].value})
    if saved.status_code != 302:
        pytest.skip(f"{url}: the form as rendered does not save as-is ({saved.status_code})")
    before = table_counts()
    refused = client_b.post(url, data={**data_b, "csrf_token": fields_b["csrf_token"].value})
    assert refused.status_code == 409, f"{url}: second edit answered {refused.status_code}"
    assert STALE in refused.get_data(as_text=True)
    assert table_counts() == before
    reopened = form_fields(client_a.get(url).get_data(as_text=True), url)
    assert reopened[name].value == data_a[name], f"{url}: {name} is {reopened[name].value!r}, not the first edit"
    assert int(reopened["version"].value) == int(fields_a["version"].value) + 1


def test_concurrent_edits_cover_the_main_records(request):
    """The generic test above must keep exercising the register's main edit forms."""
    results = {item.callspec.params["route"].rule: item for item in request.session.items
               if item.originalname == "test_second_of_two_concurrent_edits_is_refused"}
    for rule in ("/catalog/powers/<int:power_id>/edit", "/risks/<int:point_id>/edit",
                 "/org/departments/<int:department_id>/edit", "/admin/users/<int:user_id>"):
        assert rule in results, f"{rule} is no longer an edit form"


# ---------------------------------------------------------------- an exception in the middle of an operation


@dataclass
class Case:
    """A domain's main create operation, reached through its page (or API) with valid input."""

    domain: str
    module: str
    function: str
    role: str | None
    url: str
    data: dict = field(default_factory=dict)
    json_body: object = None
    files: dict = field(default_factory=dict)


def _home_power(city, *, with_flow: bool = False, without_flow: bool = False):
    from govrisk.catalog.models import Power
    from govrisk.flows.models import Flow

    stmt = sa.select(Power).where(Power.department_id == city.home.id).order_by(Power.id)
    has_flow = sa.select(Flow.id).where(Flow.power_id == Power.id).exists()
    if with_flow:
        stmt = stmt.where(has_flow)
    if without_flow:
        stmt = stmt.where(~has_flow)
    return db.session.scalars(stmt).first()


def _cases(city) -> list[Case]:
    from govrisk.org.models import Person, Post

    home = city.home
    cases = [
        Case("org", "govrisk.org.operations", "create_department", "sys_admin", "/org/departments/new",
             {"code": "INJ-D", "name": "注入测试局", "kind": "government", "parent_id": 0}),
        Case("auth", "govrisk.auth.operations", "create_user", "sys_admin", "/admin/users/new",
             {"username": "inject.user", "display_name": "注入测试", "department_id": home.id,
              "password": "Start#2026x"}),
        Case("catalog", "govrisk.catalog.operations", "create_power", "dept_editor", "/catalog/powers/new",
             {"name": "注入测试许可", "code": "", "category": "xk", "department_id": str(home.id), "section_id": "0",
              "source": "", "level": "", "statutory_days": "20", "promised_days": "10", "is_public": "y",
              "legal_bases-0-law": "中华人民共和国行政许可法", "legal_bases-0-article": "第十二条",
              "legal_bases-0-clause": ""}),
        Case("portal", "govrisk.portal.operations", "submit_feedback", None, "/portal/feedback",
             {"category": "suggestion", "department_id": str(home.id), "power_code": "",
              "text": "建议在窗口公示办理时限和投诉电话。", "contact": ""}),
        Case("accountability", "govrisk.accountability.operations", "create_finding", "inspector",
             f"/accountability/findings/new?department_id={home.id}",
             {"source": "annual_assessment", "department_id": home.id, "title": "注入测试问题"}),
        Case("review", "govrisk.review.operations", "create_cycle", "inspector", "/review/new",
             {"year": "2031", "department_ids": [str(home.id)]}),
        Case("campaigns", "govrisk.campaigns.operations", "save_session", "dept_editor", "/campaigns/education/new",
             {"department_id": home.id, "held_on": "2026-04-16", "topic": "观看警示教育片", "form": "warning_education",
              "attendance": "40", "campaign_id": 0}),
    ]
    flowed = _home_power(city, with_flow=True)
    if flowed is not None:
        from govrisk.flows.models import Flow, FlowStep

        step = db.session.scalars(sa.select(FlowStep).join(Flow, Flow.id == FlowStep.flow_id)
                                  .where(Flow.power_id == flowed.id).order_by(FlowStep.id)).first()
        post = db.session.scalars(sa.select(Post).where(Post.department_id == home.id).order_by(Post.id)).first()
        people = db.session.scalars(sa.select(Person).where(Person.department_id == home.id)
                                    .order_by(Person.id).limit(2)).all()
        cases.append(Case("risks", "govrisk.risks.operations", "create_risk_point", "dept_editor", "/risks/new", {
            "power_id": flowed.id, "step_id": step.id, "post_id": post.id, "name": "注入测试风险点",
            "manifestation": "授意改变审查意见", "risk_type": "post_duty", "methods": ["self_check"], "likelihood": 3,
            "severity": 4, "discretion": "large", "proposed_level": 2, "responsible_id": people[0].id,
            "supervisor_id": people[1].id, "indicator": "决定与审查意见不一致件数"}))
    bare = _home_power(city, without_flow=True)
    if bare is not None:
        document = {"power_code": bare.code, "kind": "internal", "time_limit_days": 20,
                    "steps": [{"id": "accept", "name": "受理", "role": "acceptance", "time_limit_days": 1},
                              {"id": "decide", "name": "决定", "role": "decision", "time_limit_days": 5}],
                    "edges": [{"from": "accept", "to": "decide"}]}
        cases.append(Case("flows", "govrisk.flows.operations", "import_flow", "dept_editor", "/flows/import",
                          {"power_code": "", "kind": ""},
                          files={"file": (json.dumps(document, ensure_ascii=False).encode(), "flow.json")}))
    return cases


DOMAINS = ["org", "auth", "catalog", "portal", "accountability", "review", "campaigns", "risks", "flows", "supervision"]


def _inject(monkeypatch, module_name: str, function: str) -> list:
    """Make module.function do its work, then raise; patched wherever a module imported it by name."""
    module = sys.modules.get(module_name) or __import__(module_name, fromlist=[function])
    real = getattr(module, function)
    calls = []

    def exploding(*args, **kwargs):
        result = real(*args, **kwargs)
        db.session.flush()
        calls.append(result)
        raise RuntimeError(f"injected failure after {function}")

    for name, loaded in list(sys.modules.items()):
        if name.startswith("govrisk") and getattr(loaded, function, None) is real:
            monkeypatch.setattr(loaded, function, exploding)
    return calls


def _client(app, case: Case, city, login_demo):
    client = app.test_client()
    if case.role:
        login_demo(city.users[case.role], on=client)
    return client


def _submit(client, case: Case):
    token = csrf_token(client, case.url)
    data = {**case.data, "csrf_token": token}
    for name, (content, filename) in case.files.items():
        data[name] = (io.BytesIO(content), filename)
    return client.post(case.url, data=data, content_type="multipart/form-data" if case.files else None)


@pytest.mark.parametrize("domain", DOMAINS)
def test_exception_mid_operation_writes_nothing(domain, app, city, login_demo, monkeypatch):
    if domain == "supervision":
        return _supervision_case(app, city, monkeypatch)
    case = next((c for c in _cases(city) if c.domain == domain), None)
    if case is None:
        pytest.skip(f"the demo city has nothing to build a {domain} create from")
    client = _client(app, case, city, login_demo)  # logging in is audited: before the counts
    csrf_token(client, case.url)
    entries = verify_chain().checked
    before = table_counts()
    calls = _inject(monkeypatch, case.module, case.function)
    response = _submit(client, case)
    assert calls, f"{case.url} never reached {case.function} ({response.status_code}): " \
                  f"{response.get_data(as_text=True)[:300]}"
    assert response.status_code == 500 and "未写入任何数据" in response.get_data(as_text=True)
    changed = {k: (before[k], v) for k, v in table_counts().items() if v != before[k]}
    assert not changed, f"partial write after the injected failure: {changed}"
    report = verify_chain()
    assert report.ok and report.checked == entries
    monkeypatch.undo()  # the same request without the failure goes through: the input was valid
    again = _submit(client, case)
    assert again.status_code in (200, 302), again.status_code
    assert verify_chain().ok


def _supervision_case(app, city, monkeypatch):
    """The ingest API: a token call whose ingest fails after storing the batch → JSON 500, nothing kept."""
    from govrisk.auth.operations import create_api_token
    from govrisk.flows.models import Flow, FlowStep

    power = _home_power(city, with_flow=True)
    steps = db.session.scalars(sa.select(FlowStep.key).join(Flow, Flow.id == FlowStep.flow_id)
                               .where(Flow.power_id == power.id).order_by(FlowStep.position)).all()
    editor = city.users["dept_editor"]
    _token, raw = create_api_token(editor, "inject", actor=editor, scopes="read ingest")
    db.session.commit()  # as if made earlier: a failing request's rollback must not take it back
    day = date.today().isoformat()
    events = [{"case_id": "INJ-0001", "power_code": power.code, "step_id": steps[0], "event": event, "actor": "甲",
               "at": f"{day}T{9 + i:02d}:00:00+08:00"} for i, event in enumerate(("enter", "complete"))]
    before, entries = table_counts(), verify_chain().checked
    calls = _inject(monkeypatch, "govrisk.supervision.ingest", "ingest_events")
    client = app.test_client()
    response = client.post("/api/v1/supervision/events", json=events, headers={"Authorization": f"Bearer {raw}"})
    assert calls, f"ingest not reached: {response.status_code} {response.get_data(as_text=True)[:300]}"
    assert response.status_code == 500 and response.is_json
    changed = {k: (before[k], v) for k, v in table_counts().items() if v != before[k]}
    assert not changed, f"partial write after the injected failure: {changed}"
    assert verify_chain().ok and verify_chain().checked == entries
    monkeypatch.undo()
    again = client.post("/api/v1/supervision/events", json=events, headers={"Authorization": f"Bearer {raw}"})
    assert again.status_code in (200, 201, 202), again.get_data(as_text=True)[:300]
