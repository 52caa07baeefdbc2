"""The risk register as a new user meets it, in a real browser: an editor registers three risk points on a power's
decision step and a key post, the head approves, an inspector confirms two and raises one with a reason; the heat
map and the flow chart show them; the 登记表 downloads as XLSX (Chinese intact) and PDF; another department's user
never sees them."""

import io
import re
import subprocess

from openpyxl import load_workbook

from tests.browser.conftest import login

POWER = "XK-0001 食品经营许可"
POINTS = [  # name, likelihood, severity, discretion, the level the form suggests (and fills in as the proposal)
    ("浏览器测试：决定环节收受财物", "2", "3", "medium", "三级"),
    ("浏览器测试：决定环节人情审批", "4", "3", "large", "一级"),
    ("浏览器测试：决定环节超时限审批", "3", "3", "medium", "二级"),
]


def logout(page):
    page.click("#userMenu")
    page.click("#logoutButton")
    page.wait_for_load_state()


def register_point(page, base, name, likelihood, severity, discretion, suggested):
    page.goto(f"{base}/risks/")
    page.click("#newRisk")
    page.wait_for_load_state()  # the form's script must be listening before the power is chosen
    page.select_option("#power_id", label=POWER)
    page.wait_for_function("document.querySelectorAll('#step_id option').length > 1")
    step = page.locator("#step_id option", has_text="决定（").first.get_attribute("value")
    page.select_option("#step_id", step)
    page.select_option("#post_id", label="分管领导（重点岗位）")
    page.fill("#name", name)
    page.fill("#manifestation", "对审查不通过的申请授意改变意见")
    page.select_option("#risk_type", "post_duty")
    page.check("input[name=methods][value=self_check]")
    page.select_option("#likelihood", likelihood)
    page.select_option("#severity", severity)
    page.select_option("#discretion", discretion)
    page.wait_for_function(f"document.querySelector('#suggestedLevel').innerText.includes('{suggested}')")
    assert page.input_value("#proposed_level") != ""  # the suggestion fills an empty proposal
    page.click("#saveRisk")
    page.wait_for_load_state()
    assert page.inner_text("#riskName") == name
    page.click("#riskTransitions button[data-transition=submit]")
    page.wait_for_load_state()
    assert "已报送" in page.inner_text("main")
    return page.url


def act_on(page, url, transition):
    page.goto(url)
    page.click(f"#riskTransitions button[data-transition={transition}]")
    page.wait_for_load_state()


def test_register_grade_confirm_show_and_export(page, live_server, tmp_path):
    base = live_server
    login(page, base, "editor")
    urls = [register_point(page, base, *point) for point in POINTS]
    logout(page)

    login(page, base, "head")
    for url in urls:
        act_on(page, url, "approve")
        assert "单位已审定" in page.inner_text("main")
    logout(page)

    login(page, base, "inspector")
    for url in urls[1:]:  # two confirmed as proposed
        page.goto(url)
        page.click("#confirmButton")
        page.wait_for_load_state()
        assert "纪检已确认" in page.inner_text("main")
        assert "纪检确认" in page.inner_text("#gradeHistory")
    page.goto(urls[0])  # one raised from 三级 to 一级: refused without a reason, kept with it
    page.select_option("#confirmForm #level", "1")
    page.click("#confirmButton")
    page.wait_for_load_state()
    assert "必须填写调整理由" in page.inner_text("main") and "单位已审定" in page.inner_text("main")
    page.select_option("#confirmForm #level", "1")
    page.fill("#confirmForm #reason", "一旦发生可能构成受贿犯罪，应为一级。")
    page.click("#confirmButton")
    page.wait_for_load_state()
    assert "纪检调整" in page.inner_text("#gradeHistory")
    assert "一旦发生可能构成受贿犯罪" in page.inner_text("#gradeHistory")
    page.goto(f"{base}/risks/disagreements")
    assert POINTS[0][0] in page.inner_text("main")

    # the heat map counts them and a cell leads to the list
    page.goto(f"{base}/risks/analysis")
    with page.expect_navigation():
        page.select_option("#analysisFilters select[name=department]", label="云溪市市场监督管理局")
    links = page.evaluate("[...document.querySelectorAll('#heatMap a')].map(a => a.getAttribute('xlink:href'))")
    cell = [href for href in links if "likelihood=4&" in href and href.endswith("severity=3")]
    assert len(cell) == 1 and "department=" in cell[0]
    page.locator("#heatMap a").nth(links.index(cell[0])).click()
    page.wait_for_load_state()
    assert "likelihood=4" in page.url
    assert POINTS[1][0] in page.inner_text("#riskTable")

    # the flow chart carries the level badge on the decision step
    page.goto(urls[0])
    page.click("text=职权流程图与风险点")
    page.wait_for_load_state()
    chart = page.inner_html(".risk-flow-chart")
    assert "<svg" in chart and "一级" in chart
    assert page.locator("#powerRisks", has_text=POINTS[0][0]).count() == 1
    page.locator(".risk-flow-chart a", has_text="打开流程图").first.click()  # the flows domain's own chart page
    page.wait_for_load_state()
    assert "一级风险" in page.inner_html("main") and "<svg" in page.inner_html("main")

    # the 登记表 as XLSX and PDF
    page.goto(f"{base}/risks/")
    with page.expect_download() as download:
        page.click("#exportXlsx")
    path = tmp_path / "register.xlsx"
    download.value.save_as(path)
    sheet = load_workbook(path).active
    assert "廉政风险点登记表" in sheet["A1"].value
    assert [c.value for c in sheet[2]][:6] == ["序号", "单位/科室", "岗位", "职权", "环节", "风险点"]
    names = {r[5] for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert {p[0] for p in POINTS} <= names
    pdf = page.request.get(f"{base}/risks/register.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    pdf_path = tmp_path / "register.pdf"
    pdf_path.write_bytes(pdf.body())
    text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True).stdout
    assert "廉政风险点登记表" in text.replace(" ", "")
    logout(page)

    # another department's user never sees this register
    login(page, base, "editor2")
    page.goto(f"{base}/risks/")
    assert "浏览器测试" not in page.inner_text("main")
    page.goto(f"{base}/risks/?q=浏览器测试")
    assert "没有符合条件的风险点" in page.inner_text("main")
    page.goto(urls[0])
    assert "没有权限" in page.inner_text("main")
    response = page.request.get(f"{base}/risks/register.xlsx")
    book = load_workbook(io.BytesIO(response.body())).active
    assert not [r for r in book.iter_rows(values_only=True) if any(re.match("浏览器测试", str(v)) for v in r if v)]
