"""`govrisk supervision import|scan|reprocess|recompute` as a user runs them (in-process CLI runner)."""

import json

from tests.supervision.conftest import DEMO_EVENTS


def test_import_then_scan_as_json(app, food, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["supervision", "import", str(DEMO_EVENTS)])
    assert result.exit_code == 0, result.output
    assert "收到 214 条，新存 213 条" in result.output and "unknown_power 1" in result.output
    result = runner.invoke(args=["supervision", "scan", "--at", "2026-10-30T18:00:00+08:00", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["new"] == {"out_of_flow": 1, "red_card": 5, "skipped_step": 1, "sod_violation": 1,
                             "unknown_reference": 1, "yellow_card": 2}
    sod = next(a for a in report["alerts"] if a["code"] == "sod_violation")
    assert sod["case_id"] == "XK2026-1010" and sod["actor"] == "周雅楠" and sod["power_code"] == "XK-0001"
    unknown = next(a for a in report["alerts"] if a["code"] == "unknown_reference")
    assert unknown["reason"] == "unknown_power" and unknown["power_code"] == "XK-0099"
    again = json.loads(runner.invoke(args=["supervision", "scan", "--at", "2026-10-30T18:00:00+08:00",
                                           "--format", "json"]).output)
    assert again["alerts"] == [] and again["new"] == {}
    every = runner.invoke(args=["supervision", "scan", "--all"]).output
    assert every.count("sod_violation") == 1


def test_import_refuses_a_bad_file_with_row_numbers(app, food, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("case_id,power_code,step_id,event,actor,at\nC1,XK-0001,accept,enter,张三,2026-10-12 09:30\n",
                   encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["supervision", "import", str(bad)])
    assert result.exit_code == 2 and "第 2 行" in result.output and "UTC 偏移" in result.output


def test_scan_refuses_a_time_without_offset_and_a_bad_ratio(app, food):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["supervision", "scan", "--at", "2026-10-30 18:00"]).exit_code == 2
    assert runner.invoke(args=["supervision", "scan", "--yellow-ratio", "2"]).exit_code == 2


def test_reprocess_and_recompute(app, food):
    runner = app.test_cli_runner()
    runner.invoke(args=["supervision", "import", str(DEMO_EVENTS)])
    result = runner.invoke(args=["supervision", "reprocess"])
    assert result.exit_code == 0 and "仍暂存 1 条" in result.output
    result = runner.invoke(args=["supervision", "recompute"])
    assert result.exit_code == 0 and "重算 213 条事件" in result.output
