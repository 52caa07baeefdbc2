"""The campaign pages through the app: scoping, the extraction page, workflow buttons, roll-up and downloads."""

import html
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from govrisk.campaigns import queries
from govrisk.campaigns.models import ReportState, UnitReport
from govrisk.extensions import db
from tests.campaigns.conftest import BRANCH_TEXT, file_report
from tests.conftest import csrf_token, post_form

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "campaigns"
MARK_RE = re.compile(r'<mark class="figure[^"]*" data-row="(\d+)"[^>]*>(.*?)<sup>', re.S)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _marks(page: str) -> list[str]:
    return [html.unescape(text) for _row, text in MARK_RE.findall(page)]


# --- scoping -----------------------------------------------------------------------------------------------------


def test_campaign_list_shows_only_campaigns_of_ones_units(client, login_as, world):
    login_as(world.users.branch_editor)
    assert world.campaign.name in _text(client.get("/campaigns/"))
    assert client.get(f"/campaigns/{world.campaign.id}").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/campaigns/")})
    login_as(world.users.outsider)
    assert world.campaign.name not in _text(client.get("/campaigns/"))
    assert world.campaign.name not in _text(client.get("/campaigns/reports"))  # not even in the filter's choices
    assert client.get(f"/campaigns/{world.campaign.id}").status_code == 403
    assert client.get("/campaigns/999999").status_code == 404


def test_admins_do_not_read_business_data(client, login_as, world):
    login_as(world.users.sysadmin)
    assert client.get("/campaigns/").status_code == 403
    assert client.get(f"/campaigns/{world.campaign.id}").status_code == 403
    assert client.get("/campaigns/units").status_code == 200  # units are organisation: the administrator keeps them


def test_unit_status_lists_only_the_visible_subtree(client, login_as, world):
    login_as(world.users.bank_head)
    page = _text(client.get(f"/campaigns/{world.campaign.id}"))
    assert world.branch.name in page and world.branch2.name in page
    assert world.school.name not in page and world.county.name not in page.split("报送情况")[1]
    filtered = _text(client.get(f"/campaigns/{world.campaign.id}?state=none&q=东大街"))
    assert world.branch.name in filtered and world.branch2.name not in filtered


def test_report_of_another_unit_is_forbidden(client, login_as, world):
    report = file_report(world, world.branch, world.users.branch_editor)
    login_as(world.users.branch2_editor)
    assert client.get(f"/campaigns/reports/{report.id}").status_code == 403
    assert client.get(f"/campaigns/reports/{report.id}/extract").status_code == 403


def test_parent_reads_but_cannot_edit_a_sub_units_report(client, login_as, world):
    report = file_report(world, world.branch, world.users.branch_editor)
    login_as(world.users.bank_editor)
    page = _text(client.get(f"/campaigns/reports/{report.id}"))
    assert "只有本单位的填报人员可以修改本报告" in page and "从总结文字识别" not in page
    assert client.get(f"/campaigns/reports/{report.id}/values/new").status_code == 403


def test_opening_a_report_for_a_unit_outside_the_campaign_is_refused(client, login_as, world):
    login_as(world.users.outsider)
    url = f"/campaigns/{world.campaign.id}/units/{world.outside.id}/report"
    response = post_form(client, url, token_url="/campaigns/")
    assert response.status_code == 403
    assert queries.report_for(world.campaign.id, world.outside.id) is None


def test_opening_a_report_creates_one_draft(client, login_as, world):
    login_as(world.users.branch_editor)
    url = f"/campaigns/{world.campaign.id}/units/{world.branch.id}/report"
    first = post_form(client, url, token_url="/campaigns/")
    second = post_form(client, url, token_url="/campaigns/")
    report = queries.report_for(world.campaign.id, world.branch.id)
    assert first.headers["Location"].endswith(f"/campaigns/reports/{report.id}") == second.headers[
        "Location"].endswith(f"/campaigns/reports/{report.id}")
    assert report.state == ReportState.DRAFT
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UnitReport)) == 1


# --- extraction page ---------------------------------------------------------------------------------------------


def _extract_url(report) -> str:
    return f"/campaigns/reports/{report.id}/extract"


def _analyse(client, report, text=None, file=None):
    data = {"step": "analyse", "narrative": text or ""}
    if file is not None:
        data["file"] = file
    return post_form(client, _extract_url(report), data, token_url=_extract_url(report),
                     content_type="multipart/form-data")


def _confirm_data(page: str) -> dict:
    """The confirmation form as the browser would send it back (checked boxes only)."""
    narrative = re.search(r'<textarea name="narrative" hidden>\n(.*?)</textarea>', page, re.S).group(1)
    data = {"step": "save", "narrative": html.unescape(narrative)}
    for name, value in re.findall(r'<input[^>]*name="(rows-\d+-(?:value|unit|phrase|start|end|label))"[^>]*'
                                  r'value="([^"]*)"', page):
        data[name] = html.unescape(value)
    for name in re.findall(r'<input checked[^>]*name="(rows-\d+-\w+)"|<input[^>]*checked[^>]*name="(rows-\d+-\w+)"',
                           page):
        data[name[0] or name[1]] = "y"
    for name, value in re.findall(r'<select[^>]*name="(rows-\d+-indicator)".*?<option selected value="([^"]*)"',
                                  page, re.S):
        data[name] = value
    return data


@pytest.fixture
def draft(world, login_as):
    from govrisk.campaigns import operations as ops

    report = ops.open_report(world.campaign, world.branch, actor=world.users.branch_editor)
    login_as(world.users.branch_editor)
    return report


def test_pasted_text_is_shown_with_every_figure_highlighted(client, draft):
    page = _text(_analyse(client, draft, BRANCH_TEXT))
    assert _marks(page) == ["横幅2条", "宣传资料300余份", "咨询群众45人次", "宣传资料500余份"]
    assert 'title="宣传资料"' in page and "原文（共找到 4 个数字）" in page
    assert queries.report_values(draft.id) == []  # nothing saved before confirmation


def test_confirmed_figures_are_saved_with_corrections(client, draft):
    data = _confirm_data(_text(_analyse(client, draft, BRANCH_TEXT)))
    assert data["rows-3-is_total"] == "y" and data["rows-1-is_approx"] == "y"
    del data["rows-0-keep"]  # dropped
    data["rows-2-value"] = "50"  # corrected
    data["rows-1-indicator"], data["rows-1-label"] = "custom", "宣传折页"
    response = post_form(client, _extract_url(draft), data, token_url=_extract_url(draft))
    assert response.status_code == 302
    saved = [(v.indicator, v.label, v.value, v.is_approx, v.is_total) for v in queries.report_values(draft.id)]
    assert saved == [("custom", "宣传折页", Decimal("300"), True, False),
                     ("consultations", "", Decimal("50"), False, False), ("leaflets", "", Decimal("500"), True, True)]
    page = _text(client.get(f"/campaigns/reports/{draft.id}"))
    assert '<mark class="figure" title="咨询">咨询群众45人次</mark>' in page


@pytest.mark.parametrize("field, value, message", [
    ("rows-2-value", "-45", "数值不能为负数"),
    ("rows-2-value", "很多", "不是有效的数字"),
    ("rows-2-indicator", "rockets", "请选择指标"),
    ("rows-1-indicator", "custom", "自定义指标须填写指标名称"),
])
def test_one_bad_figure_saves_nothing(client, draft, field, value, message):
    data = _confirm_data(_text(_analyse(client, draft, BRANCH_TEXT)))
    data[field] = value
    response = post_form(client, _extract_url(draft), data, token_url=_extract_url(draft))
    assert response.status_code == 400
    page = _text(response)
    assert message in page and "未保存任何内容" in page
    assert queries.report_values(draft.id) == [] and draft.narrative == ""
    assert len(_marks(page)) == 4  # the text and its highlights come back for correction


def test_crlf_from_the_browser_keeps_offsets(client, draft):
    text = "一、宣传情况\r\n发放宣传资料300份。\r\n\r\n二、成效\r\n接受咨询群众45人次。"
    data = _confirm_data(_text(_analyse(client, draft, text)))
    data["narrative"] = data["narrative"].replace("\n", "\r\n")  # what a browser sends back
    assert post_form(client, _extract_url(draft), data, token_url=_extract_url(draft)).status_code == 302
    for value in queries.report_values(draft.id):
        assert draft.narrative[value.text_start:value.text_end] == value.phrase
    assert "\r" not in draft.narrative


def _docx_bytes(*paragraphs, table=None) -> bytes:
    from docx import Document

    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("name, content, marks", [
    ("总结.txt", BRANCH_TEXT.encode("utf-8"), 4),
    ("总结.txt", "\ufeff发放宣传资料300份。".encode(), 1),
    ("总结.docx", _docx_bytes("一、宣传情况", "悬挂横幅2条，发放宣传资料300余份。",
                              table=[["指标", "数量"], ["展板", "8块"]]), 3),
])
def test_upload_txt_or_docx(client, draft, name, content, marks):
    page = _text(_analyse(client, draft, file=(io.BytesIO(content), name)))
    assert len(_marks(page)) == marks


@pytest.mark.parametrize("name, content, message", [
    ("总结.txt", BRANCH_TEXT.encode("gbk"), "不是 UTF-8 编码"),
    ("总结.txt", BRANCH_TEXT.encode("utf-16"), "UTF-16"),
    ("总结.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "旧版 Word"),
    ("总结.pdf", b"%PDF-1.4 ...", "只支持 .txt"),
    ("总结.docx", b"PK\x03\x04 not really a docx", "无法读取"),
    ("总结.txt", b"", "为空"),
    ("总结.txt", b"\x00\x01\x02binary", "不是文本文件"),
])
def test_bad_uploads_are_refused_clearly(client, draft, name, content, message):
    response = _analyse(client, draft, file=(io.BytesIO(content), name))
    assert response.status_code == 400
    assert message in _text(response)
    assert queries.report_values(draft.id) == [] and draft.narrative == ""


def test_empty_paste_is_refused(client, draft):
    response = _analyse(client, draft, "   ")
    assert response.status_code == 400 and "请粘贴总结文字" in _text(response)


SAMPLE_DECOYS = {
    "report-02.txt": ["﹝20xx﹞88号", "20xx年", "一、", "二、", "三、", "(一)", "(二)", "两个宣传群体", "三种宣传手段",
                      "六方面内容"],
    "report-04.txt": ["(20xx)4号", "xx月xx日", "1、", "2、", "(一)", "(四)", "xx月份"],
    "report-05.txt": ["737号令", "1、", "2、", "20xx年", "每月一次"],
    "report-07.txt": ["一是", "二是", "三是"],
    "report-08.txt": ["20xx年", "1、", "2、", "3、", "4、", "一、", "二、", "三、"],
    "report-11.txt": ["20xx年"],
}


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("*.txt")))
def test_sample_pages_highlight_no_dates_document_numbers_or_list_numbers(client, draft, sample):
    text = (SAMPLES / sample).read_text(encoding="utf-8")
    page = _text(_analyse(client, draft, file=(io.BytesIO(text.encode()), sample)))
    marks = _marks(page)
    for decoy in SAMPLE_DECOYS.get(sample, []):
        assert decoy in text
        assert not any(decoy in mark or mark in decoy for mark in marks), (decoy, marks)
    for mark in marks:
        assert not re.search(r"\d+月|\d+日|号|〔|﹝", mark), mark


def test_sample_02_page_finds_what_a_careful_reader_finds(client, draft):
    text = (SAMPLES / "report-02.txt").read_text(encoding="utf-8")
    marks = _marks(_text(_analyse(client, draft, text)))
    assert marks == ["8块宣传牌", "宣传标语6幅", "宣传资料1500余份", "咨询180余人次", "非法小广告9处",
                     "非法广告名片12张", "社区宣传窗12个", "宣传条幅26条", "展板144块", "电子显示屏宣传18块",
                     "宣传资料3000余份", "8个银行从业人员参与非法集资的典型案例"]


def test_narrative_html_is_escaped(client, draft):
    page = _text(_analyse(client, draft, "<script>alert(1)</script>发放宣传资料3份。"))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


# --- forms on the report page ------------------------------------------------------------------------------------


@pytest.mark.parametrize("data, message", [
    ({"indicator": "leaflets", "value": "-3"}, "负数"),
    ({"indicator": "leaflets", "value": "abc"}, "不是有效的数字"),
    ({"indicator": "custom", "value": "3", "label": ""}, "须填写指标名称"),
    ({"indicator": "nonsense", "value": "3"}, "不是有效的选择"),
])
def test_value_form_errors(client, draft, data, message):
    url = f"/campaigns/reports/{draft.id}/values/new"
    response = post_form(client, url, data, token_url=url)
    assert response.status_code == 400 and message in _text(response)
    assert queries.report_values(draft.id) == []


def test_value_and_activity_forms_save(client, draft):
    url = f"/campaigns/reports/{draft.id}/values/new"
    assert post_form(client, url, {"indicator": "leaflets", "value": "1.2万", "is_approx": "y"},
                     token_url=url).status_code == 302
    value = queries.report_values(draft.id)[0]
    assert (value.value, value.unit, value.is_approx) == (Decimal("12000"), "份", True)
    url = f"/campaigns/reports/{draft.id}/activities/new"
    bad = post_form(client, url, {"activity_type": "branch_hall", "description": ""}, token_url=url)
    assert bad.status_code == 400 and "请填写活动内容" in _text(bad)
    ok = post_form(client, url, {"held_on": "2026-06-15", "activity_type": "branch_hall", "venue": "营业厅",
                                 "description": "厅堂宣传"}, token_url=url)
    assert ok.status_code == 302 and queries.report_activities(draft.id)[0].venue == "营业厅"
    remove = f"/campaigns/reports/{draft.id}/values/{value.id}/remove"
    assert post_form(client, remove, token_url=f"/campaigns/reports/{draft.id}").status_code == 302
    assert queries.report_values(draft.id) == []


# --- workflow through the pages ----------------------------------------------------------------------------------


def _fire(client, report, name, comment=""):
    url = f"/campaigns/reports/{report.id}"
    return post_form(client, f"{url}/transition", {"transition": name, "version": report.version,
                                                   "comment": comment}, token_url=url)


def test_submit_accept_through_the_pages(client, login_as, world):
    u = world.users
    report = file_report(world, world.branch, u.branch_editor)
    login_as(u.branch_editor)
    assert "报送" in _text(client.get(f"/campaigns/reports/{report.id}"))
    assert _fire(client, report, "submit").status_code == 302 and report.state == ReportState.SUBMITTED
    assert _fire(client, report, "accept").status_code == 302 and report.state == ReportState.SUBMITTED
    client.post("/logout", data={"csrf_token": csrf_token(client, "/campaigns/")})
    login_as(u.bank_head)
    inbox = _text(client.get("/campaigns/reports?review=1"))
    assert world.branch.name in inbox
    refused = _fire(client, report, "return")
    assert refused.status_code == 302 and report.state == ReportState.SUBMITTED
    assert _fire(client, report, "accept").status_code == 302 and report.state == ReportState.ACCEPTED
    assert world.branch.name not in _text(client.get("/campaigns/reports?review=1"))


def test_returned_report_shows_the_comment(client, login_as, world):
    u = world.users
    report = file_report(world, world.branch, u.branch_editor, state="returned", reviewer=u.bank_head)
    login_as(u.branch_editor)
    assert "上级退回意见：" in _text(client.get(f"/campaigns/reports/{report.id}")) and "请补充数据" in _text(
        client.get(f"/campaigns/reports/{report.id}"))


# --- roll-up and documents ---------------------------------------------------------------------------------------


@pytest.fixture
def accepted(world):
    u = world.users
    file_report(world, world.branch, u.branch_editor, state="accepted", reviewer=u.bank_head)
    return world


def test_rollup_page_includes_accepted_sub_reports(client, login_as, accepted):
    world = accepted
    login_as(world.users.county_head)
    page = _text(client.get(f"/campaigns/{world.campaign.id}/units/{world.county.id}/rollup"))
    assert "500<span class=\"approx\"" in page and world.bank.name in page
    assert "<svg" in page and "各项指标完成情况" in page
    assert client.get(f"/campaigns/{world.campaign.id}/units/{world.outside.id}/rollup").status_code == 404


def test_rollup_of_an_unseen_unit_is_forbidden(client, login_as, world):
    login_as(world.users.branch_editor)
    assert client.get(f"/campaigns/{world.campaign.id}/units/{world.bank.id}/rollup").status_code == 403


def test_summary_pdf(client, login_as, accepted):
    import shutil
    import subprocess

    world = accepted
    login_as(world.users.bank_head)
    response = client.get(f"/campaigns/{world.campaign.id}/units/{world.bank.id}/summary.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF") and b"/FontFile2" in response.data  # the CJK font is embedded
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=response.data, capture_output=True).stdout.decode()
        flat = re.sub(r"\s+", "", text)
        for expected in ("一、组织领导", "二、宣传形式与主要做法", "三、工作成效", "四、存在问题及下一步",
                         "宣传资料500余份", world.branch.name):
            assert expected in flat


def test_summary_docx_is_editable_and_complete(client, login_as, accepted, monkeypatch):
    from docx import Document

    from govrisk.campaigns import documents

    world = accepted
    login_as(world.users.bank_head)
    url = f"/campaigns/{world.campaign.id}/units/{world.bank.id}/summary.docx"
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype.endswith("wordprocessingml.document")
    document = Document(io.BytesIO(response.data))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading 1")]
    assert headings == ["一、组织领导", "二、宣传形式与主要做法", "三、工作成效", "四、存在问题及下一步"]
    cells = [c.text for c in document.tables[0].rows[1].cells]
    assert cells[0] == "横幅/条幅/标语" and [c.text for c in document.tables[0].rows[2].cells][2] == "500余"
    no_pictures = len(document.inline_shapes)
    if documents.drawing_png(documents.bar_chart([("a", 1)])) is None:
        assert no_pictures == 0 and any("统计图见 PDF 版本" in p.text for p in document.paragraphs)
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
           b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
    monkeypatch.setattr(documents, "drawing_png", lambda drawing: png)
    with_charts = Document(io.BytesIO(client.get(url).data))
    assert len(with_charts.inline_shapes) >= 1
    assert not any("统计图见 PDF 版本" in p.text for p in with_charts.paragraphs)


def test_rollup_xlsx(client, login_as, accepted):
    from openpyxl import load_workbook

    world = accepted
    login_as(world.users.bank_head)
    response = client.get(f"/campaigns/{world.campaign.id}/units/{world.bank.id}/rollup.xlsx")
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook["指标汇总"]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["宣传资料"][2:4] == (500, "是")
    assert [c.value for c in sheet[1]][-2:] == [world.branch.name, world.branch2.name]
    assert workbook["报送情况"].max_row == 4


# --- units and education -----------------------------------------------------------------------------------------


def test_admin_creates_units_and_adds_members(client, login_as, world):
    login_as(world.users.sysadmin)
    url = "/campaigns/units/new"
    bad = post_form(client, url, {"code": "", "name": "", "kind": "bank", "parent_id": 0, "department_id": 0},
                    token_url=url)
    assert bad.status_code == 400 and "请填写单位代码" in _text(bad)
    ok = post_form(client, url, {"code": "T-NEW", "name": "新网点", "kind": "branch", "parent_id": world.bank.id,
                                 "department_id": 0}, token_url=url)
    assert ok.status_code == 302
    unit = queries.get_unit_by_code("T-NEW")
    assert unit.parent_id == world.bank.id
    members = f"/campaigns/units/{unit.id}/members"
    missing = post_form(client, members, {"username": "ghost"}, token_url=f"/campaigns/units/{unit.id}")
    assert missing.status_code == 302 and not queries.members_of(unit.id)
    post_form(client, members, {"username": world.users.branch_editor.username},
              token_url=f"/campaigns/units/{unit.id}")
    assert [m.user_id for m in queries.members_of(unit.id)] == [world.users.branch_editor.id]


def test_business_users_cannot_manage_units(client, login_as, world):
    login_as(world.users.bank_head)
    assert client.get(f"/campaigns/units/{world.branch.id}").status_code == 200
    assert client.get(f"/campaigns/units/{world.school.id}").status_code == 403
    assert client.get(f"/campaigns/units/{world.bank.id}/edit").status_code == 403
    listing = _text(client.get("/campaigns/units"))
    assert world.branch.name in listing and world.school.name not in listing


def test_education_pages(client, login_as, create_department, create_user):
    from govrisk.core.permissions import Role

    own, other = create_department(name="本局"), create_department(name="别的局")
    login_as(create_user(Role.DEPT_EDITOR, department=own))
    url = "/campaigns/education/new"
    data = {"department_id": own.id, "held_on": "2026-04-16", "topic": "观看警示教育片", "form": "warning_education",
            "attendance": "-3", "campaign_id": 0}
    bad = post_form(client, url, data, token_url=url)
    assert bad.status_code == 400 and "参加人数应为 0 或正整数" in _text(bad)
    foreign = post_form(client, url, {**data, "attendance": "40", "department_id": other.id}, token_url=url)
    assert foreign.status_code == 400  # another department is not a choice
    assert post_form(client, url, {**data, "attendance": "40"}, token_url=url).status_code == 302
    page = _text(client.get(f"/campaigns/education?department_id={own.id}&year=2026"))
    assert "观看警示教育片" in page and 'id="educationStats"' in page and ">40<" in page
