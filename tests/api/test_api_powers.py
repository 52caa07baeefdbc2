"""GET /api/v1/powers and /api/v1/powers/<code>: anonymous vs token views, filters, paging, JSON errors, CSRF."""

import pytest

from govrisk.auth import operations as auth_ops
from govrisk.catalog import operations as ops
from govrisk.extensions import db
from tests.catalog_support import make_power, make_unit, publish
from tests.conftest import csrf_token


@pytest.fixture
def unit(create_department, create_user):
    return make_unit(create_department, create_user, code="T-API", name="接口测试局")


@pytest.fixture
def inspector(create_user, create_department):
    return create_user("inspector", department=create_department())


@pytest.fixture
def catalog(unit, inspector):
    published = publish(make_power(unit, code="API-PUB", name="公开许可"), unit, inspector)
    internal = publish(make_power(unit, code="API-INT", name="内部事项", category="rs", is_public=False), unit,
                       inspector)
    draft = make_power(unit, code="API-DRAFT", name="草稿事项")
    return published, internal, draft


def bearer(user) -> dict:
    _token, raw = auth_ops.create_api_token(user, "测试", actor=user)
    return {"Authorization": f"Bearer {raw}"}


def codes(payload) -> set[str]:
    return {item["code"] for item in payload["items"]}


def test_anonymous_sees_published_public_powers_only(client, catalog):
    payload = client.get("/api/v1/powers?department=T-API").get_json()
    assert payload["view"] == "public" and codes(payload) == {"API-PUB"} and payload["total"] == 1
    detail = client.get("/api/v1/powers/API-PUB").get_json()
    power = detail["power"]
    assert power["version"] == 1 and power["legal_bases"][0]["law"] == "中华人民共和国行政许可法"
    assert power["department"] == {"code": "T-API", "name": "接口测试局"} and "department_id" not in power
    for code in ("API-INT", "API-DRAFT", "NOPE"):
        response = client.get(f"/api/v1/powers/{code}")
        assert response.status_code == 404 and response.get_json()["error"]["status"] == 404


def test_token_sees_what_its_user_may_see(client, catalog, unit, create_department, create_user):
    headers = bearer(unit.editor)
    payload = client.get("/api/v1/powers", headers=headers).get_json()
    assert payload["view"] == "catalog" and codes(payload) == {"API-PUB", "API-INT", "API-DRAFT"}
    draft = next(i for i in payload["items"] if i["code"] == "API-DRAFT")
    assert draft["state"] == {"key": "draft", "name": "草稿"}
    detail = client.get("/api/v1/powers/API-INT", headers=headers).get_json()
    assert detail["power"]["is_public"] is False and detail["published"]["code"] == "API-INT"
    public = client.get("/api/v1/powers?view=public&department=T-API", headers=headers).get_json()
    assert codes(public) == {"API-PUB"}
    outsider = make_unit(create_department, create_user)
    other = client.get("/api/v1/powers", headers=bearer(outsider.editor)).get_json()
    assert codes(other) == set()
    assert client.get("/api/v1/powers/API-INT", headers=bearer(outsider.editor)).status_code == 404
    assert client.get("/api/v1/powers/API-PUB", headers=bearer(outsider.editor)).get_json()["view"] == "public"


def test_token_sees_draft_revision_while_anonymous_sees_published(client, catalog, unit):
    published, _, _ = catalog
    ops.update_power(published, {**ops.power_state(published), "name": "修订稿", "version": published.version},
                     actor=unit.editor)
    assert client.get("/api/v1/powers/API-PUB").get_json()["power"]["name"] == "公开许可"
    detail = client.get("/api/v1/powers/API-PUB", headers=bearer(unit.editor)).get_json()
    assert detail["power"]["name"] == "修订稿" and detail["published"]["name"] == "公开许可"


def test_revoked_or_bad_tokens_are_refused(client, catalog, unit):
    token, raw = auth_ops.create_api_token(unit.editor, "将撤销", actor=unit.editor)
    assert client.get("/api/v1/powers", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    assert token.last_used_at is not None
    auth_ops.revoke_api_token(token, actor=unit.editor)
    for header in (f"Bearer {raw}", "Bearer nonsense", "Basic abc", "Bearer "):
        response = client.get("/api/v1/powers", headers={"Authorization": header})
        assert response.status_code == 401 and "error" in response.get_json(), header


def test_filters_sorting_and_paging(client, unit, inspector):
    for i in range(7):
        publish(make_power(unit, code=f"API-P{i}", name=f"事项{i}", category="jc" if i < 3 else "xk",
                           is_major_matter=(i == 5)), unit, inspector)
    get = lambda q: client.get(f"/api/v1/powers?department=T-API&{q}").get_json()  # noqa: E731
    page = get("per_page=3&page=2")
    assert page["total"] == 7 and page["pages"] == 3 and [i["code"] for i in page["items"]] == [
        "API-P3", "API-P4", "API-P5"]
    assert codes(get("category=jc")) == {"API-P0", "API-P1", "API-P2"}
    assert codes(get("major=1")) == {"API-P5"}
    assert [i["code"] for i in get("sort=-code&per_page=2")["items"]] == ["API-P6", "API-P5"]
    assert codes(get("q=事项4")) == {"API-P4"}


@pytest.mark.parametrize("query,status", [("page=0", 400), ("per_page=abc", 400), ("category=nope", 400),
                                          ("department=NOPE", 400), ("state=weird", 400)])
def test_bad_parameters_are_json_errors(client, query, status):
    response = client.get(f"/api/v1/powers?{query}")
    assert response.status_code == status and response.get_json()["error"]["message"]


def test_unknown_api_path_and_method_are_json(client):
    assert client.get("/api/v1/nothing").get_json()["error"]["status"] == 404
    assert client.post("/api/v1/powers").get_json()["error"]["status"] in (400, 405)


@pytest.fixture
def probe_app(app):
    """The app with one writing API endpoint, to test the CSRF rule for API writes."""
    from govrisk import create_app

    probe = create_app({"CONFIG_NAME": "test", "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                        "EXTRA_BLUEPRINTS": ("tests.api_probe",)})
    from tests.conftest import IsolatedClient

    probe.test_client_class = IsolatedClient
    return probe


def test_csrf_is_exempt_for_token_calls_only(probe_app, create_user, create_department):
    user = create_user("dept_editor", department=create_department())
    with probe_app.app_context():
        raw = bearer(user)
        db.session.commit()  # the probe view does not commit, and a refused request rolls back
        client = probe_app.test_client()
        response = client.post("/api/v1/probe/echo", headers=raw)
        assert response.status_code == 200 and response.get_json() == {"user": user.username}
        assert client.post("/api/v1/probe/echo").status_code == 400  # no token, no CSRF token
        client.post("/login", data={"csrf_token": csrf_token(client), "username": user.username,
                                    "password": "Test@12345"})
        refused = client.post("/api/v1/probe/echo")  # signed in by cookie, but no CSRF token
        assert refused.status_code == 400 and "CSRF" in refused.get_json()["error"]["message"]
        with_csrf = client.post("/api/v1/probe/echo", headers={"X-CSRFToken": csrf_token(client, "/catalog/powers")})
        assert with_csrf.status_code == 200 and with_csrf.get_json() == {"user": user.username}
        other = create_user("dept_editor", department=create_department())
        as_token = client.post("/api/v1/probe/echo", headers=bearer(other))  # the token decides, not the cookie
        assert as_token.get_json() == {"user": other.username}
