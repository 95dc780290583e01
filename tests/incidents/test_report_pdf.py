"""The incident report and its notification drafts as PDF files (Decree 30/2020/NĐ-CP layout), read back
with pypdf: the Vietnamese text is there (the fonts are embedded), and the fields are the record's."""
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from incidents.choices import IncidentCategory
from incidents.deadlines import incident_deadlines
from incidents.services.containment import account_contain
from incidents.services.records import incident_report
from tests.factories import UserFactory
from tests.helpers import login

from .helpers import deadline_rules_seeded


@pytest.fixture(autouse=True)
def rules(db):
    return deadline_rules_seeded()


@pytest.fixture
def incident(units, it_admin, officer_bien_hoa):
    incident = incident_report(
        actor=officer_bien_hoa, title="Lộ mật khẩu tài khoản một cửa phường Tân Phong",
        category=IncidentCategory.PERSONAL_DATA_BREACH, discovered_at=timezone.now() - timedelta(hours=5),
        description="Mật khẩu bị dán lên nhóm Zalo của phường", units=[units["tan_phong"]],
        systems=["Hệ thống thông tin giải quyết thủ tục hành chính"], personal_data_involved=True,
        personal_data_categories="Họ tên, số định danh cá nhân", citizens_affected=1250)
    leaked = UserFactory(username="cb.tanphong9", unit=units["tan_phong"])
    account_contain(actor=it_admin, account=leaked, reason="Lộ mật khẩu", incident=incident)
    return incident


def _text(pdf: bytes) -> str:
    """The text of every page with the whitespace taken out (pypdf's line breaks and spacing vary)."""
    return "".join("".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _embedded_fonts(pdf: bytes) -> set[str]:
    """The names of the fonts whose glyphs are inside the file (a FontFile2 in their descriptor)."""
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                if "/FontFile2" in descriptor:
                    names.add(str(font["/BaseFont"]).split("+", 1)[-1])
    return names


def test_the_incident_report_downloads_as_a_pdf_with_the_records_fields(incident, it_admin):
    answer = login(Client(), it_admin).get(reverse("incidents:print", args=[incident.pk]) + "?format=pdf")

    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    assert answer["Content-Disposition"] == f'attachment; filename="{incident.number}.pdf"'
    assert _embedded_fonts(answer.content) == {"DejaVuSansBook", "DejaVuSansBold"}
    text = _text(answer.content)
    discovered = timezone.localtime(incident.discovered_at).strftime("%d/%m/%Y %H:%M")
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "BÁO CÁO",
                     f"Sự cố an toàn thông tin mạng — {incident.number}", incident.title, incident.get_category_display(),
                     discovered, "UBND phường Tân Phong (000.01.31.H19)",
                     "Hệ thống thông tin giải quyết thủ tục hành chính", "Họ tên, số định danh cá nhân",
                     "khoảng 1250 công dân", "Mật khẩu bị dán lên nhóm Zalo của phường", "Bài học kinh nghiệm",
                     "Nơi nhận:", "GIÁM ĐỐC"):
        assert _squeeze(expected) in text, expected
    containment = incident.containments.get()
    started = timezone.localtime(containment.started_at).strftime("%d/%m/%Y %H:%M")
    assert _squeeze(f"{containment.get_target_display()}: cb.tanphong9 — {started}") in text
    for deadline in incident_deadlines(incident):
        assert _squeeze(deadline.label) in text, deadline.label


def test_a_notification_draft_downloads_as_a_pdf_addressed_to_its_authority(incident, leader_bien_hoa):
    draft = next(d for d in incident_deadlines(incident) if d.code == "breach_notification_a05")
    answer = login(Client(), leader_bien_hoa).get(
        reverse("incidents:print", args=[incident.pk]) + "?draft=breach_notification_a05&format=pdf")

    assert answer.status_code == 200
    assert answer["Content-Disposition"] == f'attachment; filename="{incident.number}-breach_notification_a05.pdf"'
    text = _text(answer.content)
    for expected in ("THÔNG BÁO", f"{draft.label} — {incident.number}", f"Kính gửi: {draft.authority}",
                     f"Căn cứ pháp lý: {draft.legal_basis}",
                     f"Hạn xử lý: {timezone.localtime(draft.due_at).strftime('%d/%m/%Y %H:%M')}", incident.title):
        assert _squeeze(expected) in text, expected
    assert _squeeze("Bài học kinh nghiệm") not in text


def test_the_pdf_is_refused_to_an_officer_and_for_an_unknown_draft(incident, it_admin, officer_bien_hoa):
    url = reverse("incidents:print", args=[incident.pk])
    assert login(Client(), officer_bien_hoa).get(url + "?format=pdf").status_code == 404
    assert login(Client(), it_admin).get(url + "?draft=nope&format=pdf").status_code == 404
