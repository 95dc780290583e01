"""The scanned official letter of a turnover request: checked by its content (a real, parseable PDF,
not a renamed file), at most 10 MB, stored outside the web root under its SHA-256 and served only
through a view that checks the reader's scope."""
import hashlib
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from portal.errors import PolicyViolation

logger = logging.getLogger(__name__)

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_PAGES = 200


@dataclass(frozen=True)
class StoredAttachment:
    sha256: str
    size: int
    name: str


def _refuse(message, code):
    raise PolicyViolation(message, code=code, field="attachment")


def _read_limited(uploaded) -> bytes:
    size = getattr(uploaded, "size", None)
    if size is not None and size > MAX_ATTACHMENT_BYTES:
        _refuse(_("The letter's file is larger than 10 MB."), "attachment_too_large")
    data = b""
    for chunk in uploaded.chunks() if hasattr(uploaded, "chunks") else [uploaded.read()]:
        data += chunk
        if len(data) > MAX_ATTACHMENT_BYTES:
            _refuse(_("The letter's file is larger than 10 MB."), "attachment_too_large")
    return data


def pdf_check(data: bytes) -> int:
    """The number of pages of a well-formed PDF, or a refusal saying what is wrong."""
    if not data:
        _refuse(_("The letter's file is empty."), "attachment_empty")
    if not data.lstrip()[:5] == b"%PDF-":
        _refuse(_("The letter's file is not a PDF document (scan the letter to PDF)."), "attachment_not_pdf")
    try:
        reader = PdfReader(io.BytesIO(data), strict=True)
        if reader.is_encrypted:
            _refuse(_("The PDF is password-protected; attach it without a password."), "attachment_encrypted")
        pages = len(reader.pages)
        if pages == 0 or pages > MAX_PAGES:
            raise PyPdfError(f"{pages} pages")
        reader.pages[0].mediabox  # noqa: B018 — the first page must parse, not only the trailer
    except PolicyViolation:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError):
        logger.info("Refused a damaged PDF attachment", exc_info=True)
        _refuse(_("The PDF file is damaged or incomplete; scan or export the letter again."), "attachment_damaged")
    return pages


def attachment_root() -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / "turnover"


def attachment_path(sha256: str) -> Path:
    if len(sha256) != 64 or any(char not in "0123456789abcdef" for char in sha256):
        raise ValueError("not a SHA-256 digest")
    return attachment_root() / f"{sha256}.pdf"


def attachment_check(uploaded) -> StoredAttachment:
    """Check the file and compute what storing it will record, without writing anything: a form
    refused for another reason must leave no file behind (attachment_store writes it afterwards)."""
    data = _read_limited(uploaded)
    pdf_check(data)
    name = os.path.basename(getattr(uploaded, "name", "") or "letter.pdf")[:200]
    return StoredAttachment(sha256=hashlib.sha256(data).hexdigest(), size=len(data), name=name)


def attachment_store(uploaded) -> StoredAttachment:
    """Check and store the file; the same letter uploaded twice is stored once."""
    data = _read_limited(uploaded)
    pdf_check(data)
    digest = hashlib.sha256(data).hexdigest()
    path = attachment_path(digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)
    name = os.path.basename(getattr(uploaded, "name", "") or "letter.pdf")[:200]
    return StoredAttachment(sha256=digest, size=len(data), name=name)
