"""Roster reconciliation: a unit's staff list against its accounts; bad files reported line by line."""
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from accounts.models import RosterImport
from accounts.roster_file import roster_read
from accounts.services.reconciliation import roster_import_run, roster_import_start, roster_reconcile
from portal.errors import NotAllowed
from tests.factories import UnitFactory, UserFactory

HEADER = "Họ và tên,Mã đơn vị,Chức vụ,Trạng thái,Email,Điện thoại\n"


def _csv(*lines, header=HEADER, encoding="utf-8") -> bytes:
    return (header + "".join(line + "\n" for line in lines)).encode(encoding)


def _known(*codes):
    return lambda asked: set(codes) & set(asked)


def test_it_reads_a_good_csv_with_vietnamese_headers(db):
    roster = roster_read(_csv("Phạm Thị Hoa,000.01.31.H19,Chuyên viên,Đang công tác,hoa@dongnai.gov.vn,0912 345 678"),
                         "ds.csv", _known("000.01.31.H19"))
    assert roster.problems == []
    [row] = roster.rows
    assert (row.full_name, row.status, row.email, row.line) == ("Phạm Thị Hoa", "active", "hoa@dongnai.gov.vn", 2)


@pytest.mark.parametrize("data, name, problems", [
    (_csv("A,000.01.31.H19,CV,Đang công tác", header="Tên,Đơn vị\n"), "ds.csv",
     [(1, "Thiếu cột: họ và tên, mã định danh đơn vị, chức vụ, trạng thái. Dòng đầu tiên phải ghi tên các cột "
          "(Họ và tên, Mã định danh đơn vị, Chức vụ, Trạng thái, Thư điện tử, Điện thoại).")]),
    (_csv("Nguyễn Văn Đức,000.01.31.H19,CV,Đang công tác", encoding="utf-16"), "ds.csv",
     [(0, "Tệp không phải văn bản UTF-8: trong Excel chọn “Save as → CSV UTF-8”, hoặc tải lên chính tệp .xlsx.")]),
    (_csv("A B,999.99.99.H19,CV,Đang công tác"), "ds.csv",
     [(2, "Mã định danh đơn vị 999.99.99.H19 không tồn tại (hoặc nằm ngoài phạm vi của bạn).")]),
    (_csv("A B,000.01.31.H19,CV,Đang công tác,a@x.vn", "A B,000.01.31.H19,CV,Đang công tác,a@x.vn"), "ds.csv",
     [(3, "Trùng cán bộ ở dòng 2.")]),
    (_csv("=HYPERLINK(\"http://x\"),000.01.31.H19,CV,Đang công tác"), "ds.csv",
     [(2, "Có ô bắt đầu bằng = + - hoặc @ (công thức); hãy nhập giá trị cụ thể, không dùng công thức.")]),
    (_csv("A B,000.01.31.H19,CV,Đi chơi"), "ds.csv",
     [(2, "Trạng thái “Đi chơi” không hợp lệ (dùng: đang công tác, nghỉ việc, nghỉ hưu, chuyển công tác, "
          "chuyển ra ngoài tỉnh, nghỉ dài hạn).")]),
    (b"MZ\x90\x00binary", "ds.exe", [(0, "Hãy tải lên danh sách dạng tệp .csv (UTF-8) hoặc .xlsx.")]),
    (b"not a zip", "ds.xlsx", [(0, "Không đọc được tệp Excel (.xlsx); hãy mở và lưu lại tệp bằng Excel rồi tải lên lại.")]),
])
def test_it_reports_each_kind_of_bad_file_by_line(db, data, name, problems):
    roster = roster_read(data, name, _known("000.01.31.H19"))
    assert roster.problems == problems
    assert roster.rows == []


def test_it_refuses_more_than_twenty_thousand_rows(db):
    data = _csv(*[f"Cán bộ {n},000.01.31.H19,CV,Đang công tác" for n in range(20_001)])
    assert roster_read(data, "ds.csv", _known("000.01.31.H19")).problems == [
        (0, "Tệp có hơn 20000 dòng; hãy tách theo đơn vị.")]


def test_it_refuses_a_formula_in_an_xlsx_cell(db):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Họ và tên", "Mã đơn vị", "Chức vụ", "Trạng thái"])
    sheet.append(["Lê Văn Tâm", "000.01.31.H19", "CV", "Đang công tác"])
    sheet.append(["=1+1", "000.01.31.H19", "CV", "Đang công tác"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    roster = roster_read(buffer.getvalue(), "ds.xlsx", _known("000.01.31.H19"))
    assert roster.problems == [(3, "Cột A chứa công thức; hãy nhập giá trị cụ thể, không dùng công thức."),
                               (3, "Họ tên và mã định danh đơn vị là bắt buộc.")]


def test_it_finds_orphans_departed_officers_and_officers_without_an_account(db, units, leader_bien_hoa):
    ward = units["tan_phong"]
    hoa = UserFactory(username="cb.hoa", full_name="Phạm Thị Hoa", unit=ward, email="hoa@dongnai.gov.vn")
    tam = UserFactory(username="cb.tam", full_name="Lê Văn Tâm", unit=ward, email="")
    orphan = UserFactory(username="cb.cu", full_name="Trần Văn Cũ", unit=ward)
    roster = roster_read(_csv(
        "Pham Thi Hoa,000.01.31.H19,Chuyên viên,Đang công tác,HOA@dongnai.gov.vn",
        "LE VAN TAM,000.01.31.H19,Công chức,Nghỉ hưu",
        "Đỗ Thị Mới,000.01.31.H19,Công chức,Đang công tác",
    ), "ds.csv", _known(ward.code))
    result = roster_reconcile(actor=leader_bien_hoa, rows=roster.rows)
    assert result.matched == 2
    assert result.orphans == [orphan]
    assert [(row.full_name, account) for row, account in result.left_active] == [("LE VAN TAM", tam)]
    assert [row.full_name for row in result.without_account] == ["Đỗ Thị Mới"]
    assert hoa not in result.orphans


def test_two_accounts_with_one_name_are_reported_not_guessed(db, units, leader_bien_hoa):
    ward = units["tan_phong"]
    UserFactory(username="cb.an1", full_name="Nguyễn Văn An", unit=ward, email="")
    UserFactory(username="cb.an2", full_name="Nguyễn Văn An", unit=ward, email="")
    roster = roster_read(_csv("Nguyễn Văn An,000.01.31.H19,CV,Đang công tác"), "ds.csv", _known(ward.code))
    result = roster_reconcile(actor=leader_bien_hoa, rows=roster.rows)
    assert ([row.line for row in result.ambiguous], result.matched) == ([2], 0)


def test_a_ten_thousand_row_roster_takes_a_constant_number_of_queries(db, units, leader_bien_hoa,
                                                                        django_assert_num_queries):
    wards = [UnitFactory(code=f"000.{n:02d}.55.H19", parent=units["bien_hoa"]) for n in range(1, 11)]
    for index, ward in enumerate(wards):
        for k in range(5):  # the officers of rows index, index + 10, … in this ward
            UserFactory(username=f"cb.{ward.pk}.{k}", full_name=f"Cán bộ {index + 10 * k}", unit=ward, email="")
    lines = [f"Cán bộ {n},{wards[n % 10].code},CV,Đang công tác,cb{n}@x.vn" for n in range(10_000)]
    roster = roster_read(_csv(*lines), "ds.csv", _known(*[ward.code for ward in wards]))
    assert roster.problems == [] and len(roster.rows) == 10_000
    with django_assert_num_queries(1):
        result = roster_reconcile(actor=leader_bien_hoa, rows=roster.rows)
    assert result.matched == 50 and len(result.without_account) == 9_950


def test_a_leader_cannot_reconcile_units_outside_the_subtree(db, units, leader_bien_hoa):
    from accounts.services.reconciliation import _known_codes_for

    known = _known_codes_for(leader_bien_hoa)
    assert known({units["tan_phong"].code, units["xuan_an"].code}) == {units["tan_phong"].code}


def test_an_officer_may_not_upload_a_roster(db, officer_bien_hoa):
    with pytest.raises(NotAllowed):
        roster_import_start(actor=officer_bien_hoa, uploaded=SimpleUploadedFile("ds.csv", _csv()))


def test_a_small_upload_is_reconciled_at_once_and_a_bad_one_changes_nothing(db, units, leader_bien_hoa):
    good = roster_import_start(actor=leader_bien_hoa, uploaded=SimpleUploadedFile(
        "ds.csv", _csv("Đỗ Thị Mới,000.01.31.H19,Công chức,Đang công tác")))
    assert good.state == RosterImport.State.DONE and good.result["without_account"][0]["full_name"] == "Đỗ Thị Mới"
    bad = roster_import_start(actor=leader_bien_hoa, uploaded=SimpleUploadedFile(
        "ds.csv", _csv("A,000.01.32.H19,CV,Đang công tác")))
    assert bad.state == RosterImport.State.REFUSED
    assert bad.problems == [[2, "Mã định danh đơn vị 000.01.32.H19 không tồn tại (hoặc nằm ngoài phạm vi của bạn)."]]
    assert bad.result == {}


@pytest.mark.django_db(transaction=True)
def test_a_large_upload_runs_on_the_worker_once(celery_worker, units, leader_bien_hoa, settings):
    from pathlib import Path

    from accounts.tasks import reconcile_roster

    settings.PRIVATE_MEDIA_ROOT = celery_worker.private_media_root
    lines = [f"Cán bộ số {n},000.01.31.H19,Chuyên viên,Đang công tác,cb{n}@dongnai.gov.vn" for n in range(6000)]
    before = celery_worker.runs_of(reconcile_roster)
    roster_import = roster_import_start(actor=leader_bien_hoa, uploaded=SimpleUploadedFile("ds.csv", _csv(*lines)))
    assert roster_import.state == RosterImport.State.PENDING
    celery_worker.wait_done(reconcile_roster, before + 1)
    roster_import.refresh_from_db()
    assert (roster_import.state, roster_import.rows_done, len(roster_import.result["without_account"])) == (
        RosterImport.State.DONE, 6000, 6000)
    assert roster_import_run(import_id=roster_import.pk) is None  # a redelivery does nothing
    assert list(Path(celery_worker.private_media_root).rglob("*.csv")) == []
