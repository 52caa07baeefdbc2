"""Evidence files: what may be uploaded, recognised by content (magic bytes and the ZIP directory), not by name."""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass

from flask import current_app, has_app_context
from flask_babel import gettext as _

from govrisk.core.errors import UserError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class FileKind:
    kind: str
    content_type: str
    extensions: tuple[str, ...]


KINDS = {
    "pdf": FileKind("pdf", "application/pdf", (".pdf",)),
    "png": FileKind("png", "image/png", (".png",)),
    "jpg": FileKind("jpg", "image/jpeg", (".jpg", ".jpeg")),
    "gif": FileKind("gif", "image/gif", (".gif",)),
    "docx": FileKind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)),
    "xlsx": FileKind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
    "pptx": FileKind("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                     (".pptx",)),
    # Legacy Office and WPS files share the OLE container; the extension names the program.
    "ole": FileKind("ole", "application/octet-stream", (".doc", ".xls", ".ppt", ".wps", ".et", ".dps")),
}
OLE_TYPES = {".doc": "application/msword", ".wps": "application/msword", ".xls": "application/vnd.ms-excel",
             ".et": "application/vnd.ms-excel", ".ppt": "application/vnd.ms-powerpoint",
             ".dps": "application/vnd.ms-powerpoint"}
OOXML_PARTS = {"word/": "docx", "xl/": "xlsx", "ppt/": "pptx"}
ALLOWED_EXTENSIONS = tuple(ext for k in KINDS.values() for ext in k.extensions)


def max_bytes() -> int:
    """The upload limit: RISK_ATTACHMENT_MAX_BYTES from the app config or the environment, default 10 MB."""
    if has_app_context() and current_app.config.get("RISK_ATTACHMENT_MAX_BYTES"):
        return int(current_app.config["RISK_ATTACHMENT_MAX_BYTES"])
    return int(os.environ.get("RISK_ATTACHMENT_MAX_BYTES") or DEFAULT_MAX_BYTES)


def _ooxml_kind(content: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    for prefix, kind in OOXML_PARTS.items():
        if any(name.startswith(prefix) for name in names):
            return kind
    return None


def sniff(content: bytes) -> str | None:
    """The kind of file the bytes are, or None when it is none of the allowed kinds."""
    head = content[:16]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        return _ooxml_kind(content)
    return None


def clean_filename(filename: str) -> str:
    """The base name without directories or control characters, at most 200 characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|:*?').strip()
    return name[-200:] or "attachment"


def check_upload(filename: str, content: bytes) -> tuple[str, str, str]:
    """(clean name, kind, content type) of an allowed file; a clear refusal for anything else."""
    name = clean_filename(filename)
    limit = max_bytes()
    if not content:
        raise UserError(_("文件为空。"), field="file")
    if len(content) > limit:
        raise UserError(_("文件过大（%(size)s KB），上限为 %(limit)s KB。", size=len(content) // 1024,
                          limit=limit // 1024), field="file")
    extension = os.path.splitext(name)[1].lower()
    if extension not in ALLOWED_EXTENSIONS:
        raise UserError(_("不支持的文件类型“%(ext)s”：只能上传 PDF、Office/WPS 文档和图片（PNG、JPG、GIF）。",
                          ext=extension or name), field="file")
    kind = sniff(content)
    if kind is None or extension not in KINDS[kind].extensions:
        raise UserError(_("文件内容与扩展名“%(ext)s”不符（可能是改了扩展名的其他文件），未上传。", ext=extension),
                        field="file")
    content_type = OLE_TYPES[extension] if kind == "ole" else KINDS[kind].content_type
    return name, (extension.lstrip(".") if kind == "ole" else kind), content_type
