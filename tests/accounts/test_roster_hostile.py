"""Hostile roster files (issue 22): an XLSX row bomb, a NUL in a CSV cell, bidirectional controls in a
name. Each is refused with a clear message and changes nothing; none gives a 500."""
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from accounts.models import RosterImport
from accounts.roster_file import roster_read
from accounts.services.reconciliation import roster_import_start

UNIT = "000.01.31.H19"
HEADER = "Họ và tên,Mã đơn vị,Chức vụ,Trạng thái,Email,Điện thoại\n"


def _known(*codes):
    return lambda asked: set(codes) & set(asked)


def _sheet_xml_chunks(cells_in_row_2: int, chunk: int = 100_000):
    yield (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
           b'<row r="1">')
    for title in ("Họ và tên", "Mã đơn vị", "Chức vụ", "Trạng thái"):
        yield f'<c t="inlineStr"><is><t>{title}</t></is></c>'.encode()
    yield b'</row><row r="2">'
    cell = b'<c t="n"><v>1</v></c>'
    left = cells_in_row_2
    while left:
        step = min(chunk, left)
        yield cell * step
        left -= step
    yield b"</row></sheetData></worksheet>"


def _workbook_with_row(cells: int, *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """A real workbook whose first sheet is replaced by one with a row of `cells` cells."""
    workbook = Workbook()
    workbook.active.append(["Họ và tên", "Mã đơn vị", "Chức vụ", "Trạng thái"])
    plain = io.BytesIO()
    workbook.save(plain)
    # Copied member by member, the sheet streamed in (zipfile cannot replace a member in place).
    crafted = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(crafted, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            if member.filename == "xl/worksheets/sheet1.xml":
                info = zipfile.ZipInfo(member.filename)
                info.compress_type = compression
                with target.open(info, "w", force_zip64=True) as stream:
                    for part in _sheet_xml_chunks(cells):
                        stream.write(part)
            else:
                target.writestr(member, source.read(member.filename))
    return crafted.getvalue()


def test_the_three_million_cell_row_bomb_is_refused_unread(db):
    data = _workbook_with_row(3_000_000)
    assert len(data) < 1024 * 1024  # a few hundred KB on the wire
    assert roster_read(data, "ds.xlsx", _known(UNIT)).problems == [
        (0, "Tệp Excel khi giải nén lớn hơn 50 MB: một danh sách cán bộ nhỏ hơn nhiều. Hãy chép các cột của danh "
            "sách sang một tệp Excel mới rồi tải lên tệp đó.")]


def test_a_workbook_packed_far_too_well_is_refused_unread(db):
    data = _workbook_with_row(200_000)
    assert roster_read(data, "ds.xlsx", _known(UNIT)).problems == [
        (0, "Tệp Excel được nén nhỏ hơn nội dung của nó quá 100 lần, điều không danh sách nào có: tệp bị từ "
            "chối mà không đọc.")]


def test_a_row_wider_than_excel_allows_is_refused_even_unpacked(db):
    data = _workbook_with_row(20_000, compression=zipfile.ZIP_STORED)
    assert roster_read(data, "ds.xlsx", _known(UNIT)).problems == [
        (0, "Dòng 2 của tệp Excel có hơn 16384 ô: không danh sách nào có nhiều cột như vậy.")]


def test_only_the_first_columns_are_read_from_a_wide_roster(db):
    workbook = Workbook()
    workbook.active.append(["Họ và tên", "Mã đơn vị", "Chức vụ", "Trạng thái"] + [f"Ghi chú {n}" for n in range(60)])
    workbook.active.append(["Lê Văn Tâm", UNIT, "Chuyên viên", "Đang công tác"] + ["x"] * 60)
    buffer = io.BytesIO()
    workbook.save(buffer)
    roster = roster_read(buffer.getvalue(), "ds.xlsx", _known(UNIT))
    assert roster.problems == []
    assert [(row.full_name, row.unit_code) for row in roster.rows] == [("Lê Văn Tâm", UNIT)]


@pytest.mark.parametrize("name, message", [
    ("Lê Văn\x00 Tâm", "Một ô chứa ký tự điều khiển (như NUL); hãy gõ lại dòng này."),
    ("Lê Văn \u202eTâm", "Một ô chứa ký tự điều khiển hướng chữ vô hình, có thể làm một tên hiển thị thành tên "
                          "khác; hãy gõ lại dòng này."),
    ("Lê Văn \u2067Tâm\u2069", "Một ô chứa ký tự điều khiển hướng chữ vô hình, có thể làm một tên hiển thị thành "
                                "tên khác; hãy gõ lại dòng này."),
])
def test_control_and_bidi_characters_are_refused_line_by_line(db, name, message):
    data = (HEADER + f"Trần Thị Hoa,{UNIT},CV,Đang công tác\n{name},{UNIT},CV,Đang công tác\n").encode()
    assert roster_read(data, "ds.csv", _known(UNIT)).problems == [(3, message)]


def test_a_nul_in_a_status_cell_is_refused_not_stored(db, units, leader_bien_hoa):
    data = (HEADER + f"Trần Thị Hoa,{UNIT},CV,Đang\x00 công tác\n").encode()
    roster_import = roster_import_start(actor=leader_bien_hoa,
                                        uploaded=SimpleUploadedFile("ds.csv", data, content_type="text/csv"))
    roster_import = RosterImport.objects.get(pk=roster_import.pk)
    assert (roster_import.state, roster_import.problems) == (
        RosterImport.State.REFUSED, [[2, "Một ô chứa ký tự điều khiển (như NUL); hãy gõ lại dòng này."]])


def test_a_roster_job_out_of_time_refuses_the_import_instead_of_leaving_it_running(db, leader_bien_hoa):
    from accounts.services.reconciliation import roster_import_time_out
    from accounts.tasks import reconcile_roster

    assert (reconcile_roster.soft_time_limit, reconcile_roster.time_limit) == (4 * 60, 5 * 60)
    running = RosterImport.objects.create(uploaded_by=leader_bien_hoa, file_name="ds.xlsx", sha256="0" * 64,
                                          state=RosterImport.State.RUNNING)
    assert roster_import_time_out(import_id=running.pk) is True
    running.refresh_from_db()
    assert (running.state, running.problems) == (RosterImport.State.REFUSED, [
        [0, "Tệp đọc quá lâu nên đã bị từ chối: hãy kiểm tra tệp chỉ chứa danh sách cán bộ, hoặc tách theo đơn vị."]])
    assert roster_import_time_out(import_id=running.pk) is False  # once


def test_a_sheet_with_an_entity_declaration_is_refused_as_unreadable(db):
    """defusedxml refuses DTDs and entities (billion laughs) in the scan, before openpyxl."""
    workbook = Workbook()
    workbook.active.append(["Họ và tên", "Mã đơn vị", "Chức vụ", "Trạng thái"])
    plain, crafted = io.BytesIO(), io.BytesIO()
    workbook.save(plain)
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
              b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
              b'<row r="1"><c t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>')
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(crafted, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            target.writestr(member, laughs if member.filename == "xl/worksheets/sheet1.xml"
                            else source.read(member.filename))
    assert roster_read(crafted.getvalue(), "ds.xlsx", _known(UNIT)).problems == [
        (0, "Không đọc được tệp Excel (.xlsx); hãy mở và lưu lại tệp bằng Excel rồi tải lên lại.")]
