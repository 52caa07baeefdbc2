"""Power import (DESIGN §7.4): 1,000 rows with three bad ones, all-or-nothing, idempotent, through the UI too."""

import csv
import io

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from govrisk.catalog import operations as ops
from govrisk.catalog import queries
from govrisk.catalog.models import Power
from govrisk.core.audit import AuditEntry
from govrisk.core.errors import UserError
from govrisk.extensions import db
from govrisk.workflow.register import RegisterState as S
from tests.catalog_support import make_unit, publish
from tests.conftest import csrf_token

MAX = 10 * 1024 * 1024
HEADER = ["code", "name", "category", "department_code", "legal_basis", "statutory_days", "promised_days",
          "is_major_matter", "public"]


def rows(n: int, department_code: str, *, start: int = 1) -> list[list[str]]:
    return [[f"IMP-{i:05d}", f"导入职权{i}", "行政许可" if i % 2 else "cf", department_code,
             f"《中华人民共和国行政许可法》第{i % 80 + 1}条\n《某某条例》第二条：条文内容{i}", "20", "10",
             "是" if i % 7 == 0 else "否", "是"] for i in range(start, start + n)]


def to_csv(table: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER, *table])
    return buffer.getvalue().encode("utf-8")


def count_imported() -> int:
    return db.session.scalar(sa.select(sa.func.count(Power.id)).where(Power.code.like("IMP-%")))


@pytest.fixture
def unit(create_department, create_user):
    return make_unit(create_department, create_user, code="T-IMP")


def test_thousand_rows_with_three_bad_ones_shows_the_three_and_writes_nothing(unit):
    table = rows(1000, "T-IMP")
    table[99][6] = "30"  # promised above statutory → line 101
    table[499][2] = "行政魔法"  # unknown category → line 501
    table[899][3] = "NO-SUCH-DEPT"  # unknown department → line 901
    data = to_csv(table)
    audit_before = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    preview = ops.PowerImporter(actor=unit.editor).preview(data, "powers.csv", max_bytes=MAX)
    assert [r.line for r in preview.bad_rows] == [101, 501, 901]
    reasons = {r.line: "；".join(r.errors) for r in preview.bad_rows}
    assert "不能超过法定时限" in reasons[101] and "行政魔法" in reasons[501] and "NO-SUCH-DEPT" in reasons[901]
    assert len(preview.rows) == 1000 and preview.count("create") == 997
    with pytest.raises(UserError, match="3 行有错误，未写入任何数据") as exc:
        ops.PowerImporter().run(data, "powers.csv", actor=unit.editor, max_bytes=MAX)
    assert [r["line"] for r in exc.value.details["bad_rows"]] == [101, 501, 901]
    assert count_imported() == 0
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == audit_before


def test_good_file_imports_and_the_same_file_again_changes_nothing(unit):
    data = to_csv(rows(30, "T-IMP"))
    preview = ops.PowerImporter().run(data, "powers.csv", actor=unit.editor, max_bytes=MAX)
    assert preview.count("create") == 30 and count_imported() == 30
    power = queries.get_power_by_code("IMP-00003")
    assert power.state is S.DRAFT and power.category == "xk" and power.department_id == unit.department.id
    assert [(b.law, b.article, b.clause) for b in power.legal_bases] == [
        ("中华人民共和国行政许可法", "第4条", ""), ("某某条例", "第二条", "条文内容3")]
    assert queries.get_power_by_code("IMP-00004").category == "cf"
    assert queries.get_power_by_code("IMP-00007").is_major_matter is True
    audit_before = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    again = ops.PowerImporter().run(data, "powers.csv", actor=unit.editor, max_bytes=MAX)
    assert again.count("unchanged") == 30 and count_imported() == 30
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == audit_before


def test_rows_without_code_get_one_and_match_by_name_on_reimport(unit):
    table = [["", "无编码事项", "行政检查", "T-IMP", "《某法》第一条", "", "", "否", "是"]]
    ops.PowerImporter().run(to_csv(table), "p.csv", actor=unit.editor, max_bytes=MAX)
    power = db.session.scalar(sa.select(Power).where(Power.name == "无编码事项"))
    assert power.code == "T-IMP-JC-0001"
    again = ops.PowerImporter().preview(to_csv(table), "p.csv", max_bytes=MAX)
    assert again.count("unchanged") == 1


def test_changed_row_updates_and_a_published_power_gets_a_revision(unit, create_user, create_department):
    inspector = create_user("inspector", department=create_department())
    ops.PowerImporter().run(to_csv(rows(2, "T-IMP")), "p.csv", actor=unit.editor, max_bytes=MAX)
    published = publish(queries.get_power_by_code("IMP-00001"), unit, inspector)
    table = rows(2, "T-IMP")
    table[0][6] = table[1][6] = "5"
    preview = ops.PowerImporter().run(to_csv(table), "p.csv", actor=unit.editor, max_bytes=MAX)
    assert preview.count("update") == 2
    assert published.state is S.DRAFT and published.promised_days == 5
    assert queries.public_version("IMP-00001").data["promised_days"] == 10  # the published version stays


def test_a_power_under_review_cannot_be_changed_by_import(unit):
    ops.PowerImporter().run(to_csv(rows(1, "T-IMP")), "p.csv", actor=unit.editor, max_bytes=MAX)
    ops.transition_power(queries.get_power_by_code("IMP-00001"), "submit", actor=unit.editor)
    table = rows(1, "T-IMP")
    table[0][1] = "改名"
    preview = ops.PowerImporter(actor=unit.editor).preview(to_csv(table), "p.csv", max_bytes=MAX)
    assert "审核期间不能通过导入修改" in preview.bad_rows[0].errors[0]


@pytest.mark.parametrize("change,fragment", [
    ({4: ""}, "不能为空"),
    ({5: "abc"}, "不是整数"),
    ({5: "-3"}, "不能为负数"),
    ({7: "也许"}, "三重一大"),
    ({0: "IMP-00002"}, "重复"),
])
def test_bad_cells(unit, change, fragment):
    table = rows(2, "T-IMP")
    for column, value in change.items():
        table[0][column] = value
    preview = ops.PowerImporter(actor=unit.editor).preview(to_csv(table), "p.csv", max_bytes=MAX)
    assert any(fragment in e for r in preview.bad_rows for e in r.errors), preview.bad_rows


def test_editor_cannot_import_into_another_department(unit, create_department):
    create_department(code="T-OTHER")
    preview = ops.PowerImporter(actor=unit.editor).preview(to_csv(rows(1, "T-OTHER")), "p.csv", max_bytes=MAX)
    assert "不能为" in preview.bad_rows[0].errors[0]


def test_xlsx_import_and_export_round_trip(unit):
    workbook = Workbook()
    sheet = workbook.active
    for row in [HEADER, *rows(3, "T-IMP")]:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    ops.PowerImporter().run(buffer.getvalue(), "p.xlsx", actor=unit.editor, max_bytes=MAX)
    assert count_imported() == 3
    from govrisk.catalog.exports import powers_xlsx

    exported = powers_xlsx(queries.PowerFilters(department_id=unit.department.id), None)
    sheet = load_workbook(io.BytesIO(exported)).active
    assert [c.value for c in sheet[1]][:9] == HEADER and sheet.max_row == 4
    again = ops.PowerImporter().preview(exported, "export.xlsx", max_bytes=MAX)
    assert again.ok and again.count("unchanged") == 3


@pytest.mark.parametrize("data,name,fragment", [
    (b"\x00\x01\x02binary", "p.bin", "不支持的文件类型"),
    (b"PK\x03\x04broken", "p.xlsx", "无法读取"),
    (b"code,name\nA,B\n", "p.csv", "缺少列"),
    (b"x" * 2048, "p.csv", "文件过大"),
])
def test_unreadable_files(data, name, fragment):
    with pytest.raises(UserError, match=fragment):
        ops.PowerImporter().preview(data, name, max_bytes=1024)


def test_import_page_previews_the_bad_rows_and_offers_no_confirm(client, login_as, unit):
    table = rows(5, "T-IMP")
    table[2][5] = "abc"
    login_as(unit.editor)
    token = csrf_token(client, "/catalog/powers/import")
    response = client.post("/catalog/powers/import", data={"csrf_token": token,
                                                           "file": (io.BytesIO(to_csv(table)), "p.csv")},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "错误 1 行" in html and "不是整数" in html
    assert "confirmImport" not in html and count_imported() == 0


def test_import_page_confirms_a_good_file(client, login_as, unit):
    login_as(unit.editor)
    token = csrf_token(client, "/catalog/powers/import")
    html = client.post("/catalog/powers/import", data={"csrf_token": token,
                                                       "file": (io.BytesIO(to_csv(rows(4, "T-IMP"))), "p.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "confirmImport" in html
    staged = html.split('name="token" value="')[1].split('"')[0]
    response = client.post("/catalog/powers/import", data={"csrf_token": csrf_token(client, "/catalog/powers"),
                                                           "token": staged})
    assert response.status_code == 302 and count_imported() == 4


def test_import_page_is_refused_to_inspectors(client, login_as, create_user, create_department):
    login_as(create_user("inspector", department=create_department()))
    assert client.get("/catalog/powers/import").status_code == 403
