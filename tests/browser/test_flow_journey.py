"""A new editor builds the internal flow of a licensing power in a real browser: a 补正 loop, the sod_conflict
shown live while one post both reviews and decides, the fix, saving, submitting — and the chart on the page."""

import re

from tests.browser.conftest import login

CODE = "XK-FLOW-JOURNEY"
POWER_CSV = ("code,name,category,department_code,legal_basis,statutory_days,promised_days,is_major_matter,public\n"
             f"{CODE},小餐饮经营许可（流程图浏览器测试）,xk,YX-SCJG,《中华人民共和国食品安全法》第三十五条,20,12,否,是\n")
STEPS = [("accept", "受理", "窗口受理岗", "acceptance", "1"), ("review", "审查", "审查岗", "review", "5"),
         ("decide", "决定", "审查岗", "decision", "3"), ("deliver", "送达", "窗口受理岗", "execution", "2")]
EDGES = [("accept", "review", "", False), ("review", "decide", "", False), ("review", "accept", "补正", True),
         ("decide", "deliver", "", False)]


def register_power(page, base, tmp_path):
    """The power comes in through the catalog's own import (DESIGN §7.4 columns)."""
    csv = tmp_path / "power.csv"
    csv.write_text(POWER_CSV, encoding="utf-8")
    page.goto(f"{base}/catalog/powers/import")
    page.set_input_files("input[type=file]", str(csv))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    page.click("#confirmImport")
    page.wait_for_load_state()


def fill_rows(page):
    for index, (key, name, post, role, days) in enumerate(STEPS):
        if index:
            page.click("#addStep")
        row = page.locator("#stepRows tbody tr").nth(index)
        row.locator("[data-field=id]").fill(key)
        row.locator("[data-field=name]").fill(name)
        row.locator("[data-field=post]").select_option(label=post)
        row.locator("[data-field=role]").select_option(role)
        row.locator("[data-field=time_limit_days]").fill(days)
    for index, (source, target, label, loop) in enumerate(EDGES):
        if index:
            page.click("#addEdge")
        row = page.locator("#edgeRows tbody tr").nth(index)
        row.locator("[data-field=from]").fill(source)
        row.locator("[data-field=to]").fill(target)
        row.locator("[data-field=label]").fill(label)
        if loop:
            row.locator("[data-field=loop]").check()


def test_editor_builds_an_internal_flow_fixes_sod_and_submits(page, live_server, tmp_path):
    base = live_server
    login(page, base, "editor")
    register_power(page, base, tmp_path)

    page.click("#mainNav >> text=流程图")
    page.click("#newFlow")
    page.fill("#power_code", CODE)
    page.select_option("#kind", "internal")
    page.click("#chooseFlow button[type=submit]")
    page.wait_for_load_state()
    assert "小餐饮经营许可" in page.inner_text("h1")

    fill_rows(page)
    finding = page.locator("#findingList [data-code=sod_conflict]")
    finding.wait_for()
    assert "审查岗" in finding.inner_text() and "分权制衡" in finding.inner_text()
    assert page.locator("#previewChart svg").count() == 1
    assert ">补正<" in page.inner_html("#previewChart")
    assert page.locator("#stepRows tr.table-danger").count() == 2  # review and decide are marked

    page.locator("#stepRows tbody tr").nth(2).locator("[data-field=post]").select_option(label="分管领导")
    page.locator("#noFindings").wait_for()
    assert page.locator("#findingList [data-code=sod_conflict]").count() == 0
    assert "最长路径 11 个工作日" in page.inner_text("#previewSummary")

    page.click("#saveFlow")
    page.wait_for_load_state()
    assert "已保存内部流程图第 1 版" in page.inner_text("main")
    chart = page.inner_html("#flowChart")
    for text in ("受理", "审查", "决定", "送达", "补正", "分管领导", "5 工作日"):
        assert f">{text}<" in chart
    page.click(".transition-buttons button:has-text('报送')")
    page.wait_for_load_state()
    assert "已报送" in page.inner_text("main")
    assert page.locator("#editFlow").count() == 0  # submitted: no longer editable

    flow_url = page.url
    bpmn = page.request.get(f"{flow_url}/export.bpmn")
    assert bpmn.ok and b"<bpmn:userTask" in bpmn.body() and re.search(rb'name="\xe8\xa1\xa5\xe6\xad\xa3"', bpmn.body())
