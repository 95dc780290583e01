"""The monthly report: made once per unit and month from the snapshots, kept as made (a change of
today's data, a second run, an UPDATE all leave it as it was), scoped like every page."""
import io
from datetime import datetime, time, timedelta

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone
from openpyxl import load_workbook

from compliance.models import MonthlyReport
from compliance.services import monthly_reports_generate, snapshot_take
from portal.actors import SystemActor
from tests.factories import UserFactory
from tests.helpers import login

JOB = SystemActor("compliance_job")


def last_month_noon():
    first = timezone.localdate().replace(day=1)
    return timezone.make_aware(datetime.combine(first - timedelta(days=2), time(12)))


@pytest.fixture
def reports(units, leader_bien_hoa, officer_bien_hoa, officer_long_khanh):
    then = last_month_noon()
    UserFactory(unit=units["tan_phong"], password_changed_at=then - timedelta(days=100), created_at=then)
    snapshot_take(actor=JOB, now=then)
    assert monthly_reports_generate(actor=JOB) == len(units)
    return units


@pytest.mark.django_db
def test_a_past_report_does_not_change_when_todays_data_does(reports):
    report = MonthlyReport.objects.get(unit=reports["bien_hoa"])
    before = (report.html, bytes(report.pdf), bytes(report.xlsx), report.figures)
    assert report.figures["accounts_total"] == 3 and report.figures["accounts_compliant"] == 2
    for _ in range(5):
        UserFactory(unit=reports["tan_phong"], password_changed_at=None)
    snapshot_take(actor=JOB)
    assert monthly_reports_generate(actor=JOB) == 0
    report.refresh_from_db()
    assert (report.html, bytes(report.pdf), bytes(report.xlsx), report.figures) == before
    assert MonthlyReport.objects.count() == len(reports)


@pytest.mark.django_db
def test_the_database_refuses_to_change_a_report(reports):
    with pytest.raises(DatabaseError), transaction.atomic():
        MonthlyReport.objects.filter(unit=reports["bien_hoa"]).update(html="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        MonthlyReport.objects.filter(unit=reports["bien_hoa"]).delete()


@pytest.mark.django_db
def test_the_report_comes_as_pdf_and_xlsx_with_the_province_marked(reports, client, inspector):
    province = MonthlyReport.objects.get(unit=reports["province"])
    assert province.is_province is True
    assert bytes(province.pdf).startswith(b"%PDF")
    sheet = load_workbook(io.BytesIO(bytes(province.xlsx))).active
    assert sheet["B2"].value == "UBND tỉnh Đồng Nai"
    assert province.seal_digest == ""  # no seals yet: the slot is there, empty
    login(client, inspector)
    assert client.get(f"/compliance/reports/{province.pk}/report.pdf")["Content-Type"] == "application/pdf"
    assert "Báo cáo" in client.get(f"/compliance/reports/{province.pk}/").content.decode()


@pytest.mark.django_db
def test_a_leader_sees_only_the_reports_of_the_subtree(reports, client, leader_bien_hoa):
    login(client, leader_bien_hoa)
    listed = {report.unit_code for report in client.get("/compliance/reports/").context["page"]}
    assert listed == {"000.00.31.H19", "000.01.31.H19"}
    other = MonthlyReport.objects.get(unit=reports["xuan_an"])
    assert client.get(f"/compliance/reports/{other.pk}/").status_code == 404
    assert client.get(f"/compliance/reports/{other.pk}/report.xlsx").status_code == 404


@pytest.mark.django_db
def test_the_current_month_has_no_report_yet(units):
    from portal.errors import PolicyViolation

    with pytest.raises(PolicyViolation):
        monthly_reports_generate(actor=JOB, month=timezone.localdate().replace(day=1))


@pytest.mark.django_db
def test_the_report_carries_the_newest_seal_of_each_chain_at_the_time_it_was_made(units, leader_bien_hoa):
    from audit.sealing import seals_run
    from audit.selectors import seal_digests_latest
    from tests.audit.seal_helpers import lookup_records, security_events

    security_events(2)
    lookup_records(1)
    seals_run()
    latest = seal_digests_latest()
    snapshot_take(actor=JOB, now=last_month_noon())
    monthly_reports_generate(actor=JOB)
    province = MonthlyReport.objects.get(unit=units["province"])
    for table, seal in latest.items():
        assert f"{table} #{seal['position']} {seal['chain']}" in province.seal_digest
        assert seal["chain"] in province.html
    security_events(1)
    seals_run()
    province.refresh_from_db()
    assert latest["audit_securityevent"]["chain"] in province.seal_digest  # kept as made


@pytest.mark.django_db
def test_a_report_has_the_form_of_an_official_report(reports, settings):
    from pypdf import PdfReader

    report = MonthlyReport.objects.get(unit=reports["bien_hoa"])
    numbers = sorted(MonthlyReport.objects.values_list("figures__number", flat=True))
    assert numbers == [f"{n:04d}/BC-TTCNTT" for n in range(1, len(reports) + 1)]
    today = timezone.localdate()
    month = f"{today.month:02d}" if today.month < 3 else str(today.month)
    for text in ("SỞ THÔNG TIN VÀ TRUYỀN THÔNG TỈNH ĐỒNG NAI", "TRUNG TÂM CÔNG NGHỆ THÔNG TIN VÀ TRUYỀN THÔNG",
                 f"Số: {report.figures['number']}", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                 f"Đồng Nai, ngày {today.day:02d} tháng {month} năm {today.year}", "BÁO CÁO",
                 f"Tình hình tuân thủ quy định an toàn tài khoản tháng {report.figures['month_label']}",
                 "Nơi nhận:", "Lưu: VT, TTCNTT.", "GIÁM ĐỐC", "(Ký, ghi rõ họ tên)"):
        assert text in report.html, text
    # The letter's five points come before the signature, which may then stand on a later page.
    text = "".join("".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(bytes(report.pdf))).pages)
    for words in ("CỘNGHÒAXÃHỘICHỦNGHĨAVIỆTNAM", "BÁOCÁO", f"Số:{report.figures['number']}", "GIÁMĐỐC"):
        assert words in text, words
    # The issuer is the one configured when the report was made; a later change leaves it as it was.
    settings.DOCUMENT_GOVERNING_BODY = "SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH ĐỒNG NAI"
    report.refresh_from_db()
    assert "SỞ THÔNG TIN VÀ TRUYỀN THÔNG TỈNH ĐỒNG NAI" in report.html
