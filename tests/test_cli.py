"""The `govrisk` command line, run as a user would: a fresh SQLite database in a temporary folder."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run(args, env, check=True, input=None):
    result = subprocess.run([sys.executable, "-m", "govrisk.cli", *args], env=env, capture_output=True, text=True,
                            input=input, cwd=REPO, timeout=300)
    if check and result.returncode != 0:
        command = " ".join(args)
        raise AssertionError(f"govrisk {command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'demo.db'}", "GOVRISK_CONFIG": "default"}
    env.pop("TEST_DATABASE_URL", None)
    run(["demo", "--no-serve"], env)
    return env, folder / "demo.db"


def test_demo_prints_one_account_per_role(demo_env):
    env, _ = demo_env
    out = run(["seed", "load"], env).stdout
    for role in ("单位填报员", "单位负责人", "纪检监察员", "系统管理员", "安全管理员", "审计管理员"):
        assert role in out
    assert "新增 0 项" in out  # loading again adds nothing


def test_audit_verify_passes_then_reports_an_altered_row(demo_env, tmp_path):
    env, db_path = demo_env
    assert "审计链完整" in run(["audit", "verify"], env).stdout
    copy = tmp_path / "tampered.db"
    copy.write_bytes(db_path.read_bytes())
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE audit_entries SET actor_name = 'mallory' WHERE seq = 7")
    result = run(["audit", "verify"], {**env, "DATABASE_URL": f"sqlite:///{copy}"}, check=False)
    assert result.returncode == 1 and "第 7 条" in result.stderr and "篡改" in result.stderr


def test_org_import_rejects_bad_file_then_accepts_good_one(demo_env, tmp_path):
    env, _ = demo_env
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,parent_code\nCLI-A,甲,\nCLI-B,乙,MISSING\n", encoding="utf-8")
    result = run(["org", "import", str(bad)], env, check=False)
    assert result.returncode == 1 and "第 3 行" in result.stderr and "MISSING" in result.stderr
    good = tmp_path / "good.csv"
    good.write_text("code,name,parent_code\nCLI-A,甲,\nCLI-A1,甲一,CLI-A\n", encoding="utf-8")
    assert "新增 2" in run(["org", "import", str(good)], env).stdout
    assert "未变 2" in run(["org", "import", str(good)], env).stdout


def test_org_import_refuses_gbk(demo_env, tmp_path):
    env, _ = demo_env
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("code,name,parent_code\nCLI-G,国标局,\n".encode("gbk"))
    result = run(["org", "import", str(gbk)], env, check=False)
    assert result.returncode == 2 and "UTF-8" in result.stderr


def test_users_create_refuses_weak_password_and_second_admin_role(demo_env):
    env, _ = demo_env
    weak = run(["users", "create", "weakling", "--name", "弱", "--password", "abc"], env, check=False)
    assert weak.returncode == 2 and "至少 8 位" in weak.stderr
    both = run(["users", "create", "both", "--name", "双", "--role", "sys_admin", "--role", "audit_admin",
                "--password", "Strong#Pass1"], env, check=False)
    assert both.returncode == 2 and "三员分立" in both.stderr
    ok = run(["users", "create", "newinspector", "--name", "新纪检", "--role", "inspector", "--password",
              "Strong#Pass1"], env)
    assert "已创建" in ok.stdout


def test_tick_runs_twice_without_changes(demo_env):
    env, _ = demo_env
    first = run(["tick", "--today", "2026-11-26"], env).stdout
    second = run(["tick", "--today", "2026-11-26"], env).stdout
    assert second.strip().endswith("共处理 0 项。") and "共处理" in first


def test_flows_check_json(tmp_path):
    env = {**os.environ}
    example = REPO / "seed" / "flows" / "example-licensing.json"
    result = run(["flows", "check", str(example), "--format", "json"], env)
    assert json.loads(result.stdout) == {"ok": True, "critical_path_days": 18, "findings": []}
    broken = tmp_path / "broken.json"
    broken.write_text('{"power_code": "X", "kind": "internal"', encoding="utf-8")
    result = run(["flows", "check", str(broken), "--format", "json"], env, check=False)
    assert result.returncode == 1 and json.loads(result.stdout)["findings"][0]["code"] == "invalid_document"


def test_demo_serves_the_login_page(tmp_path):
    """The README's first command: `govrisk demo` prepares the database and answers HTTP."""
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}"}
    env.pop("TEST_DATABASE_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "govrisk.cli", "demo", "--port", str(port)], env=env, cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                    assert response.status == 200 and "廉政风险防控管理系统" in response.read().decode()
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "govrisk demo did not start serving"
                time.sleep(0.5)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "editor" in output and "Demo@2026" in output
