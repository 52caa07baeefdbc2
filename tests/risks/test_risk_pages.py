"""The register through the pages: forms with field errors, workflow buttons, confirmation, bulk confirmation,
measures and evidence, analysis, disagreements, rotation, grading methods, scoping and bad input."""

import io
import json
import re

import pytest
import sqlalchemy as sa

from govrisk.extensions import db
from govrisk.risks import operations as ops
from govrisk.risks.grading import default_rules
from govrisk.risks.models import ControlMeasure, GradingMethod, MeasureAttachment, RiskPoint
from govrisk.risks.workflow import MeasureStatus as M
from govrisk.workflow.register import RegisterState as S
from tests.conftest import csrf_token
from tests.risks.conftest import advance, make_point, risk_data
from tests.risks.test_risk_measures import PDF, PNG

PAGES = ("/risks/", "/risks/analysis", "/risks/measures", "/risks/disagreements", "/risks/rotation", "/risks/grading",
         "/risks/new", "/risks/import")


def form_of(unit, **overrides) -> dict:
    data = {k: ("" if v is None else v) for k, v in risk_data(unit, **overrides).items()}
    data["methods"] = list(data["methods"])
    return data


def post(client, url: str, data: dict, token_url: str | None = None, **kwargs):
    return client.post(url, data={"csrf_token": csrf_token(client, token_url or url), **data}, **kwargs)


def switch(client, login_as, user):
    """Log out whoever is logged in, then log `user` in."""
    if client.get("/login").status_code == 302:
        client.post("/logout", data={"csrf_token": csrf_token(client, "/risks/")})
    login_as(user)


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(RiskPoint.id)))


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_for_business_users_and_empty_states(client, login_as, unit, path):
    login_as(unit.editor)
    response = client.get(path)
    assert response.status_code == 200, path
    if path == "/risks/":
        assert "还没有登记风险点" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["sys_admin", "sec_admin", "audit_admin"])
def test_admins_do_not_see_the_register(client, login_as, create_user, role):
    login_as(create_user(role))
    assert client.get("/risks/").status_code == 403


def test_editor_registers_through_the_form(client, login_as, unit):
    login_as(unit.editor)
    response = post(client, "/risks/new", form_of(unit))
    assert response.status_code == 302
    point = db.session.scalar(sa.select(RiskPoint))
    assert response.headers["Location"].endswith(f"/risks/{point.id}")
    assert (point.step_key, point.post_id, point.likelihood) == ("decide", unit.posts["分管领导"].id, 3)
    html = client.get(f"/risks/{point.id}").get_data(as_text=True)
    assert "违规作出许可决定" in html and "发生几率 3 ≥ 3" in html and 'id="flowChart"' in html


@pytest.mark.parametrize(("overrides", "message"), [
    ({"likelihood": "7"}, "发生几率应为 1–5"),
    ({"step_id": "999999"}, "该环节不属于所选职权的流程图"),
    ({"risk_type": ""}, "请选择风险类型"),
    ({"name": ""}, "请填写风险点"),
])
def test_form_errors_are_shown_under_the_field_and_nothing_is_written(client, login_as, unit, overrides, message):
    login_as(unit.editor)
    response = post(client, "/risks/new", form_of(unit, **overrides))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and "invalid-feedback" in html
    assert _count() == 0


def test_post_of_another_department_is_refused_in_the_form(client, login_as, unit, other_unit):
    login_as(unit.editor)
    response = post(client, "/risks/new", form_of(unit, post_id=other_unit.posts["审查岗"].id))
    assert response.status_code == 400 and "岗位不属于该职权的责任单位" in response.get_data(as_text=True)


def test_stale_edit_is_refused_with_409(client, login_as, unit):
    point = make_point(unit)
    login_as(unit.editor)
    token = csrf_token(client, f"/risks/{point.id}/edit")
    ops.update_risk_point(point, risk_data(unit, name="别人改了", version=point.version), actor=unit.editor)
    db.session.commit()  # another user's save, done before this form is sent
    response = client.post(f"/risks/{point.id}/edit", data={"csrf_token": token, **form_of(unit, name="我的修改"),
                                                            "version": "1"})
    assert response.status_code == 409 and "已被他人修改" in response.get_data(as_text=True)
    assert point.name == "别人改了"


def test_department_user_never_sees_another_departments_register(client, login_as, unit, other_unit):
    mine, theirs = make_point(unit, name="本局的风险点"), make_point(other_unit, name="他局的风险点")
    measure = ops.create_measure(theirs, {"measure_type": "education", "description": "他局措施"},
                                 actor=other_unit.editor)
    attachment = ops.add_attachment(measure, "他局.pdf", PDF, actor=other_unit.editor)
    login_as(unit.head)
    html = client.get("/risks/").get_data(as_text=True)
    assert "本局的风险点" in html and "他局的风险点" not in html
    assert "他局的风险点" not in client.get(f"/risks/?department={other_unit.department.id}").get_data(as_text=True)
    for url in (f"/risks/{theirs.id}", f"/risks/{theirs.id}/edit", f"/risks/measures/{measure.id}",
                f"/risks/attachments/{attachment.id}", f"/risks/powers/{other_unit.power.id}"):
        assert client.get(url).status_code == 403, url
    assert client.get(f"/risks/powers/{other_unit.power.id}/options").status_code == 404
    response = post(client, f"/risks/{theirs.id}/transition", {"transition": "submit", "version": theirs.version},
                    token_url="/risks/")
    assert response.status_code == 403 and theirs.state is S.DRAFT
    for page in ("/risks/analysis", "/risks/measures", "/risks/disagreements"):
        assert other_unit.department.name not in client.get(page).get_data(as_text=True), page
    assert client.get(f"/risks/{mine.id}").status_code == 200


def test_the_workflow_through_the_pages(client, login_as, unit, inspector):
    point = make_point(unit)

    def act(user, transition, **extra):
        switch(client, login_as, user)
        return post(client, f"/risks/{point.id}/transition", {"transition": transition, "version": point.version,
                                                              **extra}, token_url=f"/risks/{point.id}")

    assert act(unit.editor, "submit").status_code == 302 and point.state is S.SUBMITTED
    assert act(unit.head, "approve").status_code == 302 and point.state is S.DEPT_APPROVED
    switch(client, login_as, inspector)
    html = client.get(f"/risks/{point.id}").get_data(as_text=True)
    assert 'id="confirmForm"' in html and 'data-transition="confirm"' not in html
    url = f"/risks/{point.id}/confirm"
    response = post(client, url, {"level": "1", "reason": "", "version": point.version}, token_url=f"/risks/{point.id}")
    assert response.status_code == 302 and point.state is S.DEPT_APPROVED
    assert "必须填写调整理由" in client.get(f"/risks/{point.id}").get_data(as_text=True)
    response = post(client, url, {"level": "1", "reason": "可能构成犯罪", "version": point.version},
                    token_url=f"/risks/{point.id}")
    assert response.status_code == 302 and point.state is S.CONFIRMED and point.confirmed_level == 1
    html = client.get(f"/risks/{point.id}").get_data(as_text=True)
    assert "纪检调整" in html and "可能构成犯罪" in html and "评定方法第 1 版" in html
    assert "可能构成犯罪" in client.get("/risks/disagreements").get_data(as_text=True)


def test_bulk_confirm_through_the_list(client, login_as, unit, inspector):
    points = [advance(make_point(unit, name=f"点{i}"), "dept_approved", unit, inspector) for i in range(2)]
    draft = make_point(unit, name="草稿")
    login_as(inspector)
    html = client.get("/risks/?state=dept_approved").get_data(as_text=True)
    assert html.count('name="ids"') == 2
    response = post(client, "/risks/bulk-confirm", {"ids": [str(p.id) for p in points] + [str(draft.id)],
                                                    "level": "proposed", "reason": "统一确认"}, token_url="/risks/")
    assert response.status_code == 302 and all(p.state is S.DEPT_APPROVED for p in points)
    response = post(client, "/risks/bulk-confirm", {"ids": [str(p.id) for p in points], "level": "proposed",
                                                    "reason": "统一确认"}, token_url="/risks/")
    assert response.status_code == 302 and all(p.state is S.CONFIRMED for p in points)
    switch(client, login_as, unit.editor)
    assert post(client, "/risks/bulk-confirm", {"ids": [str(draft.id)], "reason": "x"},
                token_url="/risks/").status_code == 403


def test_analysis_heat_map_links_to_the_filtered_list(client, login_as, unit):
    make_point(unit, likelihood=4, severity=2)
    login_as(unit.editor)
    html = client.get(f"/risks/analysis?department={unit.department.id}").get_data(as_text=True)
    assert "<svg" in html and 'id="heatMap"' in html and 'id="levelChart"' in html
    links = re.findall(r'href="(/risks/\?[^"]*likelihood=4[^"]*severity=2[^"]*)"', html.replace("&amp;", "&"))
    assert links, "no click-through link for the (4, 2) cell"
    listed = client.get(links[0]).get_data(as_text=True)
    assert "违规作出许可决定" in listed
    assert "违规作出许可决定" not in client.get("/risks/?likelihood=5&severity=5").get_data(as_text=True)


def test_bad_filter_values_never_break_the_list(client, login_as, unit):
    login_as(unit.editor)
    response = client.get("/risks/?department=abc&proposed=9&state=nope&likelihood=x&page=-3&per_page=abc")
    assert response.status_code == 200 and "无效" in response.get_data(as_text=True)


def test_measures_and_evidence_through_the_pages(client, login_as, unit, inspector):
    point = make_point(unit)
    login_as(unit.editor)
    response = post(client, f"/risks/{point.id}/measures", {"measure_type": "sod", "description": "集体研究",
                                                            "owner_id": unit.people["张"].id, "due_on": "2030-01-31"},
                    token_url=f"/risks/{point.id}")
    measure = db.session.scalar(sa.select(ControlMeasure))
    assert response.status_code == 302 and measure.description == "集体研究"
    url = f"/risks/measures/{measure.id}"
    bad = post(client, f"{url}/attachments", {"file": (io.BytesIO(b"MZ\x90"), "程序.exe")}, token_url=url,
               content_type="multipart/form-data")
    assert bad.status_code == 302 and db.session.scalar(sa.select(sa.func.count(MeasureAttachment.id))) == 0
    assert "不支持的文件类型" in client.get(url).get_data(as_text=True)
    good = post(client, f"{url}/attachments", {"file": (io.BytesIO(PDF), "落实记录.pdf")}, token_url=url,
                content_type="multipart/form-data")
    attachment = db.session.scalar(sa.select(MeasureAttachment))
    assert good.status_code == 302 and attachment.filename == "落实记录.pdf"
    download = client.get(f"/risks/attachments/{attachment.id}")
    assert download.data == PDF and download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    post(client, f"{url}/attachments", {"file": (io.BytesIO(PNG), "现场照片.png")}, token_url=url,
         content_type="multipart/form-data")
    post(client, f"/risks/attachments/{attachment.id}/remove", {}, token_url=url)
    assert attachment.is_removed and client.get(f"/risks/attachments/{attachment.id}").status_code == 404
    response = post(client, url, {"measure_type": "sod", "description": "", "version": measure.version})
    assert response.status_code == 400 and "请填写措施内容" in response.get_data(as_text=True)
    for name in ("start", "implement"):
        post(client, f"{url}/transition", {"transition": name, "version": measure.version}, token_url=url)
    assert measure.status is M.IMPLEMENTED
    switch(client, login_as, inspector)
    post(client, f"{url}/transition", {"transition": "verify", "version": measure.version}, token_url=url)
    assert measure.status is M.VERIFIED


def test_rotation_rule_is_set_by_inspectors_only(client, login_as, unit, inspector):
    login_as(unit.editor)
    assert post(client, "/risks/rotation", {"years": "3", "warn_months": "6"}).status_code == 403
    switch(client, login_as, inspector)
    assert post(client, "/risks/rotation", {"years": "0", "warn_months": "6"}).status_code == 400
    response = post(client, "/risks/rotation", {"years": "3", "warn_months": "4"})
    assert response.status_code == 302
    assert "任职满 3 年应轮岗" in client.get("/risks/rotation").get_data(as_text=True)


def test_grading_methods_through_the_pages(client, login_as, unit, inspector):
    advance(make_point(unit, likelihood=3, severity=3, proposed_level=2), "confirmed", unit, inspector)
    login_as(unit.editor)
    assert client.get("/risks/grading/new").status_code == 403
    switch(client, login_as, inspector)
    bad = post(client, "/risks/grading/new", {"name": "坏", "rules": "{\"levels\": 1}"})
    assert bad.status_code == 400 and "规则有误" in bad.get_data(as_text=True)
    rules = default_rules()
    rules["levels"][1]["when_any"][0]["value"] = 4
    response = post(client, "/risks/grading/new", {"name": "收紧版", "note": "", "rules": json.dumps(rules)})
    method = db.session.scalar(sa.select(GradingMethod).where(GradingMethod.number == 2))
    assert response.status_code == 302 and not method.is_active
    html = client.get(f"/risks/grading/{method.id}").get_data(as_text=True)
    assert "二级 → 三级：1" in html and "违规作出许可决定" in html
    assert post(client, f"/risks/grading/{method.id}/activate", {}, token_url="/risks/grading").status_code == 302
    assert method.is_active


def test_suggest_endpoint(client, login_as, unit):
    login_as(unit.editor)
    data = client.get("/risks/suggest?likelihood=4&severity=2").get_json()
    assert data["level"] == 1 and data["title"] == "一级" and "发生几率高" in data["why"][0]
    assert client.get("/risks/suggest?likelihood=abc").get_json()["level"] is None
    options = client.get(f"/risks/powers/{unit.power.id}/options").get_json()
    assert [label for _, label in options["posts"]][:1] == ["窗口受理岗"]
    assert any("决定（decide）" in label for _, label in options["steps"])


def test_english_pages(client, login_as, unit):
    make_point(unit)
    login_as(unit.editor)
    client.get("/lang/en")
    html = client.get("/risks/").get_data(as_text=True)
    assert "Integrity risks" in html
