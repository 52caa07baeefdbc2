"""An exception in the middle of an operation: friendly 500 page, nothing half-written, audit chain intact."""

import sqlalchemy as sa

from govrisk.core.audit import AuditEntry, verify_chain
from govrisk.core.permissions import Role
from govrisk.extensions import db
from govrisk.org import operations
from govrisk.org.models import Department
from tests.conftest import post_form


def test_crash_after_flush_rolls_everything_back(client, login_as, create_user, monkeypatch):
    login_as(create_user(Role.SYS_ADMIN))
    entries_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    real = operations.create_department

    def explode(data, *, actor):
        real(data, actor=actor)  # the department and its audit entry are flushed …
        raise RuntimeError("disk on fire")  # … and then the operation fails

    monkeypatch.setattr(operations, "create_department", explode)
    url = "/org/departments/new"
    response = post_form(client, url, {"code": "BOOM", "name": "爆炸局", "kind": "government", "parent_id": 0},
                         token_url=url)
    assert response.status_code == 500
    assert "未写入任何数据" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(Department).where(Department.code == "BOOM")) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == entries_before
    assert verify_chain().ok


def test_json_clients_get_json_errors(client, login_as, create_user):
    login_as(create_user(Role.INSPECTOR))
    response = client.get("/org/departments/424242", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


def test_unknown_page_is_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and "页面不存在" in response.get_data(as_text=True)
