"""Roster reconciliation through the web pages (letter point 2): the upload and its templates, the
report of a refused file line by line with nothing changed, the three lists, the prefilled turnover
form built from the stored result (never from posted names), scope, and a large roster processed by
the real worker while the progress endpoint follows it."""
import csv
import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from accounts.choices import Role
from accounts.models import RosterImport, TurnoverRequest, User
from audit.choices import EventKind
from audit.models import SecurityEvent
from tests.factories import UserFactory
from tests.helpers import login

ROSTER = reverse("accounts:roster")
NEW_REQUEST = reverse("accounts:turnover_create")
HEADER = "Họ và tên,Mã đơn vị,Chức vụ,Trạng thái,Email,Điện thoại\n"
COLUMNS = ["Họ và tên", "Mã định danh đơn vị", "Chức vụ", "Trạng thái", "Thư điện tử", "Điện thoại"]


def roster_file(*lines, name="ds.csv"):
    return SimpleUploadedFile(name, (HEADER + "".join(line + "\n" for line in lines)).encode(), content_type="text/csv")


@pytest.fixture
def leader_long_khanh(units):
    return UserFactory(username="ld.longkhanh", full_name="Đỗ Văn Long", role=Role.UNIT_LEADER,
                       unit=units["long_khanh"])


@pytest.fixture
def ward_staff(units):
    """Tân Phong's accounts: one still on the roster, one departed, one nobody owns."""
    ward = units["tan_phong"]
    return {
        "hoa": UserFactory(username="cb.hoa", full_name="Phạm Thị Hoa", unit=ward, email="hoa@dongnai.gov.vn"),
        "tam": UserFactory(username="cb.tam", full_name="Lê Văn Tâm", unit=ward, email="tam@dongnai.gov.vn"),
        "cu": UserFactory(username="cb.cu", full_name="Trần Văn Cũ", unit=ward, email="cu@dongnai.gov.vn"),
    }


def upload(client, *lines):
    response = client.post(ROSTER, {"roster": roster_file(*lines)})
    assert response.status_code == 302
    return RosterImport.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


GOOD_LINES = ("Phạm Thị Hoa,000.01.31.H19,Chuyên viên,Đang công tác,hoa@dongnai.gov.vn",
              "Lê Văn Tâm,000.01.31.H19,Công chức,Nghỉ hưu,tam@dongnai.gov.vn",
              "Đỗ Thị Mới,000.01.31.H19,Công chức,Đang công tác,moi@dongnai.gov.vn,0912 345 678")


def test_it_shows_the_three_lists_of_a_small_roster(client, leader_bien_hoa, ward_staff):
    login(client, leader_bien_hoa)
    roster_import = upload(client, *GOOD_LINES)
    page = client.get(reverse("accounts:roster_detail", args=[roster_import.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert page.context["orphans"] == [ward_staff["cu"]]
    assert [(item["row"]["line"], item["account"], str(item["status"])) for item in page.context["left"]] == [
        (3, ward_staff["tam"], "Nghỉ hưu")]
    assert [row["full_name"] for row in page.context["without_account"]] == ["Đỗ Thị Mới"]
    assert "Tài khoản không có cán bộ trong danh sách" in html
    assert "Cán bộ đã nghỉ nhưng tài khoản vẫn hoạt động" in html
    assert "Cán bộ chưa có tài khoản" in html
    assert 'http-equiv="refresh"' not in html  # only while running


def test_it_offers_the_template_in_both_formats(client, leader_bien_hoa):
    login(client, leader_bien_hoa)
    answer = client.get(reverse("accounts:roster_template", args=["csv"]))
    assert answer.status_code == 200
    assert answer["Content-Disposition"] == 'attachment; filename="danh-sach-can-bo-mau.csv"'
    assert list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")))) == [COLUMNS]
    answer = client.get(reverse("accounts:roster_template", args=["xlsx"]))
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert [cell.value for cell in sheet[1]] == COLUMNS
    assert client.get("/admin/accounts/roster/template.exe").status_code == 404


def test_the_xlsx_template_filled_in_is_read_back(client, leader_bien_hoa, units):
    login(client, leader_bien_hoa)
    workbook = load_workbook(io.BytesIO(client.get(reverse("accounts:roster_template", args=["xlsx"])).content))
    workbook.active.append(["Đỗ Thị Mới", "000.01.31.H19", "Công chức", "Đang công tác", "", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = client.post(ROSTER, {"roster": SimpleUploadedFile("ds.xlsx", buffer.getvalue())})
    roster_import = RosterImport.objects.get()
    assert response["Location"] == reverse("accounts:roster_detail", args=[roster_import.pk])
    assert (roster_import.state, roster_import.result["without_account"][0]["full_name"]) == ("done", "Đỗ Thị Mới")


def test_a_refused_roster_is_reported_line_by_line_and_changes_nothing(client, leader_bien_hoa, ward_staff):
    login(client, leader_bien_hoa)
    roster_import = upload(client, "Phạm Thị Hoa,000.01.31.H19,CV,Đang công tác",
                           "Trần B,999.99.99.H19,CV,Đang công tác", "Lê C,000.01.31.H19,CV,Đi chơi")
    html = client.get(reverse("accounts:roster_detail", args=[roster_import.pk])).content.decode()
    assert roster_import.state == "refused"
    assert "Chưa có thay đổi nào: hãy sửa các dòng dưới đây trong tệp rồi tải lên lại." in html
    assert "Dòng 3: Mã định danh đơn vị 999.99.99.H19 không tồn tại (hoặc nằm ngoài phạm vi của bạn)." in html
    assert "Dòng 4: Trạng thái “Đi chơi” không hợp lệ" in html
    assert roster_import.result == {}
    assert User.objects.filter(is_active=True).count() == 4


@pytest.mark.parametrize("upload_file, message", [
    (None, "Hãy chọn tệp danh sách cán bộ."),
    (SimpleUploadedFile("ds.txt", b"abc"), "Tệp: Hãy tải lên danh sách dạng tệp .csv (UTF-8) hoặc .xlsx."),
])
def test_it_refuses_a_missing_or_wrong_file(client, leader_bien_hoa, upload_file, message):
    login(client, leader_bien_hoa)
    response = client.post(ROSTER, {"roster": upload_file} if upload_file else {})
    if upload_file is None:
        assert response.status_code == 200
        assert message in response.content.decode()
        assert RosterImport.objects.count() == 0
    else:
        roster_import = RosterImport.objects.get()
        html = client.get(response["Location"]).content.decode()
        assert (roster_import.state, message in " ".join(html.split())) == ("refused", True)


@pytest.mark.parametrize("role_user", ["officer_bien_hoa", "inspector"])
def test_only_leaders_and_the_it_center_open_the_roster_pages(client, request, role_user):
    login(client, request.getfixturevalue(role_user))
    assert client.get(ROSTER).status_code == 403
    assert client.post(ROSTER, {"roster": roster_file(*GOOD_LINES)}).status_code == 403
    assert RosterImport.objects.count() == 0


def test_another_leaders_import_does_not_exist(client, leader_bien_hoa, leader_long_khanh, ward_staff):
    login(client, leader_bien_hoa)
    roster_import = upload(client, *GOOD_LINES)
    other = login(Client(), leader_long_khanh)
    for name in ("roster_detail", "roster_progress"):
        assert other.get(reverse(f"accounts:{name}", args=[roster_import.pk])).status_code == 404
    assert other.post(reverse("accounts:roster_turnover", args=[roster_import.pk]),
                      {"orphans": [ward_staff["cu"].pk]}).status_code == 404
    assert other.get(ROSTER).context["imports"].count() == 0


def test_a_leader_uploading_another_districts_roster_is_told_the_codes_are_unknown(client, leader_long_khanh,
                                                                                   ward_staff):
    login(client, leader_long_khanh)
    roster_import = upload(client, *GOOD_LINES)
    assert roster_import.state == "refused"
    assert roster_import.problems[0] == [2, "Mã định danh đơn vị 000.01.31.H19 không tồn tại (hoặc nằm ngoài phạm vi của bạn)."]


def test_the_chosen_rows_open_the_turnover_form_prefilled(client, leader_bien_hoa, ward_staff, units):
    login(client, leader_bien_hoa)
    roster_import = upload(client, *GOOD_LINES)
    newcomer_line = roster_import.result["without_account"][0]["line"]
    response = client.post(reverse("accounts:roster_turnover", args=[roster_import.pk]), {
        "orphans": [ward_staff["cu"].pk], "left": [3], "newcomers": [newcomer_line]})
    assert response["Location"] == NEW_REQUEST
    form_page = client.get(NEW_REQUEST)
    lines = form_page.context["lines"]
    assert [form.initial for form in lines.forms] == [
        {"action": "disable", "account": ward_staff["cu"].pk, "departure_reason": "left"},
        {"action": "disable", "account": ward_staff["tam"].pk, "departure_reason": "retired"},
        {"action": "create", "full_name": "Đỗ Thị Mới", "email": "moi@dongnai.gov.vn", "phone": "0912 345 678",
         "new_unit": units["tan_phong"].pk, "username": "moi.dt"},
        {},
    ]
    assert form_page.context["form"].initial == {"unit": units["bien_hoa"].pk,
                                                 "issuing_unit_name": "UBND thành phố Biên Hòa"}
    assert lines.management_form.initial["INITIAL_FORMS"] == 0
    assert "Các dòng lấy từ kết quả đối chiếu danh sách cán bộ “ds.csv”" in form_page.content.decode()
    # Once: a second opening of the form is an empty one.
    assert [form.initial for form in client.get(NEW_REQUEST).context["lines"].forms] == [{}, {}, {}]
    assert TurnoverRequest.objects.count() == 0  # the leader still adds the letter and saves


def test_a_proposed_username_that_is_taken_gets_a_number(client, leader_bien_hoa, ward_staff, units):
    UserFactory(username="moi.dt", unit=units["xuan_an"])
    login(client, leader_bien_hoa)
    roster_import = upload(client, *GOOD_LINES)
    client.post(reverse("accounts:roster_turnover", args=[roster_import.pk]), {"newcomers": [4]})
    assert client.get(NEW_REQUEST).context["lines"].forms[0].initial["username"] == "moi.dt2"


@pytest.mark.parametrize("chosen, message", [
    ({}, "Hãy chọn ít nhất một dòng."),
    ({"left": [99]}, "Có dòng đã chọn không thuộc lượt đối chiếu này; hãy tải lại trang."),
    ({"orphans": ["abc"]}, "Có dòng đã chọn không thuộc lượt đối chiếu này; hãy tải lại trang."),
])
def test_it_refuses_a_choice_outside_the_stored_result(client, leader_bien_hoa, ward_staff, chosen, message):
    login(client, leader_bien_hoa)
    roster_import = upload(client, *GOOD_LINES)
    response = client.post(reverse("accounts:roster_turnover", args=[roster_import.pk]), chosen, follow=True)
    assert [str(m) for m in response.context["messages"]] == [message]
    assert "turnover_prefill" not in client.session


def test_posted_names_are_ignored_the_lines_come_from_the_stored_result(client, leader_bien_hoa, ward_staff):
    login(client, leader_bien_hoa)
    roster_import = upload(client, *GOOD_LINES)
    client.post(reverse("accounts:roster_turnover", args=[roster_import.pk]),
                {"newcomers": [4], "full_name": "Kẻ Giả Mạo", "newcomers-4-email": "x@evil.example"})
    [line] = client.session["turnover_prefill"]["lines"]
    assert (line["full_name"], line["email"]) == ("Đỗ Thị Mới", "moi@dongnai.gov.vn")


def test_an_account_disabled_since_the_reconciliation_is_left_out(client, leader_bien_hoa, ward_staff):
    login(client, leader_bien_hoa)
    roster_import = upload(client, *GOOD_LINES)
    User.objects.filter(pk=ward_staff["cu"].pk).update(is_active=False)
    response = client.post(reverse("accounts:roster_turnover", args=[roster_import.pk]),
                           {"orphans": [ward_staff["cu"].pk]}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Các tài khoản đã chọn đều đã bị vô hiệu hóa; không còn gì để đề nghị."]


def test_a_post_without_the_csrf_token_is_refused(leader_bien_hoa, ward_staff):
    client = login(Client(enforce_csrf_checks=True), leader_bien_hoa)
    assert client.post(ROSTER, {"roster": roster_file(*GOOD_LINES)}).status_code == 403
    assert RosterImport.objects.count() == 0
    assert SecurityEvent.objects.filter(kind=EventKind.ROSTER_UPLOADED).count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_large_roster_runs_on_the_worker_and_the_progress_endpoint_says_when_it_is_done(
        celery_worker, client, units, leader_bien_hoa, settings):
    settings.PRIVATE_MEDIA_ROOT = celery_worker.private_media_root
    login(client, leader_bien_hoa)
    lines = [f"Cán bộ số {n},000.01.31.H19,Chuyên viên,Đang công tác,cb{n}@dongnai.gov.vn" for n in range(6000)]
    response = client.post(ROSTER, {"roster": roster_file(*lines)})
    roster_import = RosterImport.objects.get()
    detail = reverse("accounts:roster_detail", args=[roster_import.pk])
    assert response["Location"] == detail
    progress_url = reverse("accounts:roster_progress", args=[roster_import.pk])
    deadline = time.monotonic() + 60
    progress = client.get(progress_url).json()
    while progress["running"] and time.monotonic() < deadline:
        time.sleep(0.2)
        progress = client.get(progress_url).json()
    assert progress == {"state": "done", "running": False, "rows_done": 6000, "rows_total": 6000}
    page = client.get(detail)
    assert len(page.context["without_account"]) == 6000
    assert 'http-equiv="refresh"' not in page.content.decode()


def test_a_running_import_shows_the_bar_the_script_and_a_no_script_reload(client, leader_bien_hoa):
    roster_import = RosterImport.objects.create(uploaded_by=leader_bien_hoa, file_name="lon.csv", sha256="0" * 64,
                                                state=RosterImport.State.RUNNING, rows_total=6000, rows_done=2000)
    login(client, leader_bien_hoa)
    html = client.get(reverse("accounts:roster_detail", args=[roster_import.pk])).content.decode()
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html
    assert '<progress max="6000" value="2000"' in html
    assert "/static/js/roster-progress.js" in html
    assert "2000/6000 dòng" in html
    assert "<script>" not in html
    assert client.get(reverse("accounts:roster_progress", args=[roster_import.pk])).json() == {
        "state": "running", "running": True, "rows_done": 2000, "rows_total": 6000}


def test_the_nav_shows_the_roster_to_leaders_and_it_admins_only(client, leader_bien_hoa, officer_bien_hoa, inspector):
    for user, shown in ((leader_bien_hoa, True), (officer_bien_hoa, False), (inspector, False)):
        html = login(Client(), user).get(reverse("accounts:turnover_list")).content.decode()
        assert (f'href="{ROSTER}"' in html) is shown


def test_the_departure_reason_retired_reads_nghi_huu_not_a_dissolved_unit(client, leader_bien_hoa):
    """“Retired” was one msgid for a unit (giải thể) and an officer (nghỉ hưu): the turnover form and the
    roster's lists said a retired officer was a dissolved unit."""
    login(client, leader_bien_hoa)
    html = client.get(NEW_REQUEST).content.decode()
    assert '<option value="retired">Nghỉ hưu</option>' in html
    assert "Đã giải thể" not in html


def test_the_prefilled_lines_are_filed_as_they_are_with_the_letter(client, leader_bien_hoa, ward_staff, units,
                                                                   settings, tmp_path):
    from tests.accounts.test_turnover_views import letter_post

    settings.PRIVATE_MEDIA_ROOT = tmp_path
    login(client, leader_bien_hoa)
    roster_import = upload(client, *GOOD_LINES)
    client.post(reverse("accounts:roster_turnover", args=[roster_import.pk]),
                {"orphans": [ward_staff["cu"].pk], "left": [3], "newcomers": [4]})
    lines = [form.initial for form in client.get(NEW_REQUEST).context["lines"].forms if form.initial]
    post = letter_post(units["bien_hoa"], lines=lines)  # what the browser sends back untouched
    response = client.post(NEW_REQUEST, post)
    turnover_request = TurnoverRequest.objects.get()
    assert response["Location"] == reverse("accounts:turnover_detail", args=[turnover_request.pk])
    assert [(line.action, line.username, line.departure_reason) for line in turnover_request.lines.all()] == [
        ("disable", "cb.cu", "left"), ("disable", "cb.tam", "retired"), ("create", "moi.dt", "")]


def test_a_finished_reconciliation_reads_done_not_the_records_result_column(client, leader_bien_hoa, ward_staff):
    """“Done” was one msgid for an import's state and a record's column (Kết quả thực hiện)."""
    login(client, leader_bien_hoa)
    roster_import = upload(client, *GOOD_LINES)
    html = client.get(reverse("accounts:roster_detail", args=[roster_import.pk])).content.decode()
    assert '<span class="tag" data-testid="roster-state">Hoàn thành</span>' in html


def test_a_transfer_within_the_province_becomes_a_move_and_leaving_it_a_disable(client, leader_bien_hoa,
                                                                                ward_staff, units):
    login(client, leader_bien_hoa)
    roster_import = upload(client, "Phạm Thị Hoa,000.01.31.H19,Chuyên viên,Chuyển công tác,hoa@dongnai.gov.vn",
                           "Lê Văn Tâm,000.01.31.H19,Công chức,Chuyển ra ngoài tỉnh,tam@dongnai.gov.vn",
                           "Trần Văn Cũ,000.01.31.H19,Công chức,Đang công tác,cu@dongnai.gov.vn")
    page = client.get(reverse("accounts:roster_detail", args=[roster_import.pk])).content.decode()
    assert "Chuyển công tác trong tỉnh" in page and "Chuyển công tác ra ngoài tỉnh" in page
    client.post(reverse("accounts:roster_turnover", args=[roster_import.pk]), {"left": [2, 3]})
    lines = client.get(NEW_REQUEST).context["lines"]
    assert [form.initial for form in lines.forms[:2]] == [
        {"action": "move", "account": ward_staff["hoa"].pk},  # the leader chooses the new unit
        {"action": "disable", "account": ward_staff["tam"].pk, "departure_reason": "transferred_out"},
    ]
