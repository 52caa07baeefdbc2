"""`govrisk flows check` on hand-made broken flows (every §7.1 code) and `govrisk flows import` (§7.4)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from govrisk.cli import flows_check_command
from govrisk.extensions import db
from govrisk.flows.bpmn import flow_to_bpmn
from govrisk.flows.models import Flow
from govrisk.flows.validation import parse_flow
from tests.flows.conftest import example_dict

REPO = Path(__file__).resolve().parents[2]


def step(sid, role="review", post="审查岗", days=1):
    return {"id": sid, "name": f"环节{sid}", "post": post, "role": role, "time_limit_days": days}


def flow(steps, edges, limit=None):
    return {"power_code": "XK-0001", "kind": "internal", "time_limit_days": limit, "steps": steps, "edges": edges}


def line(*ids):
    return [{"from": a, "to": b} for a, b in zip(ids, ids[1:], strict=False)]


BROKEN = {
    "invalid_document": '{"power_code": "XK-0001", "kind": "internal", "steps": [{"id": "a"}], "edges": []}',
    "duplicate_step": flow([step("a", "acceptance"), step("a")], []),
    "unknown_step": flow([step("a", "acceptance"), step("b")], line("a", "b") + [{"from": "b", "to": "zz"}]),
    "no_start": flow([step("a"), step("b")], line("a", "b", "a")),
    "multiple_starts": flow([step("a", "acceptance"), step("b", "acceptance"), step("c")],
                            line("a", "c") + line("b", "c")),
    "no_end": flow([step("a", "acceptance"), step("b")], line("a", "b") + [{"from": "b", "to": "b"}]),
    "unreachable_step": flow([step("a", "acceptance"), step("b"), step("c"), step("d")],
                             line("a", "b") + line("c", "d", "c") + line("d", "b")),
    "dead_end": flow([step("a", "acceptance"), step("b"), step("c"), step("d")],
                     line("a", "b") + line("a", "c", "d", "c")),
    "cycle": flow([step("a", "acceptance"), step("b"), step("c"), step("d", "execution")],
                  line("a", "b", "c", "b") + line("c", "d")),
    "time_limit_exceeded": flow([step("a", "acceptance", days=5), step("b", days=20)], line("a", "b"), limit=10),
    "sod_conflict": flow([step("a", "acceptance", post="窗口"), step("b", "review"), step("c", "decision")],
                         line("a", "b", "c")),
    "missing_post": flow([step("a", "acceptance", post=None), step("b", "decision", post="分管领导")], line("a", "b")),
}
SEVERITY = {"multiple_starts": "warning", "sod_conflict": "warning", "missing_post": "warning"}


@pytest.mark.parametrize("code", list(BROKEN))
def test_check_reports_the_documented_code(tmp_path, code):
    path = tmp_path / f"{code}.json"
    document = BROKEN[code]
    path.write_text(document if isinstance(document, str) else json.dumps(document, ensure_ascii=False),
                    encoding="utf-8")
    result = CliRunner().invoke(flows_check_command, [str(path), "--format", "json"])
    output = json.loads(result.output)
    assert code in {f["code"] for f in output["findings"]}, output
    found = next(f for f in output["findings"] if f["code"] == code)
    assert found["severity"] == SEVERITY.get(code, "error") and found["message"]
    assert set(output) == {"ok", "critical_path_days", "findings"}
    assert result.exit_code == (0 if output["ok"] else 1)
    assert output["ok"] is (code in SEVERITY)


def test_check_text_output_and_bpmn_input(tmp_path):
    doc, _ = parse_flow(example_dict())
    path = tmp_path / "licensing.bpmn"
    path.write_bytes(flow_to_bpmn(doc))
    result = CliRunner().invoke(flows_check_command, [str(path)])
    assert result.exit_code == 0 and "通过；关键路径 18 个工作日" in result.output
    path.write_bytes(b"<definitions><serviceTask/></definitions>")
    result = CliRunner().invoke(flows_check_command, [str(path), "--format", "json"])
    assert result.exit_code == 1 and json.loads(result.output)["findings"][0]["code"] == "invalid_document"


def test_check_as_a_user_runs_it(tmp_path):
    path = tmp_path / "cycle.json"
    path.write_text(json.dumps(BROKEN["cycle"]), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "govrisk.cli", "flows", "check", str(path), "--format", "json"],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 1 and [f["code"] for f in json.loads(result.stdout)["findings"]] == ["cycle"]


def run_import(app, path, *extra):
    return app.test_cli_runner().invoke(args=["flows", "import", str(path), *extra])


def count_flows():
    return db.session.scalar(sa.select(sa.func.count()).select_from(Flow))


def test_import_command_attaches_once_and_refuses_unknown_powers(app, licensing, tmp_path):
    path = tmp_path / "licensing.json"
    path.write_text(json.dumps(example_dict(), ensure_ascii=False), encoding="utf-8")
    dry = run_import(app, path, "--dry-run")
    assert dry.exit_code == 0 and "检查通过（未写入）" in dry.output and count_flows() == 0
    first = run_import(app, path)
    assert first.exit_code == 0 and "导入完成：XK-0001 内部流程图 第 1 版（新建" in first.output
    again = run_import(app, path)
    assert again.exit_code == 0 and "（未变" in again.output and count_flows() == 1
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps(example_dict("XK-NOPE")), encoding="utf-8")
    result = run_import(app, unknown)
    assert result.exit_code == 1 and "职权编码“XK-NOPE”不存在" in result.output and count_flows() == 1
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**example_dict(), "edges": [{"from": "accept", "to": "ghost"}]}), encoding="utf-8")
    result = run_import(app, broken)
    assert result.exit_code == 1 and "unknown_step" in result.output and count_flows() == 1
