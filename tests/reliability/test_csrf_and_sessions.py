"""CSRF on every state-changing request, session expiry and lockout, on the demo city.

Every POST route of `app.url_map` is sent without a token (and with a token of another session) by a user who
could otherwise use it: 400, and not one row written anywhere.
"""

from datetime import timedelta

import pytest

from govrisk.core.types import utcnow
from tests.conftest import csrf_token
from tests.reliability.conftest import DEMO_PASSWORD
from tests.reliability.support import ROUTES, pick_ids, table_counts, url_for_route

POSTS = [r for r in ROUTES if r.method == "POST"]


def _actor(route, city):
    """Someone who may reach the route past login: its admin, an inspector for business, nobody if public."""
    if route.is_public:
        return None
    if route.admin_owner:
        return city.users[route.admin_owner]
    if route.starts(("/org",)):
        return city.users["sys_admin"]
    return city.users["dept_editor"] if route.starts(("/account",)) else city.users["inspector"]


def _changed(before: dict, after: dict) -> dict:
    return {k: (before[k], after[k]) for k in after if after[k] != before.get(k)}


@pytest.mark.parametrize("route", POSTS, ids=[r.id for r in POSTS])
def test_post_without_csrf_token_is_refused(route, app, city, login_demo):
    user = _actor(route, city)
    client = app.test_client()
    if user is not None:
        login_demo(user, on=client)
    values, _complete = pick_ids(route, sorted(user.visible_department_ids() or []) if user and user.department_id
                                 else None)
    url = url_for_route(route, values)
    data = {"name": "csrf", "title": "csrf", "text": "没有令牌的提交不得写入任何数据。", "version": "1",
            "transition": "submit", "username": user.username if user else "editor", "password": DEMO_PASSWORD}
    before = table_counts()
    response = client.post(url, json=data) if route.is_api else client.post(url, data=data)
    allowed = (400, 401) if route.is_api else (400,)
    assert response.status_code in allowed, f"{url}: {response.status_code}"
    assert not _changed(before, table_counts())
    if not route.is_api:
        assert "安全令牌" in response.get_data(as_text=True) or "CSRF" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/logout", "/catalog/powers/new", "/risks/new", "/admin/audit/verify"])
def test_token_of_another_session_is_refused(path, app, city, login_demo):
    stranger = app.test_client()
    foreign_token = csrf_token(stranger, "/login")
    role = "audit_admin" if path.startswith("/admin/audit") else "dept_editor"
    client = login_demo(city.users[role], on=app.test_client())
    before = table_counts()
    response = client.post(path, data={"csrf_token": foreign_token, "name": "x"})
    assert response.status_code == 400 and not _changed(before, table_counts())
    assert client.get("/").status_code == 200  # still logged in: the refused logout did nothing


# ---------------------------------------------------------------- session expiry


def _expire(client, minutes: int = 31) -> None:
    """Pretend the last request was `minutes` ago."""
    client.get("/")
    with client.session_transaction() as session:
        session["last_seen"] -= minutes * 60


@pytest.mark.parametrize("path", ["/catalog/powers", "/risks/", "/flows/", "/supervision/", "/review/",
                                  "/accountability/findings", "/campaigns/"])
def test_idle_session_expires_on_business_pages(path, app, city, login_demo):
    client = login_demo(city.users["inspector"], on=app.test_client())
    assert client.get(path).status_code in (200, 403)
    _expire(client)
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/").status_code == 302  # logged out for good, not just for one request


def test_expired_session_cannot_post_with_its_old_token(app, city, login_demo):
    client = login_demo(city.users["sys_admin"], on=app.test_client())
    token = csrf_token(client, "/org/departments/new")
    _expire(client)
    before = table_counts()
    response = client.post("/org/departments/new", data={"csrf_token": token, "code": "LATE", "name": "过期提交局",
                                                          "kind": "government", "parent_id": 0})
    assert response.status_code in (302, 400)
    assert response.status_code == 400 or "/login" in response.headers["Location"]
    assert not _changed(before, table_counts())


def test_session_within_idle_limit_keeps_working(app, city, login_demo):
    client = login_demo(city.users["inspector"], on=app.test_client())
    _expire(client, minutes=29)
    assert client.get("/risks/").status_code == 200


def test_admin_policy_shortens_idle_timeout(app, city, login_demo):
    from govrisk.auth.operations import update_security_policy
    from govrisk.auth.queries import security_policy

    policy = security_policy()
    update_security_policy({"password_min_length": policy.password_min_length,
                            "password_min_classes": policy.password_min_classes,
                            "lockout_threshold": policy.lockout_threshold, "lockout_minutes": policy.lockout_minutes,
                            "idle_timeout_minutes": 10}, actor=city.users["sec_admin"])
    client = login_demo(city.users["inspector"], on=app.test_client())
    _expire(client, minutes=11)
    assert client.get("/risks/").status_code == 302


# ---------------------------------------------------------------- lockout


def _attempt(client, username: str, password: str):
    return client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "username": username,
                                       "password": password})


def test_lockout_holds_against_the_right_password_and_expires(app, city):
    editor = city.users["dept_editor"]
    client = app.test_client()
    for _ in range(5):
        assert _attempt(client, editor.username, "Wrong#Pass1").status_code == 401
    assert editor.is_locked()
    response = _attempt(client, editor.username, DEMO_PASSWORD)
    assert response.status_code == 401 and "锁定" in response.get_data(as_text=True)
    from_elsewhere = app.test_client()  # the lock is on the account, not on the browser
    assert _attempt(from_elsewhere, editor.username, DEMO_PASSWORD).status_code == 401
    editor.locked_until_at = utcnow() - timedelta(seconds=1)
    assert _attempt(app.test_client(), editor.username, DEMO_PASSWORD).status_code == 302


def test_security_admin_unlocks_through_the_page(app, city, login_demo):
    editor = city.users["dept_editor"]
    for _ in range(5):
        _attempt(app.test_client(), editor.username, "Wrong#Pass1")
    assert editor.is_locked()
    admin = login_demo(city.users["sec_admin"], on=app.test_client())
    response = admin.post(f"/admin/roles/{editor.id}/unlock", data={"csrf_token": csrf_token(admin, "/admin/roles")})
    assert response.status_code == 302 and not editor.is_locked()
    assert _attempt(app.test_client(), editor.username, DEMO_PASSWORD).status_code == 302


def test_failed_logins_of_an_unknown_name_lock_nothing_and_reveal_nothing(app, city):
    client = app.test_client()
    unknown = [_attempt(client, "no-such-user", "Wrong#Pass1") for _ in range(6)]
    known = _attempt(client, city.users["inspector"].username, "Wrong#Pass1")
    assert {r.status_code for r in unknown} == {401} and known.status_code == 401
    message = "用户名或密码错误"
    assert message in unknown[-1].get_data(as_text=True) and message in known.get_data(as_text=True)


def test_locked_account_keeps_no_open_session(app, city, login_demo):
    """A session opened before the lock keeps working only until the account is disabled: disabling ends it."""
    inspector = city.users["inspector"]
    client = login_demo(inspector, on=app.test_client())
    assert client.get("/risks/").status_code == 200
    inspector.is_enabled = False
    response = client.get("/risks/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.xfail(strict=True, reason="known gap (auth): sessions are signed cookies with no server-side record, so "
                                       "a cookie copied before logout still works until the idle timeout; fix by "
                                       "keeping a per-user session generation checked by the user loader")
def test_logout_invalidates_a_copied_session_cookie(app, city, login_demo):
    client = login_demo(city.users["inspector"], on=app.test_client())
    client.get("/")
    copied = client.get_cookie("session").value
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    replay = app.test_client()
    replay.set_cookie("session", copied)
    response = replay.get("/risks/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
