"""Flow charts in the JSON API: public and internal reads, BPMN export, import by token."""

import json

import sqlalchemy as sa

from govrisk.auth import operations as auth_ops
from govrisk.core.permissions import Role
from govrisk.extensions import db
from govrisk.flows import operations as ops
from govrisk.flows.bpmn import bpmn_to_flow
from govrisk.flows.models import Flow, FlowKind
from govrisk.flows.validation import parse_flow
from govrisk.workflow.register import RegisterState
from tests.flows.conftest import example_dict


def bearer(user, scopes="read"):
    _token, raw = auth_ops.create_api_token(user, "测试", actor=user, scopes=scopes)
    return {"Authorization": f"Bearer {raw}"}


def make(power, kind, state=RegisterState.DRAFT):
    doc, _ = parse_flow({**example_dict(power.code), "kind": kind.value})
    flow = ops.create_flow(power, kind, doc, actor=None)
    flow.state = state
    return flow


def test_anonymous_gets_only_the_published_external_flow(client, licensing):
    _department, _posts, power = licensing
    db.session.commit()  # keep the fixtures when the refused request below rolls back (ends in the test's rollback)
    assert client.get(f"/api/v1/flows/{power.code}").status_code == 404
    make(power, FlowKind.INTERNAL, RegisterState.PUBLISHED)
    make(power, FlowKind.EXTERNAL, RegisterState.PUBLISHED)
    body = client.get(f"/api/v1/flows/{power.code}").get_json()
    assert body["view"] == "public" and [f["kind"] for f in body["flows"]] == ["external"]
    assert "report" not in body["flows"][0] and body["flows"][0]["document"]["steps"][0]["id"] == "accept"
    bpmn = client.get(f"/api/v1/flows/{power.code}?format=bpmn")
    assert bpmn.mimetype == "application/xml" and bpmn_to_flow(bpmn.data)[0].kind == "external"
    assert client.get(f"/api/v1/flows/{power.code}?kind=internal").status_code == 404
    assert client.get("/api/v1/flows/NOPE").get_json()["error"]["status"] == 404


def test_a_token_sees_its_departments_charts_with_findings(client, licensing, create_user, create_department):
    department, _posts, power = licensing
    make(power, FlowKind.INTERNAL)
    headers = bearer(create_user(Role.DEPT_EDITOR, department=department))
    body = client.get(f"/api/v1/flows/{power.code}", headers=headers).get_json()
    assert body["view"] == "internal" and [f["kind"] for f in body["flows"]] == ["internal"]
    assert body["flows"][0]["report"]["ok"] is True and body["flows"][0]["state"]["key"] == "draft"
    assert client.get(f"/api/v1/flows/{power.code}?format=bpmn", headers=headers).status_code == 200
    outsider = bearer(create_user(Role.DEPT_EDITOR, department=create_department(name="别的局")))
    assert client.get(f"/api/v1/flows/{power.code}", headers=outsider).status_code == 404


def test_import_by_token_needs_ingest_and_is_idempotent(client, licensing, create_user):
    department, _posts, power = licensing
    editor = create_user(Role.DEPT_EDITOR, department=department)
    payload = json.dumps(example_dict(), ensure_ascii=False).encode()
    json_headers = {"Content-Type": "application/json"}
    read_only = bearer(editor)
    db.session.commit()  # as above: refusals roll the request back, not the fixtures
    assert client.post("/api/v1/flows", data=payload, headers={**json_headers, **read_only}).status_code == 403
    headers = {**json_headers, **bearer(editor, "read ingest")}
    created = client.post("/api/v1/flows", data=payload, headers=headers)
    assert created.status_code == 201 and created.get_json()["action"] == "create"
    again = client.post("/api/v1/flows", data=payload, headers=headers)
    assert again.status_code == 200 and again.get_json()["action"] == "unchanged"
    bad = client.post("/api/v1/flows", data=json.dumps(example_dict("NOPE")), headers=headers)
    assert bad.status_code == 400 and "不存在" in bad.get_json()["error"]["message"]
    broken = client.post("/api/v1/flows", data=b'{"steps": 1}', headers=headers)
    assert broken.status_code == 400 and broken.get_json()["error"]["details"]["findings"][0]["code"] == \
        "invalid_document"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Flow)) == 1
    inspector = {**json_headers, **bearer(create_user(Role.INSPECTOR), "read ingest")}
    assert client.post("/api/v1/flows", data=payload, headers=inspector).status_code == 403
    assert client.post("/api/v1/flows", data=payload, headers=json_headers).status_code in (400, 401)
