"""Department import: preview with per-row errors, all-or-nothing, idempotent, encodings and formats."""

import io

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from govrisk.core.errors import UserError
from govrisk.core.permissions import Role
from govrisk.extensions import db
from govrisk.org.models import Department
from govrisk.org.operations import DepartmentImporter
from tests.conftest import csrf_token

MAX = 10 * 1024 * 1024
GOOD = "code,name,parent_code\nIMP-A,甲局,\nIMP-A1,甲局一所,IMP-A\nIMP-B,乙局,\n"


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Department).where(Department.code.like("IMP-%")))


def test_good_file_imports_and_reimport_changes_nothing():
    preview = DepartmentImporter().run(GOOD.encode(), "d.csv", actor=None, max_bytes=MAX)
    assert preview.count("create") == 3 and _count() == 3
    child = db.session.scalar(sa.select(Department).where(Department.code == "IMP-A1"))
    assert child.parent.code == "IMP-A"
    again = DepartmentImporter().preview(GOOD.encode(), "d.csv", max_bytes=MAX)
    assert again.count("unchanged") == 3 and again.count("create") == 0


def test_child_before_parent_in_file():
    DepartmentImporter().run("code,name,parent_code\nIMP-C1,子,IMP-C\nIMP-C,父,\n".encode(), "d.csv", actor=None,
                             max_bytes=MAX)
    assert db.session.scalar(sa.select(Department).where(Department.code == "IMP-C1")).parent.code == "IMP-C"


@pytest.mark.parametrize(("body", "line", "reason"), [
    ("IMP-A,甲,\nIMP-A,甲2,\n", 4, "重复"),
    ("IMP-A,甲,NOPE\n", 3, "不存在"),
    ("IMP-A,甲,IMP-A\n", 3, "自己"),
    ("IMP-A,甲,IMP-B\nIMP-B,乙,IMP-A\n", 3, "循环"),
    (",无代码,\n", 3, "不能为空"),
    ("IMP-A,,\n", 3, "不能为空"),
])
def test_bad_rows_are_reported_and_nothing_is_written(body, line, reason):
    data = ("code,name,parent_code\nIMP-OK,好的,\n" + body).encode()
    preview = DepartmentImporter().preview(data, "d.csv", max_bytes=MAX)
    assert not preview.ok
    assert any(r.line == line and any(reason in e for e in r.errors) for r in preview.bad_rows)
    with pytest.raises(UserError, match="未写入任何数据"):
        DepartmentImporter().run(data, "d.csv", actor=None, max_bytes=MAX)
    assert _count() == 0


def test_gbk_file_gets_a_clear_message():
    with pytest.raises(UserError, match="UTF-8"):
        DepartmentImporter().preview(GOOD.encode("gbk"), "d.csv", max_bytes=MAX)


def test_missing_columns_and_empty_files():
    with pytest.raises(UserError, match="缺少列"):
        DepartmentImporter().preview(b"code,title\nA,B\n", "d.csv", max_bytes=MAX)
    with pytest.raises(UserError, match="为空"):
        DepartmentImporter().preview(b"", "d.csv", max_bytes=MAX)
    with pytest.raises(UserError, match="过大"):
        DepartmentImporter().preview(GOOD.encode(), "d.csv", max_bytes=10)


def test_binary_garbage_is_refused():
    with pytest.raises(UserError):
        DepartmentImporter().preview(b"\x00\x01\x02PKbroken", "d.bin", max_bytes=MAX)
    with pytest.raises(UserError, match="XLSX"):
        DepartmentImporter().preview(b"PK\x03\x04garbage", "d.xlsx", max_bytes=MAX)


def test_xlsx_with_the_same_columns():
    book = Workbook()
    sheet = book.active
    for row in (["code", "name", "parent_code"], ["IMP-X", "表格局", None], ["IMP-X1", "表格所", "IMP-X"]):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    DepartmentImporter().run(buffer.getvalue(), "d.xlsx", actor=None, max_bytes=MAX)
    assert _count() == 2


def test_import_through_the_page(client, login_as, create_user):
    login_as(create_user(Role.SYS_ADMIN))
    url = "/org/departments/import"
    bad = "code,name,parent_code\nIMP-A,甲局,\nIMP-B,乙局,NOPE\n"
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      "file": (io.BytesIO(bad.encode()), "bad.csv")},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "NOPE" in html and "不存在" in html and "confirmImport" not in html
    assert _count() == 0
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      "file": (io.BytesIO(GOOD.encode()), "good.csv")},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert "confirmImport" in html and _count() == 0
    token = html.split('name="token" value="')[1].split('"')[0]
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "token": token})
    assert response.status_code == 302 and _count() == 3
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "token": token}, follow_redirects=True)
    assert "已经导入过" in response.get_data(as_text=True) and _count() == 3
