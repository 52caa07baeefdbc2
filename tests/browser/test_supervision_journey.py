"""Electronic supervision as a new user meets it (issue 7, "done when"): the inspector imports a month of cases of
the food-licensing power, sees the cards; the department appeals one and the inspector revokes it with a reason;
another red card becomes a finding; the dashboard's numbers are the hand-counted ones."""

from pathlib import Path

from tests.browser.conftest import login

EVENTS = Path(__file__).resolve().parents[2] / "seed" / "supervision" / "food-licensing-2026-10.csv"
# Scanned "now" (after November 2026) every open step and case of the month is past its limit, so the cards are:
EXPECTED = {"red_card": 9, "yellow_card": 0, "out_of_flow": 1, "skipped_step": 1, "sod_violation": 1,
            "unknown_reference": 1}


def logout(page):
    page.click("#userMenu")
    page.click("#logoutButton")
    page.wait_for_load_state()


def fire(page, transition: str, comment: str):
    """Fill the reason and press the button; destructive ones (revoke, escalate) ask to confirm first."""
    page.once("dialog", lambda dialog: dialog.accept())
    form = page.locator(f"form:has(input[name=transition][value={transition}])")
    form.locator("input[name=comment]").fill(comment)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def open_alert(page, base, code: str, case: str, q: str | None = None):
    page.goto(f"{base}/supervision/alerts?code={code}&q={q or case}")
    page.locator(f"#alertTable tr[data-case='{case}'] a.alert-open").first.click()
    page.wait_for_load_state()


def test_import_cards_appeal_revoke_escalate_and_dashboard(page, live_server):
    base = live_server
    login(page, base, "inspector")
    page.click("#mainNav >> text=电子监察")
    page.click("#importEventsLink")
    page.set_input_files("#file", str(EVENTS))
    page.click("#previewButton")
    page.wait_for_load_state()
    assert "新事件 213" in page.inner_text("#previewNew") and "放入暂存区 1" in page.inner_text("#previewQuarantine")
    page.click("#confirmImport")
    page.wait_for_load_state()
    assert "扫描发现新预警 13 条" in page.inner_text("main")

    rows = page.locator("#alertTable tbody tr")
    found = {code: 0 for code in EXPECTED}
    for index in range(rows.count()):
        found[rows.nth(index).get_attribute("data-code")] += 1
    assert found == EXPECTED
    logout(page)

    # the department head appeals the one-person-did-two-duties card
    login(page, base, "head")
    open_alert(page, base, "sod_violation", "XK2026-1010")
    assert "周雅楠" in page.inner_text("#alertMessage")
    fire(page, "appeal", "分管领导出差，书面授权审查岗代为决定，授权书已补交")
    assert "申诉中" in page.inner_text("#alertState")
    logout(page)

    # the inspector revokes it with a reason, then turns the late case into a finding
    login(page, base, "inspector")
    open_alert(page, base, "sod_violation", "XK2026-1010")
    fire(page, "revoke", "授权书属实且在事前签署，申诉成立，撤销预警")
    assert "已撤销" in page.inner_text("#alertState")
    history = page.inner_text(".history-panel")
    assert "授权书已补交" in history and "申诉成立，撤销预警" in history

    page.goto(f"{base}/supervision/alerts?code=red_card&q=XK2026-1007")
    page.locator("#alertTable tr[data-case='XK2026-1007'] a.alert-open", has_text="案件用时").click()
    page.wait_for_load_state()
    fire(page, "escalate", "审查环节超期 3 个工作日，案件超期办结，转问题线索")
    assert "已转问题线索" in page.inner_text("#alertState")
    assert page.locator("#findingRef").inner_text().strip()  # the accountability domain opened a finding

    # the dashboard for October 2026 shows the hand count (19 received, 16 completed, 15 on time, 14 early)
    page.goto(f"{base}/supervision/?year=2026&month=10")
    assert page.inner_text("#kpiReceived") == "19" and page.inner_text("#kpiCompleted") == "16"
    assert page.inner_text("#kpiOnTime") == "93.8%" and page.inner_text("#kpiEarly") == "87.5%"
    assert page.inner_text("#kpiRed") == "8" and page.inner_text("#kpiYellow") == "0"  # one red card escalated
    row = page.locator("#departmentTable tr[data-department='YX-SCJG'] td")
    assert [row.nth(i).inner_text().strip() for i in range(1, 6)] == ["19", "16", "93.8%", "87.5%", "5.6"]

    # the case's timeline on its flow chart shows where it left the flow
    page.goto(f"{base}/supervision/cases?q=XK2026-1009")
    page.click("#caseTable >> text=XK2026-1009")
    page.wait_for_load_state()
    chart = page.inner_html("#caseChart")
    assert "越流程" in chart and "现场核查（未经过）" in chart
