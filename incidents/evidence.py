"""Evidence files: checked by their content — a PDF that parses (accounts.attachments' check), a PNG or
a JPEG by its magic bytes — at most 10 MB, stored outside the web root under their SHA-256 and served
only through a view that checks the reader's scope."""
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.attachments import pdf_check, upload_read_limited
from portal.errors import PolicyViolation

from .choices import EvidenceType

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
EXTENSIONS = {EvidenceType.PDF: "pdf", EvidenceType.PNG: "png", EvidenceType.JPEG: "jpg"}
CONTENT_TYPES = {EvidenceType.PDF: "application/pdf", EvidenceType.PNG: "image/png", EvidenceType.JPEG: "image/jpeg"}


@dataclass(frozen=True)
class EvidenceFile:
    sha256: str
    size: int
    name: str
    file_type: str
    data: bytes


def _refuse(message, code):
    raise PolicyViolation(message, code=code, field="file")


def _read_limited(uploaded) -> bytes:
    return upload_read_limited(uploaded, refuse=lambda: _refuse(_("The file is larger than 10 MB."),
                                                                "evidence_too_large"))


def evidence_type_of(data: bytes) -> str:
    """The type by content, whatever the file's name says."""
    if not data:
        _refuse(_("The file is empty."), "evidence_empty")
    if data.startswith(PNG_MAGIC):
        return EvidenceType.PNG
    if data.startswith(JPEG_MAGIC):
        return EvidenceType.JPEG
    if data.lstrip()[:5] == b"%PDF-":
        try:
            pdf_check(data)
        except PolicyViolation as error:
            raise PolicyViolation(messages=error.messages, code=error.code, field="file") from error
        return EvidenceType.PDF
    _refuse(_("Evidence is accepted as a PDF document, a PNG or a JPEG image (checked by the file's content)."),
            "evidence_type")


def evidence_check(uploaded) -> EvidenceFile:
    data = _read_limited(uploaded)
    file_type = evidence_type_of(data)
    name = os.path.basename(getattr(uploaded, "name", "") or "evidence")[:200]
    return EvidenceFile(sha256=hashlib.sha256(data).hexdigest(), size=len(data), name=name, file_type=file_type,
                        data=data)


def evidence_path(sha256: str, file_type: str) -> Path:
    if len(sha256) != 64 or any(char not in "0123456789abcdef" for char in sha256):
        raise ValueError("not a SHA-256 digest")
    return Path(settings.PRIVATE_MEDIA_ROOT) / "incidents" / f"{sha256}.{EXTENSIONS[file_type]}"


def evidence_write(checked: EvidenceFile) -> Path:
    """Store the file once under its digest (the same file twice is stored once)."""
    path = evidence_path(checked.sha256, checked.file_type)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(checked.data)
        os.replace(temporary, path)
    return path


def evidence_read_verified(sha256: str, file_type: str) -> bytes | None:
    """The stored bytes, or None when missing or no longer matching their digest (tampered)."""
    path = evidence_path(sha256, file_type)
    if not path.exists():
        return None
    data = path.read_bytes()
    return data if hashlib.sha256(data).hexdigest() == sha256 else None
