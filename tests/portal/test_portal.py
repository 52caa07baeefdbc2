"""The public portal: only published public versions; feedback with a tracking code; rate limit; inbox."""

import re

import pytest
import sqlalchemy as sa

from govrisk.catalog import operations as ops
from govrisk.portal import operations as portal_ops
from govrisk.portal.models import Feedback
from govrisk.portal.workflow import FeedbackState
from tests.catalog_support import make_power, make_unit, publish
from tests.conftest import csrf_token


@pytest.fixture
def unit(create_department, create_user):
    return make_unit(create_department, create_user, code="T-PT", name="门户测试局")


@pytest.fixture
def inspector(create_user, create_department):
    return create_user("inspector", department=create_department())


def test_portal_shows_published_public_powers_only(client, unit, inspector):
    published = publish(make_power(unit, name="公开的许可"), unit, inspector)
    internal = publish(make_power(unit, name="内部的人事事项", category="rs", is_public=False), unit, inspector)
    draft = make_power(unit, name="草稿事项")
    submitted = make_power(unit, name="报送中的事项")
    ops.transition_power(submitted, "submit", actor=unit.editor)
    html = client.get("/portal/").get_data(as_text=True)
    assert "公开的许可" in html
    for hidden in ("内部的人事事项", "草稿事项", "报送中的事项"):
        assert hidden not in html
    assert client.get(f"/portal/powers/{published.code}").status_code == 200
    for power in (internal, draft, submitted):
        assert client.get(f"/portal/powers/{power.code}").status_code == 404
    assert client.get("/portal/?q=人事").get_data(as_text=True).count("内部的人事事项") == 0


def test_portal_search_by_department_category_and_text(client, unit, inspector, create_department, create_user):
    basis = [{"law": "中华人民共和国食品安全法", "article": "第三十五条"}]
    publish(make_power(unit, name="食品经营许可", legal_bases=basis), unit, inspector)
    publish(make_power(unit, name="日常检查", category="jc"), unit, inspector)
    other = make_unit(create_department, create_user, name="另一个局")
    publish(make_power(other, name="另一局的许可"), other, inspector)
    names = lambda q: re.findall(r'<span class="fw-semibold">([^<]+)</span>', client.get(f"/portal/?{q}").get_data(  # noqa: E731
        as_text=True))
    assert names("q=食品安全法") == ["食品经营许可"]
    assert names("category=jc") == ["日常检查"]
    assert sorted(names(f"department={other.department.id}")) == ["另一局的许可"]
    assert len(names(f"department={unit.department.id}")) == 2


def test_revision_keeps_the_published_version_on_the_portal(client, unit, inspector):
    power = publish(make_power(unit, name="已发布名称", phone="0871-1111"), unit, inspector)
    ops.update_power(power, {**ops.power_state(power), "name": "修订中名称", "phone": "0871-2222",
                             "version": power.version}, actor=unit.editor)
    ops.transition_power(power, "submit", actor=unit.editor)
    html = client.get(f"/portal/powers/{power.code}").get_data(as_text=True)
    assert "已发布名称" in html and "0871-1111" in html and "修订中名称" not in html
    assert "修订中名称" not in client.get("/portal/?q=名称").get_data(as_text=True)


def test_power_page_shows_basis_materials_limits_fees_phone_and_discretion(client, unit, inspector):
    power = publish(make_power(unit, category="cf", is_fee_charged=True, fee_standard="每件80元",
                               fee_basis="某某收费文件", discretion_tiers=[
                                   {"name": "一般", "conditions": "首次违法", "measure": "罚款", "min": "0",
                                    "max": "5000", "unit": "元"},
                                   {"name": "严重", "conditions": "再次违法", "measure": "罚款", "min": "5000",
                                    "max": "10000", "unit": "元"}]), unit, inspector)
    html = client.get(f"/portal/powers/{power.code}").get_data(as_text=True)
    for expected in ("中华人民共和国行政许可法", "申请书", "法定 20", "每件80元", "0871-65120000", "首次违法",
                     "5000 – 10000 元", "对此事项评议或举报"):
        assert expected in html, expected
    assert 'id="flowChart"' not in html  # the flows domain draws it once it exists


def submit(client, data: dict):
    token = csrf_token(client, "/portal/feedback")
    return client.post("/portal/feedback", data={"csrf_token": token, **data})


def test_citizen_leaves_feedback_and_follows_it_by_tracking_code(client, unit, inspector, login_as):
    power = publish(make_power(unit, name="被评议的许可"), unit, inspector)
    response = submit(client, {"category": "report", "power_code": power.code, "department_id": "0",
                               "text": "窗口工作人员要求额外提交证明材料<script>x</script>", "contact": "13800000000"})
    assert response.status_code == 302
    feedback = db_feedback()
    assert feedback.power_id == power.id and feedback.department_id == unit.department.id
    assert feedback.address_hash and "127.0.0.1" not in feedback.address_hash
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert portal_ops.format_code(feedback.tracking_code) in html and "待处理" in html
    assert "13800000000" not in html and "额外提交证明材料" not in html  # status page hides text and contact
    lookup = client.get("/portal/track?code=" + portal_ops.format_code(feedback.tracking_code).lower())
    assert "待处理" in lookup.get_data(as_text=True)
    login_as(inspector)
    inbox = client.get("/feedback/inbox").get_data(as_text=True)
    assert portal_ops.format_code(feedback.tracking_code) in inbox and "&lt;script&gt;" in inbox
    item = client.get(f"/feedback/inbox/{feedback.id}").get_data(as_text=True)
    assert "13800000000" in item
    token = csrf_token(client, f"/feedback/inbox/{feedback.id}")
    client.post(f"/feedback/inbox/{feedback.id}", data={"csrf_token": token, "transition": "reject",
                                                        "comment": "", "version": feedback.version})
    assert feedback.state is FeedbackState.RECEIVED  # a rejection needs a reason
    client.post(f"/feedback/inbox/{feedback.id}", data={"csrf_token": token, "transition": "reject",
                                                        "comment": "反映内容属于咨询，已电话答复",
                                                        "version": feedback.version})
    assert feedback.state is FeedbackState.REJECTED and feedback.handled_by_id == inspector.id
    client.post("/logout", data={"csrf_token": token})
    status = client.get(f"/portal/track?code={feedback.tracking_code}").get_data(as_text=True)
    assert "不予受理" in status and "已电话答复" in status


def db_feedback() -> Feedback:
    from govrisk.extensions import db

    return db.session.scalar(sa.select(Feedback).order_by(Feedback.id.desc()))


def test_unknown_tracking_code_and_bad_feedback(client):
    assert "未找到该查询码" in client.get("/portal/track?code=FK-NOPE").get_data(as_text=True)
    response = submit(client, {"category": "", "text": "短", "department_id": "0"})
    assert response.status_code == 400 and db_feedback() is None
    response = submit(client, {"category": "nonsense", "text": "足够长的反映内容", "department_id": "0"})
    assert response.status_code == 400 and "请选择反馈类别" in response.get_data(as_text=True)
    response = submit(client, {"category": "report", "text": "足够长的反映内容", "department_id": "0",
                               "power_code": "NO-SUCH"})
    assert response.status_code == 400


def test_feedback_is_rate_limited_per_address_in_the_database(client, app):
    app.config["FEEDBACK_RATE_LIMIT"] = 3
    try:
        for _ in range(3):
            assert submit(client, {"category": "suggestion", "text": "建议延长窗口服务时间", "department_id": "0"}
                          ).status_code == 302
        response = submit(client, {"category": "suggestion", "text": "建议延长窗口服务时间", "department_id": "0"})
        assert response.status_code == 429 and "提交过于频繁" in response.get_data(as_text=True)
        other = client.post  # another address is not affected
        token = csrf_token(client, "/portal/feedback")
        response = other("/portal/feedback", data={"csrf_token": token, "category": "suggestion",
                                                   "text": "另一位市民的建议", "department_id": "0"},
                         environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert response.status_code == 302
    finally:
        app.config["FEEDBACK_RATE_LIMIT"] = 5
    from govrisk.extensions import db

    hashes = db.session.scalars(sa.select(Feedback.address_hash)).all()
    assert len(set(hashes)) == 2


def test_tracking_codes_are_random_and_readable():
    codes = {portal_ops.new_tracking_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(re.fullmatch(r"FK[2-9A-HJ-NP-Z]{12}", c) for c in codes)


def test_inbox_is_for_inspectors_only(client, login_as, unit):
    login_as(unit.head)
    assert client.get("/feedback/inbox").status_code == 403
    assert client.get("/feedback/inbox/1").status_code in (403, 404)


def test_accept_then_link_to_a_finding(unit, inspector):
    from govrisk.core.errors import UserError
    from govrisk.extensions import db

    feedback = Feedback(tracking_code="FKTEST00000001", category="report", text="反映问题", address_hash="x")
    db.session.add(feedback)
    db.session.flush()
    with pytest.raises(UserError):
        portal_ops.link_feedback_to_finding(feedback, 7, actor=inspector)
    portal_ops.triage_feedback(feedback, "accept", actor=inspector, comment="已转监督检查室核查")
    portal_ops.link_feedback_to_finding(feedback, 7, actor=inspector)
    assert feedback.state is FeedbackState.ACCEPTED and feedback.finding_id == 7
