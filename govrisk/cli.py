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
    from govrisk.workflow.engine import run_deadlines, run_tick_hooks

    results = run_deadlines(today.date() if today else date.today())
    results.update(run_tick_hooks(today.date() if today else date.today()))
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


@click.group("catalog")
def catalog_group():
    """The power catalog."""


@catalog_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check only; write nothing.")
@with_appcontext
def catalog_import_command(file: Path, dry_run: bool):
    """Import powers (CSV/XLSX, DESIGN §7.4) — all rows or none; re-importing changes nothing."""
    from govrisk.catalog.operations import PowerImporter

    _run_import(PowerImporter(), file, dry_run)


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
    """Validate a flow JSON (DESIGN §7.1) or BPMN file; exit 1 when any finding is an error."""
    from govrisk.flows.bpmn import bpmn_to_flow, is_bpmn
    from govrisk.flows.validation import FlowReport, check_document, validate_flow

    data = file.read_bytes()
    if is_bpmn(data, file.name):
        doc, problems = bpmn_to_flow(data)
        result = (validate_flow(doc) if doc is not None else FlowReport(False, None, (), problems)).to_dict()
    else:
        result = check_document(data)
    if output_format == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        click.echo(f"{'通过' if result['ok'] else '不通过'}；关键路径 {result['critical_path_days']} 个工作日")
        for finding in result["findings"]:
            click.echo(f"  [{finding['severity']}] {finding['code']}: {finding['message']}")
    sys.exit(0 if result["ok"] else 1)


@flows_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check only; write nothing.")
@with_appcontext
def flows_import_command(file: Path, dry_run: bool):
    """Attach a flow JSON or BPMN file to its existing power (DESIGN §7.4); the same file again changes nothing."""
    from govrisk.core.errors import UserError
    from govrisk.flows.operations import import_flow

    savepoint = db.session.begin_nested()  # a refusal or a dry run undoes exactly this import
    try:
        flow, action = import_flow(file.read_bytes(), file.name, actor=None)
    except UserError as exc:
        savepoint.rollback()
        for finding in exc.details.get("findings", []):
            click.echo(f"  [{finding['severity']}] {finding['code']}: {finding['message']}", err=True)
        _fail(f"未导入：{exc.message}", 1)
    summary = {"create": "新建", "update": "更新", "unchanged": "未变"}[action]
    title = f"{flow.power.code} {flow.kind.zh} 第 {flow.number} 版"
    if dry_run:
        savepoint.rollback()
        click.echo(f"检查通过（未写入）：{title}（{summary}）。")
        return
    savepoint.commit()
    db.session.commit()
    click.echo(f"导入完成：{title}（{summary}；{flow.error_count} 个错误、{flow.warning_count} 个提醒）。")


@flows_group.command("recheck")
@with_appcontext
def flows_recheck_command():
    """Re-validate every flow that is not retired (after promised limits or risk points changed)."""
    from govrisk.flows.operations import recheck_flows

    changed = recheck_flows()
    db.session.commit()
    click.echo(f"已重新校验，{changed} 个流程图的结果有变化。")


@click.group("campaigns")
def campaigns_group():
    """Campaign reports."""


@campaigns_group.command("extract")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="json")
def campaigns_extract_command(file: Path, output_format: str):
    """Find the indicator figures in a narrative report, .txt (UTF-8) or .docx (DESIGN §7.3)."""
    from govrisk.campaigns.documents import text_from_upload
    from govrisk.campaigns.extraction import extract_indicators
    from govrisk.core.errors import UserError

    try:
        name = file.name if file.suffix.lower() in (".docx", ".doc") else f"{file.name}.txt"
        text = text_from_upload(name, file.read_bytes())
    except UserError as exc:
        _fail(exc.message, 2)
    result = extract_indicators(text)
    if output_format == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    for mention in result["mentions"]:
        approx = "约" if mention["approx"] else ""
        click.echo(f"{mention['indicator']:<22} {approx}{mention['value']}{mention['unit']}  「{mention['text']}」")


def _campaign_and_unit(campaign_code: str, unit_code: str | None = None):
    from govrisk.campaigns.queries import get_campaign_by_code, get_unit_by_code

    campaign = get_campaign_by_code(campaign_code)
    if campaign is None:
        _fail(f"活动代码“{campaign_code}”不存在。", 2)
    unit = get_unit_by_code(unit_code) if unit_code else campaign.root_unit
    if unit is None or not campaign.covers(unit):
        _fail(f"单位“{unit_code}”不存在或不在活动“{campaign.name}”的范围内。", 2)
    return campaign, unit


@campaigns_group.command("import")
@click.argument("campaign_code")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check only; write nothing.")
@with_appcontext
def campaigns_import_command(campaign_code: str, file: Path, dry_run: bool):
    """Import indicator values (CSV/XLSX: unit_code, indicator, value, approx, label, unit) — all rows or none."""
    from govrisk.campaigns.operations import IndicatorImporter

    campaign, _unit = _campaign_and_unit(campaign_code)
    _run_import(IndicatorImporter(campaign), file, dry_run)


@campaigns_group.command("summary")
@click.argument("campaign_code")
@click.option("--unit", "unit_code", default=None, help="Reporting unit code (default: the campaign's root unit).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="FILE.pdf, FILE.docx (summary) or FILE.xlsx (indicator roll-up).")
@click.option("--include-submitted", is_flag=True, help="Count submitted reports not yet accepted.")
@with_appcontext
def campaigns_summary_command(campaign_code: str, unit_code: str | None, out: Path, include_submitted: bool):
    """Write the summary of a unit and its sub-units (一、组织领导 … 四、存在问题及下一步)."""
    from govrisk.campaigns import documents, queries

    writers = {".pdf": documents.summary_pdf, ".docx": documents.summary_docx}
    if out.suffix.lower() not in (*writers, ".xlsx"):
        _fail("输出文件须以 .pdf、.docx 或 .xlsx 结尾。", 2)
    campaign, unit = _campaign_and_unit(campaign_code, unit_code)
    rollup = queries.rollup(campaign, unit, include_submitted=include_submitted)
    if out.suffix.lower() == ".xlsx":
        data = documents.rollup_xlsx(rollup)
    else:
        activities = queries.rollup_activities(campaign, unit, include_submitted=include_submitted)
        data = writers[out.suffix.lower()](rollup, activities)
    out.write_bytes(data)
    click.echo(f"已写出 {out}（{len(data) // 1024} KB，统计 {rollup.reports_counted} 份报告）。")


# ---------------------------------------------------------------- annual review report (review / reports domains)


@click.group("report")
def report_group():
    """Annual assessment report."""


@report_group.command("annual")
@click.option("--year", required=True, type=int, help="The review cycle's year.")
@click.option("--department", "department_code", default=None, help="One participating department (code).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="FILE.pdf (the report) or FILE.xlsx (all scores and indicator values).")
@with_appcontext
def report_annual_command(year: int, department_code: str | None, out: Path):
    """Write the annual assessment report from the cycle's frozen snapshot (same inputs, same content)."""
    from govrisk.org.queries import get_department_by_code
    from govrisk.reports.annual import annual_report_pdf, scores_xlsx
    from govrisk.review.queries import cycle_for_year, get_cycle_department

    if out.suffix.lower() not in (".pdf", ".xlsx"):
        _fail("输出文件须以 .pdf 或 .xlsx 结尾。", 2)
    cycle = cycle_for_year(year)
    if cycle is None:
        _fail(f"{year} 年度没有考核周期。", 2)
    if not cycle.has_snapshot:
        _fail(f"{year} 年度考核尚未启动单位自查，登记快照未冻结，不能生成报告。", 2)
    participant = None
    if department_code:
        department = get_department_by_code(department_code)
        participant = get_cycle_department(cycle, department.id) if department else None
        if participant is None:
            _fail(f"单位“{department_code}”未参加 {year} 年度考核。", 2)
    data = scores_xlsx(cycle) if out.suffix.lower() == ".xlsx" else annual_report_pdf(cycle, participant)
    out.write_bytes(data)
    click.echo(f"已写出 {out}（{len(data) // 1024} KB）。")


# ---------------------------------------------------------------- risk register (risks domain)


@click.group("risks")
def risks_group():
    """The integrity risk register (廉政风险点登记表)."""


@risks_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check only; write nothing.")
@with_appcontext
def risks_import_command(file: Path, dry_run: bool):
    """Import risk points from the 登记表 layout (XLSX/CSV) — all rows or none; drafts are created."""
    from govrisk.risks.registers import RiskRegisterImporter

    _run_import(RiskRegisterImporter(), file, dry_run)


@risks_group.command("export")
@click.option("--department", "department_code", default=None, help="Department code (sub-units included).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="FILE.xlsx or FILE.pdf")
@with_appcontext
def risks_export_command(department_code: str | None, out: Path):
    """Write the 廉政风险点登记表 of a department (or of the city) as XLSX or landscape PDF."""
    from govrisk.core.errors import UserError
    from govrisk.org.queries import get_department_by_code
    from govrisk.risks.registers import register_pdf, register_xlsx

    department = get_department_by_code(department_code) if department_code else None
    if department_code and department is None:
        _fail(f"单位代码“{department_code}”不存在。", 2)
    if out.suffix.lower() not in (".xlsx", ".pdf"):
        _fail("输出文件须以 .xlsx 或 .pdf 结尾。", 2)
    department_id = department.id if department else None
    try:
        data = register_pdf(None, department_id=department_id) if out.suffix.lower() == ".pdf" else \
            register_xlsx(None, department_id=department_id)
    except UserError as exc:
        _fail(f"未导出：{exc.message}", 2)
    out.write_bytes(data)
    click.echo(f"已写出 {out}（{len(data) // 1024} KB）。")


# ---------------------------------------------------------------- supervision (issue 7)


@click.group("supervision")
def supervision_group():
    """Electronic supervision: step events of cases, alerts."""


@supervision_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--scan/--no-scan", "then_scan", default=False, help="Scan right after importing.")
@with_appcontext
def supervision_import_command(file: Path, then_scan: bool):
    """Import step events (CSV/JSON/XLSX, DESIGN §7.2); a file with a malformed row is refused whole."""
    from govrisk.core.errors import UserError
    from govrisk.supervision.ingest import MAX_BATCH, IngestResult, ingest_events, parse_file, refuse
    from govrisk.supervision.scan import run_scan

    try:
        parsed = parse_file(file.read_bytes(), file.name, max_bytes=2 * 1024 ** 3)
        refuse(parsed)
        total = IngestResult()
        for start in range(0, len(parsed.rows), MAX_BATCH):
            part = ingest_events(parsed.rows[start:start + MAX_BATCH], actor=None, source="cli", filename=file.name)
            for name in ("total", "stored", "duplicates", "quarantined"):
                setattr(total, name, getattr(total, name) + getattr(part, name))
            for reason, n in part.quarantine_reasons.items():
                total.quarantine_reasons[reason] = total.quarantine_reasons.get(reason, 0) + n
    except UserError as exc:
        db.session.rollback()
        for row in exc.details.get("bad_rows", []):
            click.echo(f"第 {row['line']} 行/条：{'；'.join(row['errors'])}", err=True)
        _fail(f"未导入：{exc.message}", 2)
    reasons = "，".join(f"{k} {v}" for k, v in sorted(total.quarantine_reasons.items()))
    click.echo(f"导入完成：收到 {total.total} 条，新存 {total.stored} 条，重复 {total.duplicates} 条，"
               f"暂存（引用错误）{total.quarantined} 条{'（' + reasons + '）' if reasons else ''}。")
    if then_scan:
        result = run_scan()
        click.echo(f"扫描完成：新预警 {result.new_total} 条。")
    db.session.commit()


def _parse_at(value: str | None):
    from govrisk.supervision.ingest import parse_instant

    if not value:
        return None
    try:
        return parse_instant(value)
    except ValueError as exc:
        _fail(f"--at：{exc}", 2)


@supervision_group.command("scan")
@click.option("--at", "at_text", default=None, help="Scan as of this instant (ISO 8601 with offset); default now.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--yellow-ratio", type=float, default=None, help="Share of a limit that raises a yellow card (0–1).")
@click.option("--all", "list_all", is_flag=True, help="List every stored alert, not only those this scan raised.")
@with_appcontext
def supervision_scan_command(at_text, output_format, yellow_ratio, list_all):
    """Watch time limits and flow conformance; print the alerts this scan raised (stored once)."""
    from govrisk.supervision import queries
    from govrisk.supervision.scan import run_scan

    at = _parse_at(at_text)
    try:
        result = run_scan(at, ratio=yellow_ratio)
    except ValueError as exc:
        _fail(f"无法扫描：{exc}", 2)
    db.session.commit()
    alerts = queries.scan_alerts(None if list_all else result.scan_id)
    messages = queries.messages_for(alerts)
    if output_format == "json":
        click.echo(json.dumps({"at": result.at.isoformat(), "scan_id": result.scan_id, "cases": result.cases,
                               "new": result.new, "withdrawn": result.withdrawn,
                               "alerts": [queries.alert_json(a, messages[a.id]) for a in alerts]},
                              ensure_ascii=False, indent=2))
        return
    for alert in alerts:
        click.echo(f"{alert.code:<18} {alert.case_ref:<20} {alert.state.value:<12} {messages[alert.id]}")
    click.echo(f"扫描完成（{result.at.isoformat()}）：检查 {result.cases} 件有新事件的案件，"
               f"新预警 {result.new_total} 条，撤回 {result.withdrawn} 条，用时 {result.duration_ms} 毫秒。")


@supervision_group.command("reprocess")
@with_appcontext
def supervision_reprocess_command():
    """Try the quarantined events again (after the catalog or flows were fixed)."""
    from govrisk.supervision.operations import reprocess_quarantine

    counts = reprocess_quarantine(actor=None)
    db.session.commit()
    click.echo(f"暂存事件 {counts['pending']} 条：已入库 {counts['resolved']} 条，"
               f"仍暂存 {counts['still_pending']} 条。")


@supervision_group.command("recompute")
@with_appcontext
def supervision_recompute_command():
    """Recompute working time of every event after the working-day calendar changed; rescan afterwards."""
    from govrisk.supervision.operations import recompute_working_time

    count = recompute_working_time(actor=None)
    db.session.commit()
    click.echo(f"已按当前工作日历重算 {count} 条事件；请运行 govrisk supervision scan。")

# ---------------------------------------------------------------- end of supervision


# ---------------------------------------------------------------- backup and restore (issue 9)


def _migration_heads() -> list[str]:
    """The Alembic heads of this program's migrations (the revisions a database must be at)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", current_app.extensions["migrate"].directory)
    return sorted(ScriptDirectory.from_config(config).get_heads())


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The archive to write (a zip; FILE.zip by convention).")
@with_appcontext
def backup_command(out: Path):
    """Write every table (attachments and the audit chain included) to a portable, checksummed archive."""
    import govrisk.models  # noqa: F401  (every table in db.metadata)
    from govrisk.core.backup import BackupError, write_backup

    options = {"isolation_level": "REPEATABLE READ"} if db.engine.dialect.name == "postgresql" else {}
    try:
        with db.engine.connect().execution_options(**options) as connection, connection.begin():
            manifest = write_backup(connection, db.metadata, out, heads=_migration_heads())
    except BackupError as exc:
        _fail(f"未备份：{exc}", 2)
    click.echo(f"已写出 {out}（{out.stat().st_size // 1024} KB）：{len(manifest.tables)} 张表，"
               f"{manifest.total_rows} 行，数据库版本 {', '.join(manifest.revisions)}。")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(file: Path):
    """Load an archive into an empty database initialised to the same version (all rows or none)."""
    import govrisk.models  # noqa: F401
    from govrisk.core.audit import verify_chain
    from govrisk.core.backup import BackupError, restore_backup

    try:
        with db.engine.begin() as connection:
            result = restore_backup(connection, db.metadata, file, heads=_migration_heads())
    except BackupError as exc:
        _fail(f"未恢复：{exc}", 2)
    click.echo(f"已恢复 {len(result.rows)} 张表，共 {sum(result.rows.values())} 行"
               f"（备份时间 {result.manifest.created_at}）。")
    report = verify_chain()
    if not report.ok:
        _fail(f"恢复后审计链校验失败：第 {report.first_bad_seq} 条记录 — {report.reason}。")
    click.echo(f"审计链完整：共校验 {report.checked} 条记录。")

# ---------------------------------------------------------------- end of backup and restore


COMMANDS = (init_db_command, seed_group, demo_command, users_group, tick_command, org_group, catalog_group, audit_group,
            flows_group, campaigns_group, report_group, risks_group, supervision_group, backup_command,
            restore_command)

for _command in COMMANDS:
    main.add_command(_command)


def register_commands(app) -> None:
    """Make the same commands available under `flask` for this app."""
    for command in COMMANDS:
        app.cli.add_command(command)


if __name__ == "__main__":
    main()
