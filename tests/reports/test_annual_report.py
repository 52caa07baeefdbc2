"""The annual assessment report: built from the frozen snapshot, the same inputs give the same bytes and text;
one department's report covers that department only; downloads by role; the score workbook; the CLI."""

import io
import shutil
import subprocess
from datetime import date

import pytest
from openpyxl import load_workbook

from govrisk.accountability import operations as acc
from govrisk.extensions import db
from govrisk.reports.annual import annual_report_pdf, scores_xlsx
from govrisk.review import operations as ops
from govrisk.review import queries
from tests.review_support import add_point, run_cycle

PDFTOTEXT = shutil.which("pdftotext")


def _text(pdf: bytes) -> str:
    if not PDFTOTEXT:
        pytest.skip("pdftotext (poppler-utils) is needed to read the report's text")
    return subprocess.run([PDFTOTEXT, "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


@pytest.fixture
def published(new_cycle, city, create_person):
    previous = new_cycle(2025)
    ops.transition_cycle(previous, "open", actor=city.inspector)
    add_point(city.a.register.powers[0], level=1)  # new in 2026
    cycle = new_cycle(2026)
    run_cycle(cycle, city.inspector, until="start_assessment")
    person = create_person(city.a.department, name="赵六")
    finding = acc.create_finding({"source": "annual_assessment", "department_id": city.a.department.id,
                                  "title": "防控措施落实不到位", "cycle_id": cycle.id, "person_ids": [person.id],
                                  "found_on": date(2026, 3, 1)}, actor=city.inspector)
    acc.order_rectification(finding, {"requirement": "限期落实", "due_on": date(2026, 6, 30),
                                      "ordered_on": date(2026, 3, 2)}, actor=city.inspector)
    acc.record_action(person, {"action_type": "admonishing_talk", "decided_on": date(2026, 3, 20),
                               "finding_id": finding.id}, actor=city.inspector)
    cd = queries.get_cycle_department(cycle, city.a.department.id)
    score = next(s for s in queries.scores_of(cd) if s.indicator.key == "education")
    ops.adjust_score(score, 75, "台账核实后认定", actor=city.inspector)
    ops.transition_cycle(cycle, "publish", actor=city.inspector)
    return cycle


def test_the_same_inputs_give_the_same_bytes_and_text(published):
    first, second = annual_report_pdf(published), annual_report_pdf(published)
    assert first == second
    assert _text(first) == _text(second)


def test_the_city_report_reads_the_snapshot_scores_and_the_year(published, city):
    text = _text(annual_report_pdf(published))
    for heading in ("检查考核报告", "一、总体情况", "二、考核得分与排名", "三、各单位情况", "四、与上年度比较", "附表",
                    "签发", "风险矩阵"):
        assert heading in text, heading
    assert city.a.department.name in text and city.b.department.name in text
    assert "防控措施落实不到位" in text and "赵六" in text and "诫勉谈话" in text
    assert "台账核实后认定" in text  # the adjustment and its reason
    assert "有法律依据 1 项" in text  # the numbers behind a score
    assert "比较 2025 年度与 2026 年度" in text


def test_the_report_stays_the_same_however_the_live_register_changes(published, city):
    before = _text(annual_report_pdf(published))
    point = city.a.register.points[1]
    point.confirmed_level, point.likelihood = 1, 5
    add_point(city.a.register.powers[0], level=1)
    db.session.flush()
    assert _text(annual_report_pdf(published)) == before


def test_a_department_report_covers_that_department(published, city):
    cd = queries.get_cycle_department(published, city.a.department.id)
    text = _text(annual_report_pdf(published, cd))
    assert city.a.department.name in text and city.b.department.name not in text
    assert f"在参加考核的 2 个单位中排第 {cd.rank} 名" in text.replace("\n", "")


def test_scores_workbook(published, city):
    book = load_workbook(io.BytesIO(scores_xlsx(published)))
    ranking, detail = book["得分与排名"], book["指标明细"]
    rows = list(ranking.iter_rows(values_only=True))
    assert rows[0][:3] == ("名次", "单位代码", "单位") and len(rows) == 3
    codes = {r[1] for r in rows[1:]}
    assert codes == {city.a.department.code, city.b.department.code}
    details = list(detail.iter_rows(values_only=True))
    education = next(r for r in details if r[0] == city.a.department.code and r[2] == "廉政教育")
    assert education[6] == 75 and education[7] == "台账核实后认定" and education[8] == 75


def test_downloads_by_role(new_cycle, city, login_as, client):
    cycle = new_cycle()
    run_cycle(cycle, city.inspector, until="start_assessment")
    login_as(city.a.editor)
    assert client.get("/reports/annual/2026.pdf").status_code == 403  # not published: city report for inspectors
    own = client.get(f"/reports/annual/2026.pdf?department={city.a.department.code}")
    assert own.status_code == 200 and own.data[:4] == b"%PDF"
    assert client.get(f"/reports/annual/2026.pdf?department={city.b.department.code}").status_code == 403
    assert client.get("/reports/annual/2026.pdf?department=NOPE").status_code == 404
    assert client.get("/reports/annual/2031.pdf").status_code == 404
    assert client.get("/reports/annual/2026/scores.xlsx").status_code == 403
    ops.transition_cycle(cycle, "publish", actor=city.inspector)
    assert client.get("/reports/annual/2026.pdf").status_code == 200


def test_no_report_before_the_snapshot(new_cycle, city, login_as, client):
    new_cycle()
    login_as(city.inspector)
    response = client.get("/reports/annual/2026.pdf")
    assert response.status_code == 404 and "登记快照未冻结" in response.get_data(as_text=True)


def test_cli_writes_the_report(published, app, tmp_path, city, monkeypatch):
    from govrisk.cli import report_annual_command

    monkeypatch.setattr(db.session, "remove", lambda: None)
    runner = app.test_cli_runner()
    out = tmp_path / "r.pdf"
    result = runner.invoke(report_annual_command, ["--year", "2026", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == annual_report_pdf(published)
    single = runner.invoke(report_annual_command, ["--year", "2026", "--department", city.a.department.code,
                                                   "--out", str(tmp_path / "a.pdf")])
    assert single.exit_code == 0
    for args, message in ((["--year", "2031", "--out", str(out)], "没有考核周期"),
                          (["--year", "2026", "--department", "NOPE", "--out", str(out)], "未参加"),
                          (["--year", "2026", "--out", str(tmp_path / "r.txt")], ".pdf")):
        failed = runner.invoke(report_annual_command, args)
        assert failed.exit_code == 2 and message in failed.output
    xlsx = runner.invoke(report_annual_command, ["--year", "2026", "--out", str(tmp_path / "s.xlsx")])
    assert xlsx.exit_code == 0 and load_workbook(tmp_path / "s.xlsx")["得分与排名"]
