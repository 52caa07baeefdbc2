"""Login, lockout, idle timeout, forced password change, CSRF, password policy."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govrisk.auth.operations import password_problems
from govrisk.core.permissions import Role
from govrisk.core.types import utcnow
from tests.conftest import PASSWORD, csrf_token, post_form


def test_login_and_logout(client, create_user, create_department):
    user = create_user(Role.DEPT_EDITOR, department=create_department(name="测试局"))
    response = post_form(client, "/login", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    page = client.get("/").get_data(as_text=True)
    assert user.display_name in page and "测试局" in page
    response = post_form(client, "/logout", token_url="/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_and_counted(client, create_user):
    user = create_user(Role.INSPECTOR)
    response = post_form(client, "/login", {"username": user.username, "password": "Wrong@1234"})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert user.failed_login_count == 1


def test_unknown_user_gets_the_same_message(client):
    response = post_form(client, "/login", {"username": "nobody", "password": "Wrong@1234"})
    assert response.status_code == 401 and "用户名或密码错误" in response.get_data(as_text=True)


def test_lockout_after_five_failures(client, create_user):
    user = create_user(Role.INSPECTOR)
    for _ in range(5):
        post_form(client, "/login", {"username": user.username, "password": "Wrong@1234"})
    assert user.is_locked()
    assert timedelta(minutes=29) < user.locked_until_at - utcnow() <= timedelta(minutes=30)
    response = post_form(client, "/login", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 401 and "已被锁定" in response.get_data(as_text=True)


def test_lock_expires(client, create_user):
    user = create_user(Role.INSPECTOR)
    user.locked_until_at = utcnow() - timedelta(seconds=1)
    response = post_form(client, "/login", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def test_disabled_account_cannot_log_in(client, create_user):
    user = create_user(Role.INSPECTOR)
    user.is_enabled = False
    response = post_form(client, "/login", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 401 and "已停用" in response.get_data(as_text=True)


def test_missing_csrf_token_is_refused(client, create_user):
    user = create_user(Role.INSPECTOR)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)
    assert user.last_login_at is None


def test_idle_session_expires(client, create_user, login_as):
    login_as(create_user(Role.INSPECTOR))
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session["last_seen"] -= 31 * 60
    response = client.get("/org/departments")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/").status_code == 302


def test_first_login_forces_password_change(client, create_user, login_as):
    user = create_user(Role.INSPECTOR, must_change_password=True)
    login_as(user)
    response = client.get("/org/departments")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")
    response = post_form(client, "/account/password", {"current_password": PASSWORD, "password": "weak",
                                                       "confirm": "weak"}, token_url="/account/password")
    assert response.status_code == 400 and "至少 8 位" in response.get_data(as_text=True)
    assert user.must_change_password
    response = post_form(client, "/account/password", {"current_password": PASSWORD, "password": "New#Pass2026",
                                                       "confirm": "New#Pass2026"}, token_url="/account/password")
    assert response.status_code == 302 and not user.must_change_password
    assert client.get("/org/departments").status_code == 200


def test_wrong_current_password_changes_nothing(client, create_user, login_as):
    user = create_user(Role.INSPECTOR)
    login_as(user)
    old_hash = user.password_hash
    response = post_form(client, "/account/password", {"current_password": "Nope@1234", "password": "New#Pass2026",
                                                       "confirm": "New#Pass2026"}, token_url="/account/password")
    assert response.status_code == 400 and "当前密码不正确" in response.get_data(as_text=True)
    assert user.password_hash == old_hash


def test_session_cookie_is_http_only(client, create_user):
    user = create_user(Role.INSPECTOR)
    response = post_form(client, "/login", {"username": user.username, "password": PASSWORD})
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_open_redirect_is_refused(client, create_user):
    user = create_user(Role.INSPECTOR)
    token = csrf_token(client)
    response = client.post("/login?next=https://evil.example/", data={"csrf_token": token, "username": user.username,
                                                                     "password": PASSWORD})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(("password", "ok"), [
    ("Abcdef1!", True), ("abcdef12", False), ("ABCDEF1!", True), ("Abc1!", False), ("abcdefgh!", False),
    ("Abcdefgh1", True), ("12345678", False), ("user99Aa!", False),
])
def test_password_policy(app, password, ok):
    with app.test_request_context():
        assert (password_problems(password, username="user99") == []) is ok


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=30))
def test_password_policy_never_accepts_short_or_simple(app, password):
    with app.test_request_context():
        classes = sum(any(f(c) for c in password) for f in (str.islower, str.isupper, str.isdigit))
        if not password_problems(password):
            assert len(password) >= 8 and classes + any(not c.isalnum() or not c.isascii() for c in password) >= 3
