"""Campaign reporting as a new user meets it, in a real browser: a bank branch pastes its narrative summary,
confirms (and corrects) the figures found, adds an activity and submits; its parent accepts it; the roll-up and
the PDF/.docx summaries of the parent and of the county include it."""

import io
import re
import shutil
import subprocess
from pathlib import Path

from tests.browser.conftest import login

NARRATIVE = ("东大街分理处于6月15日在营业厅开展防范非法集资宣传，悬挂横幅3条，摆放展板4块，发放宣传资料800余份，"
             "接受咨询群众96人次。\n6月18日走进东大街社区开展宣传，发放宣传折页200份。\n"
             "本次活动共发放宣传资料1000余份。")
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "campaigns"


def logout(page):
    page.click("#userMenu")
    page.click("#logoutButton")
    page.wait_for_load_state()


def pdf_text(data: bytes) -> str:
    if not shutil.which("pdftotext"):
        return ""
    return re.sub(r"\s+", "", subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True).stdout.decode())


def download(page, selector) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_bytes()


def test_branch_reports_parent_accepts_and_summaries_include_it(page, live_server):
    base = live_server
    # 1. the branch opens its report on this year's campaign
    login(page, base, "branch1")
    page.click("text=宣传教育")
    page.click("text=2026年防范非法集资宣传月")
    page.click("#myUnits button:has-text('填写本单位报告')")
    page.wait_for_load_state()
    assert "东大街分理处" in page.inner_text("h1") and "草稿" in page.inner_text("h1")
    # 2. pastes the narrative; every figure comes back highlighted with its indicator
    page.click("#extractLink")
    page.fill("#narrative", NARRATIVE)
    page.click("#analyseButton")
    page.wait_for_load_state()
    marks = page.locator("#narrativeText mark.figure")
    assert [t.rstrip("0123456789") for t in marks.all_inner_texts()] == [
        "横幅3条", "展板4块", "宣传资料800余份", "咨询群众96人次", "宣传折页200份", "宣传资料1000余份"]
    assert marks.nth(3).get_attribute("title") == "咨询"
    assert page.locator("input[name='rows-5-is_total']").is_checked()  # 共…1000余份 is the text's own total
    # 3. confirms: drops the banners, corrects the consultations, and saves
    page.uncheck("input[name='rows-0-keep']")
    assert "dropped" in marks.nth(0).get_attribute("class")
    page.fill("input[name='rows-3-value']", "-98")
    page.click("#saveFigures")
    page.wait_for_load_state()
    assert "数值不能为负数" in page.inner_text("#figureTable") and "未保存任何内容" in page.inner_text("main")
    page.fill("input[name='rows-3-value']", "98")
    page.click("#saveFigures")
    page.wait_for_load_state()
    totals = page.inner_text("#reportTotals")
    assert "1000余份" in totals and "98人次" in totals and "横幅" not in totals
    # 4. adds an activity and submits
    page.click("text=添加活动")
    page.fill("#held_on", "2026-06-15")
    page.select_option("#activity_type", "branch_hall")
    page.fill("#venue", "东大街分理处营业厅")
    page.fill("#description", "营业厅集中宣传，设立咨询台。")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    page.click(".transition-buttons button:has-text('报送')")
    page.wait_for_load_state()
    assert "已报送" in page.inner_text("h1")
    logout(page)

    # 5. the parent (the bank) finds it waiting and accepts it
    login(page, base, "bank_head")
    page.goto(f"{base}/campaigns/reports")
    page.click("#toReview")
    page.click("main table a:has-text('东大街分理处')")
    page.wait_for_load_state()
    page.click(".transition-buttons button:has-text('审核通过')")
    page.wait_for_load_state()
    assert "已采纳" in page.inner_text("h1")
    # 6. the bank's roll-up and its summaries include the branch
    page.click("text=本单位汇总")
    page.wait_for_load_state()
    page.click("text=云溪农商银行东城支行")  # breadcrumb back to the bank
    page.wait_for_load_state()
    table = page.inner_text("#rollupTable")
    assert "东大街分理处" in table and "1000余" in table
    pdf = pdf_text(download(page, "#summaryPdf"))
    assert not pdf or ("东大街分理处" in pdf and "三、工作成效" in pdf)
    logout(page)

    # 7. the county's roll-up and its PDF/.docx summary include it too
    login(page, base, "dc_head")
    page.click("text=宣传教育")
    page.click("text=2026年防范非法集资宣传月")
    page.click("text=汇总与总结")
    page.wait_for_load_state()
    assert "东城区处非办" in page.inner_text("h1")
    bank_column = page.locator("#rollupTable th").all_inner_texts().index("云溪农商银行东城支行")
    leaflets = page.locator("#rollupTable tr:has-text('宣传资料') td").nth(bank_column).inner_text()
    assert leaflets.strip() == "4600余"  # the bank's 3000余 + 人民路 600余 + 东大街 1000余
    pdf = pdf_text(download(page, "#summaryPdf"))
    assert not pdf or ("东大街分理处" in pdf and "营业厅集中宣传" in pdf)
    from docx import Document

    document = Document(io.BytesIO(download(page, "#summaryDocx")))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "东大街分理处" in text and "营业厅集中宣传" in text
    assert [p.text for p in document.paragraphs if p.style.name == "Heading 1"] == [
        "一、组织领导", "二、宣传形式与主要做法", "三、工作成效", "四、存在问题及下一步"]


def test_accepted_report_can_no_longer_be_changed(page, live_server):
    login(page, live_server, "branch2")
    page.click("text=宣传教育")
    page.click("text=2026年防范非法集资宣传月")
    page.click("#myUnits a:has-text('打开报告')")
    page.wait_for_load_state()
    assert "已采纳" in page.inner_text("h1") and page.locator("#extractLink").count() == 0
    page.goto(page.url + "/extract")
    assert "不能修改" in page.inner_text("main")


def test_uploaded_samples_highlight_figures_but_no_dates_document_or_list_numbers(page, live_server):
    login(page, live_server, "jd")
    page.click("text=宣传教育")
    page.click("text=2026年防范非法集资宣传月")
    page.click("#myUnits button:has-text('填写本单位报告')")
    page.wait_for_load_state()
    page.click("#extractLink")
    for sample, decoys, expected in (
            ("report-04.txt", ("4号", "xx月xx日", "1、", "2、"), 0),
            ("report-02.txt", ("88号", "一、", "(一)", "三种宣传手段", "六方面内容", "两个宣传群体"), 12)):
        page.set_input_files("#file", str(SAMPLES / sample))
        page.click("#analyseButton")
        page.wait_for_load_state()
        marks = page.locator("#narrativeText mark.figure").all_inner_texts()
        assert len(marks) == expected, marks
        for decoy in decoys:
            assert not any(decoy in m for m in marks), (decoy, marks)
        page.click("button:has-text('返回修改文字')")
        page.wait_for_load_state()
