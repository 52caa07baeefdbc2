"""Catalog pages: list filters, sorting, paging and counts; forms with field-level errors; detail; exports."""

import io
import re
import subprocess

import pytest
from openpyxl import load_workbook

from govrisk.catalog import operations as ops
from govrisk.catalog import queries
from govrisk.workflow.register import RegisterState as S
from tests.catalog_support import make_power, make_unit, publish
from tests.conftest import csrf_token


@pytest.fixture
def unit(create_department, create_user):
    return make_unit(create_department, create_user, code="T-PG")


@pytest.fixture
def inspector(create_user, create_department):
    return create_user("inspector", department=create_department())


def form_data(department_id, **overrides):
    data = {"name": "网页登记的许可", "code": "", "category": "xk", "department_id": str(department_id),
            "section_id": "0", "source": "", "level": "", "statutory_days": "20", "promised_days": "10",
            "is_public": "y", "legal_bases-0-law": "中华人民共和国行政许可法", "legal_bases-0-article": "第十二条",
            "legal_bases-0-clause": "", "legal_bases-1-law": "某某条例", "legal_bases-1-article": "第三条",
            "legal_bases-1-clause": "条文"}
    data.update(overrides)
    return data


def codes(html: str) -> list[str]:
    return re.findall(r'<td><code class="small">([^<]+)</code>', html)


def test_list_filters_sort_page_and_count(client, login_as, unit, create_department, create_user):
    for i in range(25):
        make_power(unit, code=f"PG-{i:03d}", name=f"事项{i:03d}", category="jc" if i % 5 == 0 else "xk",
                   is_major_matter=(i == 3),
                   legal_bases=[{"law": "甲法" if i != 7 else "唯一条例", "article": "第一条"}])
    other = make_unit(create_department, create_user, code="T-PG2")
    make_power(other, code="PG-OTHER")
    login_as(unit.editor)
    html = client.get("/catalog/powers").get_data(as_text=True)
    assert codes(html)[:3] == ["PG-000", "PG-001", "PG-002"] and "共 25 条" in html and "PG-OTHER" not in html
    assert codes(client.get("/catalog/powers?page=2").get_data(as_text=True))[0] == "PG-020"
    assert codes(client.get("/catalog/powers?sort=-code").get_data(as_text=True))[0] == "PG-024"
    assert codes(client.get("/catalog/powers?category=jc").get_data(as_text=True)) == [
        "PG-000", "PG-005", "PG-010", "PG-015", "PG-020"]
    assert codes(client.get("/catalog/powers?major=1").get_data(as_text=True)) == ["PG-003"]
    assert codes(client.get("/catalog/powers?q=唯一条例").get_data(as_text=True)) == ["PG-007"]
    assert codes(client.get("/catalog/powers?q=pg-01").get_data(as_text=True))[0] == "PG-010"
    assert codes(client.get("/catalog/powers?state=published").get_data(as_text=True)) == []
    facets = queries.facet_counts(queries.PowerFilters(), unit.editor.visible_department_ids())
    assert {k: n for k, _, n in facets["category"]} == {"xk": 20, "jc": 5}
    assert [(name, n) for _, name, n in facets["department"]] == [(unit.department.name, 25)]
    assert codes(client.get(f"/catalog/powers?department={other.department.id}").get_data(as_text=True)) == []


def test_bad_filter_values_do_not_break_the_page(client, login_as, unit):
    login_as(unit.editor)
    for query in ("state=nonsense", "sort=drop table", "department=NOPE", "page=abc", "major=maybe", "q=%25_"):
        assert client.get(f"/catalog/powers?{query}").status_code == 200, query


def test_editor_registers_a_power_with_two_legal_bases(client, login_as, unit):
    login_as(unit.editor)
    token = csrf_token(client, "/catalog/powers/new")
    response = client.post("/catalog/powers/new", data={"csrf_token": token, **form_data(unit.department.id)})
    assert response.status_code == 302
    power = queries.get_power_by_code("T-PG-XK-0001")
    assert power.state is S.DRAFT and [b.law for b in power.legal_bases] == ["中华人民共和国行政许可法", "某某条例"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "网页登记的许可" in html and "某某条例" in html and 'data-transition="submit"' in html


@pytest.mark.parametrize("overrides,field_name,message", [
    ({"promised_days": "30"}, "promised_days", "不能超过法定时限"),
    ({"statutory_days": "abc"}, "statutory_days", "不是整数"),
    ({"statutory_days": "-2", "promised_days": ""}, "statutory_days", "不能为负数"),
    ({"legal_bases-0-law": "", "legal_bases-0-article": "", "legal_bases-1-law": "", "legal_bases-1-article": "",
      "legal_bases-1-clause": ""}, None, "至少需要一条法律依据"),
    ({"legal_bases-1-law": ""}, "legal_bases-1-law", "请填写法律法规名称"),
    ({"category": "cf", "discretion_tiers-0-name": "一般", "discretion_tiers-0-conditions": "a",
      "discretion_tiers-0-min": "0", "discretion_tiers-0-max": "500", "discretion_tiers-0-unit": "元",
      "discretion_tiers-1-name": "严重", "discretion_tiers-1-conditions": "b", "discretion_tiers-1-min": "400",
      "discretion_tiers-1-max": "900", "discretion_tiers-1-unit": "元"}, "discretion_tiers-1-min", "重叠"),
    ({"name": ""}, "name", "请填写职权名称"),
])
def test_form_shows_each_error_under_its_field_and_writes_nothing(client, login_as, unit, overrides, field_name,
                                                                 message):
    login_as(unit.editor)
    token = csrf_token(client, "/catalog/powers/new")
    response = client.post("/catalog/powers/new", data={"csrf_token": token, **form_data(unit.department.id,
                                                                                         **overrides)})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html
    if field_name:
        assert re.search(rf'name="{re.escape(field_name)}"[^>]*class="[^"]*is-invalid|'
                         rf'class="[^"]*is-invalid[^"]*"[^>]*name="{re.escape(field_name)}"', html), field_name
    assert queries.get_power_by_code("T-PG-XK-0001") is None


def test_duplicate_code_is_a_field_error(client, login_as, unit):
    make_power(unit, code="PG-DUP")
    login_as(unit.editor)
    token = csrf_token(client, "/catalog/powers/new")
    html = client.post("/catalog/powers/new", data={"csrf_token": token, **form_data(
        unit.department.id, code="PG-DUP")}).get_data(as_text=True)
    assert "已被其他职权使用" in html


def test_html_in_text_fields_is_shown_escaped(client, login_as, unit, inspector):
    power = publish(make_power(unit, name="<script>alert('x')</script>许可",
                               legal_bases=[{"law": "<b>法</b>", "article": "第一条"}]), unit, inspector)
    login_as(unit.editor)
    for url in (f"/catalog/powers/{power.id}", "/catalog/powers", f"/portal/powers/{power.code}", "/portal/"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "&lt;script&gt;" in html, url


def test_editing_a_published_power_through_the_form_starts_a_revision(client, login_as, unit, inspector):
    power = publish(make_power(unit, name="旧名称"), unit, inspector)
    login_as(unit.editor)
    page = client.get(f"/catalog/powers/{power.id}/edit").get_data(as_text=True)
    assert "修订" in page and 'value="旧名称"' in page
    token = csrf_token(client, f"/catalog/powers/{power.id}/edit")
    data = form_data(unit.department.id, name="新名称", code=power.code, version=str(power.version),
                     **{"legal_bases-0-clause": "可以设定行政许可的事项", "legal_bases-1-law": "",
                        "legal_bases-1-article": "", "legal_bases-1-clause": "", "materials-0-name": "申请书",
                        "materials-0-note": "原件1份", "phone": "0871-65120000"})
    assert client.post(f"/catalog/powers/{power.id}/edit", data={"csrf_token": token, **data}).status_code == 302
    assert power.state is S.DRAFT and power.name == "新名称"
    html = client.get(f"/catalog/powers/{power.id}").get_data(as_text=True)
    assert "revisionNotice" in html and "1 处修改" in html
    assert "旧名称" in client.get(f"/portal/powers/{power.code}").get_data(as_text=True)


def test_stale_form_is_refused(client, login_as, unit):
    power = make_power(unit)
    login_as(unit.editor)
    token = csrf_token(client, f"/catalog/powers/{power.id}/edit")
    data = form_data(unit.department.id, code=power.code, version="99")
    response = client.post(f"/catalog/powers/{power.id}/edit", data={"csrf_token": token, **data})
    assert response.status_code == 409 and "已被他人修改" in response.get_data(as_text=True)


def test_workflow_buttons_through_the_pages(client, login_as, unit, inspector):
    power = make_power(unit)
    for user, transition, comment in ((unit.editor, "submit", ""), (unit.head, "return", ""),
                                      (unit.head, "return", "请补充材料")):
        if user is not unit.editor or transition != "submit":
            client.post("/logout", data={"csrf_token": csrf_token(client, "/catalog/powers")})
        login_as(user)
        token = csrf_token(client, f"/catalog/powers/{power.id}")
        response = client.post(f"/catalog/powers/{power.id}/transition", data={
            "csrf_token": token, "transition": transition, "comment": comment, "version": power.version})
        if transition == "return" and not comment:
            assert response.status_code == 302 and power.state is S.SUBMITTED  # flashed: a comment is needed
    assert power.state is S.RETURNED
    html = client.get(f"/catalog/powers/{power.id}").get_data(as_text=True)
    assert "请补充材料" in html


def test_other_department_cannot_open_or_edit(client, login_as, unit, create_department, create_user):
    power = make_power(unit)
    other = make_unit(create_department, create_user)
    login_as(other.editor)
    assert client.get(f"/catalog/powers/{power.id}").status_code == 403
    assert client.get(f"/catalog/powers/{power.id}/edit").status_code == 403
    token = csrf_token(client, "/catalog/powers")
    assert client.post(f"/catalog/powers/{power.id}/transition", data={
        "csrf_token": token, "transition": "submit", "version": power.version}).status_code == 403


def test_admins_do_not_see_the_catalog(client, login_as, create_user, unit):
    make_power(unit)
    login_as(create_user("sys_admin"))
    assert client.get("/catalog/powers").status_code == 403


def test_versions_diff_and_as_of_pages(client, login_as, unit, inspector):
    power = publish(make_power(unit, name="第一版"), unit, inspector)
    ops.update_power(power, {**ops.power_state(power), "name": "第二版", "version": power.version},
                     actor=unit.editor)
    publish(power, unit, inspector)
    login_as(inspector)
    html = client.get(f"/catalog/powers/{power.id}/diff?a=1&b=2").get_data(as_text=True)
    assert "第一版" in html and "第二版" in html and "职权名称" in html
    assert "第一版" in client.get(f"/catalog/powers/{power.id}/versions/1").get_data(as_text=True)
    assert client.get(f"/catalog/powers/{power.id}/versions/9").status_code == 404
    refused = client.get(f"/catalog/powers/{power.id}/diff?a=1&b=x")  # nowhere to go back to: the message, no loop
    assert refused.status_code == 400 and "版本“x”不存在" in refused.get_data(as_text=True)
    back = client.get(f"/catalog/powers/{power.id}/diff?a=1&b=x",
                      headers={"Referer": f"http://localhost/catalog/powers/{power.id}"})
    assert back.status_code == 302 and back.location.endswith(f"/catalog/powers/{power.id}")
    assert "第二版" in client.get("/catalog/as-of").get_data(as_text=True)
    assert "格式不正确" in client.get("/catalog/as-of?date=2026-13-40", follow_redirects=True).get_data(as_text=True)


def test_xlsx_export_follows_the_filters_and_keeps_text_as_text(client, login_as, unit):
    make_power(unit, code="PG-A", name="=HYPERLINK(\"http://x\")", category="jc")
    make_power(unit, code="PG-B", category="xk")
    login_as(unit.head)
    response = client.get("/catalog/powers/export.xlsx?category=jc")
    assert response.status_code == 200 and "spreadsheetml" in response.mimetype
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.max_row == 2 and sheet["A2"].value == "PG-A" and sheet["B2"].data_type == "s"


def test_booklet_pdf_is_grouped_and_renders_chinese(client, login_as, unit, inspector, tmp_path):
    publish(make_power(unit, code="PG-BOOK", name="目录册测试许可"), unit, inspector)
    publish(make_power(unit, code="PG-CF", category="cf", name="目录册测试处罚", discretion_tiers=[
        {"name": "一般", "conditions": "首次", "measure": "罚款", "min": "0", "max": "100", "unit": "元"}]),
        unit, inspector)
    login_as(unit.head)
    response = client.get(f"/catalog/powers/booklet.pdf?department={unit.department.id}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    path = tmp_path / "booklet.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    for expected in ("职权目录", unit.department.name, "行政许可", "行政处罚", "目录册测试许可", "裁量基准",
                     "三重一大"):
        assert expected in text, expected
    assert "共1页" in text.replace(" ", "")
    assert text.index("目录册测试许可") < text.index("目录册测试处罚")  # categories in reference order
