"""`govrisk backup` / `govrisk restore`: every table (attachments, the audit chain) round-trips to an identical
database, on SQLite and from SQLite to PostgreSQL; a damaged archive, a filled database or another version is
refused and nothing is written. `govrisk audit verify` on the command line catches altered, deleted, inserted rows.

These tests work on their own database files (not the per-test transaction of the shared test database).
"""

import json
import os
import sqlite3
import uuid
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from govrisk import create_app
from govrisk.core.backup import iter_rows, read_manifest
from govrisk.extensions import db

BINARY = bytes(range(256)) * 8
PNG = b"\x89PNG\r\n\x1a\n" + BINARY


@pytest.fixture(autouse=True)
def db_session():
    """No shared per-test transaction: each test below opens its own databases."""
    yield None


def _app(url: str, folder: Path):
    app = create_app({"CONFIG_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    app.instance_path = str(folder)
    return app


def _upgrade(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        db.session.remove()


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def _add_binaries() -> None:
    """Binary columns with every byte value: a staged import upload and, where the risks domain has it, evidence."""
    from govrisk.auth.models import User
    from govrisk.core.importer import stage_upload

    user = db.session.scalar(sa.select(User).order_by(User.id).limit(1))
    stage_upload("backup-test", "bytes.bin", BINARY, actor=user)
    try:
        from govrisk.risks.models import ControlMeasure
        from govrisk.risks.operations import add_attachment
    except ImportError:
        return
    measure = db.session.scalar(sa.select(ControlMeasure).order_by(ControlMeasure.id).limit(1))
    if measure is not None:
        add_attachment(measure, "evidence.png", PNG, actor=None)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The demo city (every domain's seed) plus binary content, in a SQLite file, and its backup archive."""
    folder = tmp_path_factory.mktemp("backup-source")
    app = _app(f"sqlite:///{folder / 'source.db'}", folder)
    _upgrade(app)
    with app.app_context():
        from govrisk.demo import load_seed

        load_seed(demo=True)
        _add_binaries()
        db.session.commit()
        db.session.remove()
    archive = folder / "city.zip"
    result = _cli(app, "backup", "--out", str(archive))
    assert result.exit_code == 0, result.output
    assert "已写出" in result.output
    return app, folder, archive


def _dump(app) -> dict[str, list]:
    import govrisk.models  # noqa: F401

    with app.app_context(), db.engine.connect() as connection:
        return {t.name: list(iter_rows(connection, t)) for t in db.metadata.sorted_tables}


def _empty_target(tmp_path, name="target.db"):
    app = _app(f"sqlite:///{tmp_path / name}", tmp_path)
    _upgrade(app)
    return app


def _rewrite(archive: Path, out: Path, change) -> None:
    """Copy an archive, passing each member's bytes through change(name, data)."""
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, change(info.filename, src.read(info.filename)))


def _table_file(archive: Path, table: str) -> str:
    return next(t.file for t in read_manifest(archive).tables if t.name == table)


def test_archive_holds_every_table_with_counts_and_checksums(source):
    app, _folder, archive = source
    manifest = read_manifest(archive)
    import govrisk.models  # noqa: F401

    assert [t.name for t in manifest.tables] == [t.name for t in db.metadata.sorted_tables]
    assert len(manifest.revisions) >= 1 and all(len(t.sha256) == 64 for t in manifest.tables)
    rows = {t.name: t.rows for t in manifest.tables}
    assert rows["audit_entries"] > 100 and rows["audit_head"] == 1 and rows["import_uploads"] == 1
    with zipfile.ZipFile(archive) as zf:
        line = zf.read(_table_file(archive, "import_uploads")).decode().splitlines()[0]
    columns = next(t.columns for t in manifest.tables if t.name == "import_uploads")
    stored = dict(zip(columns, json.loads(line), strict=True))
    import base64

    assert base64.b64decode(stored["content"]) == BINARY


def test_round_trip_gives_an_identical_database(source, tmp_path):
    app, _folder, archive = source
    target = _empty_target(tmp_path)
    result = _cli(target, "restore", str(archive))
    assert result.exit_code == 0, result.output
    assert "已恢复" in result.output and "审计链完整" in result.output
    before, after = _dump(app), _dump(target)
    for name, rows in before.items():
        assert after[name] == rows, f"table {name} differs after restore"
    assert any(BINARY in bytes(v) for v in _blobs(target))
    verify = _cli(target, "audit", "verify")
    assert verify.exit_code == 0 and "审计链完整" in verify.output
    # the restored database keeps working: a new audited change links onto the restored chain
    with target.app_context():
        from govrisk.org.operations import create_department

        create_department({"code": "AFTER-RESTORE", "name": "恢复后新建", "kind": "government"}, actor=None)
        db.session.commit()
        db.session.remove()
    assert _cli(target, "audit", "verify").exit_code == 0
    again = tmp_path / "again.zip"
    assert _cli(target, "backup", "--out", str(again)).exit_code == 0
    assert read_manifest(again).total_rows > read_manifest(archive).total_rows


def _blobs(app):
    with app.app_context(), db.engine.connect() as connection:
        yield from connection.execute(sa.text("SELECT content FROM import_uploads")).scalars()
        yield from connection.execute(sa.text("SELECT content FROM risk_measure_attachments")).scalars()


def test_tampered_archive_is_refused_and_nothing_written(source, tmp_path):
    _app_, _folder, archive = source
    member = _table_file(archive, "audit_entries")
    tampered = tmp_path / "tampered.zip"
    _rewrite(archive, tampered, lambda name, data: data.replace(b'"system"', b'"mallory"', 1) if name == member
             else data)
    target = _empty_target(tmp_path)
    result = _cli(target, "restore", str(tampered))
    assert result.exit_code == 2 and "校验失败" in result.output and "audit_entries" in result.output
    with target.app_context(), db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM audit_entries")).scalar() == 0


def test_dropped_row_is_refused(source, tmp_path):
    _app_, _folder, archive = source
    member = _table_file(archive, "departments")
    cut = tmp_path / "cut.zip"
    _rewrite(archive, cut, lambda name, data: b"".join(data.splitlines(True)[1:]) if name == member else data)
    result = _cli(_empty_target(tmp_path), "restore", str(cut))
    assert result.exit_code == 2 and "departments" in result.output


def test_failure_midway_writes_nothing(source, tmp_path):
    """A row the database refuses (a duplicate key, checksum recomputed) rolls back every table already loaded."""
    import hashlib

    _app_, _folder, archive = source
    manifest = json.loads(zipfile.ZipFile(archive).read("manifest.json"))
    entry = next(t for t in manifest["tables"] if t["name"] == "powers")
    with zipfile.ZipFile(archive) as zf:
        data = zf.read(entry["file"])
    doubled = data + data.splitlines(True)[0]
    entry.update(rows=entry["rows"] + 1, sha256=hashlib.sha256(doubled).hexdigest())
    broken = tmp_path / "broken.zip"
    _rewrite(archive, broken, lambda name, d: doubled if name == entry["file"] else
             json.dumps(manifest).encode() if name == "manifest.json" else d)
    target = _empty_target(tmp_path)
    result = _cli(target, "restore", str(broken))
    assert result.exit_code == 2 and "powers" in result.output and "未恢复任何数据" in result.output
    with target.app_context(), db.engine.connect() as connection:
        for table in ("audit_entries", "departments", "users", "powers"):
            assert connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() == 0


def test_non_empty_database_is_refused(source):
    app, _folder, archive = source
    result = _cli(app, "restore", str(archive))
    assert result.exit_code == 2 and "不是空的" in result.output


def test_uninitialised_database_is_refused(source, tmp_path):
    _app_, _folder, archive = source
    blank = _app(f"sqlite:///{tmp_path / 'blank.db'}", tmp_path)
    result = _cli(blank, "restore", str(archive))
    assert result.exit_code == 2 and "init-db" in result.output


def test_other_revision_is_refused(source, tmp_path):
    _app_, _folder, archive = source
    manifest = json.loads(zipfile.ZipFile(archive).read("manifest.json"))
    manifest["revisions"] = ["0001_initial_schema"]
    older = tmp_path / "older.zip"
    _rewrite(archive, older, lambda name, d: json.dumps(manifest).encode() if name == "manifest.json" else d)
    result = _cli(_empty_target(tmp_path), "restore", str(older))
    assert result.exit_code == 2 and "版本不一致" in result.output


def test_not_an_archive_is_refused(tmp_path, source):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    result = _cli(_empty_target(tmp_path), "restore", str(junk))
    assert result.exit_code == 2 and "无法读取备份文件" in result.output


# ---------------------------------------------------------------- SQLite → PostgreSQL


@pytest.fixture
def postgres_database():
    """A throwaway database on the PostgreSQL server of TEST_DATABASE_URL (skipped on SQLite runs)."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql")):
        pytest.skip("SQLite → PostgreSQL restore needs TEST_DATABASE_URL pointing to PostgreSQL")
    url = sa.make_url(url.replace("postgres://", "postgresql://", 1)).set(drivername="postgresql+psycopg")
    name = f"govrisk_restore_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_round_trip_from_sqlite_to_postgresql(source, tmp_path, postgres_database):
    app, _folder, archive = source
    target = _app(postgres_database, tmp_path)
    _upgrade(target)
    try:
        result = _cli(target, "restore", str(archive))
        assert result.exit_code == 0, result.output
        before, after = _dump(app), _dump(target)
        for name, rows in before.items():
            assert after[name] == rows, f"table {name} differs after restore to PostgreSQL"
        assert _cli(target, "audit", "verify").exit_code == 0
        with target.app_context():  # sequences were moved past the restored ids: new rows get fresh ids
            from govrisk.org.operations import create_department

            department = create_department({"code": "PG-NEW", "name": "新单位", "kind": "government"}, actor=None)
            db.session.commit()
            assert department.id > max(row[0] for row in before["departments"])
            db.session.remove()
        assert _cli(target, "audit", "verify").exit_code == 0
    finally:
        with target.app_context():
            db.engine.dispose()


# ---------------------------------------------------------------- `govrisk audit verify` on the command line


@pytest.fixture
def copy_of_source(source, tmp_path):
    _app_, folder, _archive = source
    path = tmp_path / "copy.db"
    with sqlite3.connect(folder / "source.db") as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    return path, _app(f"sqlite:///{path}", tmp_path)


def _tamper(path: Path, *statements) -> None:
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement)


def test_audit_verify_passes_on_the_untouched_copy(copy_of_source):
    _path, app = copy_of_source
    result = _cli(app, "audit", "verify")
    assert result.exit_code == 0 and "审计链完整" in result.output


def test_audit_verify_catches_an_altered_row(copy_of_source):
    path, app = copy_of_source
    _tamper(path, "UPDATE audit_entries SET changes = '{}' WHERE seq = 12")
    result = _cli(app, "audit", "verify")
    assert result.exit_code == 1 and "第 12 条" in result.output and "篡改" in result.output


def test_audit_verify_catches_a_deleted_row(copy_of_source):
    path, app = copy_of_source
    _tamper(path, "DELETE FROM audit_entries WHERE seq = 20")
    result = _cli(app, "audit", "verify")
    assert result.exit_code == 1 and "第 21 条" in result.output and "删除或插入" in result.output


def test_audit_verify_catches_a_deleted_last_row(copy_of_source):
    path, app = copy_of_source
    _tamper(path, "DELETE FROM audit_entries WHERE seq = (SELECT max(seq) FROM audit_entries)")
    result = _cli(app, "audit", "verify")
    assert result.exit_code == 1 and "链尾" in result.output


def test_audit_verify_catches_an_inserted_row(copy_of_source):
    """A forged entry slipped in at seq 30 with a correct hash of its own: the next link no longer holds."""
    from govrisk.core.audit import AuditEntry, entry_hash

    path, app = copy_of_source
    with sqlite3.connect(path) as conn:
        prev_hash, at = conn.execute("SELECT hash, at FROM audit_entries WHERE seq = 29").fetchone()
        conn.execute("UPDATE audit_entries SET seq = seq + 1000000 WHERE seq >= 30")
        conn.execute("UPDATE audit_entries SET seq = seq - 1000000 + 1 WHERE seq >= 1000000")
    from datetime import UTC, datetime

    forged = AuditEntry(seq=30, at=datetime.fromisoformat(at).replace(tzinfo=UTC), actor_id=None, actor_name="mallory",
                        action="forged", target_type="", target_id=None, target_label="", changes="{}", ip="",
                        prev_hash=prev_hash)
    forged.hash = entry_hash(forged)
    _tamper(path, "INSERT INTO audit_entries (seq, at, actor_name, action, target_type, target_label, changes, ip, "
                  f"prev_hash, hash) VALUES (30, '{at}', 'mallory', 'forged', '', '', '{{}}', '', '{prev_hash}', "
                  f"'{forged.hash}')")
    result = _cli(app, "audit", "verify")
    assert result.exit_code == 1 and "第 31 条" in result.output


def test_audit_verify_catches_an_appended_row(copy_of_source):
    """A forged entry appended at the tip, correctly chained, but the head row was not moved."""
    path, app = copy_of_source
    with sqlite3.connect(path) as conn:
        seq, prev_hash, at = conn.execute("SELECT seq, hash, at FROM audit_entries ORDER BY seq DESC").fetchone()
    from datetime import UTC, datetime

    from govrisk.core.audit import AuditEntry, entry_hash

    forged = AuditEntry(seq=seq + 1, at=datetime.fromisoformat(at).replace(tzinfo=UTC), actor_id=None,
                        actor_name="mallory", action="forged", target_type="", target_id=None, target_label="",
                        changes="{}", ip="", prev_hash=prev_hash)
    forged.hash = entry_hash(forged)
    _tamper(path, "INSERT INTO audit_entries (seq, at, actor_name, action, target_type, target_label, changes, ip, "
                  f"prev_hash, hash) VALUES ({seq + 1}, '{at}', 'mallory', 'forged', '', '', '{{}}', '', "
                  f"'{prev_hash}', '{forged.hash}')")
    result = _cli(app, "audit", "verify")
    assert result.exit_code == 1 and "链尾" in result.output


def test_backup_of_uninitialised_database_is_refused(tmp_path):
    blank = _app(f"sqlite:///{tmp_path / 'blank.db'}", tmp_path)
    result = _cli(blank, "backup", "--out", str(tmp_path / "x.zip"))
    assert result.exit_code == 2 and "尚未初始化" in result.output and not (tmp_path / "x.zip").exists()



def test_backup_of_a_database_behind_the_program_is_refused(tmp_path):
    app = _empty_target(tmp_path, "behind.db")
    with sqlite3.connect(tmp_path / "behind.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001' WHERE version_num = "
                     "(SELECT min(version_num) FROM alembic_version)")
    result = _cli(app, "backup", "--out", str(tmp_path / "x.zip"))
    assert result.exit_code == 2 and "init-db" in result.output and not (tmp_path / "x.zip").exists()


def test_backup_of_a_table_the_database_lacks_is_refused(tmp_path):
    app = _empty_target(tmp_path, "lacking.db")
    with sqlite3.connect(tmp_path / "lacking.db") as conn:
        conn.execute("DROP TABLE settings")
    result = _cli(app, "backup", "--out", str(tmp_path / "x.zip"))
    assert result.exit_code == 2 and "settings" in result.output and not (tmp_path / "x.zip").exists()
