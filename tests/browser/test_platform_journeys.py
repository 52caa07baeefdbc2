"""Journeys through the platform in a real browser: each demo role, its menus, and an administrator at work."""

import re

import pytest

from tests.browser.conftest import login

ADMIN_MENUS = {"用户账号", "参考数据", "工作日历", "角色授权", "安全策略", "审计日志"}
BUSINESS_CORE = {"组织机构", "职权目录", "流程图", "廉政风险"}
EXACT = {
    "sysadmin": {"组织机构", "用户账号", "参考数据", "工作日历", "报送单位"},
    "secadmin": {"角色授权", "安全策略"},
    "auditadmin": {"审计日志"},
}


@pytest.mark.parametrize("username", ["editor", "head", "inspector", "sysadmin", "secadmin", "auditadmin"])
def test_each_demo_role_sees_only_its_menus(page, live_server, username):
    login(page, live_server, username)
    nav = page.locator("#mainNav .navbar-nav.me-auto")
    shown = {t.strip() for t in nav.locator("a.nav-link").all_inner_texts()}
    if username in EXACT:
        assert shown == EXACT[username]
    else:
        assert BUSINESS_CORE <= shown and not shown & ADMIN_MENUS


def test_wrong_password_then_login(page, live_server):
    login(page, live_server, "editor", "Wrong#Pass1")
    assert "用户名或密码错误" in page.inner_text("main")
    login(page, live_server, "editor")
    assert "云溪市市场监督管理局" in page.inner_text("body")


def test_editor_cannot_open_another_department(page, live_server):
    login(page, live_server, "editor")
    page.goto(f"{live_server}/org/departments")
    text = page.inner_text("main")
    assert "市场监督管理局" in text and "住房和城乡建设局" not in text
    page.goto(f"{live_server}/admin/users")
    assert "没有权限" in page.inner_text("main")


def test_sysadmin_creates_a_department_and_auditadmin_sees_it(page, live_server):
    login(page, live_server, "sysadmin")
    page.goto(f"{live_server}/org/departments/new")
    page.fill("#code", "YX-TEST-1")
    page.fill("#name", "浏览器测试局")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "浏览器测试局" in page.inner_text("h1")
    page.click("#userMenu")
    page.click("#logoutButton")
    login(page, live_server, "auditadmin")
    page.goto(f"{live_server}/admin/audit?action=org.department.create")
    assert "浏览器测试局" in page.inner_text("main")
    page.click("text=校验哈希链")
    page.wait_for_load_state()
    assert re.search(r"审计链完整：共校验 \d+ 条记录", page.inner_text("#verifyResult"))
