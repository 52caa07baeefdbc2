"""`govrisk risks import|export`: the 登记表 from the command line."""

import io

import sqlalchemy as sa
from openpyxl import load_workbook

from govrisk.extensions import db
from govrisk.risks.models import RiskPoint
from tests.risks.conftest import make_point
from tests.risks.test_risk_register_io import row, workbook


def test_import_dry_run_then_import(app, unit, tmp_path):
    path = tmp_path / "登记表.xlsx"
    path.write_bytes(workbook([row(unit)]))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["risks", "import", str(path), "--dry-run"])
    assert result.exit_code == 0 and "检查通过（未写入）：新增 1" in result.output
    assert db.session.scalar(sa.select(sa.func.count(RiskPoint.id))) == 0
    result = runner.invoke(args=["risks", "import", str(path)])
    assert result.exit_code == 0 and "导入完成" in result.output
    assert db.session.scalar(sa.select(RiskPoint.name)) == "导入的风险点"


def test_import_with_bad_rows_writes_nothing(app, unit, tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(workbook([row(unit), row(unit, 风险点="坏", 风险等级="五级")]))
    result = app.test_cli_runner().invoke(args=["risks", "import", str(path)])
    assert result.exit_code == 1 and "第 4 行" in result.output
    assert db.session.scalar(sa.select(sa.func.count(RiskPoint.id))) == 0


def test_export_xlsx_and_pdf(app, unit, tmp_path):
    make_point(unit)
    runner = app.test_cli_runner()
    out = tmp_path / "register.xlsx"
    result = runner.invoke(args=["risks", "export", "--department", unit.department.code, "--out", str(out)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(io.BytesIO(out.read_bytes())).active
    assert sheet["F3"].value == "违规作出许可决定"
    pdf = tmp_path / "register.pdf"
    assert runner.invoke(args=["risks", "export", "--out", str(pdf)]).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    assert runner.invoke(args=["risks", "export", "--department", "NOPE", "--out", str(pdf)]).exit_code == 2
    assert runner.invoke(args=["risks", "export", "--out", str(tmp_path / "x.doc")]).exit_code == 2
