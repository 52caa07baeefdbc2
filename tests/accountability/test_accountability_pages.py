"""Accountability pages through the app: findings, rectifications, actions and a person's record, by role."""

from datetime import date

import pytest
import sqlalchemy as sa

from govrisk.accountability import operations as ops
from govrisk.accountability.models import AccountabilityAction, Finding
from govrisk.accountability.workflow import RectificationState
from govrisk.extensions import db
from tests.conftest import post_form


@pytest.fixture
def case(city, create_person):
    person = create_person(city.a.department, name="王五")
    finding = ops.create_finding({"source": "supervision_inspection", "department_id": city.a.department.id,
                                  "title": "许可审查把关不严", "person_ids": [person.id]}, actor=city.inspector)
    rect = ops.order_rectification(finding, {"requirement": "逐件整改", "due_on": date(2099, 1, 31)},
                                   actor=city.inspector)
    action = ops.record_action(person, {"action_type": "admonishing_talk", "decided_on": date(2026, 3, 1),
                                        "finding_id": finding.id}, actor=city.inspector)
    return finding, rect, action, person


def test_inspector_pages(case, city, login_as, client):
    finding, rect, action, person = case
    login_as(city.inspector)
    for url in ("/accountability/findings", f"/accountability/findings/{finding.id}", "/accountability/rectifications",
                f"/accountability/rectifications/{rect.id}", "/accountability/actions",
                f"/accountability/actions/{action.id}", "/accountability/people", f"/accountability/people/{person.id}",
                "/accountability/findings/new", f"/accountability/findings/new?department_id={city.a.department.id}",
                f"/accountability/actions/new?finding_id={finding.id}", f"/accountability/actions/{action.id}/edit"):
        assert client.get(url).status_code == 200, url
    record = client.get(f"/accountability/people/{person.id}").get_data(as_text=True)
    assert "诫勉谈话" in record and action.code in record and finding.code in record
    listed = client.get("/accountability/findings?q=把关").get_data(as_text=True)
    assert finding.code in listed
    assert finding.code not in client.get("/accountability/findings?q=不存在的").get_data(as_text=True)


def test_department_users_see_their_own_and_cannot_manage(case, city, login_as, client):
    finding, rect, action, person = case
    login_as(city.b.editor)
    assert client.get(f"/accountability/findings/{finding.id}").status_code == 403
    assert client.get(f"/accountability/rectifications/{rect.id}").status_code == 403
    assert finding.code not in client.get("/accountability/findings").get_data(as_text=True)
    assert client.get("/accountability/findings/new").status_code == 403
    assert client.get("/accountability/actions").status_code == 403  # editors do not read people's records
    post_form(client, "/logout", {}, token_url="/")
    login_as(city.b.head)
    assert client.get(f"/accountability/people/{person.id}").status_code == 403
    assert client.get(f"/accountability/actions/{action.id}").status_code == 403
    post_form(client, "/logout", {}, token_url="/")
    login_as(city.a.head)
    assert client.get(f"/accountability/people/{person.id}").status_code == 200


def test_opening_a_finding_through_the_form(city, login_as, client, create_person):
    person = create_person(city.a.department)
    url = f"/accountability/findings/new?department_id={city.a.department.id}"
    login_as(city.inspector)
    bad = post_form(client, url, {"source": "", "department_id": city.a.department.id, "title": ""}, token_url=url)
    assert bad.status_code == 400 and "请填写问题标题" in bad.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Finding.id))) == 0
    ok = post_form(client, url, {"source": "annual_assessment", "department_id": city.a.department.id,
                                 "title": "自查流于形式", "person_ids": [person.id], "person_role": "leader",
                                 "power_id": city.a.register.powers[0].id}, token_url=url)
    assert ok.status_code == 302
    finding = db.session.scalar(sa.select(Finding))
    assert finding.people[0].role.value == "leader" and finding.power_id == city.a.register.powers[0].id


def test_rectification_through_the_pages(case, city, login_as, client):
    finding, rect, _action, _person = case
    page = f"/accountability/rectifications/{rect.id}"
    login_as(city.a.editor)
    assert post_form(client, page, {"plan": "建立台账", "evidence": "", "version": rect.version},
                     token_url=page).status_code == 302
    post_form(client, f"{page}/transition", {"transition": "submit_plan", "version": rect.version}, token_url=page)
    refused = post_form(client, f"{page}/transition", {"transition": "report", "version": rect.version},
                        token_url=page, follow_redirects=True)
    assert "没有整改佐证材料" in refused.get_data(as_text=True) and rect.state is RectificationState.PLANNED
    post_form(client, page, {"plan": "建立台账", "evidence": "台账复印件", "version": rect.version}, token_url=page)
    post_form(client, f"{page}/transition", {"transition": "report", "version": rect.version}, token_url=page)
    assert rect.state is RectificationState.REPORTED and rect.completed_on == date.today()


def test_recording_an_action_through_the_form(case, city, login_as, client):
    finding, _rect, _action, person = case
    url = f"/accountability/actions/new?finding_id={finding.id}&person_id={person.id}"
    login_as(city.inspector)
    before = db.session.scalar(sa.select(sa.func.count(AccountabilityAction.id)))
    refused = post_form(client, url, {"person_id": person.id, "action_type": "gov_demerit", "basis": ""},
                        token_url=url)
    assert refused.status_code == 400 and "必须写明依据" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(AccountabilityAction.id))) == before
    ok = post_form(client, url, {"person_id": person.id, "action_type": "gov_demerit", "finding_id": finding.id,
                                 "basis": "《中华人民共和国公职人员政务处分法》第三十九条",
                                 "decision_no": "云监委〔2026〕8号", "decided_on": "2026-04-01"}, token_url=url)
    assert ok.status_code == 302
    action = db.session.scalar(sa.select(AccountabilityAction).order_by(AccountabilityAction.id.desc()))
    assert action.category.value == "government" and action.finding_id == finding.id
    page = f"/accountability/actions/{action.id}"
    post_form(client, f"{page}/transition", {"transition": "decide", "version": action.version}, token_url=page)
    assert action.state.value == "decided"


def test_accepted_feedback_becomes_a_finding_from_the_inbox(city, login_as, client):
    from govrisk.portal.models import Feedback
    from govrisk.portal.workflow import FeedbackState

    feedback = Feedback(tracking_code="QWER2345TYUP", category="report", department_id=city.a.department.id,
                        text="窗口人员暗示送礼", state=FeedbackState.ACCEPTED, address_hash="y" * 64)
    db.session.add(feedback)
    db.session.flush()
    login_as(city.inspector)
    item = f"/feedback/inbox/{feedback.id}"
    assert f"/accountability/findings/new?feedback_id={feedback.id}" in client.get(item).get_data(as_text=True)
    url = f"/accountability/findings/new?feedback_id={feedback.id}"
    form = client.get(url).get_data(as_text=True)
    assert "由群众反馈转来" in form and "窗口人员暗示送礼" in form
    response = post_form(client, url, {"source": "public_report", "department_id": city.a.department.id,
                                       "title": "窗口人员暗示送礼"}, token_url=url)
    assert response.status_code == 302
    finding = db.session.scalar(sa.select(Finding))
    assert feedback.finding_id == finding.id and finding.origin_type == "feedback"
    assert f"/accountability/findings/{finding.id}" in client.get(item).get_data(as_text=True)
