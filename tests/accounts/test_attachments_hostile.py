"""Hostile turnover letters (issue 22): a PDF with JavaScript, a launch action, an embedded file, an
archive appended or inside; and a PDF+HTML polyglot uploaded as letter.html, which must come back as
`.pdf`. Each refused with a clear message and nothing stored."""
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from accounts.attachments import attachment_store, download_name
from accounts.choices import DepartureReason, TurnoverAction
from accounts.services import turnover
from portal.errors import PolicyViolation
from tests.helpers import login, pdf_bytes

REFUSED_JS = "PDF chứa JavaScript, điều một bản quét công văn không bao giờ có; hãy quét lại công văn giấy."
REFUSED_LAUNCH = "PDF chứa một lệnh khởi chạy chương trình; hãy quét lại công văn giấy."
REFUSED_ACTIVE = ("PDF chứa tệp nhúng, đa phương tiện hoặc biểu mẫu, điều một bản quét công văn không bao giờ có; "
                  "hãy quét lại công văn giấy.")
REFUSED_APPENDED = "PDF có dữ liệu khác gắn thêm sau phần kết thúc (một tệp nén?); hãy quét lại công văn giấy."


def _written(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _blank() -> PdfWriter:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    return writer


def _with_js() -> bytes:
    """Document-level JavaScript: the catalogue's /Names /JavaScript name tree."""
    writer = _blank()
    script = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                               NameObject("/JS"): TextStringObject("app.alert('x');")})
    tree = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("x"), writer._add_object(script)])})
    writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): writer._add_object(tree)})
    return _written(writer)


def _with_open_action(kind: str, **entries) -> bytes:
    writer = _blank()
    action = DictionaryObject({NameObject("/S"): NameObject(kind)})
    for key, value in entries.items():
        action[NameObject(f"/{key}")] = TextStringObject(value)
    writer._root_object[NameObject("/OpenAction")] = action
    return _written(writer)


def _with_embedded_file() -> bytes:
    writer = _blank()
    writer.add_attachment("payload.exe", b"MZ\x90\x00")
    return _written(writer)


def _hex_escaped_js() -> bytes:
    """/JavaScript written /J#61vaScript: a raw byte scan would miss it, the parsed name does not."""
    data = _with_open_action("/JavaScript", JS="alertxy")
    # Two bytes longer here, two shorter in the same object: the offsets of the objects after it hold.
    escaped = data.replace(b"/JavaScript", b"/J#61vaScript").replace(b"(alertxy)", b"(alert)")
    assert len(escaped) == len(data) and b"/JavaScript" not in escaped
    return escaped


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("run.bat", "calc.exe")
    return buffer.getvalue()


@pytest.mark.parametrize("content, message", [
    (_with_js(), REFUSED_JS),
    (_with_open_action("/JavaScript", JS="app.alert(1)"), REFUSED_JS),
    (_hex_escaped_js(), REFUSED_JS),
    (_with_open_action("/Launch", F="cmd.exe"), REFUSED_LAUNCH),
    (_with_embedded_file(), REFUSED_ACTIVE),
    (pdf_bytes() + _zip_bytes(), REFUSED_APPENDED),
    (pdf_bytes() + b"<html><script>alert(1)</script></html>", REFUSED_APPENDED),
], ids=["names-js", "open-action-js", "hex-escaped-js", "launch", "embedded-file", "zip-appended", "html-appended"])
def test_a_pdf_with_active_content_is_refused_and_nothing_stored(db, settings, tmp_path, content, message):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    with pytest.raises(PolicyViolation) as error:
        attachment_store(SimpleUploadedFile("cv.pdf", content, content_type="application/pdf"))
    assert error.value.messages == [message]
    assert list(tmp_path.rglob("*")) == []


def test_a_plain_scanned_letter_with_a_link_is_still_accepted(db, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    stored = attachment_store(SimpleUploadedFile("cv.pdf", _with_open_action("/URI", URI="https://dongnai.gov.vn")))
    assert stored.name == "cv.pdf"


@pytest.mark.parametrize("uploaded, kept", [
    ("letter.html", "letter.pdf"), ("cv.PDF", "cv.PDF"), ("thư.pdf.html", "thư.pdf.pdf"), ("", "letter.pdf"),
    (".pdf", ".pdf.pdf"), ("../../etc/passwd", "passwd.pdf"), ("noext", "noext.pdf"),
])
def test_the_letter_is_always_kept_as_pdf(uploaded, kept):
    assert download_name(uploaded) == kept


def test_a_polyglot_uploaded_as_html_downloads_as_pdf(client, settings, tmp_path, units, leader_bien_hoa,
                                                      officer_bien_hoa):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    letter = attachment_store(SimpleUploadedFile("letter.html", pdf_bytes(), content_type="text/html"))
    assert letter.name == "letter.pdf"
    from django.utils import timezone

    request = turnover.turnover_request_create(
        actor=leader_bien_hoa, unit=units["bien_hoa"], letter_number="125/UBND-VP",
        letter_date=timezone.localdate(), effective_date=timezone.localdate(), issuing_unit_name="UBND",
        signer_name="Trần Văn Bình", signer_position="Chủ tịch", attachment=letter,
        lines=[{"action": TurnoverAction.DISABLE, "account": officer_bien_hoa,
                "departure_reason": DepartureReason.LEFT}])
    type(request).objects.filter(pk=request.pk).update(attachment_name="letter.html")  # stored before the fix
    login(client, leader_bien_hoa)
    response = client.get(reverse("accounts:turnover_attachment", args=[request.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="letter.pdf"'
    assert response["Content-Type"] == "application/pdf"
