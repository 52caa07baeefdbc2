"""Review pages through the app: who may open what, forms with clear errors, department scoping, the home to-do."""

from datetime import date

import pytest
import sqlalchemy as sa

from govrisk.extensions import db
from govrisk.review import operations as ops
from govrisk.review import queries
from govrisk.review.models import ReviewCycle, ScoreAdjustment
from govrisk.review.workflow import CycleState, SelfCheckState
from tests.conftest import post_form
from tests.review_support import run_cycle


def _pages(cycle, department_id):
    return [f"/review/{cycle.id}", f"/review/{cycle.id}/scores", f"/review/{cycle.id}/setup",
            f"/review/{cycle.id}/yoy", f"/review/{cycle.id}/departments/{department_id}", "/review/",
            "/review/warnings", f"/review/warnings/{department_id}"]


@pytest.fixture
def assessed(new_cycle, city):
    cycle = new_cycle()
    run_cycle(cycle, city.inspector, until="start_assessment")
    return cycle


def test_inspector_sees_every_page(assessed, city, login_as, client):
    login_as(city.inspector)
    for url in _pages(assessed, city.a.department.id):
        response = client.get(url)
        assert response.status_code == 200, url
    html = client.get(f"/review/{assessed.id}/departments/{city.a.department.id}").get_data(as_text=True)
    assert "有法律依据 1 项" in html and "调整得分" in html
    assert "<svg" in client.get(f"/review/{assessed.id}/scores").get_data(as_text=True)


def test_department_users_see_only_their_department(assessed, city, login_as, client):
    login_as(city.a.editor)
    assert client.get(f"/review/{assessed.id}/departments/{city.a.department.id}").status_code == 200
    assert client.get(f"/review/{assessed.id}/departments/{city.b.department.id}").status_code == 403
    assert client.get(f"/review/warnings/{city.b.department.id}").status_code == 403
    html = client.get(f"/review/{assessed.id}").get_data(as_text=True)
    assert city.a.department.name in html and city.b.department.name not in html
    scores = client.get(f"/review/{assessed.id}/scores").get_data(as_text=True)
    assert city.b.department.name not in scores
    assert client.get(f"/review/{assessed.id}/yoy?department={city.b.department.id}").status_code == 404
    assert client.get("/review/new").status_code == 403


@pytest.mark.parametrize("role", ["sys_admin", "audit_admin"])
def test_admins_do_not_read_the_review(assessed, create_user, login_as, client, role):
    login_as(create_user(role))
    assert client.get(f"/review/{assessed.id}").status_code == 403
    assert client.get("/review/warnings").status_code == 403


def test_creating_a_cycle_through_the_form(city, login_as, client):
    login_as(city.inspector)
    assert client.get("/review/new").status_code == 200
    response = post_form(client, "/review/new", {"year": "2026", "department_ids": [str(city.a.department.id)]},
                         token_url="/review/new")
    assert response.status_code == 302
    cycle = queries.cycle_for_year(2026)
    again = post_form(client, "/review/new", {"year": "2026", "department_ids": [str(city.a.department.id)]},
                      token_url="/review/new")
    assert again.status_code == 400 and "已经存在" in again.get_data(as_text=True)
    bad = post_form(client, "/review/new", {"year": "", "department_ids": []}, token_url="/review/new")
    assert bad.status_code == 400 and "请填写年度" in bad.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ReviewCycle.id))) == 1
    opened = post_form(client, f"/review/{cycle.id}/transition", {"transition": "open", "version": cycle.version},
                       token_url=f"/review/{cycle.id}")
    assert opened.status_code == 302 and cycle.state is CycleState.SELF_CHECK
    back = post_form(client, f"/review/{cycle.id}/transition", {"transition": "open", "version": cycle.version},
                     token_url=f"/review/{cycle.id}", follow_redirects=True)
    assert "当前状态为“单位自查”" in back.get_data(as_text=True) and cycle.state is CycleState.SELF_CHECK


def test_self_check_through_the_pages(new_cycle, city, login_as, client):
    cycle = new_cycle()
    ops.transition_cycle(cycle, "open", actor=city.inspector)
    cd = queries.get_cycle_department(cycle, city.a.department.id)
    page = f"/review/{cycle.id}/departments/{city.a.department.id}"
    login_as(city.a.editor)
    form = {f"result_{i.id}": "done" for i in cycle.checklist_items}
    saved = post_form(client, f"{page}/selfcheck", {**form, "summary": "已全部落实", "version": cd.self_check.version},
                      token_url=page)
    assert saved.status_code == 302 and cd.self_check.unanswered_count() == 0
    post_form(client, f"{page}/selfcheck/transition", {"transition": "submit", "version": cd.self_check.version},
              token_url=page)
    assert cd.self_check.state is SelfCheckState.SUBMITTED
    post_form(client, "/logout", {}, token_url="/")
    login_as(city.a.head)
    post_form(client, f"{page}/selfcheck/transition", {"transition": "sign", "version": cd.self_check.version},
              token_url=page)
    assert cd.self_check.state is SelfCheckState.SIGNED
    assert "已签署" in client.get(page).get_data(as_text=True)


def test_adjusting_through_the_page_requires_a_reason(assessed, city, login_as, client):
    cd = queries.get_cycle_department(assessed, city.a.department.id)
    score = next(s for s in queries.scores_of(cd) if s.indicator.key == "education")
    page = f"/review/{assessed.id}/departments/{city.a.department.id}"
    url = f"{page}/scores/{score.id}/adjust"
    login_as(city.inspector)
    response = post_form(client, url, {"value": "90", "reason": "", "version": score.version}, token_url=page,
                         follow_redirects=True)
    assert "调整得分必须填写理由" in response.get_data(as_text=True)
    assert score.adjusted is None and db.session.scalar(sa.select(sa.func.count(ScoreAdjustment.id))) == 0
    bad = post_form(client, url, {"value": "abc", "reason": "x"}, token_url=page, follow_redirects=True)
    assert "0 到 100" in bad.get_data(as_text=True) or "调整后得分" in bad.get_data(as_text=True)
    ok = post_form(client, url, {"value": "90", "reason": "核实后认定", "version": score.version}, token_url=page)
    assert ok.status_code == 302 and score.adjusted == 90
    other = queries.get_cycle_department(assessed, city.b.department.id)
    foreign = next(s for s in queries.scores_of(other) if s.indicator.key == "education")
    wrong = post_form(client, f"{page}/scores/{foreign.id}/adjust", {"value": "90", "reason": "x"}, token_url=page)
    assert wrong.status_code in (302, 400) and foreign.adjusted is None


def test_department_users_cannot_score(assessed, city, login_as, client):
    cd = queries.get_cycle_department(assessed, city.a.department.id)
    score = queries.scores_of(cd)[0]
    page = f"/review/{assessed.id}/departments/{city.a.department.id}"
    login_as(city.a.head)
    response = post_form(client, f"{page}/scores/{score.id}/adjust", {"value": "99", "reason": "自评"},
                         token_url=page)
    assert response.status_code == 403 and score.adjusted is None
    assert post_form(client, f"/review/{assessed.id}/compute", {}, token_url=page).status_code == 403


def test_setup_forms(new_cycle, city, login_as, client):
    cycle = new_cycle()
    login_as(city.inspector)
    setup = f"/review/{cycle.id}/setup"
    indicator = cycle.indicators[0]
    bad = post_form(client, f"/review/{cycle.id}/indicators/{indicator.id}",
                    {"name": "x", "method": indicator.method, "weight": "150", "version": indicator.version},
                    token_url=setup)
    assert bad.status_code == 400 and indicator.weight == 15
    ok = post_form(client, f"/review/{cycle.id}/indicators/{indicator.id}",
                   {"name": "职权目录完整", "method": indicator.method, "weight": "20", "params_json": "{}",
                    "is_active": "y", "version": indicator.version}, token_url=setup)
    assert ok.status_code == 302 and indicator.weight == 20 and indicator.name == "职权目录完整"
    assert post_form(client, f"/review/{cycle.id}/thresholds", {"good": "95", "fairly_good": "85", "average": "70",
                                                                 "version": cycle.version},
                     token_url=setup).status_code == 302
    assert cycle.thresholds["good"] == 95
    assert post_form(client, f"/review/{cycle.id}/checklist", {"section": "补充", "text": "新增一项自查内容"},
                     token_url=setup).status_code == 302
    assert cycle.checklist_items[-1].text == "新增一项自查内容"


def test_appraisal_and_notes_through_the_pages(assessed, city, login_as, client):
    page = f"/review/{assessed.id}/departments/{city.a.department.id}"
    login_as(city.inspector)
    post_form(client, f"{page}/appraisal", {"appraisal_score": "88", "appraisal_respondents": "50"}, token_url=page)
    assert queries.get_cycle_department(assessed, city.a.department.id).appraisal_score == 88
    post_form(client, f"{page}/notes", {"inspected_on": "2026-10-09", "text": "抽查卷宗"}, token_url=page)
    assert "抽查卷宗" in client.get(page).get_data(as_text=True)
    response = post_form(client, f"{page}/appraisal", {"appraisal_score": "abc"}, token_url=page,
                         follow_redirects=True)
    assert "0 到 100" in response.get_data(as_text=True) or "请填写得分" in response.get_data(as_text=True)


def test_appraisal_import_page(assessed, city, login_as, client):
    from io import BytesIO

    url = f"/review/{assessed.id}/appraisal/import"
    login_as(city.inspector)
    assert client.get(url).status_code == 200
    data = f"department_code,score\n{city.a.department.code},91\n".encode()
    preview = post_form(client, url, {"file": (BytesIO(data), "a.csv")}, token_url=url,
                        content_type="multipart/form-data")
    assert preview.status_code == 200 and "确认导入" in preview.get_data(as_text=True)


def test_home_page_shows_the_to_do_list(city, login_as, client):
    from govrisk.accountability import operations as acc

    finding = acc.create_finding({"source": "annual_assessment", "department_id": city.a.department.id,
                                  "title": "问题"}, actor=city.inspector)
    acc.order_rectification(finding, {"requirement": "整改", "due_on": date(2099, 1, 1)}, actor=city.inspector)
    login_as(city.a.editor)
    html = client.get("/").get_data(as_text=True)
    assert "我的待办" in html and "待办理的整改" in html


def test_warnings_board_page(city, login_as, client):
    login_as(city.inspector)
    html = client.get("/review/warnings").get_data(as_text=True)
    assert city.a.department.name in html and "逾期防控措施" in html
    filtered = client.get(f"/review/warnings?department={city.b.department.id}").get_data(as_text=True)
    assert city.a.department.name not in filtered.split('id="warningTable"')[-1]
