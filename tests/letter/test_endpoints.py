"""Letter point 4 through the pages: the endpoint-protection register imported from CSV/XLSX (all or
nothing, reported line by line), kept by hand, scoped, and judged (unchecked for 90 days, signatures
older than 7 days, unmanaged count against the unit)."""
import io
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from audit.choices import EventKind
from audit.models import SecurityEvent
from letter import selectors
from letter.choices import EndpointSource, UpdateState
from letter.models import Endpoint, EndpointImport
from tests.helpers import login

HEADER = "Mã tài sản,Mã đơn vị,Tên máy,Người sử dụng,Hệ điều hành,Phiên bản hệ điều hành,Cập nhật," \
         "Phần mềm phòng chống mã độc,Phiên bản phòng chống mã độc,Ngày cập nhật mẫu,Quản lý tập trung," \
         "Agent giám sát,Chia sẻ thông tin,Ngày kiểm tra"


def _day(days_ago):
    return (timezone.localdate() - timedelta(days=days_ago)).strftime("%d/%m/%Y")


def _csv(*lines, name="may-tinh.csv"):
    return SimpleUploadedFile(name, ("\n".join([HEADER, *lines]) + "\n").encode("utf-8"), content_type="text/csv")


def _line(tag, unit="000.01.31.H19", signature=1, checked=2, managed="có", agent="có", sharing="có"):
    return (f"{tag},{unit},PC-{tag},Phạm Thị Hương,Windows,11 23H2,đã cập nhật,BKAV Pro,5.1,{_day(signature)},"
            f"{managed},{agent},{sharing},{_day(checked)}")


def test_a_leader_imports_the_units_computers(client, leader_bien_hoa, units):
    login(client, leader_bien_hoa)
    response = client.post(reverse("letter:endpoint_import"), {"register": _csv(_line("TP-001"), _line("TP-002"))})
    record = EndpointImport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("letter:endpoint_import_detail", args=[record.pk])
    assert (record.created, record.updated, record.problems) == (2, 0, [])
    endpoint = Endpoint.objects.get(asset_tag="TP-001")
    assert (endpoint.unit, endpoint.antimalware_product, endpoint.update_state, endpoint.centrally_managed,
            endpoint.source) == (units["tan_phong"], "BKAV Pro", UpdateState.UP_TO_DATE, True, EndpointSource.CSV)
    assert SecurityEvent.objects.filter(kind=EventKind.ENDPOINTS_IMPORTED).count() == 1
    # A second file updates by asset tag.
    client.post(reverse("letter:endpoint_import"), {"register": _csv(_line("TP-001", managed="không"))})
    assert EndpointImport.objects.latest("id").updated == 1
    assert Endpoint.objects.get(asset_tag="TP-001").centrally_managed is False
    assert Endpoint.objects.count() == 2


def test_it_reports_every_bad_line_and_imports_nothing(client, leader_bien_hoa, units):
    login(client, leader_bien_hoa)
    response = client.post(reverse("letter:endpoint_import"), {"register": _csv(
        _line("TP-001"),
        _line("TP-002", unit="000.01.32.H19"),          # Xuân An: outside Biên Hòa's subtree
        _line("TP-003", unit="999.99.99.H19"),          # no such unit
        _line("TP-001"),                                # the same tag twice
        _line("TP-005").replace(_day(1), "2026-13-45"),  # not a date
        "TP-006,000.01.31.H19,,,,,,,,,có lẽ,có,có,")}, follow=True)
    record = EndpointImport.objects.get()
    assert record.problems == [
        [3, "Mã định danh đơn vị 000.01.32.H19 không tồn tại (hoặc nằm ngoài phạm vi của bạn)."],
        [4, "Mã định danh đơn vị 999.99.99.H19 không tồn tại (hoặc nằm ngoài phạm vi của bạn)."],
        [5, "Mã tài sản TP-001 trùng với dòng 2."],
        [6, "Ngày cập nhật mẫu nhận diện “2026-13-45” không phải ngày viết theo dạng dd/mm/yyyy."],
        [7, "Quản lý tập trung: ghi có hoặc không, không ghi “có lẽ”."],
    ]
    assert Endpoint.objects.count() == 0
    assert "Dòng 5: Mã tài sản TP-001 trùng với dòng 2." in response.content.decode()


def test_it_refuses_a_file_without_the_required_columns(client, leader_bien_hoa):
    login(client, leader_bien_hoa)
    upload = SimpleUploadedFile("x.csv", "Tên máy,Người sử dụng\nPC-1,An\n".encode(), content_type="text/csv")
    client.post(reverse("letter:endpoint_import"), {"register": upload})
    [[line, message]] = EndpointImport.objects.get().problems
    assert line == 1
    assert message.startswith("Thiếu cột: mã tài sản, mã định danh đơn vị.")


def test_it_reads_an_xlsx_glpi_export(client, it_admin, units):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Inventory number", "Mã đơn vị", "Operating system - Name", "Operating system - Version",
                  "Antivirus - Name", "Antivirus - Version", "Signature date", "Centrally managed", "Last update"])
    sheet.append(["PC-KT-01", "KT-01", "000.00.32.H19", "Windows", "10 22H2", "Kaspersky", "12.0", _day(20), "yes",
                  _day(100)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    login(client, it_admin).post(reverse("letter:endpoint_import"), {"register": SimpleUploadedFile(
        "glpi.xlsx", buffer.getvalue())})
    endpoint = Endpoint.objects.get()
    assert (endpoint.asset_tag, endpoint.hostname, endpoint.unit, endpoint.source) == (
        "KT-01", "PC-KT-01", units["long_khanh"], EndpointSource.GLPI)
    annotated = selectors.endpoints_annotated(Endpoint.objects.all(), timezone.localdate()).get()
    assert (annotated.is_unchecked, annotated.is_stale_signatures, annotated.is_unmanaged,
            annotated.counts_against) == (True, True, False, True)


def test_the_register_counts_against_the_unit(leader_bien_hoa, units):
    today = timezone.localdate()

    def make(tag, **fields):
        values = {"unit": units["tan_phong"], "centrally_managed": True, "monitoring_agent": True,
                  "monitoring_sharing": True, "signature_date": today, "last_checked": today}
        values.update(fields)
        return Endpoint.objects.create(asset_tag=tag, **values)

    make("OK-1")
    make("OLD-CHECK", last_checked=today - timedelta(days=91))
    make("RECENT-CHECK", last_checked=today - timedelta(days=90))
    make("OLD-SIG", signature_date=today - timedelta(days=8))
    make("UNMANAGED", centrally_managed=False)
    make("NO-AGENT", monitoring_agent=False)
    figures = selectors.endpoint_figures(selectors.endpoints_visible_to(leader_bien_hoa), today)
    assert figures == {"total": 6, "against": 3, "unchecked": 1, "stale_signatures": 1, "unmanaged": 1,
                       "not_sharing": 1}


def test_a_duplicated_asset_tag_is_refused_by_hand(client, leader_bien_hoa, units):
    Endpoint.objects.create(asset_tag="TP-001", unit=units["tan_phong"])
    login(client, leader_bien_hoa)
    response = client.post(reverse("letter:endpoint_create"), {
        "asset_tag": "tp-001", "unit": units["tan_phong"].pk, "update_state": "unknown", "centrally_managed": "no",
        "monitoring_agent": "no", "monitoring_sharing": "no", "signature_date": "05/12/2026x"})
    assert response.status_code == 200
    assert response.context["form"].errors["signature_date"] == ["Nhập ngày theo dạng dd/mm/yyyy, ví dụ 31/01/2024."]
    response = client.post(reverse("letter:endpoint_create"), {
        "asset_tag": "tp-001", "unit": units["tan_phong"].pk, "update_state": "unknown", "centrally_managed": "no",
        "monitoring_agent": "no", "monitoring_sharing": "no"})
    assert response.context["form"].errors["asset_tag"] == ["Mã tài sản tp-001 đã có trong sổ đăng ký."]
    assert Endpoint.objects.count() == 1


def test_the_register_is_scoped(client, leader_bien_hoa, officer_bien_hoa, inspector, units):
    mine = Endpoint.objects.create(asset_tag="TP-001", unit=units["tan_phong"])
    other = Endpoint.objects.create(asset_tag="XA-001", unit=units["xuan_an"])
    login(client, leader_bien_hoa)
    page = client.get(reverse("letter:endpoints"))
    assert [endpoint.asset_tag for endpoint in page.context["page"]] == ["TP-001"]
    assert client.get(reverse("letter:endpoint_edit", args=[other.pk])).status_code == 404
    assert client.get(reverse("letter:endpoint_edit", args=[mine.pk])).status_code == 200
    client.logout()
    assert login(client, officer_bien_hoa).get(reverse("letter:endpoints")).status_code == 403
    client.logout()
    login(client, inspector)
    assert [e.asset_tag for e in client.get(reverse("letter:endpoints")).context["page"]] == ["TP-001", "XA-001"]
    assert client.get(reverse("letter:endpoint_create")).status_code == 403


def test_the_export_reimports_as_it_is(client, leader_bien_hoa, units):
    login(client, leader_bien_hoa)
    client.post(reverse("letter:endpoint_import"), {"register": _csv(_line("TP-001"))})
    exported = client.get(reverse("letter:endpoint_export", args=["csv"]))
    assert exported.status_code == 200
    client.post(reverse("letter:endpoint_import"), {"register": SimpleUploadedFile(
        "lai.csv", exported.content, content_type="text/csv")})
    assert EndpointImport.objects.latest("id").problems == []
    assert EndpointImport.objects.latest("id").updated == 1
