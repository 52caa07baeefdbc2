"""The catalog as a new user meets it, in a real browser: register → submit → approve → publish → portal →
a citizen's feedback followed by tracking code → the inspector accepts it."""

import re

from tests.browser.conftest import login

NAME = "浏览器测试：户外广告设施设置许可"


def logout(page):
    page.click("#userMenu")
    page.click("#logoutButton")
    page.wait_for_load_state()


def open_power(page, base):
    page.goto(f"{base}/catalog/powers")
    page.fill("#powerFilters input[name=q]", "户外广告")
    page.press("#powerFilters input[name=q]", "Enter")
    page.wait_for_load_state()
    page.click(f"#powerTable a:has-text('{NAME}')")
    page.wait_for_load_state()


def test_power_from_registration_to_portal_and_citizen_feedback(page, live_server):
    base = live_server
    # 1. the department editor registers the power with two legal-basis entries
    login(page, base, "editor")
    page.click("text=职权目录")
    page.click("#newPower")
    page.fill("#name", NAME)
    page.select_option("#category", "xk")
    page.fill("#statutory_days", "20")
    page.fill("#promised_days", "30")  # above statutory: refused under the field
    page.fill("input[name='legal_bases-0-law']", "中华人民共和国广告法")
    page.fill("input[name='legal_bases-0-article']", "第四十一条")
    page.fill("input[name='legal_bases-1-law']", "云溪市户外广告设施设置管理办法")
    page.fill("input[name='legal_bases-1-article']", "第八条")
    page.fill("input[name='materials-0-name']", "户外广告设施设置申请表")
    page.fill("#phone", "0871-65120888")
    page.click("#savePower")
    page.wait_for_load_state()
    assert "不能超过法定时限" in page.inner_text("#powerForm")
    assert page.locator("#promised_days.is-invalid").count() == 1
    page.fill("#promised_days", "10")
    page.click("#savePower")
    page.wait_for_load_state()
    assert page.inner_text("#powerName") == NAME
    assert "《中华人民共和国广告法》第四十一条" in page.inner_text("main")
    assert "《云溪市户外广告设施设置管理办法》第八条" in page.inner_text("main")
    code = re.search(r"YX-SCJG-XK-\d{4}", page.inner_text("main")).group(0)
    page.click("#powerTransitions button[data-transition=submit]")
    page.wait_for_load_state()
    assert "已报送" in page.inner_text("main")
    logout(page)

    # 2. the head approves
    login(page, base, "head")
    open_power(page, base)
    page.click("#powerTransitions button[data-transition=approve]")
    page.wait_for_load_state()
    assert "单位已审定" in page.inner_text("main")
    logout(page)

    # 3. the inspector publishes
    login(page, base, "inspector")
    open_power(page, base)
    page.click("#powerTransitions button[data-transition=publish]")
    page.wait_for_load_state()
    assert "第 1 版已发布" in page.inner_text("main")
    logout(page)

    # 4. a citizen finds it on the public portal
    page.goto(f"{base}/portal/")
    page.fill("#portalSearch input[name=q]", "户外广告")
    page.click("#portalSearch button[type=submit]")
    page.wait_for_load_state()
    page.click(f"#portalResults a:has-text('{NAME}')")
    page.wait_for_load_state()
    assert page.inner_text("#publicPowerName") == NAME
    body = page.inner_text("main")
    for expected in (code, "中华人民共和国广告法", "户外广告设施设置申请表", "0871-65120888"):
        assert expected in body, expected

    # 5. … leaves feedback and follows it by tracking code
    page.click("#feedbackOnPower")
    page.wait_for_load_state()
    page.select_option("#category", "appraisal")
    page.fill("#text", "窗口一次性告知了需要的材料，办理很快，点赞。")
    page.click("#submitFeedback")
    page.wait_for_load_state()
    tracking = page.inner_text("#newTrackingCode .tracking-code").strip()
    assert re.fullmatch(r"FK-[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", tracking)
    page.click("#navTrack")
    page.wait_for_load_state()
    page.fill("#code", tracking)
    page.click("#trackForm button[type=submit]")
    page.wait_for_load_state()
    assert page.inner_text("#feedbackState") == "待处理"

    # 6. the inspector accepts it; the citizen sees the new status
    login(page, base, "inspector")
    page.click("text=群众反馈")
    page.click(f"#inboxTable a:has-text('{tracking}')")
    page.wait_for_load_state()
    page.click("form:has(input[value=accept]) button[type=submit]")
    page.wait_for_load_state()
    logout(page)
    page.goto(f"{base}/portal/track?code={tracking}")
    assert page.inner_text("#feedbackState") == "已受理"


def test_portal_never_shows_drafts_or_internal_powers(page, live_server):
    page.goto(f"{live_server}/portal/?q=干部选拔")
    assert "本局中层干部选拔任用" not in page.inner_text("main")  # published, but internal
    page.goto(f"{live_server}/portal/powers/YX-SCJG-RS-0001")
    assert "不存在或未公开" in page.inner_text("main")
    page.goto(f"{live_server}/portal/powers/YX-ZJJ-XK-0001")  # published, with a draft revision pending
    assert "5 个工作日" in page.inner_text("main") and "三楼工程建设项目审批专窗" not in page.inner_text("main")
