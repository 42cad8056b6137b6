"""Checking an uploaded certificate of analysis: its size, and its type from its own bytes.

The browser's claimed type and the file's name are never trusted: the type is what the
first bytes show (PDF, JPEG, PNG, WebP or HEIC/HEIF photos from phones), and anything else
is refused. The size cap is the setting ``KRATOMWATCH_CERTIFICATE_MAX_BYTES``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

#: Types served inline (shown in the browser); PDFs are always downloaded.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})

_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


def sniff(head: bytes) -> str | None:
    """The content type shown by a file's first bytes, or ``None`` if not an accepted one."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        return "image/heic"
    return None


def max_bytes() -> int:
    return int(settings.KRATOMWATCH_CERTIFICATE_MAX_BYTES)


def safe_filename(name: str, content_type: str) -> str:
    """A name fit for a download header: letters, digits, dot, dash and underscore only,
    at most 100 characters, with the extension of the type the bytes show."""
    base = unicodedata.normalize("NFKD", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    base = base.encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", base.rsplit(".", 1)[0]).strip("_")[:80]
    extension = {
        "application/pdf": "pdf",
        "image/jpeg": "jpg",
        "image/png": "png",
        "image/webp": "webp",
        "image/heic": "heic",
    }[content_type]
    return f"{stem or 'certificate'}.{extension}"


@dataclass(frozen=True)
class CheckedUpload:
    content: bytes
    content_type: str
    size: int
    sha256: str
    filename: str


class UploadRefused(ValueError):
    """Why an upload is refused: ``code`` is "too_large", "empty" or "wrong_type"."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


def check_upload(upload: UploadedFile) -> CheckedUpload:
    """Read and check an upload; :class:`UploadRefused` when too large, empty or of a type
    not accepted. The size is checked before anything is read."""
    size = upload.size or 0
    if size > max_bytes():
        raise UploadRefused("too_large")
    if size == 0:
        raise UploadRefused("empty")
    upload.seek(0)
    content = upload.read(max_bytes() + 1)
    if len(content) > max_bytes():
        raise UploadRefused("too_large")
    content_type = sniff(content[:32])
    if content_type is None:
        raise UploadRefused("wrong_type")
    return CheckedUpload(
        content=content,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        filename=safe_filename(upload.name or "", content_type),
    )
