"""`govrisk catalog import FILE`: bad rows listed with line numbers and nothing written; then a good file."""

import sqlalchemy as sa

from govrisk.catalog.models import Power
from govrisk.extensions import db


def test_catalog_import_command(app, tmp_path, create_department):
    create_department(code="T-CLI")
    runner = app.test_cli_runner()
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,category,department_code,legal_basis,statutory_days,promised_days,is_major_matter,public\n"
                   "CLI-1,甲事项,行政许可,T-CLI,《某法》第一条,20,10,否,是\n"
                   "CLI-2,乙事项,行政许可,T-CLI,,20,30,否,是\n", encoding="utf-8")
    result = runner.invoke(args=["catalog", "import", str(bad)])
    assert result.exit_code == 1
    assert "第 3 行" in result.output and "legal_basis" in result.output and "承诺时限" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Power.id)).where(Power.code.like("CLI-%"))) == 0
    good = tmp_path / "good.csv"
    good.write_text(bad.read_text(encoding="utf-8").replace(",,20,30,", ",《某法》第二条,20,10,"), encoding="utf-8")
    assert "检查通过" in runner.invoke(args=["catalog", "import", str(good), "--dry-run"]).output
    result = runner.invoke(args=["catalog", "import", str(good)])
    assert result.exit_code == 0 and "新增 2" in result.output
    assert "未变 2" in runner.invoke(args=["catalog", "import", str(good)]).output
