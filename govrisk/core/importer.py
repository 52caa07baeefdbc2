"""The one importer framework: read CSV/XLSX, check every row, preview, then write all rows or none."""

import csv
import io
import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import Mapped, mapped_column

from govrisk.core.errors import UserError
from govrisk.core.types import UTCDateTime, utcnow
from govrisk.extensions import db

TRUE_WORDS = {"是", "true", "yes", "y", "1", "√"}
FALSE_WORDS = {"否", "false", "no", "n", "0", ""}


class ImportFileError(UserError):
    """The file as a whole cannot be read (format, encoding, size, header)."""


class ImportUpload(db.Model):
    """An uploaded file kept between preview and confirmation, so any worker can finish the import."""

    __tablename__ = "import_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    filename: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass
class ImportRow:
    line: int
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    action: str = ""  # create / update / unchanged
    data: dict = field(default_factory=dict)


@dataclass
class ImportPreview:
    columns: list[str]
    rows: list[ImportRow]

    @property
    def bad_rows(self) -> list[ImportRow]:
        return [r for r in self.rows if r.errors]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.bad_rows

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action and not r.errors)


def _decode_csv(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            _("文件不是 UTF-8 编码（可能是 GBK）。请在 Excel/WPS 中另存为“CSV UTF-8”或直接上传 XLSX。")) from None


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def _read_xlsx(data: bytes) -> list[list[str]]:
    """The first worksheet as openpyxl's read-only mode reads it, by a streaming reader several times faster."""
    from govrisk.core.xlsx import XlsxError, iter_values

    try:
        return [[_cell_text(v) for v in row] for row in iter_values(data)]
    except XlsxError:
        raise ImportFileError(_("无法读取该 XLSX 文件：文件已损坏或不是 Excel 工作簿。")) from None


def read_table(data: bytes, filename: str, *, max_bytes: int) -> list[list[str]]:
    """The file's rows as lists of stripped strings (header first); refuses what it cannot read."""
    if not data:
        raise ImportFileError(_("文件为空。"))
    if len(data) > max_bytes:
        raise ImportFileError(_("文件过大（%(size)s KB），上限为 %(limit)s KB。", size=len(data) // 1024,
                                limit=max_bytes // 1024))
    name = (filename or "").lower()
    if name.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return _read_xlsx(data)
    if not name.endswith((".csv", ".txt")) and b"\x00" in data[:1024]:
        raise ImportFileError(_("不支持的文件类型：请上传 CSV（UTF-8）或 XLSX 文件。"))
    text = _decode_csv(data)
    try:
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise ImportFileError(_("CSV 格式错误：%(error)s", error=exc)) from None


def parse_bool(text: str) -> bool:
    """是/否, true/false, yes/no, 1/0 → bool; anything else raises ValueError."""
    word = (text or "").strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(_("“%(text)s”不是是/否", text=text))


class Importer(ABC):
    """Subclass per kind: declare columns, check rows, write rows. The framework does the rest."""

    kind = ""
    title = ""
    columns: tuple[str, ...] = ()
    required: tuple[str, ...] = ()

    def rows_from(self, table: list[list[str]]) -> list[ImportRow]:
        if not table or not any(table[0]):
            raise ImportFileError(_("文件没有表头行。"))
        header = [h.strip().lstrip("\ufeff").lower() for h in table[0]]
        missing = [c for c in self.columns if c in self.required and c not in header]
        if missing:
            raise ImportFileError(_("缺少列：%(missing)s。需要的列为：%(columns)s。", missing=", ".join(missing),
                                    columns=", ".join(self.columns)))
        rows = []
        for index, raw in enumerate(table[1:], start=2):
            if not any(cell.strip() for cell in raw):
                continue
            values = {h: (raw[i].strip() if i < len(raw) else "") for i, h in enumerate(header) if h in self.columns}
            rows.append(ImportRow(line=index, values=values))
        if not rows:
            raise ImportFileError(_("文件中没有数据行。"))
        return rows

    @abstractmethod
    def check(self, rows: list[ImportRow]) -> None:
        """Fill row.errors, row.data and row.action for every row (no writes)."""

    @abstractmethod
    def write(self, rows: list[ImportRow], *, actor) -> None:
        """Write every row (all of them are valid); flush only."""

    def preview(self, data: bytes, filename: str, *, max_bytes: int) -> ImportPreview:
        """Read and check the whole file; nothing is written."""
        rows = self.rows_from(read_table(data, filename, max_bytes=max_bytes))
        for row in rows:
            for column in self.required:
                if not row.values.get(column):
                    row.errors.append(_("“%(column)s”不能为空", column=column))
        self.check(rows)
        return ImportPreview(list(self.columns), rows)

    def run(self, data: bytes, filename: str, *, actor, max_bytes: int) -> ImportPreview:
        """Check, then write all rows in the caller's transaction, or raise with the preview and write nothing."""
        preview = self.preview(data, filename, max_bytes=max_bytes)
        if not preview.ok:
            lines = "; ".join(_("第 %(line)s 行：%(errors)s", line=r.line, errors=_("，").join(r.errors))
                              for r in preview.bad_rows[:20])
            raise UserError(ngettext("导入被拒绝，%(num)s 行有错误，未写入任何数据。%(lines)s",
                                     "导入被拒绝，%(num)s 行有错误，未写入任何数据。%(lines)s", len(preview.bad_rows),
                                     lines=lines),
                            details={"bad_rows": [{"line": r.line, "errors": r.errors} for r in preview.bad_rows]})
        self.write([r for r in preview.rows if r.action != "unchanged"], actor=actor)
        db.session.flush()
        return preview


def stage_upload(kind: str, filename: str, content: bytes, *, actor) -> ImportUpload:
    """Keep an uploaded file for the confirmation step."""
    upload = ImportUpload(token=secrets.token_urlsafe(24), kind=kind, user_id=actor.id, filename=filename,
                          content=content)
    db.session.add(upload)
    db.session.flush()
    return upload


def staged_upload(token: str, kind: str, *, actor) -> ImportUpload:
    """The user's own unused upload of this kind, or a clear refusal."""
    upload = db.session.scalar(sa.select(ImportUpload).where(ImportUpload.token == token))
    if upload is None or upload.kind != kind or upload.user_id != actor.id:
        raise UserError(_("找不到待确认的上传文件，请重新上传。"))
    if upload.used_at is not None:
        raise UserError(_("该文件已经导入过了。"))
    return upload
