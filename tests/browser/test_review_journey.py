"""The annual review as new users meet it on the demo city: the inspector opens the 2026 cycle, the market
regulation bureau does its self-check (editor fills, head signs), the inspector inspects and scores (one adjustment
with its reason), a finding leads to a rectification that goes overdue and escalates through `govrisk tick`, an
admonishing talk is recorded on the person, and the city report downloads — the same text when regenerated."""

import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, login

DEPARTMENT = "云溪市市场监督管理局"
PERSON = "周雅楠"


def logout(page):
    page.click("#userMenu")
    page.click("#logoutButton")
    page.wait_for_load_state()


def tick(tmp_path_factory, today: date) -> str:
    """`govrisk tick --today …` against the live server's database, as cron would run it."""
    database = next(Path(tmp_path_factory.getbasetemp()).glob("live*/live.db"))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    result = subprocess.run([sys.executable, "-m", "govrisk.cli", "tick", "--today", today.isoformat()], env=env,
                            capture_output=True, text=True, check=True)
    return result.stdout


def click_and_wait(page, selector: str):
    page.click(selector)
    page.wait_for_load_state()


def open_department(page, base):
    page.goto(f"{base}/review/")
    click_and_wait(page, "#cycleTable a:has-text('2026')")
    click_and_wait(page, f"#participantTable a:has-text('{DEPARTMENT}')")


def pdf_text(data: bytes) -> str:
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return result.stdout.decode()


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils (pdftotext, pdftoppm)")
def test_annual_review_from_opening_to_report(page, live_server, tmp_path_factory):
    base = live_server
    # 1. the inspector plans and opens the 2026 cycle (the register snapshot is frozen)
    login(page, base, "inspector")
    click_and_wait(page, "text=年度考核")
    click_and_wait(page, "#newCycle")
    page.fill("#year", "2026")
    page.fill("#self_check_due_on", "2026-12-31")
    click_and_wait(page, "#saveCycle")
    assert page.inner_text("#cycleState") == "筹备"
    click_and_wait(page, "#cycleTransitions button:has-text('启动单位自查')")
    assert page.inner_text("#cycleState") == "单位自查"
    assert "登记快照冻结于" in page.inner_text("main")
    click_and_wait(page, "#cycleTabs a:has-text('与上年度比较')")
    assert "比较 2025 年度与 2026 年度" in page.inner_text("#yoyBasis")
    assert int(page.inner_text("#yoyTable tfoot td[data-key=risks_new]")) > 0
    logout(page)

    # 2. the department's editor fills the self-check from the to-do list; the head signs it
    login(page, base, "editor")
    assert "待填写的年度自查" in page.inner_text("#todoList")
    open_department(page, base)
    for select in page.locator("#selfCheckForm select").all():
        select.select_option("done")
    page.fill("#summary", "对照清单逐项自查，均已落实。")
    click_and_wait(page, "#saveSelfCheck")
    click_and_wait(page, "#selfCheckTransitions button:has-text('提交负责人签署')")
    assert page.inner_text("#selfCheckState") == "待负责人签署"
    logout(page)
    login(page, base, "head")
    assert "待签署的年度自查" in page.inner_text("#todoList")
    open_department(page, base)
    click_and_wait(page, "#selfCheckTransitions button:has-text('签署自查报告')")
    assert page.inner_text("#selfCheckState") == "已签署"
    logout(page)

    # 3. the inspector inspects, moves on to the assessment and adjusts one score with a reason
    login(page, base, "inspector")
    page.goto(f"{base}/review/")
    click_and_wait(page, "#cycleTable a:has-text('2026')")
    click_and_wait(page, "#cycleTransitions button:has-text('进入年度检查')")
    open_department(page, base)
    page.fill("#noteForm textarea[name=text]", "抽查食品经营许可卷宗 20 件，双人核查记录齐全。")
    click_and_wait(page, "#noteForm button")
    assert "抽查食品经营许可卷宗" in page.inner_text("#notes")
    page.goto(f"{base}/review/")
    click_and_wait(page, "#cycleTable a:has-text('2026')")
    click_and_wait(page, "#cycleTransitions button:has-text('进入考核评分')")
    open_department(page, base)
    total_before = page.inner_text("#totalScore")
    detail = page.locator("tr.score-row[data-key=public_appraisal] + tr.score-detail")
    detail.locator("summary").click()
    detail.locator("input[name=value]").fill("90")
    detail.locator("button").click()
    page.wait_for_load_state()
    assert "调整得分必须填写理由" in page.inner_text("main")
    detail = page.locator("tr.score-row[data-key=public_appraisal] + tr.score-detail")
    detail.locator("summary").click()
    detail.locator("input[name=value]").fill("90")
    detail.locator("input[name=reason]").fill("社会评议问卷已回收，按问卷统计结果认定。")
    detail.locator("button").click()
    page.wait_for_load_state()
    assert "理由已记录" in page.inner_text("main")
    assert "社会评议问卷已回收" in page.inner_text("#scoreTable")
    assert page.inner_text("#totalScore") != total_before

    # 4. a finding about the department names the person; a rectification is ordered with a deadline
    click_and_wait(page, "#newFinding")
    page.fill("#title", "食品经营许可现场核查记录不完整")
    page.select_option("#person_ids", label=f"{PERSON} · {DEPARTMENT}")
    click_and_wait(page, "#saveFinding")
    assert page.inner_text("#findingTitle") == "食品经营许可现场核查记录不完整"
    due = date.today() + timedelta(days=7)
    page.fill("#rectificationForm textarea[name=requirement]", "补齐现场核查记录，一个月内完成复查。")
    page.fill("#rectificationForm input[name=due_on]", due.isoformat())
    click_and_wait(page, "#orderRectification")
    rectification_url = page.url
    assert "已下达" in page.inner_text("#rectificationState")
    logout(page)

    # 5. the deadline passes: tick escalates to the department head, ten days later to the inspectors
    assert "rectification: 1" in tick(tmp_path_factory, due + timedelta(days=1))
    login(page, base, "head")
    assert "本单位逾期整改" in page.inner_text("#todoList")
    page.goto(rectification_url)
    assert "已提醒单位负责人" in page.inner_text("#overdueAlert")
    logout(page)
    assert "rectification: 1" in tick(tmp_path_factory, due + timedelta(days=11))
    assert "rectification: 0" in tick(tmp_path_factory, due + timedelta(days=12))  # idempotent
    login(page, base, "inspector")
    click_and_wait(page, "#todoList a:has-text('已报纪检监察员')")
    click_and_wait(page, "#rectificationTable a")
    assert "已上报纪检监察员" in page.inner_text("#overdueAlert")
    assert "逾期10天以上，已报纪检监察员" in page.inner_text(".history-panel")

    # 6. an admonishing talk (诫勉谈话) is recorded on the person
    click_and_wait(page, "ol.breadcrumb a:has-text('WT')")
    click_and_wait(page, f"#people li:has-text('{PERSON}') a:has-text('追究责任')")
    page.select_option("#action_type", "admonishing_talk")
    page.fill("#facts", "现场核查记录不完整，整改逾期。")
    page.fill("#decided_on", date.today().isoformat())
    page.fill("#decided_by", "云溪市纪委监委")
    click_and_wait(page, "#saveAction")
    click_and_wait(page, "#actionTransitions button[data-transition=decide]")
    assert page.inner_text("#actionState") == "已决定"
    click_and_wait(page, f"main a:has-text('{PERSON}')")
    assert "诫勉谈话" in page.inner_text("#personActions") and "已决定" in page.inner_text("#personActions")

    # 7. the results are published; the city report downloads, and regenerating it gives the same text
    page.goto(f"{base}/review/")
    click_and_wait(page, "#cycleTable a:has-text('2026')")
    click_and_wait(page, "#cycleTransitions button:has-text('公布考核结果')")
    assert page.inner_text("#cycleState") == "结果已公布"
    texts = []
    for attempt in (1, 2):
        with page.expect_download() as info:
            page.click("#downloadReport")
        path = ARTIFACTS / f"annual-report-2026-{attempt}.pdf"
        ARTIFACTS.mkdir(exist_ok=True)
        info.value.save_as(str(path))
        texts.append(pdf_text(path.read_bytes()))
    assert texts[0] == texts[1]
    for expected in ("2026年度廉政风险防控规范权力运行", DEPARTMENT, "食品经营许可现场核查记录不完整", PERSON,
                     "诫勉谈话", "社会评议问卷已回收", "比较 2025 年度与 2026 年度", "签发"):
        assert expected in texts[0], expected
    pages = ARTIFACTS / "annual-report-2026"
    shutil.rmtree(pages, ignore_errors=True)
    pages.mkdir()
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(ARTIFACTS / "annual-report-2026-1.pdf"),
                    str(pages / "page")], check=True)
    assert len(list(pages.glob("page-*.png"))) >= 8
