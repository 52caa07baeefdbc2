"""`govrisk campaigns extract|import|summary` and the document readers/writers behind them."""

import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govrisk.campaigns import documents
from govrisk.campaigns.extraction import extract_indicators
from tests.campaigns.conftest import file_report

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "campaigns"


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_extract_gives_the_same_result_as_the_library(runner):
    sample = SAMPLES / "report-02.txt"
    result = runner.invoke(args=["campaigns", "extract", str(sample), "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.output) == extract_indicators(sample.read_text(encoding="utf-8"))


def test_extract_reads_docx_and_refuses_other_encodings(runner, tmp_path):
    from docx import Document

    document = Document()
    document.add_paragraph("发放宣传资料300余份，悬挂横幅2条。")
    path = tmp_path / "总结.docx"
    document.save(path)
    result = runner.invoke(args=["campaigns", "extract", str(path)])
    assert result.exit_code == 0 and json.loads(result.output)["totals"] == {"leaflets": 300, "banners": 2}
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("发放宣传资料300份".encode("gbk"))
    result = runner.invoke(args=["campaigns", "extract", str(gbk)])
    assert result.exit_code == 2 and "不是 UTF-8 编码" in result.output


def test_import_checks_every_row_then_writes_all(runner, tmp_path, world):
    path = tmp_path / "values.csv"
    path.write_text("unit_code,indicator,value,approx\nT-BR1,leaflets,300,是\nT-OUT,leaflets,3,\n", encoding="utf-8")
    result = runner.invoke(args=["campaigns", "import", "T-2026", str(path)])
    assert result.exit_code == 1 and "第 3 行" in result.output and "不在本次活动范围内" in result.output
    path.write_text("unit_code,indicator,value,approx\nT-BR1,宣传资料,300,是\n", encoding="utf-8")
    assert runner.invoke(args=["campaigns", "import", "T-2026", str(path), "--dry-run"]).exit_code == 0
    result = runner.invoke(args=["campaigns", "import", "T-2026", str(path)])
    assert result.exit_code == 0 and "新增 1" in result.output
    assert runner.invoke(args=["campaigns", "import", "NOPE", str(path)]).exit_code == 2


@pytest.mark.parametrize("name, magic", [("s.pdf", b"%PDF"), ("s.docx", b"PK"), ("s.xlsx", b"PK")])
def test_summary_writes_each_format(runner, tmp_path, world, name, magic):
    u = world.users
    file_report(world, world.branch, u.branch_editor, state="accepted", reviewer=u.bank_head)
    out = tmp_path / name
    result = runner.invoke(args=["campaigns", "summary", "T-2026", "--unit", "T-BANK", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(magic) and "统计 1 份报告" in result.output


def test_summary_refuses_bad_arguments(runner, tmp_path, world):
    assert runner.invoke(args=["campaigns", "summary", "T-2026", "--out", str(tmp_path / "s.txt")]).exit_code == 2
    result = runner.invoke(args=["campaigns", "summary", "T-2026", "--unit", "T-OUT", "--out", str(tmp_path / "s.pdf")])
    assert result.exit_code == 2 and "不在活动" in result.output


# --- document helpers --------------------------------------------------------------------------------------------


@given(st.text(max_size=60), st.lists(st.tuples(st.integers(-5, 70), st.integers(-5, 70)), max_size=6))
def test_segments_rebuild_the_text_and_never_overlap(text, raw_spans):
    spans = [(a, b, i) for i, (a, b) in enumerate(raw_spans)]
    pieces = documents.segments(text, spans)
    assert "".join(piece for piece, _ in pieces) == text
    marked = [payload for _, payload in pieces if payload is not None]
    assert len(marked) == len(set(marked))
    for piece, payload in pieces:
        if payload is not None:
            start, end, _ = spans[payload]
            assert text[start:end] == piece


@pytest.mark.parametrize("text, expected", [("a\r\nb\rc\n", "a\nb\nc\n"), ("", ""), (None, "")])
def test_normalize_text(text, expected):
    assert documents.normalize_text(text) == expected


def test_docx_reader_keeps_paragraph_and_table_order():
    from docx import Document

    document = Document()
    document.add_paragraph("第一段")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "展板", "8块"
    document.add_paragraph("第二段")
    buffer = io.BytesIO()
    document.save(buffer)
    assert documents.text_from_upload("a.DOCX", buffer.getvalue()) == "第一段\n展板\t8块\n第二段"


def test_summary_of_a_unit_without_reports_still_builds(world):
    from govrisk.campaigns import queries

    rollup = queries.rollup(world.campaign, world.school)
    blocks = documents.summary_blocks(rollup, [])
    kinds = [b.kind for b in blocks]
    assert "chart" not in kinds and [b.text for b in blocks if b.kind == "h1"] == [
        "一、组织领导", "二、宣传形式与主要做法", "三、工作成效", "四、存在问题及下一步"]
    assert "本期暂无统计数据" in " ".join(b.text for b in blocks)
    assert documents.summary_pdf(rollup, []).startswith(b"%PDF")
    assert documents.summary_docx(rollup, []).startswith(b"PK")


@pytest.mark.parametrize("value, approx, unit, expected", [
    ("1500", True, "份", "1500余份"), ("12.50", False, "", "12.5"), ("0", False, "块", "0块")])
def test_fmt_total(value, approx, unit, expected):
    from decimal import Decimal

    from govrisk.campaigns.queries import Total

    assert documents.fmt_total(Total(Decimal(value), approx), unit) == expected
