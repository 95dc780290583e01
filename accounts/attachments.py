"""The scanned official letter of a turnover request: checked by its content (a real, parseable PDF,
not a renamed file), at most 10 MB, stored outside the web root under its SHA-256 and served only
through a view that checks the reader's scope.

A scanned letter is pages of images: a PDF that carries active content — JavaScript, a launch action,
embedded files, forms that submit or import — or that is also an archive (a zip appended after its
end, or anywhere inside) is refused. Whatever name it came with, it is stored and served as `.pdf`
(a PDF+HTML polyglot uploaded as `letter.html` must never come back as HTML)."""
import hashlib
import io
import logging
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from portal.errors import PolicyViolation

logger = logging.getLogger(__name__)

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_PAGES = 200
MAX_OBJECTS_WALKED = 200_000
# Keys and action types of active content (PDF 2.0, 12.6 Actions; 7.11 File specifications; XFA forms).
JAVASCRIPT = {"/JS", "/JavaScript"}
LAUNCH = {"/Launch"}
ACTIVE = {"/EmbeddedFile", "/EmbeddedFiles", "/RichMedia", "/XFA", "/SubmitForm", "/ImportData", "/GoToE",
          "/Movie", "/Sound", "/Rendition"}
_END = re.compile(rb"%%EOF\s*$")


@dataclass(frozen=True)
class StoredAttachment:
    sha256: str
    size: int
    name: str


def _refuse(message, code):
    raise PolicyViolation(message, code=code, field="attachment")


def upload_read_limited(uploaded, *, refuse) -> bytes:
    """An uploaded file's bytes, read chunk by chunk and refused (`refuse()`, which raises) as soon as
    it is larger than MAX_ATTACHMENT_BYTES, whatever size the browser announced. Shared by every
    upload the portal checks by content (turnover letters, directives, incident evidence)."""
    size = getattr(uploaded, "size", None)
    if size is not None and size > MAX_ATTACHMENT_BYTES:
        refuse()
    data = b""
    for chunk in uploaded.chunks() if hasattr(uploaded, "chunks") else [uploaded.read()]:
        data += chunk
        if len(data) > MAX_ATTACHMENT_BYTES:
            refuse()
    return data


def _read_limited(uploaded) -> bytes:
    return upload_read_limited(uploaded, refuse=lambda: _refuse(_("The letter's file is larger than 10 MB."),
                                                                "attachment_too_large"))


def _active_content(reader: PdfReader) -> str | None:
    """What active content the document's objects hold (its catalogue and everything reachable from it,
    and the trailer): "javascript", "launch", "active" or None. Names are compared as parsed (a name
    written /J#61vaScript is /JavaScript), objects inside object streams included."""
    seen, stack, walked = set(), [reader.trailer], 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        walked += 1
        if walked > MAX_OBJECTS_WALKED:
            raise PyPdfError("too many objects")
        if isinstance(item, DictionaryObject):
            for name, value in item.items():
                names = {str(name)}
                if name == "/S" or name == "/Type" or name == "/Subtype":
                    names.add(str(value))
                if names & JAVASCRIPT:
                    return "javascript"
                if names & LAUNCH:
                    return "launch"
                if names & ACTIVE:
                    return "active"
                if name not in ("/Parent", "/P"):  # back-links: the page tree is walked from its root
                    stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return None


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
        active = _active_content(reader)
    except PolicyViolation:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError):
        logger.info("Refused a damaged PDF attachment", exc_info=True)
        _refuse(_("The PDF file is damaged or incomplete; scan or export the letter again."), "attachment_damaged")
    if active == "javascript":
        _refuse(_("The PDF holds JavaScript, which a scanned letter never does; scan the paper letter again."),
                "attachment_javascript")
    if active == "launch":
        _refuse(_("The PDF holds an action that launches a program; scan the paper letter again."),
                "attachment_launch")
    if active == "active":
        _refuse(_("The PDF holds embedded files, media or forms, which a scanned letter never does; scan the "
                  "paper letter again."), "attachment_active")
    if not _END.search(data[-1024:]) or zipfile.is_zipfile(io.BytesIO(data)):
        _refuse(_("The PDF has other data appended after its end (an archive?); scan the paper letter again."),
                "attachment_appended")
    return pages


def download_name(name: str) -> str:
    """The name a stored letter is saved or served under: always `.pdf`, whatever the upload was called."""
    base = os.path.basename(name or "").strip() or "letter.pdf"
    stem, extension = os.path.splitext(base)
    return base[:200] if extension.lower() == ".pdf" and stem else f"{(stem or 'letter')[:196]}.pdf"


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
    return StoredAttachment(sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                            name=download_name(getattr(uploaded, "name", "")))


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
    return StoredAttachment(sha256=digest, size=len(data), name=download_name(getattr(uploaded, "name", "")))
