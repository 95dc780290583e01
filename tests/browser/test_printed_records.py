"""Printed records on A4 from Chromium (as an IT Center clerk prints them): the signature block never
falls alone on the next page — the closing sentence goes with it — whatever the number of accounts in
the record; the issuing body is the one configured (DOCUMENT_*), not a fixed string."""
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.attachments import attachment_store
from accounts.choices import DepartureReason, TurnoverAction
from accounts.services import turnover
from tests.factories import UserFactory
from tests.helpers import pdf_bytes

from .test_turnover_journey import signed_in

pytestmark = [pytest.mark.browser]
CLOSING = "Ngườithựchiện:"  # the body's last paragraph, kept with the signatures
SIGNATURE_HINT = "(Ký,ghirõhọtên)"


def _executed_request(admin, leader, unit, ward, size):
    accounts = [UserFactory(unit=ward, full_name=f"Nguyễn Văn Số {n}") for n in range(size)]
    request = turnover.turnover_request_create(
        actor=leader, unit=unit, letter_number="125/UBND-VP", letter_date=timezone.localdate() - timedelta(days=1),
        effective_date=timezone.localdate(), issuing_unit_name=unit.name, signer_name="Trần Văn Bình",
        signer_position="Chủ tịch", attachment=attachment_store(SimpleUploadedFile("cv.pdf", pdf_bytes())),
        lines=[{"action": TurnoverAction.DISABLE, "account": account, "departure_reason": DepartureReason.LEFT}
               for account in accounts])
    turnover.turnover_request_submit(actor=leader, request=request)
    turnover.turnover_request_accept(actor=admin, request=request)
    return request


def _pages_text(page) -> list[str]:
    reader = PdfReader(io.BytesIO(page.pdf(format="A4", prefer_css_page_size=True)))
    # Without spaces: the extracted text splits Vietnamese letters from their marks with spaces.
    return ["".join(sheet.extract_text().split()) for sheet in reader.pages]


@pytest.mark.django_db(transaction=True)
def test_the_signature_block_never_falls_alone_on_the_next_page(journey, settings, tmp_path, units, it_admin,
                                                                leader_bien_hoa):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    clerk = signed_in(journey("printed-record"), it_admin)
    crossings = set()
    for size in range(1, 9):
        request = _executed_request(it_admin, leader_bien_hoa, units["bien_hoa"], units["tan_phong"], size)
        clerk.page.goto(clerk.url(reverse("accounts:turnover_record", args=[request.pk])))
        clerk.page.emulate_media(media="print")
        pages = _pages_text(clerk.page)
        # Whether the table of accounts itself runs on to the next page.
        crossings.add(len(pages) > 1 and "Vôhiệuhóatàikhoản" in pages[1])
        signed = [text for text in pages if SIGNATURE_HINT in text]
        assert len(signed) == 1, size
        assert CLOSING in signed[0], f"{size} accounts: the signatures stand alone on page {pages.index(signed[0]) + 1}"
        if size in (1, 5):
            clerk.screenshot(f"{size}-accounts")
    assert crossings == {False, True}  # the sizes tried end the table on either page
    clerk.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_the_issuing_body_is_the_configured_one(journey, settings, tmp_path, units, it_admin, leader_bien_hoa):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    request = _executed_request(it_admin, leader_bien_hoa, units["bien_hoa"], units["tan_phong"], 1)
    clerk = signed_in(journey("printed-record-issuer"), it_admin)
    with override_settings(DOCUMENT_GOVERNING_BODY="SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH ĐỒNG NAI",
                           DOCUMENT_ISSUER="TRUNG TÂM CHUYỂN ĐỔI SỐ", DOCUMENT_PLACE="Biên Hòa"):
        clerk.page.goto(clerk.url(reverse("accounts:turnover_record", args=[request.pk])))
        assert clerk.page.inner_text(".governing") == "SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH ĐỒNG NAI"
        assert clerk.page.inner_text(".issuer") == "TRUNG TÂM CHUYỂN ĐỔI SỐ"
        assert clerk.page.inner_text(".place-date").startswith("Biên Hòa, ngày ")
    clerk.screenshot("reorganised")
    clerk.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_the_monthly_report_reads_as_an_official_report(journey, units, inspector, leader_bien_hoa, officer_bien_hoa):
    from datetime import datetime, time

    from compliance.models import MonthlyReport
    from compliance.services import monthly_reports_generate, snapshot_take
    from portal.actors import SystemActor

    first = timezone.localdate().replace(day=1)
    snapshot_take(actor=SystemActor("compliance_job"),
                  now=timezone.make_aware(datetime.combine(first - timedelta(days=2), time(12))))
    monthly_reports_generate(actor=SystemActor("compliance_job"))
    report = MonthlyReport.objects.get(unit=units["bien_hoa"])
    reader = signed_in(journey("monthly-report"), inspector)
    reader.page.goto(reader.url(reverse("compliance:report", args=[report.pk])))
    assert reader.page.inner_text("h1.doc-kind") == "BÁO CÁO"
    assert reader.page.inner_text(".number") == f"Số: {report.figures['number']}"
    reader.screenshot("html")
    reader.page.emulate_media(media="print")
    pages = _pages_text(reader.page)
    assert "GIÁMĐỐC" in pages[-1]
    reader.assert_clean()
