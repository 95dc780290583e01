"""Files handed to a reader as downloads (evidence, scanned letters): always an attachment, never shown
inline by the browser, never sniffed into another type, never cached — the file came from an upload,
so the browser must not render it on the portal's origin."""
import os
import re

from django.http import FileResponse

# What may stay of an uploaded file's name in a download's name (Vietnamese letters are kept:
# FileResponse writes them as RFC 5987 `filename*`).
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"\\/:*?<>|;]+")


def download_filename(name: str, extension: str, *, default_stem: str = "file") -> str:
    """The name a stored file is served under: the uploaded name's stem without path or control
    characters, and always the extension of the type the content was checked to be."""
    stem = os.path.splitext(os.path.basename((name or "").replace("\\", "/")))[0]
    stem = _UNSAFE.sub("_", stem).strip(" ._")[:150] or default_stem
    return f"{stem}.{extension}"


def attachment_response(handle, *, content_type: str, filename: str) -> FileResponse:
    """A download of an open binary file: Content-Disposition attachment, the given type with nosniff,
    no-store, and a sandboxing CSP in case a browser still opens it."""
    response = FileResponse(handle, as_attachment=True, content_type=content_type, filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
