"""The 廉政风险点登记表: XLSX and PDF exports, and the import of the same layout (preview, all or nothing)."""

import io
import subprocess

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from govrisk.core.errors import UserError
from govrisk.core.importer import ImportFileError
from govrisk.extensions import db
from govrisk.risks import operations as ops
from govrisk.risks.models import ControlMeasure, RiskPoint
from govrisk.risks.registers import COLUMNS, EXTRA_COLUMNS, RiskRegisterImporter, register_pdf, register_xlsx
from govrisk.workflow.register import RegisterState as S
from tests.conftest import csrf_token
from tests.risks.conftest import advance, make_point

MAX = 10 * 1024 * 1024


def workbook(rows: list[list], *, title: bool = True) -> bytes:
    book = Workbook()
    sheet = book.active
    if title:
        sheet.append(["某局廉政风险点登记表"])
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def row(unit, **overrides) -> list:
    values = {"序号": 1, "单位/科室": unit.department.name, "岗位": "分管领导", "职权": unit.power.name, "环节": "决定",
              "风险点": "导入的风险点", "表现形式": "接受请托", "风险类型": "岗位职责/重点权力", "风险等级": "二级",
              "防控措施": "1.【分权制衡】集体研究\n2. 全程留痕", "责任人": unit.people["张"].name,
              "监督人": unit.people["李"].name}
    values.update(overrides)
    return [values[c] for c in COLUMNS]


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(RiskPoint.id)))


def test_xlsx_has_the_form_columns_and_chinese(unit, inspector):
    point = advance(make_point(unit), "confirmed", unit, inspector, level=1, reason="上调")
    ops.create_measure(point, {"measure_type": "sod", "description": "集体研究决定"}, actor=unit.editor)
    make_point(unit, name="=HYPERLINK(\"x\")", step_id="")
    sheet = load_workbook(io.BytesIO(register_xlsx(None, department_id=unit.department.id))).active
    assert sheet["A1"].value == f"{unit.department.name}廉政风险点登记表"
    assert [c.value for c in sheet[2]] == [*COLUMNS, *EXTRA_COLUMNS]
    rows = {r[5]: r for r in sheet.iter_rows(min_row=3, values_only=True)}
    first = rows["违规作出许可决定"]
    assert first[:6] == (1, unit.department.name, "分管领导", unit.power.name, "决定", "违规作出许可决定")
    assert first[7:12] == ("岗位职责/重点权力", "一级", "1.【分权制衡】集体研究决定", "张1", "李1")
    assert rows["=HYPERLINK(\"x\")"][5] == "=HYPERLINK(\"x\")"  # text stays text
    cell = next(c for c in sheet[4] if c.value == "=HYPERLINK(\"x\")")
    assert cell.data_type == "s"


def test_pdf_is_landscape_and_renders_chinese(unit, inspector, tmp_path):
    make_point(unit)
    data = register_pdf(None, department_id=unit.department.id)
    path = tmp_path / "register.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    width, height = (float(v) for v in info.split("Page size:")[1].split("pts")[0].split(" x "))
    assert width > height
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    text = text.replace(" ", "").replace("\n", "")
    for expected in ("廉政风险点登记表", "单位/科室", "防控措施", "监督人", "违规作出许可决定", "二级",
                     unit.department.name):
        assert expected in text, expected


def test_pdf_refuses_too_many_rows(unit, monkeypatch):
    import govrisk.risks.registers as registers

    make_point(unit)
    make_point(unit, name="第二个")
    monkeypatch.setattr(registers, "MAX_PDF_ROWS", 1)
    with pytest.raises(UserError, match="超过单份 PDF 的上限"):
        register_pdf(None)


def test_import_creates_drafts_with_measures(unit):
    importer = RiskRegisterImporter(unit.editor)
    preview = importer.preview(workbook([row(unit)]), "登记表.xlsx", max_bytes=MAX)
    assert preview.ok and preview.count("create") == 1 and _count() == 0
    importer.run(workbook([row(unit)]), "登记表.xlsx", actor=unit.editor, max_bytes=MAX)
    point = db.session.scalar(sa.select(RiskPoint))
    assert (point.state, point.proposed_level, point.step_key, point.post.name) == (S.DRAFT, 2, "decide", "分管领导")
    assert point.likelihood is None  # the form carries no scores: the editor adds them before submitting
    assert [(m.measure_type, m.description) for m in point.measures] == [("sod", "集体研究"),
                                                                         ("institution", "全程留痕")]


def test_exported_file_imports_back_unchanged(unit, inspector):
    point = make_point(unit)
    ops.create_measure(point, {"measure_type": "sod", "description": "集体研究决定"}, actor=unit.editor)
    data = register_xlsx(None, department_id=unit.department.id)
    preview = RiskRegisterImporter(unit.editor).run(data, "x.xlsx", actor=unit.editor, max_bytes=MAX)
    assert preview.count("unchanged") == 1 and _count() == 1
    assert db.session.scalar(sa.select(sa.func.count(ControlMeasure.id))) == 1


def test_import_updates_drafts_but_not_submitted_points(unit, inspector):
    point = make_point(unit, name="已有风险点")
    importer = RiskRegisterImporter(unit.editor)
    importer.run(workbook([row(unit, 风险点="已有风险点", 表现形式="新的表现形式")]), "x.xlsx", actor=unit.editor,
                 max_bytes=MAX)
    assert point.manifestation == "新的表现形式" and _count() == 1
    assert (point.likelihood, point.severity, point.discretion.value) == (3, 4, "large")  # no such columns: kept
    assert point.method_keys == ["self_check", "case_analysis"]
    advance(point, "submitted", unit, inspector)
    preview = importer.preview(workbook([row(unit, 风险点="已有风险点", 表现形式="再改")]), "x.xlsx", max_bytes=MAX)
    assert "不能通过导入修改" in preview.bad_rows[0].errors[0]


def test_import_is_all_or_nothing_with_reasons_per_row(unit, other_unit):
    rows = [row(unit, 风险点="好的"),
            row(unit, 风险点="坏环节", 环节="不存在的环节"),
            row(unit, 风险点="坏等级", 风险等级="四级"),
            row(unit, 风险点="坏类型", 风险类型="天灾"),
            row(unit, 风险点="坏岗位", 岗位=other_unit.posts["审查岗"].name + "x"),
            row(other_unit, 风险点="他局"),
            row(unit, 风险点="好的"),
            row(unit, 风险点="坏人", 责任人="查无此人"),
            row(unit, 风险点="坏措施", 防控措施="【魔法】念咒")]
    importer = RiskRegisterImporter(unit.editor)
    preview = importer.preview(workbook(rows), "x.xlsx", max_bytes=MAX)
    errors = {r.line: " ".join(r.errors) for r in preview.bad_rows}
    assert "环节“不存在的环节”不在该职权的流程图中" in errors[4]
    assert "风险等级“四级”" in errors[5]
    assert "风险类型“天灾”无效" in errors[6]
    assert "不是该职权责任单位的岗位" in errors[7]
    assert "不在您的管理范围内" in errors[8]
    assert "与第 3 行是同一职权的同一风险点" in errors[9]
    assert "人员“查无此人”找不到" in errors[10]
    assert "措施类型“魔法”无效" in errors[11]
    assert 3 not in errors
    with pytest.raises(UserError, match="未写入任何数据"):
        importer.run(workbook(rows), "x.xlsx", actor=unit.editor, max_bytes=MAX)
    assert _count() == 0


def test_import_needs_the_header(unit):
    with pytest.raises(ImportFileError, match="找不到表头行"):
        RiskRegisterImporter(unit.editor).preview(b"a,b\n1,2\n", "x.csv", max_bytes=MAX)
    preview = RiskRegisterImporter(unit.editor).preview(workbook([row(unit)], title=False), "x.xlsx", max_bytes=MAX)
    assert preview.ok and preview.rows[0].line == 2


def test_import_through_the_pages(client, login_as, unit):
    login_as(unit.editor)
    token = csrf_token(client, "/risks/import")
    html = client.post("/risks/import", data={"csrf_token": token,
                                              "file": (io.BytesIO(workbook([row(unit)])), "登记表.xlsx")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "导入的风险点" in html and _count() == 0
    staged = html.split('name="token" value="')[1].split('"')[0]
    response = client.post("/risks/import", data={"csrf_token": csrf_token(client, "/risks/"), "token": staged})
    assert response.status_code == 302 and _count() == 1


def test_exports_through_the_pages_follow_the_department(client, login_as, unit, other_unit, inspector):
    make_point(unit, name="本局风险点")
    make_point(other_unit, name="他局风险点")
    login_as(unit.head)
    response = client.get("/risks/register.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    text = " ".join(str(v) for r in load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True)
                    for v in r if v)
    assert "本局风险点" in text and "他局风险点" not in text
    assert client.get(f"/risks/register.pdf?department={other_unit.department.id}").status_code == 403
    pdf = client.get("/risks/register.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
