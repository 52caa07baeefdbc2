"""Supervision pages and the intake API through the app: access and scoping, import, transitions, downloads."""

import io
import json

import pytest
import sqlalchemy as sa

from govrisk.extensions import db
from govrisk.supervision.models import Alert, SupervisionEvent
from govrisk.supervision.workflow import AlertState
from tests.conftest import PASSWORD, post_form
from tests.supervision.conftest import DEMO_EVENTS, csv_of


@pytest.fixture
def month(food, ingest, scan):
    """The demo month imported and scanned as of its last evening."""
    ingest(DEMO_EVENTS.read_bytes())
    scan("2026-10-30 18:00")
    db.session.commit()  # kept when a refused request rolls back (tests run inside one outer transaction)
    return food


@pytest.fixture
def users(food, create_user, create_department):
    other = create_department(code="T-OTHER", name="其他局")
    people = {"editor": create_user("dept_editor", department=food.department),
              "head": create_user("dept_head", department=food.department),
              "inspector": create_user("inspector"),
              "other": create_user("dept_head", department=other),
              "sysadmin": create_user("sys_admin")}
    db.session.commit()
    return people


def fresh_login(app, user):
    """A second browser: its own client and session, logged in as user."""
    other = app.test_client()
    assert post_form(other, "/login", {"username": user.username, "password": PASSWORD}).status_code == 302
    return other


def _alert(code, case_ref):
    return db.session.scalar(sa.select(Alert).where(Alert.code == code, Alert.case_ref == case_ref))


@pytest.mark.parametrize("role, status", [("inspector", 200), ("head", 200), ("editor", 200), ("other", 200),
                                          ("sysadmin", 403)])
@pytest.mark.parametrize("url", ["/supervision/", "/supervision/alerts", "/supervision/cases",
                                 "/supervision/quarantine"])
def test_list_pages_by_role(month, users, login_as, role, status, url):
    response = login_as(users[role]).get(url)
    assert response.status_code == status


def test_the_dashboard_shows_the_hand_counted_figures(month, users, login_as):
    html = login_as(users["head"]).get("/supervision/?year=2026&month=10").get_data(as_text=True)
    assert 'id="kpiReceived">19<' in html and 'id="kpiCompleted">16<' in html
    assert 'id="kpiOnTime">93.8%<' in html and 'id="kpiEarly">87.5%<' in html
    assert "市场监督管理局" in html and "<svg" in html


def test_other_departments_see_none_of_it(month, users, login_as):
    client = login_as(users["other"])
    assert "市场监督管理局" not in client.get("/supervision/?year=2026").get_data(as_text=True)
    assert "XK2026-10" not in client.get("/supervision/alerts").get_data(as_text=True)
    assert "XK2026-10" not in client.get("/supervision/cases").get_data(as_text=True)
    alert = _alert("red_card", "XK2026-1007")
    assert client.get(f"/supervision/alerts/{alert.id}").status_code == 403
    assert client.get(f"/supervision/cases/{alert.case_id}").status_code == 403
    assert client.get("/supervision/alerts/999999").status_code == 404


def test_alert_filters(month, users, login_as):
    client = login_as(users["inspector"])
    html = client.get("/supervision/alerts?code=yellow_card").get_data(as_text=True)
    assert html.count('data-code="yellow_card"') == 2 and 'data-code="red_card"' not in html
    html = client.get("/supervision/alerts?q=XK2026-1010").get_data(as_text=True)
    assert html.count("data-alert=") == 1 and "周雅楠" in html
    assert "没有符合条件的预警" in client.get("/supervision/alerts?q=nothing-like-this").get_data(as_text=True)


def test_the_department_appeals_and_the_inspector_revokes_with_a_reason(month, users, login_as, client):
    alert = _alert("sod_violation", "XK2026-1010")
    url = f"/supervision/alerts/{alert.id}"
    login_as(users["head"])
    page = client.get(url).get_data(as_text=True)
    assert 'value="appeal"' in page and 'value="revoke"' not in page
    response = post_form(client, f"{url}/transition", {"transition": "appeal", "version": alert.version,
                                                       "comment": ""}, token_url=url)
    assert response.status_code == 302 and alert.state is AlertState.OPEN  # a reason is required
    post_form(client, f"{url}/transition", {"transition": "appeal", "version": alert.version,
                                            "comment": "决定由分管领导授权审查岗代签，已补授权书"}, token_url=url)
    db.session.refresh(alert)
    assert alert.state is AlertState.APPEALED
    inspector = fresh_login(client.application, users["inspector"])
    post_form(inspector, f"{url}/transition", {"transition": "revoke", "version": alert.version,
                                               "comment": "授权书属实，撤销预警"}, token_url=url)
    db.session.refresh(alert)
    assert alert.state is AlertState.REVOKED
    page = inspector.get(url).get_data(as_text=True)
    assert "授权书属实，撤销预警" in page and "决定由分管领导授权审查岗代签" in page


def test_the_case_page_draws_the_case_on_its_flow(month, users, login_as):
    case_id = _alert("skipped_step", "XK2026-1009").case_id
    html = login_as(users["editor"]).get(f"/supervision/cases/{case_id}").get_data(as_text=True)
    assert "<svg" in html and "越流程" in html and "现场核查（未经过）" in html
    assert html.count('data-step="') == 5


def test_import_page_previews_then_stores_and_scans(food, users, login_as, client):
    login_as(users["editor"])
    data = csv_of(("P1", "XK-0001", "accept", "enter", "侯佳怡", "2026-10-12 09:30"),
                  ("P1", "XK-9999", "accept", "enter", "侯佳怡", "2026-10-12 09:30"))
    response = post_form(client, "/supervision/import", {"file": (io.BytesIO(data), "events.csv")},
                         token_url="/supervision/import", content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "新事件 1" in html and "放入暂存区 1" in html and "职权编码不存在" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SupervisionEvent)) == 0  # preview writes nothing
    token = html.split('name="token" value="')[1].split('"')[0]
    response = post_form(client, "/supervision/import", {"token": token}, token_url="/supervision/import")
    assert response.status_code == 302 and "/supervision/alerts" in response.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SupervisionEvent)) == 1
    assert _alert("unknown_reference", "P1") is not None  # the import scanned right away


def test_import_page_lists_bad_rows_and_writes_nothing(food, users, login_as, client):
    login_as(users["inspector"])
    data = b"case_id,power_code,step_id,event,actor,at\nP1,XK-0001,accept,begin,x,2026-10-12T09:30:00\n"
    response = post_form(client, "/supervision/import", {"file": (io.BytesIO(data), "events.csv")},
                         token_url="/supervision/import", content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "整批未写入" in html
    assert "缺少 UTC 偏移" in html and "enter 或 complete" in html


def test_heads_may_not_import(food, users, login_as):
    assert login_as(users["head"]).get("/supervision/import").status_code == 403


def test_reprocess_and_scan_are_for_inspectors(month, users, login_as, client):
    login_as(users["head"])
    assert post_form(client, "/supervision/quarantine/reprocess", token_url="/supervision/").status_code == 403
    assert post_form(client, "/supervision/scan", token_url="/supervision/").status_code == 403
    inspector = fresh_login(client.application, users["inspector"])
    response = post_form(inspector, "/supervision/quarantine/reprocess", token_url="/supervision/")
    assert response.status_code == 302


def test_downloads(month, users, login_as):
    from openpyxl import load_workbook

    client = login_as(users["head"])
    response = client.get("/supervision/alerts.xlsx?code=red_card")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "编号" and len(rows) == 1 + 5 and {r[1] for r in rows[1:]} == {"红牌"}
    pdf = client.get("/supervision/report.pdf?year=2026&month=10")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


# ---------------------------------------------------------------- API


@pytest.fixture
def token(users):
    from govrisk.auth.operations import create_api_token

    def make(role="editor", scopes="read ingest"):
        raw = create_api_token(users[role], "业务系统", actor=None, scopes=scopes)[1]
        db.session.commit()
        return raw

    return make


EVENT = {"case_id": "A1", "power_code": "XK-0001", "step_id": "accept", "event": "enter", "actor": "侯佳怡",
         "at": "2026-10-12T09:30:00+08:00"}


def _post(client, body, raw=None, **headers):
    return client.post("/api/v1/supervision/events", data=json.dumps(body) if raw is None else raw,
                       content_type="application/json", headers=headers)


def test_api_stores_a_batch_idempotently(food, client, token):
    auth = {"Authorization": f"Bearer {token()}"}
    response = _post(client, [EVENT, {**EVENT, "event": "complete", "at": "2026-10-12T10:00:00+08:00"}], **auth)
    assert response.status_code == 201 and response.json["stored"] == 2
    again = _post(client, [EVENT], **auth)
    assert again.status_code == 200 and again.json == {**again.json, "stored": 0, "duplicates": 1}


@pytest.mark.parametrize("headers, status, words", [
    ({}, 401, "Bearer"),
    ({"Authorization": "Bearer not-a-token"}, 401, "无效"),
    ({"Authorization": "Basic abc"}, 401, "Bearer"),
])
def test_api_refuses_calls_without_a_valid_token(food, client, headers, status, words):
    response = _post(client, [EVENT], **headers)
    assert response.status_code == status and words in response.json["error"]["message"]


def test_api_needs_the_ingest_scope_and_the_permission(food, client, token):
    response = _post(client, [EVENT], Authorization=f"Bearer {token(scopes='read')}")
    assert response.status_code == 403 and "ingest" in response.json["error"]["message"]
    response = _post(client, [EVENT], Authorization=f"Bearer {token(role='head')}")
    assert response.status_code == 403


def test_api_reports_bad_rows_and_writes_nothing(food, client, token):
    body = [EVENT, {**EVENT, "at": "2026-10-12T10:00:00"}, {**EVENT, "event": "finish"}]
    response = _post(client, body, Authorization=f"Bearer {token()}")
    assert response.status_code == 400
    assert [r["line"] for r in response.json["error"]["details"]["bad_rows"]] == [2, 3]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SupervisionEvent)) == 0


def test_api_refuses_a_batch_above_the_limit(food, client, token):
    response = _post(client, [EVENT] * 10_001, Authorization=f"Bearer {token()}")
    assert response.status_code == 413 and "10000" in response.json["error"]["message"]


def test_api_refuses_a_body_that_is_not_json(food, client, token):
    response = _post(client, None, raw="not json", Authorization=f"Bearer {token()}")
    assert response.status_code == 400 and "JSON" in response.json["error"]["message"]


def test_api_accepts_csv(food, client, token):
    response = client.post("/api/v1/supervision/events", data=csv_of(("A2", "XK-0001", "accept", "enter", "x",
                                                                       "2026-10-12 09:30")),
                           content_type="text/csv", headers={"Authorization": f"Bearer {token()}"})
    assert response.status_code == 201 and response.json["stored"] == 1


@pytest.mark.parametrize("url, status", [
    ("/supervision/alerts?department=999999999999999999999999&case=-3", 200),
    ("/supervision/cases?power=999999999999999999999&department=x&month=2026-13", 200),
    ("/supervision/alerts/999999999999999999999", 404),
    ("/supervision/cases/999999999999999999999", 404),
    ("/supervision/departments/999999999999999999999", 404),
    ("/supervision/?year=99999&month=77", 200),
])
def test_odd_parameters_never_fail_the_server(food, users, login_as, url, status):
    assert login_as(users["inspector"]).get(url).status_code == status
