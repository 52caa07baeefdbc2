"""Portable backup and restore of the whole database (DESIGN §8: `govrisk backup` / `govrisk restore`).

The archive is a zip file:

    manifest.json                 format, version, creation time, source dialect, Alembic revisions, and per table:
                                  name, file, columns, row count, SHA-256 of the file
    tables/NNNN_<table>.jsonl     one JSON array per row, values in the manifest's column order, rows by primary key

Tables follow `metadata.sorted_tables` (parents before children). Values are stored as the database holds them,
below the model types: datetimes and dates as ISO 8601 (naive UTC as stored), binary columns (attachments,
staged uploads) base64, decimals as strings, enums as their stored values. Reading streams with `yield_per` and
writing streams into the zip, so memory stays flat at any size; restore reads the files line by line.

Restore goes into an empty database upgraded to the same Alembic heads, in one transaction: every row or none.
Self-referencing columns (a department's parent) are written after all rows are in, so row order never trips a
foreign key; PostgreSQL sequences are moved past the restored ids. This module imports no domain: the caller
passes the metadata (`db.metadata` with every model imported).
"""

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

FORMAT = "govrisk-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"


class BackupError(Exception):
    """A backup or restore refused, with a message for the operator (the CLI prints it)."""


@dataclass
class TableEntry:
    name: str
    file: str
    columns: list[str]
    rows: int = 0
    sha256: str = ""


@dataclass
class Manifest:
    created_at: str
    dialect: str
    revisions: list[str]
    tables: list[TableEntry] = field(default_factory=list)
    format: str = FORMAT
    version: int = FORMAT_VERSION

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def to_json(self) -> str:
        return json.dumps({"format": self.format, "version": self.version, "created_at": self.created_at,
                           "dialect": self.dialect, "revisions": self.revisions,
                           "tables": [vars(t) for t in self.tables]}, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupError("不是 govrisk 备份文件（manifest.json 格式不符）。")
        if data.get("version") != FORMAT_VERSION:
            raise BackupError(f"备份格式版本 {data.get('version')} 不受支持（本程序读取第 {FORMAT_VERSION} 版）。")
        tables = [TableEntry(**t) for t in data["tables"]]
        return cls(data["created_at"], data["dialect"], list(data["revisions"]), tables)


# ------------------------------------------------------------------ values as stored, and their JSON form


def _storage_type(column_type):
    """The type the database really stores, below TypeDecorators and enums (no validation, no conversion)."""
    if isinstance(column_type, TypeDecorator):
        return _storage_type(column_type.impl_instance)
    if isinstance(column_type, sa.Enum):
        return sa.String()
    if isinstance(column_type, sa.DateTime):
        return sa.DateTime(timezone=column_type.timezone)
    return column_type


def _codec(storage_type):
    """(encode, decode) between a stored value and its JSON form; None passes through both."""
    if isinstance(storage_type, sa.LargeBinary):
        return (lambda v: base64.b64encode(bytes(v)).decode("ascii")), base64.b64decode
    if isinstance(storage_type, sa.DateTime):
        return (lambda v: v.isoformat()), datetime.fromisoformat
    if isinstance(storage_type, sa.Date):
        return (lambda v: v.isoformat()), date.fromisoformat
    if isinstance(storage_type, sa.Time):
        return (lambda v: v.isoformat()), time.fromisoformat
    if isinstance(storage_type, sa.Numeric) and not isinstance(storage_type, sa.Float):
        return (lambda v: str(v)), Decimal
    return None, None


@dataclass
class _TableCodec:
    """A table seen through its storage types, with per-column JSON codecs."""

    table: sa.Table
    raw: sa.Table
    columns: list[str]
    encoders: list
    decoders: list

    @classmethod
    def of(cls, table: sa.Table) -> "_TableCodec":
        columns = [c.name for c in table.columns]
        raw_columns = [sa.Column(c.name, _storage_type(c.type), primary_key=c.primary_key, autoincrement=False)
                       for c in table.columns]
        raw = sa.Table(table.name, sa.MetaData(), *raw_columns, schema=table.schema)
        codecs = [_codec(c.type) for c in raw.columns]
        return cls(table, raw, columns, [e for e, _ in codecs], [d for _, d in codecs])

    def encode(self, row) -> list:
        return [v if v is None or enc is None else enc(v) for v, enc in zip(row, self.encoders, strict=True)]

    def decode(self, values: list) -> dict:
        return {name: v if v is None or dec is None else dec(v)
                for name, v, dec in zip(self.columns, values, self.decoders, strict=True)}

    def select(self):
        order = list(self.raw.primary_key.columns) or list(self.raw.columns)
        return sa.select(*self.raw.columns).order_by(*order)


def iter_rows(connection, table: sa.Table, batch_size: int = 2000) -> Iterator[list]:
    """Every row of table in primary-key order, as JSON-ready lists (streamed)."""
    codec = _TableCodec.of(table)
    result = connection.execution_options(yield_per=batch_size).execute(codec.select())
    for row in result:
        yield codec.encode(row)


# ------------------------------------------------------------------ revisions and emptiness


def database_revisions(connection) -> list[str]:
    """The Alembic revisions the database is at (empty when it was never initialised)."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return []
    return sorted(connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())


def non_empty_tables(connection, metadata: sa.MetaData) -> list[str]:
    """The tables of metadata that hold at least one row."""
    return [t.name for t in metadata.sorted_tables
            if connection.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first() is not None]


# ------------------------------------------------------------------ backup


def check_heads(revisions: list[str], heads: list[str] | None) -> None:
    """Refuse a database that is not at the program's migration heads (its tables differ from the models)."""
    if heads is not None and sorted(heads) != sorted(revisions):
        raise BackupError(f"数据库版本 {', '.join(sorted(revisions)) or '（无）'} 与程序的迁移版本 "
                          f"{', '.join(sorted(heads))} 不一致：请先运行 govrisk init-db 升级数据库。")


def write_backup(connection, metadata: sa.MetaData, out: Path | str, *, heads: list[str] | None = None,
                 batch_size: int = 2000, progress=None) -> Manifest:
    """Write every table of metadata to a zip archive at `out`; returns the manifest.

    Run inside one transaction (REPEATABLE READ on PostgreSQL) so that the archive is one consistent moment.
    `heads`: the program's Alembic heads, which the database must be at.
    """
    revisions = database_revisions(connection)
    if not revisions:
        raise BackupError("数据库尚未初始化（没有 Alembic 版本），没有可备份的内容。")
    check_heads(revisions, heads)
    manifest = Manifest(datetime.now(UTC).isoformat(timespec="seconds"), connection.dialect.name, revisions)
    stamp = datetime.now().timetuple()[:6]
    out = Path(out)
    tmp = out.with_name(out.name + ".part")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for index, table in enumerate(metadata.sorted_tables, start=1):
                file = f"tables/{index:04d}_{table.name}.jsonl"
                entry = TableEntry(table.name, file, [c.name for c in table.columns])
                digest = hashlib.sha256()
                info = zipfile.ZipInfo(file, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(info, "w", force_zip64=True) as member:
                    buffer = []
                    try:
                        for values in iter_rows(connection, table, batch_size):
                            buffer.append(json.dumps(values, ensure_ascii=False, separators=(",", ":")))
                            entry.rows += 1
                            if len(buffer) >= batch_size:
                                _write_lines(member, digest, buffer)
                    except sa.exc.DBAPIError as exc:
                        raise BackupError(f"表 {table.name} 无法读取（{_reason(exc)}）：数据库结构与程序不一致，"
                                          "请先运行 govrisk init-db 升级数据库。") from None
                    _write_lines(member, digest, buffer)
                entry.sha256 = digest.hexdigest()
                manifest.tables.append(entry)
                if progress:
                    progress(entry)
            archive.writestr(MANIFEST, manifest.to_json())
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return manifest


def _write_lines(member, digest, buffer: list[str]) -> None:
    if buffer:
        data = ("\n".join(buffer) + "\n").encode("utf-8")
        digest.update(data)
        member.write(data)
        buffer.clear()


# ------------------------------------------------------------------ reading and checking an archive


def read_manifest(path: Path | str) -> Manifest:
    """The archive's manifest (raises BackupError for anything that is not a govrisk backup)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return Manifest.from_json(archive.read(MANIFEST).decode("utf-8"))
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise BackupError(f"无法读取备份文件：{exc}") from None


def verify_archive(path: Path | str) -> Manifest:
    """Check every table file against its row count and SHA-256 in the manifest; return the manifest."""
    manifest = read_manifest(path)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        for entry in manifest.tables:
            if entry.file not in names:
                raise BackupError(f"备份文件不完整：缺少表 {entry.name} 的数据文件。")
            digest, rows = hashlib.sha256(), 0
            try:
                with archive.open(entry.file) as member:
                    for chunk in iter(lambda: member.read(1 << 20), b""):
                        digest.update(chunk)
                        rows += chunk.count(b"\n")
            except (zipfile.BadZipFile, OSError, EOFError) as exc:  # a damaged member (zip CRC) is a tampered file
                raise BackupError(f"备份文件已损坏：表 {entry.name} 的数据无法读出（{exc}）。") from None
            if digest.hexdigest() != entry.sha256 or rows != entry.rows:
                raise BackupError(f"备份文件校验失败：表 {entry.name} 的数据与清单中的 SHA-256 或行数不符"
                                  "（文件被修改或损坏），未恢复任何数据。")
    return manifest


def _archive_rows(archive: zipfile.ZipFile, entry: TableEntry) -> Iterator[list]:
    with archive.open(entry.file) as member:
        for line in io.TextIOWrapper(member, encoding="utf-8"):
            if line.strip():
                yield json.loads(line)


# ------------------------------------------------------------------ restore


@dataclass
class RestoreResult:
    manifest: Manifest
    rows: dict[str, int]


def restore_backup(connection, metadata: sa.MetaData, path: Path | str, *, heads: list[str] | None = None,
                   batch_size: int = 2000, progress=None) -> RestoreResult:
    """Load an archive into an empty database at the same revisions, inside the caller's transaction.

    Raises BackupError (nothing written) for a damaged archive, a revision mismatch, a non-empty database or a
    table that does not match; the caller commits on success and rolls back on any exception.
    """
    manifest = verify_archive(path)
    current = database_revisions(connection)
    if not current:
        raise BackupError("目标数据库尚未初始化：请先运行 govrisk init-db，再恢复。")
    check_heads(current, heads)
    if sorted(manifest.revisions) != current:
        raise BackupError(f"数据库版本不一致：备份为 {', '.join(sorted(manifest.revisions))}，"
                          f"目标数据库为 {', '.join(current)}。请在相同版本的程序和数据库上恢复。")
    filled = non_empty_tables(connection, metadata)
    if filled:
        shown = "、".join(filled[:5]) + ("等" if len(filled) > 5 else "")
        raise BackupError(f"目标数据库不是空的（{shown} 表中已有数据）：恢复只写入空数据库，"
                          "请使用新建并初始化（govrisk init-db）的数据库。")
    tables = {t.name: t for t in metadata.sorted_tables}
    in_archive = {e.name for e in manifest.tables}
    if in_archive != set(tables):
        differ = sorted(in_archive ^ set(tables))
        raise BackupError(f"备份中的表与程序不一致：{'、'.join(differ)}。")
    order = {name: i for i, name in enumerate(tables)}
    counts: dict[str, int] = {}
    deferred: list[tuple[_TableCodec, list[str], list[dict]]] = []
    with zipfile.ZipFile(path) as archive:
        for entry in sorted(manifest.tables, key=lambda e: order[e.name]):
            table = tables[entry.name]
            if entry.columns != [c.name for c in table.columns]:
                raise BackupError(f"表 {entry.name} 的列与程序不一致：备份 {entry.columns}。")
            codec = _TableCodec.of(table)
            late = _late_columns(table, order)
            updates: list[dict] = []
            try:
                counts[entry.name] = _insert_rows(connection, codec, _archive_rows(archive, entry), late, updates,
                                                  batch_size)
            except sa.exc.DBAPIError as exc:
                raise BackupError(f"表 {entry.name} 写入失败（{_reason(exc)}），未恢复任何数据。") from None
            if updates:
                deferred.append((codec, late, updates))
            if progress:
                progress(entry)
    for codec, late, updates in deferred:
        _apply_late_columns(connection, codec, late, updates)
    if connection.dialect.name == "postgresql":
        reset_sequences(connection, metadata)
    return RestoreResult(manifest, counts)


def _reason(exc: sa.exc.DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0][:200] if exc.orig is not None else type(exc).__name__


def _late_columns(table: sa.Table, order: dict[str, int]) -> list[str]:
    """Nullable foreign-key columns pointing at this table or a later one: written after every row is in."""
    own = order[table.name]
    return [c.name for c in table.columns if c.nullable and not c.primary_key
            and any(order.get(fk.column.table.name, own) >= own for fk in c.foreign_keys)]


def _insert_rows(connection, codec: _TableCodec, rows, late: list[str], updates: list[dict],
                 batch_size: int) -> int:
    count, batch = 0, []
    pk_names = [c.name for c in codec.raw.primary_key.columns]
    for values in rows:
        row = codec.decode(values)
        if late and any(row[name] is not None for name in late):
            updates.append({**{f"pk_{n}": row[n] for n in pk_names}, **{f"v_{n}": row[n] for n in late}})
            for name in late:
                row[name] = None
        batch.append(row)
        count += 1
        if len(batch) >= batch_size:
            connection.execute(codec.raw.insert(), batch)
            batch = []
    if batch:
        connection.execute(codec.raw.insert(), batch)
    return count


def _apply_late_columns(connection, codec: _TableCodec, late: list[str], updates: list[dict]) -> None:
    raw = codec.raw
    stmt = (sa.update(raw)
            .where(*[c == sa.bindparam(f"pk_{c.name}") for c in raw.primary_key.columns])
            .values({name: sa.bindparam(f"v_{name}") for name in late}))
    for start in range(0, len(updates), 1000):
        connection.execute(stmt, updates[start:start + 1000])


def reset_sequences(connection, metadata: sa.MetaData) -> None:
    """PostgreSQL: move every serial/identity sequence past the highest id now in its table."""
    preparer = connection.dialect.identifier_preparer
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, sa.Integer):
                continue
            sequence = connection.execute(sa.text("SELECT pg_get_serial_sequence(:table, :column)"),
                                          {"table": preparer.format_table(table), "column": column.name}).scalar()
            if sequence is None:
                continue
            top = connection.execute(sa.select(sa.func.max(table.c[column.name]))).scalar()
            connection.execute(sa.text("SELECT setval(CAST(:seq AS regclass), :value, :called)"),
                               {"seq": sequence, "value": top or 1, "called": top is not None})
