"""三员分立, role grants, menus by role and the platform's route × role matrix."""

import pytest

from govrisk.auth.operations import grant_role, revoke_role, role_conflict
from govrisk.core.errors import UserError
from govrisk.core.permissions import ADMIN_ROLES, Role
from tests.conftest import post_form

ADMIN = sorted(ADMIN_ROLES)


@pytest.mark.parametrize("first", list(Role))
@pytest.mark.parametrize("second", list(Role))
def test_separation_of_three_admins(create_user, create_department, first, second):
    user = create_user(first, department=create_department())
    allowed = first != second and first not in ADMIN_ROLES and second not in ADMIN_ROLES
    if allowed:
        grant_role(user, second, actor=None)
        assert user.role_set == {first, second}
    else:
        with pytest.raises(UserError):
            grant_role(user, second, actor=None)
        assert user.role_set == {first}


def test_department_role_needs_a_department(create_user):
    user = create_user()
    assert "须属于某个单位" in role_conflict(user, Role.DEPT_EDITOR)


def test_nobody_grants_themselves(create_user):
    admin = create_user(Role.SEC_ADMIN)
    with pytest.raises(UserError, match="自己"):
        revoke_role(admin, Role.SEC_ADMIN, actor=admin)


ADMIN_MENUS = {"用户账号", "参考数据", "工作日历", "角色授权", "安全策略", "审计日志"}
# every business role reaches the register; the administrators' menus are exact (三员分立)
BUSINESS_CORE = {"组织机构", "职权目录", "流程图", "廉政风险"}
EXACT = {
    Role.SYS_ADMIN: {"组织机构", "用户账号", "参考数据", "工作日历", "报送单位"},
    Role.SEC_ADMIN: {"角色授权", "安全策略"},
    Role.AUDIT_ADMIN: {"审计日志"},
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_only_its_menus(client, login_as, create_user, create_department, role, app):
    from govrisk.core.nav import nav_for

    user = create_user(role, department=create_department() if role in (Role.DEPT_EDITOR, Role.DEPT_HEAD) else None)
    login_as(user)
    html = client.get("/").get_data(as_text=True)
    with app.test_request_context():
        shown = {item.zh for item in nav_for(user)}
    if role in EXACT:
        assert shown == EXACT[role]
    else:
        assert BUSINESS_CORE <= shown and not shown & ADMIN_MENUS
    for title in shown:
        assert f"{title}</a>" in html
    for title in (ADMIN_MENUS | BUSINESS_CORE) - shown:
        assert f"{title}</a>" not in html


# (method, url, roles allowed); anonymous is always redirected to the login page
ROUTES = [
    ("GET", "/admin/users", {Role.SYS_ADMIN}),
    ("GET", "/admin/users/new", {Role.SYS_ADMIN}),
    ("GET", "/admin/roles", {Role.SEC_ADMIN}),
    ("GET", "/admin/policy", {Role.SEC_ADMIN}),
    ("GET", "/admin/audit", {Role.AUDIT_ADMIN}),
    ("POST", "/admin/audit/verify", {Role.AUDIT_ADMIN}),
    ("GET", "/admin/reference", {Role.SYS_ADMIN}),
    ("GET", "/admin/calendar", {Role.SYS_ADMIN}),
    ("GET", "/org/departments", {Role.SYS_ADMIN, Role.DEPT_EDITOR, Role.DEPT_HEAD, Role.INSPECTOR}),
    ("GET", "/org/departments/new", {Role.SYS_ADMIN}),
    ("GET", "/org/departments/import", {Role.SYS_ADMIN}),
    ("GET", "/account/tokens", {Role.DEPT_EDITOR, Role.DEPT_HEAD, Role.INSPECTOR}),
    ("GET", "/catalog/powers", {Role.DEPT_EDITOR, Role.DEPT_HEAD, Role.INSPECTOR}),
    ("GET", "/catalog/powers/new", {Role.DEPT_EDITOR}),
    ("GET", "/catalog/powers/import", {Role.DEPT_EDITOR}),
    ("GET", "/catalog/as-of", {Role.DEPT_EDITOR, Role.DEPT_HEAD, Role.INSPECTOR}),
    ("GET", "/feedback/inbox", {Role.INSPECTOR}),
    ("GET", "/campaigns/", {Role.DEPT_EDITOR, Role.DEPT_HEAD, Role.INSPECTOR}),
    ("GET", "/campaigns/reports", {Role.DEPT_EDITOR, Role.DEPT_HEAD, Role.INSPECTOR}),
    ("GET", "/campaigns/units", {Role.SYS_ADMIN, Role.DEPT_EDITOR, Role.DEPT_HEAD, Role.INSPECTOR}),
    ("GET", "/campaigns/units/new", {Role.SYS_ADMIN}),
    ("GET", "/campaigns/education", {Role.DEPT_EDITOR, Role.DEPT_HEAD, Role.INSPECTOR}),
    ("GET", "/campaigns/education/new", {Role.DEPT_EDITOR}),
]
MATRIX = [(m, u, r, r in allowed) for m, u, allowed in ROUTES for r in Role]


@pytest.mark.parametrize(("method", "url", "role", "allowed"), MATRIX,
                         ids=[f"{m}{u}-{r.value}" for m, u, r, _ in MATRIX])
def test_route_matrix(client, login_as, create_user, create_department, method, url, role, allowed):
    user = create_user(role, department=create_department() if role in (Role.DEPT_EDITOR, Role.DEPT_HEAD) else None)
    login_as(user)
    response = client.get(url) if method == "GET" else post_form(client, url, token_url="/")
    assert (response.status_code == 200) is allowed, response.status_code
    if not allowed:
        assert response.status_code == 403


@pytest.mark.parametrize(("method", "url"), [(m, u) for m, u, _ in ROUTES])
def test_anonymous_is_sent_to_login(client, method, url):
    response = client.get(url) if method == "GET" else post_form(client, url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_grant_through_the_page(client, login_as, create_user, create_department):
    sec = create_user(Role.SEC_ADMIN)
    target = create_user(department=create_department())
    login_as(sec)
    response = post_form(client, f"/admin/roles/{target.id}/grant", {"role": "dept_editor"}, token_url="/admin/roles")
    assert response.status_code == 302 and target.role_set == {Role.DEPT_EDITOR}
    response = post_form(client, f"/admin/roles/{target.id}/grant", {"role": "audit_admin"}, token_url="/admin/roles",
                         follow_redirects=True)
    assert "三员分立" in response.get_data(as_text=True)
    assert target.role_set == {Role.DEPT_EDITOR}


def test_sys_admin_creates_account_that_must_change_password(client, login_as, create_user, create_department):
    login_as(create_user(Role.SYS_ADMIN))
    department = create_department()
    response = post_form(client, "/admin/users/new", {"username": "new.user", "display_name": "新用户",
                                                      "department_id": department.id, "password": "Start#2026x"},
                         token_url="/admin/users/new")
    assert response.status_code == 302
    from govrisk.auth.queries import get_user_by_username

    created = get_user_by_username("new.user")
    assert created.must_change_password and created.department_id == department.id and not created.role_set


def test_duplicate_username_is_refused_on_the_page(client, login_as, create_user):
    admin = create_user(Role.SYS_ADMIN)
    login_as(admin)
    response = post_form(client, "/admin/users/new", {"username": admin.username, "display_name": "重复",
                                                      "department_id": 0, "password": "Start#2026x"},
                         token_url="/admin/users/new")
    assert response.status_code == 400 and "已存在" in response.get_data(as_text=True)


def test_policy_cannot_go_below_baseline(client, login_as, create_user):
    login_as(create_user(Role.SEC_ADMIN))
    response = post_form(client, "/admin/policy", {"password_min_length": 6, "password_min_classes": 3,
                                                   "lockout_threshold": 5, "lockout_minutes": 30,
                                                   "idle_timeout_minutes": 30}, token_url="/admin/policy")
    assert response.status_code == 400
    response = post_form(client, "/admin/policy", {"password_min_length": 10, "password_min_classes": 3,
                                                   "lockout_threshold": 3, "lockout_minutes": 30,
                                                   "idle_timeout_minutes": 15}, token_url="/admin/policy")
    assert response.status_code == 302
    from govrisk.auth.queries import security_policy

    assert security_policy().password_min_length == 10 and security_policy().lockout_threshold == 3
