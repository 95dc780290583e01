"""Every XLSX writer keeps working whatever text the records hold (a control character typed into a
refused lookup stays in an append-only table for good), and an exported sheet opens as a person
expects: a title block, a frozen header with a filter, real dates, yes/no as words, sensible widths."""
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from lookups.choices import Decision
from lookups.models import LookupRecord
from lookups.services import citizen_id_hash
from portal.exports import HEADING_ROWS, ExportHeading, csv_bytes, text_storable, xlsx_bytes
from tests.helpers import login, xlsx_table

VN = ZoneInfo("Asia/Ho_Chi_Minh")
HOSTILE = "07\x00509\x1b5\x0b00\ud8001234\ufffe"


def test_text_storable_drops_only_what_xml_cannot_hold():
    assert text_storable(HOSTILE) == "075095001234"
    assert text_storable("Tân Phong\tdòng 1\ndòng 2\r") == "Tân Phong\tdòng 1\ndòng 2\r"


def test_an_xlsx_export_of_hostile_text_opens_without_it():
    content = xlsx_bytes(["Mã\x07 hồ sơ"], [[HOSTILE], ["=1+1\x01"]], title="Danh\x00 sách")
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows == [("Mã hồ sơ",), ("075095001234",), ("'=1+1",)]
    assert sheet.title == "Danh sách"


def test_a_csv_export_of_hostile_text_is_written_without_it():
    text = csv_bytes(["a"], [[HOSTILE]]).decode("utf-8")
    assert text == "\ufeffa\r\n075095001234\r\n"


def _hostile_record(officer):
    return LookupRecord.objects.create(
        decided_at=datetime(2026, 12, 1, 8, 5, tzinfo=VN), officer=officer, officer_username=officer.username,
        unit_id_then=officer.unit_id, unit_code_then=officer.unit.code, dossier_code="HS\x01-1\x1b",
        purpose="Tra\x0b cứu", decision=Decision.REFUSE, reason="citizen_id_malformed",
        citizen_id_hash=citizen_id_hash("075095001234"), citizen_id_masked="07\x02*******\x1b4",
        ip_address="10.0.0.1")


@pytest.mark.django_db
def test_the_lookup_log_and_history_export_as_xlsx_after_a_hostile_call(client, inspector, officer_bien_hoa):
    _hostile_record(officer_bien_hoa)
    login(client, inspector)
    log = client.get("/compliance/export/lookups.xlsx")
    assert log.status_code == 200
    _sheet, rows = xlsx_table(log.content)
    assert [row[3] for row in rows[1:]] == ["HS-1"]
    assert [row[6] for row in rows[1:]] == ["07*******4"]
    history = client.get(reverse("lookups:history_export", args=[officer_bien_hoa.pk, "xlsx"]))
    assert history.status_code == 200
    _sheet, rows = xlsx_table(history.content)
    assert [(row[3], row[4], row[5]) for row in rows[1:]] == [("07*******4", "HS-1", "Tra cứu")]


@pytest.mark.django_db
def test_an_exported_sheet_has_a_title_block_a_frozen_filtered_header_dates_and_words(client, leader_bien_hoa,
                                                                                        officer_bien_hoa, units):
    officer_bien_hoa.last_login = datetime(2026, 11, 20, 7, 30, tzinfo=VN)
    officer_bien_hoa.save(update_fields=["last_login"])
    login(client, leader_bien_hoa)
    response = client.get(f"/compliance/export/accounts.xlsx?unit={units['tan_phong'].pk}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    title, unit_line, exported_line = (sheet.cell(row=n, column=1).value for n in (1, 2, 3))
    assert title == "Tài khoản"
    assert unit_line == f"Đơn vị: {units['tan_phong'].name} và các đơn vị trực thuộc"
    assert exported_line.startswith("Xuất lúc ")
    assert exported_line.endswith(" bởi Lê Minh Tuấn (ld.bienhoa)")
    assert sheet.cell(row=1, column=1).font.b is True
    header_row = HEADING_ROWS + 1
    assert sheet.freeze_panes == f"A{header_row + 1}"
    assert sheet.auto_filter.ref == f"A{header_row}:I{header_row + 1}"
    assert sheet.cell(row=header_row, column=1).value == "Tên đăng nhập"
    assert sheet.cell(row=header_row, column=1).font.b is True
    row = [cell for cell in sheet[header_row + 1]]
    assert row[0].value == "cb.tanphong"
    assert row[5].value == "Có"
    assert row[7].value == datetime(2026, 11, 20, 7, 30)
    assert row[7].number_format == "dd/mm/yyyy hh:mm"
    assert sheet.column_dimensions["B"].width == len("Phạm Thị Hương") + 2
    assert sheet.column_dimensions["H"].width == len(sheet.cell(row=header_row, column=8).value) + 3 + 2


def test_a_heading_names_the_province_for_a_reader_who_sees_everything(it_admin):
    heading = ExportHeading.for_reader(title="Đơn vị", reader=it_admin, at=datetime(2026, 12, 6, 9, 5, tzinfo=VN))
    assert heading.lines() == ["Đơn vị", "Đơn vị: Toàn tỉnh", "Xuất lúc 06/12/2026 09:05 bởi Nguyễn Văn Hùng (qt.admin)"]


def test_days_are_real_dates_and_yes_no_are_words_in_both_formats():
    content = xlsx_bytes(["Ngày", "Quá hạn"], [[date(2026, 12, 7), False]])
    sheet = load_workbook(io.BytesIO(content)).active
    assert [cell.value for cell in sheet[2]] == [datetime(2026, 12, 7), "Không"]
    assert sheet.cell(row=2, column=1).number_format == "dd/mm/yyyy"
    assert sheet.freeze_panes == "A2"
    assert csv_bytes(["Ngày", "Quá hạn"], [[date(2026, 12, 7), True]]).decode("utf-8-sig").splitlines()[1] == \
        "07/12/2026,Có"
