"""Flow pages through the app: list, chart page, table editor and live preview, import/export, coverage, access."""

import io
import json
import re

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govrisk.core.permissions import Role
from govrisk.extensions import db
from govrisk.flows import operations as ops
from govrisk.flows.bpmn import bpmn_to_flow
from govrisk.flows.models import Flow, FlowEdge, FlowKind, FlowStep
from govrisk.flows.validation import parse_flow
from govrisk.workflow.register import RegisterState
from tests.conftest import post_form
from tests.flows.conftest import example_dict


def make_flow(power, kind=FlowKind.INTERNAL, data=None):
    doc, problems = parse_flow(data or {**example_dict(power.code), "kind": kind.value})
    assert doc is not None, problems
    return ops.create_flow(power, kind, doc, actor=None)


def rows(steps, edges, posts=None, version=None, time_limit=""):
    """The editor's form fields for step and edge tuples."""
    data = {"time_limit_days": time_limit}
    if version is not None:
        data["version"] = str(version)
    for i, (key, name, post, role, days) in enumerate(steps):
        data.update({f"steps-{i}-key": key, f"steps-{i}-name": name, f"steps-{i}-role": role,
                     f"steps-{i}-time_limit_days": days})
        if posts is not None:
            data[f"steps-{i}-post_id"] = str(posts[post].id) if post in posts else "0"
        else:
            data[f"steps-{i}-post"] = post or ""
    for i, (source, target, label, loop) in enumerate(edges):
        data.update({f"edges-{i}-source": source, f"edges-{i}-target": target, f"edges-{i}-label": label})
        if loop:
            data[f"edges-{i}-loop"] = "y"
    return data


LICENSING_STEPS = [("accept", "受理", "窗口受理岗", "acceptance", "1"), ("review", "审查", "审查岗", "review", "10"),
                   ("decide", "决定", "分管领导", "decision", "5"), ("deliver", "送达", "窗口受理岗", "execution", "2")]
LICENSING_EDGES = [("accept", "review", "", False), ("review", "decide", "", False), ("review", "accept", "补正", True),
                   ("decide", "deliver", "", False)]


def count_rows():
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Flow, FlowStep, FlowEdge))


@pytest.fixture
def editor(licensing, create_user):
    return create_user(Role.DEPT_EDITOR, department=licensing[0])


def test_list_shows_own_department_flows_with_filters(client, login_as, licensing, editor, create_department,
                                                      create_power):
    _department, _posts, power = licensing
    make_flow(power)
    other_power = create_power(create_department(name="别的局"), name="别人的事项")
    make_flow(other_power, FlowKind.EXTERNAL, {**example_dict(other_power.code), "kind": "external"})
    login_as(editor)
    html = client.get("/flows/").get_data(as_text=True)
    assert "食品经营许可" in html and "别人的事项" not in html and "内部流程图" in html
    assert "食品经营许可" not in client.get("/flows/?validity=errors").get_data(as_text=True)
    assert "没有符合条件的流程图" in client.get("/flows/?kind=external").get_data(as_text=True)


def test_flow_page_shows_chart_findings_and_submit(client, login_as, licensing, editor):
    _department, _posts, power = licensing
    data = example_dict()
    data["steps"][2]["post"] = "审查岗"  # one post reviews and decides
    flow = make_flow(power, data=data)
    login_as(editor)
    html = client.get(f"/flows/{flow.id}").get_data(as_text=True)
    assert "<svg" in html and ">审查<" in html and "sod_conflict" in html and "分权制衡" in html
    assert "<td>决定</td>" in html  # the role of each step, in words
    assert 'value="submit"' in html and "报送" in html
    assert 'class="table-danger"' in html  # the steps the finding names are marked


def test_other_department_and_anonymous_are_refused(client, login_as, licensing, create_user, create_department):
    _department, _posts, power = licensing
    flow = make_flow(power)
    assert client.get(f"/flows/{flow.id}").status_code in (302, 401)
    login_as(create_user(Role.DEPT_EDITOR, department=create_department(name="别的局")))
    assert client.get(f"/flows/{flow.id}").status_code == 403
    assert client.get(f"/flows/{flow.id}/edit").status_code == 403
    assert client.get(f"/flows/{flow.id}/export.json").status_code == 403
    assert client.get("/flows/999999").status_code == 404


def test_inspector_views_but_cannot_edit(client, login_as, licensing, create_user):
    flow = make_flow(licensing[2])
    login_as(create_user(Role.INSPECTOR))
    assert client.get(f"/flows/{flow.id}").status_code == 200
    assert client.get(f"/flows/{flow.id}/edit").status_code == 403


def test_editor_page_renders_rows_and_posts(client, login_as, licensing, editor):
    flow = make_flow(licensing[2])
    login_as(editor)
    html = client.get(f"/flows/{flow.id}/edit").get_data(as_text=True)
    assert 'name="steps-3-key" value="deliver"' in html and re.search(r'name="edges-2-loop"[^>]*checked', html)
    assert not re.search(r'name="edges-0-loop"[^>]*checked', html)
    assert ">分管领导</option>" in html and 'id="stepRowTemplate"' in html and "js/flows.js" in html


def test_new_flow_through_the_editor(client, login_as, licensing, editor):
    department, posts, power = licensing
    login_as(editor)
    assert "下一步" in client.get("/flows/new").get_data(as_text=True)
    response = client.get("/flows/new?power_code=NOPE&kind=internal")
    assert response.status_code == 400 and "没有这个职权编码" in response.get_data(as_text=True)
    url = f"/flows/new?power_code={power.code}&kind=internal"
    assert "实时预览" in client.get(url).get_data(as_text=True)
    response = post_form(client, url, rows(LICENSING_STEPS, LICENSING_EDGES, posts), token_url=url)
    assert response.status_code == 302
    flow = db.session.scalars(sa.select(Flow).where(Flow.power_id == power.id)).one()
    assert (flow.step_count, flow.error_count, flow.steps[2].post_id) == (4, 0, posts["分管领导"].id)
    response = client.get(url)  # a second "new" opens the version being worked on
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/flows/{flow.id}")


@pytest.mark.parametrize("steps, edges, message", [
    (LICENSING_STEPS + [("accept", "重复", "审查岗", "review", "1")], LICENSING_EDGES, "重复出现"),
    (LICENSING_STEPS, LICENSING_EDGES + [("decide", "ghost", "", False)], "没有这个编号的步骤"),
    ([("", "无编号", "审查岗", "review", "1")], [], "请填写编号"),
    ([("a", "", "审查岗", "review", "1")], [], "请填写环节名称"),
    ([("a", "名称", "审查岗", "review", "abc")], [], "不是有效的整数"),
    ([("a", "名称", "审查岗", "review", "-3")], [], "0–3650"),
    ([("a", "名称", "审查岗", "bogus", "1")], [], "不是有效的选择"),
])
def test_editor_refuses_bad_rows_with_cell_errors_and_writes_nothing(client, login_as, licensing, editor, steps,
                                                                     edges, message):
    _department, posts, power = licensing
    flow = make_flow(power)
    login_as(editor)
    url = f"/flows/{flow.id}/edit"
    before = count_rows()
    response = post_form(client, url, rows(steps, edges, posts, version=flow.version), token_url=url)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html
    db.session.expire_all()
    assert count_rows() == before and flow.version == 1 and flow.steps[0].name == "受理"


def test_editor_saves_a_draft_with_errors_but_submission_is_refused(client, login_as, licensing, editor):
    _department, posts, power = licensing
    flow = make_flow(power)
    login_as(editor)
    url = f"/flows/{flow.id}/edit"
    sod = [(k, n, "审查岗" if k == "decide" else p, r, d) for k, n, p, r, d in LICENSING_STEPS]
    cyclic = [(s, t, label, False) for s, t, label, _loop in LICENSING_EDGES]
    response = post_form(client, url, rows(sod, cyclic, posts, version=1), token_url=url)
    assert response.status_code == 302
    assert {"cycle", "no_start", "sod_conflict"} == {f["code"] for f in flow.findings}
    response = post_form(client, f"/flows/{flow.id}/transition", {"transition": "submit", "version": flow.version},
                         token_url=f"/flows/{flow.id}")
    assert response.status_code == 302 and flow.state is RegisterState.DRAFT
    assert "cycle" in client.get(f"/flows/{flow.id}").get_data(as_text=True)
    post_form(client, url, rows(LICENSING_STEPS, LICENSING_EDGES, posts, version=flow.version), token_url=url)
    post_form(client, f"/flows/{flow.id}/transition", {"transition": "submit", "version": flow.version},
              token_url=f"/flows/{flow.id}")
    assert flow.state is RegisterState.SUBMITTED
    assert client.get(f"/flows/{flow.id}/edit").status_code == 403  # submitted: no more editing


def test_stale_editor_form_is_refused(client, login_as, licensing, editor):
    _department, posts, power = licensing
    flow = make_flow(power)
    login_as(editor)
    url = f"/flows/{flow.id}/edit"
    renamed = [("accept", "收件", "窗口受理岗", "acceptance", "1")] + LICENSING_STEPS[1:]
    assert post_form(client, url, rows(renamed, LICENSING_EDGES, posts, version=1), token_url=url).status_code == 302
    response = post_form(client, url, rows(LICENSING_STEPS, LICENSING_EDGES, posts, version=1), token_url=url)
    assert response.status_code == 409 and "已被他人修改" in response.get_data(as_text=True)
    assert flow.steps[0].name == "收件"


def preview(client, power, data, token_url):
    from tests.conftest import csrf_token

    return client.post(f"/flows/preview?power_id={power.id}", data=json.dumps(data),
                       headers={"Content-Type": "application/json", "Accept": "application/json",
                                "X-CSRFToken": csrf_token(client, token_url)})


def test_preview_returns_chart_and_findings_and_stores_nothing(client, login_as, licensing, editor):
    _department, _posts, power = licensing
    login_as(editor)
    token_url = f"/flows/new?power_code={power.code}&kind=internal"
    data = example_dict()
    data["steps"][2]["post"] = "审查岗"
    before = count_rows()
    body = preview(client, power, data, token_url).get_json()
    assert body["ok"] is True and body["svg"].startswith("<svg") and body["critical_path_days"] == 18
    assert [f["code"] for f in body["findings"]] == ["sod_conflict"] and body["flagged"] == ["decide", "review"]
    bad = preview(client, power, {**data, "steps": [{"id": "a"}]}, token_url).get_json()
    assert bad["ok"] is False and bad["svg"] is None and bad["findings"][0]["code"] == "invalid_document"
    foreign = {**example_dict(), "steps": [{**example_dict()["steps"][0], "post": "外单位岗"}], "edges": []}
    assert "不是市场监督管理局的岗位" in preview(client, power, foreign, token_url).get_json()["findings"][0]["message"]
    assert count_rows() == before


def test_preview_of_another_department_power_is_404(client, login_as, licensing, create_user, create_department):
    other = create_user(Role.DEPT_EDITOR, department=create_department(name="别的局"))
    login_as(other)
    response = preview(client, licensing[2], example_dict(), "/flows/import")
    assert response.status_code == 404 and response.get_json()["error"]["status"] == 404


def test_exports(client, login_as, licensing, editor):
    flow = make_flow(licensing[2])
    login_as(editor)
    exported = client.get(f"/flows/{flow.id}/export.json")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    assert json.loads(exported.data) == parse_flow(example_dict())[0].to_dict()
    bpmn = client.get(f"/flows/{flow.id}/export.bpmn")
    assert bpmn_to_flow(bpmn.data)[0].to_dict() == parse_flow(example_dict())[0].to_dict()
    pdf = client.get(f"/flows/{flow.id}/export.pdf")
    assert pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    assert client.get(f"/flows/{flow.id}/export.svg").data.startswith(b"<svg")
    assert client.get(f"/flows/{flow.id}/export.exe").status_code == 404


def upload(client, data: bytes, filename: str, **fields):
    return post_form(client, "/flows/import", {"file": (io.BytesIO(data), filename), **fields},
                     token_url="/flows/import", content_type="multipart/form-data")


def test_import_page_json_bpmn_and_refusals(client, login_as, licensing, editor):
    _department, _posts, power = licensing
    login_as(editor)
    response = upload(client, json.dumps(example_dict()).encode(), "flow.json")
    assert response.status_code == 302
    flow = db.session.scalars(sa.select(Flow).where(Flow.power_id == power.id)).one()
    assert flow.kind is FlowKind.INTERNAL and flow.step_count == 4
    bpmn = client.get(f"/flows/{flow.id}/export.bpmn").data
    again = upload(client, bpmn, "flow.bpmn")
    assert again.status_code == 302 and count_rows()[0] == 1  # unchanged
    before = count_rows()
    refused = upload(client, json.dumps(example_dict("XK-NONE")).encode(), "flow.json")
    assert refused.status_code == 400 and "不存在" in refused.get_data(as_text=True)
    broken = upload(client, b'{"power_code": "XK-0001", "kind": "internal", "steps": [1], "edges": []}', "x.json")
    html = broken.get_data(as_text=True)
    assert broken.status_code == 400 and "importFindings" in html and "steps[0]" in html
    assert upload(client, b"", "empty.json").status_code == 400
    assert count_rows() == before


def test_coverage_counts_and_drilldown(client, login_as, licensing, create_user, create_power, create_department):
    department, _posts, power = licensing
    make_flow(power)  # internal, valid; no external
    bad = create_power(department, name="无效流程事项", promised_days=3)
    make_flow(bad)  # 18 days > 3: time_limit_exceeded
    create_power(department, name="无流程事项")
    create_power(department, name="已停用事项", state=RegisterState.RETIRED)
    other = create_department(name="别的局")
    create_power(other, name="别的局事项")
    login_as(create_user(Role.INSPECTOR))
    html = client.get(f"/flows/coverage?q={department.code}").get_data(as_text=True)
    assert f'data-department="{department.code}"' in html
    row = html.split(f'data-department="{department.code}"')[1].split("</tr>")[0]
    numbers = dict(re.findall(r'data-count="(\w+)" data-value="([^"]*)"', row))
    assert numbers == {"powers": "3", "no_internal": "1", "no_external": "3", "invalid": "1",
                       "uncovered": numbers["uncovered"]}
    assert numbers["uncovered"] == ""  # "—": no risk provider in these tests
    listing = client.get(f"/flows/coverage/powers?department_id={department.id}&status=no_internal")
    text = listing.get_data(as_text=True)
    assert "无流程事项" in text and "食品经营许可" not in text and "已停用事项" not in text
    assert "无效流程事项" in client.get("/flows/coverage/powers?status=invalid").get_data(as_text=True)


def test_coverage_is_scoped_and_needs_the_permission(client, login_as, licensing, create_user, create_department):
    department = licensing[0]
    create_department(name="别的局")
    login_as(create_user(Role.DEPT_HEAD, department=department))
    html = client.get("/flows/coverage").get_data(as_text=True)
    assert "市场监督管理局" in html and "别的局" not in html


def test_editors_get_create_links_and_admins_no_coverage(client, login_as, licensing, create_user, create_power):
    create_power(licensing[0], name="无流程事项")
    login_as(create_user(Role.DEPT_EDITOR, department=licensing[0]))
    html = client.get("/flows/coverage/powers?status=no_internal").get_data(as_text=True)
    assert "无流程事项" in html and "/flows/new?power_id=" in html


def test_admins_have_no_coverage_view(client, login_as, create_user):
    login_as(create_user(Role.SYS_ADMIN))
    assert client.get("/flows/coverage").status_code == 403
    assert client.get("/flows/").status_code == 403


_CELL = st.sampled_from(["", " ", "a", "b", "accept", "review", "x" * 61, "审查", "<b>", "a b"])
_DAYS = st.sampled_from(["", "0", "3", "-1", "abc", "1.5", "99999", "20"])
_ROLE = st.sampled_from(["acceptance", "review", "decision", "execution", "supervision", "bogus", ""])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(_CELL, _CELL | st.just("名" * 201), st.sampled_from(["0", "1", "999999", "x", ""]),
                                _ROLE, _DAYS), max_size=6),
       edges=st.lists(st.tuples(_CELL, _CELL, _CELL, st.booleans()), max_size=6), limit=_DAYS)
def test_random_step_tables_never_500_and_write_nothing_when_refused(client, login_as, licensing, editor, steps,
                                                                     edges, limit):
    _department, posts, power = licensing
    flow = db.session.scalars(sa.select(Flow).where(Flow.power_id == power.id)).first() or make_flow(power)
    if client.get("/flows/").status_code != 200:  # hypothesis runs every example on the same client
        login_as(editor)
    url = f"/flows/{flow.id}/edit"
    data = {"time_limit_days": limit, "version": str(flow.version)}
    first_post = str(next(iter(posts.values())).id)
    for i, (key, name, post, role, days) in enumerate(steps):
        data.update({f"steps-{i}-key": key, f"steps-{i}-name": name, f"steps-{i}-role": role,
                     f"steps-{i}-time_limit_days": days, f"steps-{i}-post_id": first_post if post == "1" else post})
    for i, (source, target, label, loop) in enumerate(edges):
        data.update({f"edges-{i}-source": source, f"edges-{i}-target": target, f"edges-{i}-label": label,
                     **({f"edges-{i}-loop": "y"} if loop else {})})
    before, version = (count_rows(), queries_doc(flow)), flow.version
    response = post_form(client, url, data, token_url=url)
    assert response.status_code in (302, 400), response.get_data(as_text=True)[:300]
    db.session.expire_all()
    if response.status_code == 400:
        assert (count_rows(), queries_doc(flow)) == before and flow.version == version


def queries_doc(flow):
    from govrisk.flows.queries import flow_doc

    return flow_doc(flow).to_dict()


def published(flow):
    flow.state = RegisterState.PUBLISHED
    return flow


def test_power_page_hook_public_shows_only_the_published_external_flow(app, licensing):
    from govrisk.flows.queries import flow_chart_for

    _department, _posts, power = licensing
    with app.test_request_context():
        assert flow_chart_for(power.code, public=True) is None and flow_chart_for("NOPE", public=True) is None
        internal = published(make_flow(power))
        assert flow_chart_for(power.code, public=True) is None  # internal flows never go public
        external = make_flow(power, FlowKind.EXTERNAL)
        assert flow_chart_for(power.code, public=True) is None  # drafts neither
        published(external)
        html = str(flow_chart_for(power.code, public=True))
        assert "<svg" in html and 'data-flow-kind="external"' in html and 'data-flow-kind="internal"' not in html
        assert f"/flows/{external.id}" not in html  # no links into the system
        power.is_public = False
        assert flow_chart_for(power.code, public=True) is None
        assert f"/flows/{internal.id}" in str(flow_chart_for(power.code, public=False))


def test_power_page_hook_inside_shows_both_kinds_and_links_to_missing(client, login_as, licensing, editor):
    from govrisk.flows.queries import flow_chart_for

    _department, _posts, power = licensing
    flow = make_flow(power)
    login_as(editor)
    with client.application.test_request_context():
        from flask_login import login_user

        login_user(editor)
        html = str(flow_chart_for(power.code, public=False))
    assert f"/flows/{flow.id}" in html and html.count("<svg") == 1
    assert f"/flows/new?power_id={power.id}&amp;kind=external" in html


def test_booklet_flowables_keep_internal_flows_inside(licensing):
    from reportlab.platypus import KeepTogether

    from govrisk.core.pdf import build_pdf
    from govrisk.flows.queries import flow_flowables

    _department, _posts, power = licensing
    assert flow_flowables(power.id, public=False) == []
    published(make_flow(power))
    published(make_flow(power, FlowKind.EXTERNAL))
    inside, outside = flow_flowables(power.id, public=False), flow_flowables(power.id, public=True)
    assert len(inside) == 2 and len(outside) == 1 and all(isinstance(f, KeepTogether) for f in inside)
    assert "外部流程图" in outside[0]._content[0].text
    assert build_pdf(inside, title="流程图").startswith(b"%PDF")


def test_the_editor_offers_exactly_the_roles_of_section_7_1():
    from govrisk.flows.forms import ROLE_CHOICES
    from govrisk.flows.validation import ROLES

    assert [value for value, _title in ROLE_CHOICES] == list(ROLES)


def test_coverage_spreadsheet_opens_with_the_same_counts(client, login_as, licensing, create_user, create_power):
    from openpyxl import load_workbook

    department, _posts, power = licensing
    make_flow(power)
    create_power(department, name="无流程事项")
    login_as(create_user(Role.DEPT_HEAD, department=department))
    response = client.get("/flows/coverage.xlsx")
    assert response.status_code == 200 and "spreadsheetml" in response.mimetype
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("单位代码", "单位", "职权数")
    assert rows[1:] == [(department.code, "市场监督管理局", 2, 1, 2, 0, None)]


def test_editor_starts_a_new_version_of_a_published_flow(client, login_as, licensing, editor):
    flow = published(make_flow(licensing[2]))
    db.session.commit()
    login_as(editor)
    assert 'id="reviseFlow"' in client.get(f"/flows/{flow.id}").get_data(as_text=True)
    response = post_form(client, f"/flows/{flow.id}/revise", token_url=f"/flows/{flow.id}")
    new = db.session.scalars(sa.select(Flow).where(Flow.power_id == flow.power_id, Flow.number == 2)).one()
    assert response.headers["Location"].endswith(f"/flows/{new.id}/edit") and new.state is RegisterState.DRAFT
    assert flow.state is RegisterState.PUBLISHED  # stays public until the new version is published
    again = post_form(client, f"/flows/{flow.id}/revise", token_url=f"/flows/{flow.id}")
    assert again.status_code == 302 and db.session.scalar(sa.select(sa.func.count()).select_from(Flow)) == 2
