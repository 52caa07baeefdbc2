"""The `govrisk` command line (DESIGN §8)."""

import json
import sys
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from govrisk.extensions import db


def _create_app():
    from govrisk import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main():
    """govrisk — 廉政风险防控规范权力运行 (integrity-risk governance register)."""


def _upgrade_database() -> None:
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory, revision="heads")


def _fail(message: str, code: int = 1):
    click.secho(message, fg="red", err=True)
    sys.exit(code)


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create or upgrade the database schema to the newest migration."""
    _upgrade_database()
    click.echo(f"数据库已就绪：{db.engine.url.render_as_string(hide_password=True)}")


@click.group("seed")
def seed_group():
    """Reference data and the demo city."""


@seed_group.command("load")
@click.option("--demo/--no-demo", default=True, help="Also load the demo city (departments, posts, people, accounts).")
@with_appcontext
def seed_load_command(demo: bool):
    """Load seed/ into the database (idempotent)."""
    from govrisk.demo import load_seed

    summary = load_seed(demo=demo)
    db.session.commit()
    click.echo(f"参考数据新增 {summary['reference_items']} 项，工作日历新增 {summary['calendar_days']} 天。")
    if demo:
        _print_accounts(summary["accounts"])


def _print_accounts(accounts: list[dict]) -> None:
    click.echo("演示账号（密码相同）：")
    for account in accounts:
        roles = "、".join(account["roles"])
        click.echo(f"  {account['username']:<12} {account['password']:<12} {roles:<12} {account['department']}")


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare the database and exit.")
@with_appcontext
def demo_command(host: str, port: int, no_serve: bool):
    """Create the database, load the demo city, print the accounts and serve it."""
    from govrisk.demo import load_seed

    _upgrade_database()
    summary = load_seed(demo=True)
    db.session.commit()
    _print_accounts(summary["accounts"])
    if no_serve:
        return
    click.echo(f"演示系统： http://{host}:{port}/   （Ctrl+C 退出）")
    from werkzeug.serving import run_simple

    # app.run() is ignored inside the Flask CLI, so serve the same app object with werkzeug directly
    run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)


@click.group("users")
def users_group():
    """User accounts."""


@users_group.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Display name.")
@click.option("--role", "roles", multiple=True,
              help="dept_editor, dept_head, inspector, sys_admin, sec_admin, audit_admin")
@click.option("--department", "department_code", default=None, help="Department code (for dept_* roles).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def users_create_command(username, display_name, roles, department_code, password):
    """Create an account (it must change its password at first login)."""
    from govrisk.auth import operations as auth_ops
    from govrisk.core.errors import UserError
    from govrisk.org.queries import get_department_by_code

    department = get_department_by_code(department_code) if department_code else None
    if department_code and department is None:
        _fail(f"单位代码“{department_code}”不存在。", 2)
    try:
        user = auth_ops.create_user({"username": username, "display_name": display_name, "password": password,
                                     "department_id": department.id if department else None}, actor=None)
        for role in roles:
            auth_ops.grant_role(user, role, actor=None)
    except (UserError, ValueError) as exc:
        db.session.rollback()
        _fail(f"未创建：{getattr(exc, 'message', exc)}", 2)
    db.session.commit()
    click.echo(f"已创建账号 {username}。")


@click.command("tick")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Pretend today is this date.")
@with_appcontext
def tick_command(today):
    """Mark overdue items and escalate them (idempotent; run from cron)."""
    from govrisk.workflow.engine import run_deadlines

    results = run_deadlines(today.date() if today else date.today())
    db.session.commit()
    for name, count in results.items():
        click.echo(f"{name}: {count}")
    click.echo(f"共处理 {sum(results.values())} 项。")


def _run_import(importer, file: Path, dry_run: bool):
    from govrisk.core.errors import UserError

    data = file.read_bytes()
    max_bytes = current_app.config["IMPORT_MAX_BYTES"]
    try:
        preview = importer.preview(data, file.name, max_bytes=max_bytes)
    except UserError as exc:
        _fail(f"无法导入：{exc.message}", 2)
    for row in preview.bad_rows:
        click.echo(f"第 {row.line} 行：{'；'.join(row.errors)}", err=True)
    if not preview.ok:
        _fail(f"{len(preview.bad_rows)} 行有错误，未写入任何数据。", 1)
    counts = f"新增 {preview.count('create')}，更新 {preview.count('update')}，未变 {preview.count('unchanged')}"
    if dry_run:
        click.echo(f"检查通过（未写入）：{counts}。")
        return
    importer.run(data, file.name, actor=None, max_bytes=max_bytes)
    db.session.commit()
    click.echo(f"导入完成：{counts}。")


@click.group("org")
def org_group():
    """Departments."""


@org_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check only; write nothing.")
@with_appcontext
def org_import_command(file: Path, dry_run: bool):
    """Import departments (CSV/XLSX: code, name, parent_code) — all rows or none."""
    from govrisk.org.operations import DepartmentImporter

    _run_import(DepartmentImporter(), file, dry_run)


@click.group("audit")
def audit_group():
    """The audit trail."""


@audit_group.command("verify")
@with_appcontext
def audit_verify_command():
    """Walk the hash chain; exit 1 at the first broken link."""
    from govrisk.core.audit import verify_chain

    report = verify_chain()
    if report.ok:
        click.echo(f"审计链完整：共校验 {report.checked} 条记录。")
        return
    _fail(f"审计链断裂：第 {report.first_bad_seq} 条记录 — {report.reason}（此前 {report.checked} 条完好）。")


@click.group("flows")
def flows_group():
    """Process-flow graphs."""


@flows_group.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def flows_check_command(file: Path, output_format: str):
    """Validate a flow JSON file (DESIGN §7.1); exit 1 when any finding is an error."""
    from govrisk.flows.validation import check_document

    result = check_document(file.read_bytes())
    if output_format == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        click.echo(f"{'通过' if result['ok'] else '不通过'}；关键路径 {result['critical_path_days']} 个工作日")
        for finding in result["findings"]:
            click.echo(f"  [{finding['severity']}] {finding['code']}: {finding['message']}")
    sys.exit(0 if result["ok"] else 1)


@click.group("campaigns")
def campaigns_group():
    """Campaign reports."""


@campaigns_group.command("extract")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="json")
def campaigns_extract_command(file: Path, output_format: str):
    """Find the indicator figures in a narrative report (DESIGN §7.3)."""
    from govrisk.campaigns.extraction import extract_indicators

    try:
        text = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        _fail("文件不是 UTF-8 编码的文本。", 2)
    result = extract_indicators(text)
    if output_format == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    for mention in result["mentions"]:
        approx = "约" if mention["approx"] else ""
        click.echo(f"{mention['indicator']:<22} {approx}{mention['value']}{mention['unit']}  「{mention['text']}」")


COMMANDS = (init_db_command, seed_group, demo_command, users_group, tick_command, org_group, audit_group,
            flows_group, campaigns_group)

for _command in COMMANDS:
    main.add_command(_command)


def register_commands(app) -> None:
    """Make the same commands available under `flask` for this app."""
    for command in COMMANDS:
        app.cli.add_command(command)


if __name__ == "__main__":
    main()
