"""Turnover requests through the web pages (letter point 2): filing with the letter's PDF, the
workflow's buttons, every refusal shown on the page with nothing stored, scope (404 for other units,
also by guessed ids), the attachment download, the list's figures and the printed record."""
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.attachments import attachment_store
from accounts.choices import DepartureReason, Role, TurnoverAction, TurnoverState
from accounts.models import Holiday, TurnoverRequest, User
from accounts.selectors import turnover_completion_times
from accounts.services import turnover
from audit.choices import EventKind
from audit.models import SecurityEvent
from tests.factories import UserFactory
from tests.helpers import login, pdf_bytes

LIST = reverse("accounts:turnover_list")
NEW = reverse("accounts:turnover_create")


@pytest.fixture
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(root):
    return sorted(path.name for path in root.rglob("*") if path.is_file())


@pytest.fixture
def leader_long_khanh(units):
    return UserFactory(username="ld.longkhanh", full_name="Đỗ Văn Long", role=Role.UNIT_LEADER,
                       unit=units["long_khanh"])


def letter_post(unit, *, upload=None, lines=None, **overrides):
    today = timezone.localdate()
    data = {
        "unit": unit.pk, "letter_number": "125/UBND-VP", "letter_date": (today - timedelta(days=2)).strftime("%d/%m/%Y"),
        "issuing_unit_name": unit.name, "signer_name": "Trần Văn Bình", "signer_position": "Chủ tịch",
        "effective_date": today.strftime("%d/%m/%Y"),
        "attachment": upload if upload is not None else SimpleUploadedFile("cv-125.pdf", pdf_bytes(),
                                                                           content_type="application/pdf"),
    }
    data.update(overrides)
    lines = lines or []
    data.update({"lines-TOTAL_FORMS": "3", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
                 "lines-MAX_NUM_FORMS": "50"})
    for index, line in enumerate(lines):
        for name, value in line.items():
            data[f"lines-{index}-{name}"] = value
    return {name: value for name, value in data.items() if value is not None}


def disable_line(account, reason=DepartureReason.LEFT):
    return {"action": TurnoverAction.DISABLE, "account": account.pk, "departure_reason": reason}


def file_request(actor, unit, lines, **overrides):
    """A request filed through the service (for the tests about what comes after filing)."""
    values = dict(letter_number="125/UBND-VP", letter_date=timezone.localdate() - timedelta(days=1),
                  effective_date=timezone.localdate(), issuing_unit_name=unit.name, signer_name="Trần Văn Bình",
                  signer_position="Chủ tịch", lines=lines,
                  attachment=attachment_store(SimpleUploadedFile("cv-125.pdf", pdf_bytes())))
    values.update(overrides)
    return turnover.turnover_request_create(actor=actor, unit=unit, **values)


def field_errors(response, form="form"):
    return response.context[form].errors


# ----- filing --------------------------------------------------------------------------------------

def test_a_leader_files_a_request_with_its_letter_through_the_form(client, units, leader_bien_hoa, officer_bien_hoa,
                                                                   private_media):
    login(client, leader_bien_hoa)
    response = client.post(NEW, letter_post(units["bien_hoa"], lines=[disable_line(officer_bien_hoa)]))
    request = TurnoverRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:turnover_detail", args=[request.pk])
    assert (request.state, request.letter_number, request.unit_id) == (TurnoverState.DRAFT, "125/UBND-VP",
                                                                        units["bien_hoa"].pk)
    assert request.letter_date == timezone.localdate() - timedelta(days=2)
    assert stored_files(private_media) == [f"{request.attachment_sha256}.pdf"]
    line = request.lines.get()
    assert (line.action, line.account_id, line.departure_reason) == ("disable", officer_bien_hoa.pk, "left")


def test_an_officer_may_only_draft_for_their_own_unit(client, units, officer_bien_hoa, private_media):
    login(client, officer_bien_hoa)
    page = client.get(NEW)
    assert [unit.pk for unit in page.context["form"].fields["unit"].queryset] == [units["tan_phong"].pk]
    response = client.post(NEW, letter_post(units["tan_phong"], lines=[
        {"action": TurnoverAction.CREATE, "full_name": "Ngô Thị Lan", "username": "cb.lan"}]))
    assert response.status_code == 302
    request = TurnoverRequest.objects.get()
    submit = client.post(reverse("accounts:turnover_submit", args=[request.pk]))
    assert submit.status_code == 302
    request.refresh_from_db()
    assert request.state == TurnoverState.DRAFT


@pytest.mark.parametrize("field, value, message", [
    ("letter_number", "", "Thông tin này là bắt buộc."),
    ("letter_number", "công văn 125", "Ghi số và ký hiệu như trên công văn, ví dụ 125/UBND-VP."),
    ("signer_name", "", "Thông tin này là bắt buộc."),
    ("signer_position", "", "Thông tin này là bắt buộc."),
    ("issuing_unit_name", "", "Thông tin này là bắt buộc."),
    ("letter_date", "30/02/2026", "Nhập một ngày hợp lệ."),
])
def test_it_refuses_missing_letter_fields_and_stores_nothing(client, units, leader_bien_hoa, officer_bien_hoa,
                                                            private_media, field, value, message):
    login(client, leader_bien_hoa)
    response = client.post(NEW, letter_post(units["bien_hoa"], lines=[disable_line(officer_bien_hoa)],
                                            **{field: value}))
    assert response.status_code == 200
    assert field_errors(response)[field] == [message]
    assert TurnoverRequest.objects.count() == 0
    assert stored_files(private_media) == []


def test_it_refuses_an_effective_date_before_the_letter_date(client, units, leader_bien_hoa, officer_bien_hoa,
                                                             private_media):
    login(client, leader_bien_hoa)
    today = timezone.localdate()
    response = client.post(NEW, letter_post(units["bien_hoa"], lines=[disable_line(officer_bien_hoa)],
                                            letter_date=today.strftime("%d/%m/%Y"),
                                            effective_date=(today - timedelta(days=1)).strftime("%d/%m/%Y")))
    assert response.status_code == 200
    assert field_errors(response) == {"effective_date": ["Ngày hiệu lực không được trước ngày công văn."]}
    assert TurnoverRequest.objects.count() == 0
    assert stored_files(private_media) == []


@pytest.mark.parametrize("name, content, message", [
    ("cv-125.pdf", b"MZ\x90\x00\x03" + b"\x00" * 4000, "Tệp công văn không phải tài liệu PDF (hãy quét công văn sang định dạng PDF)."),
    ("cv-125.pdf", pdf_bytes()[:400], "Tệp PDF bị hỏng hoặc không đầy đủ; hãy quét hoặc xuất lại công văn."),
    ("cv-125.pdf", b"", "Tệp công văn trống; hãy chọn lại tệp bản quét công văn."),
    ("cv-125.pdf", b"%PDF-1.7\n" + b"0" * (50 * 1024 * 1024), "Tệp công văn lớn hơn 10 MB; hãy quét lại với độ phân giải thấp hơn."),
])
def test_it_refuses_a_bad_attachment_on_the_form_and_stores_nothing(client, units, leader_bien_hoa, officer_bien_hoa,
                                                                   private_media, name, content, message):
    login(client, leader_bien_hoa)
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = client.post(NEW, letter_post(units["bien_hoa"], upload=upload, lines=[disable_line(officer_bien_hoa)]))
    assert response.status_code == 200
    errors = field_errors(response)
    if content == b"":
        # The browser sends no file at all for an empty one: Django's own message.
        assert errors == {"attachment": ["Tập tin được gửi là rỗng."]}
    else:
        assert errors == {"attachment": [message]}
    assert TurnoverRequest.objects.count() == 0
    assert stored_files(private_media) == []


def test_a_line_the_service_refuses_shows_next_to_its_field_and_leaves_no_file(client, units, leader_bien_hoa,
                                                                               officer_bien_hoa, private_media):
    """The PDF is written only after the request passed every rule: a refused line leaves no file."""
    login(client, leader_bien_hoa)
    response = client.post(NEW, letter_post(units["bien_hoa"], lines=[
        {"action": TurnoverAction.CREATE, "full_name": "Ngô Thị Lan", "username": "cb.lan"},
        {"action": TurnoverAction.DISABLE, "account": officer_bien_hoa.pk}]))
    assert response.status_code == 200
    lines = response.context["lines"]
    assert lines.forms[1].errors == {"departure_reason": ["Hãy nêu lý do vô hiệu hóa tài khoản."]}
    assert lines.forms[0].errors == {}
    assert field_errors(response) == {}
    assert TurnoverRequest.objects.count() == 0
    assert stored_files(private_media) == []


def test_it_refuses_a_request_without_lines(client, units, leader_bien_hoa, private_media):
    login(client, leader_bien_hoa)
    response = client.post(NEW, letter_post(units["bien_hoa"], lines=[]))
    assert response.status_code == 200
    assert response.context["lines"].non_form_errors() == ["Hãy thêm ít nhất một dòng: tài khoản nào và cần làm gì."]
    assert TurnoverRequest.objects.count() == 0
    assert stored_files(private_media) == []


def test_a_leader_cannot_name_an_account_of_another_district(client, units, leader_bien_hoa, officer_long_khanh,
                                                             private_media):
    login(client, leader_bien_hoa)
    response = client.post(NEW, letter_post(units["bien_hoa"], lines=[disable_line(officer_long_khanh)]))
    assert response.status_code == 200
    assert response.context["lines"].forms[0].errors == {
        "account": ["Hãy chọn một lựa chọn hợp lệ. Lựa chọn đó không phải là một trong các lựa chọn khả thi."]}
    assert TurnoverRequest.objects.count() == 0
    assert stored_files(private_media) == []


def test_a_leader_cannot_file_for_another_district(client, units, leader_bien_hoa, officer_bien_hoa, private_media):
    login(client, leader_bien_hoa)
    response = client.post(NEW, letter_post(units["long_khanh"], lines=[disable_line(officer_bien_hoa)]))
    assert response.status_code == 200
    assert list(field_errors(response)) == ["unit"]
    assert TurnoverRequest.objects.count() == 0


# ----- the workflow --------------------------------------------------------------------------------

def test_the_whole_workflow_through_the_pages_ends_the_officers_session(client, units, it_admin, leader_bien_hoa,
                                                                         officer_bien_hoa, private_media):
    officer = login(Client(), officer_bien_hoa)
    assert officer.get("/").status_code == 200
    login(client, leader_bien_hoa)
    client.post(NEW, letter_post(units["bien_hoa"], lines=[disable_line(officer_bien_hoa)]))
    request = TurnoverRequest.objects.get()
    response = client.post(reverse("accounts:turnover_submit", args=[request.pk]), follow=True)
    assert [str(m) for m in response.context["messages"]][-1:] == ["Đã gửi đề nghị đến Trung tâm CNTT."]
    request.refresh_from_db()
    assert request.state == TurnoverState.SUBMITTED and request.due_at is not None

    admin = login(Client(), it_admin)
    response = admin.post(reverse("accounts:turnover_accept", args=[request.pk]), follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Đã thực hiện đề nghị."]
    request.refresh_from_db()
    officer_bien_hoa.refresh_from_db()
    assert request.state == TurnoverState.COMPLETE and not officer_bien_hoa.is_active
    # The officer's open session ended at once: the next page lands on the login page.
    answer = officer.get("/")
    assert (answer.status_code, answer["Location"]) == (302, "/accounts/login/?next=/")
    detail = admin.get(reverse("accounts:turnover_detail", args=[request.pk]))
    kinds = [event.kind for event in detail.context["history"]]
    assert kinds == [EventKind.TURNOVER_CREATED, EventKind.TURNOVER_SUBMITTED, EventKind.TURNOVER_ACCEPTED,
                     EventKind.ACCOUNT_DISABLED, EventKind.TURNOVER_EXECUTED, EventKind.TURNOVER_COMPLETED]
    # The request's own page does not show its internal id back in each event ("Đề nghị …: 1").
    assert [event for event in detail.context["history"] if "turnover_request" in event.details] == []


def test_a_second_submit_is_refused_with_the_current_state(client, units, leader_bien_hoa, officer_bien_hoa,
                                                           private_media):
    request = file_request(leader_bien_hoa, units["bien_hoa"], [
        {"action": TurnoverAction.DISABLE, "account": officer_bien_hoa, "departure_reason": DepartureReason.LEFT}])
    login(client, leader_bien_hoa)
    client.post(reverse("accounts:turnover_submit", args=[request.pk]))
    response = client.post(reverse("accounts:turnover_submit", args=[request.pk]), follow=True)
    assert [str(m) for m in response.context["messages"]][-1:] == [
        "Đề nghị hiện ở trạng thái “Đã gửi Trung tâm CNTT”; hãy tải lại trang."]
    assert SecurityEvent.objects.filter(kind=EventKind.TURNOVER_SUBMITTED).count() == 1


def test_a_return_needs_a_reason_and_only_an_admin_returns(client, units, it_admin, leader_bien_hoa,
                                                           officer_bien_hoa, private_media):
    request = file_request(leader_bien_hoa, units["bien_hoa"], [
        {"action": TurnoverAction.DISABLE, "account": officer_bien_hoa, "departure_reason": DepartureReason.LEFT}])
    turnover.turnover_request_submit(actor=leader_bien_hoa, request=request)
    login(client, leader_bien_hoa)
    assert client.post(reverse("accounts:turnover_return", args=[request.pk]), {"reason": "x"}).status_code == 403
    admin = login(Client(), it_admin)
    response = admin.post(reverse("accounts:turnover_return", args=[request.pk]), {"reason": ""}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Hãy nêu lý do trả lại đề nghị cho đơn vị."]
    admin.post(reverse("accounts:turnover_return", args=[request.pk]), {"reason": "Thiếu chữ ký"})
    request.refresh_from_db()
    assert (request.state, request.returned_reason) == (TurnoverState.RETURNED, "Thiếu chữ ký")


def test_executing_a_newcomer_line_shows_the_one_time_password_once(client, units, it_admin, leader_bien_hoa,
                                                                    private_media):
    request = file_request(leader_bien_hoa, units["bien_hoa"], [
        {"action": TurnoverAction.CREATE, "full_name": "Ngô Thị Lan", "username": "cb.lan",
         "new_unit": units["tan_phong"]}], effective_date=timezone.localdate() + timedelta(days=3))
    turnover.turnover_request_submit(actor=leader_bien_hoa, request=request)
    login(client, it_admin)
    client.post(reverse("accounts:turnover_accept", args=[request.pk]))
    request.refresh_from_db()
    assert request.state == TurnoverState.ACCEPTED
    response = client.post(reverse("accounts:turnover_execute", args=[request.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    account = User.objects.get(username="cb.lan")
    (issued_account, password, record), = response.context["issued"]
    assert issued_account == account and account.check_password(password)
    assert reverse("accounts:handover_record", args=[record.pk]) in response.content.decode()
    detail = client.get(reverse("accounts:turnover_detail", args=[request.pk])).content.decode()
    assert password not in detail


def test_the_receiving_leader_confirms_a_move(client, units, it_admin, leader_long_khanh, officer_bien_hoa,
                                              private_media):
    request = file_request(it_admin, units["bien_hoa"], [
        {"action": TurnoverAction.MOVE, "account": officer_bien_hoa, "new_unit": units["xuan_an"]}])
    line = request.lines.get()
    login(client, leader_long_khanh)
    page = client.get(reverse("accounts:turnover_detail", args=[request.pk]))
    assert page.status_code == 200 and page.context["lines"][0].may_confirm is True
    client.post(reverse("accounts:turnover_move_confirm", args=[request.pk, line.pk]))
    line.refresh_from_db()
    assert line.move_confirmed_by_name == leader_long_khanh.full_name


# ----- scope and security ------------------------------------------------------------------------------

def test_a_leader_of_another_district_cannot_list_open_or_download(client, units, leader_bien_hoa,
                                                                   leader_long_khanh, officer_bien_hoa,
                                                                   private_media):
    request = file_request(leader_bien_hoa, units["bien_hoa"], [
        {"action": TurnoverAction.DISABLE, "account": officer_bien_hoa, "departure_reason": DepartureReason.LEFT}])
    login(client, leader_long_khanh)
    assert list(client.get(LIST).context["page"]) == []
    for name in ("turnover_detail", "turnover_attachment", "turnover_record"):
        assert client.get(reverse(f"accounts:{name}", args=[request.pk])).status_code == 404
        assert client.get(reverse(f"accounts:{name}", args=[request.pk + 1000])).status_code == 404
    for name in ("turnover_submit", "turnover_cancel"):
        assert client.post(reverse(f"accounts:{name}", args=[request.pk])).status_code == 404
    request.refresh_from_db()
    assert request.state == TurnoverState.DRAFT


def test_the_letter_downloads_as_an_attachment_never_cached(client, units, leader_bien_hoa, officer_bien_hoa,
                                                            private_media):
    request = file_request(leader_bien_hoa, units["bien_hoa"], [
        {"action": TurnoverAction.DISABLE, "account": officer_bien_hoa, "departure_reason": DepartureReason.LEFT}])
    login(client, leader_bien_hoa)
    response = client.get(reverse("accounts:turnover_attachment", args=[request.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_bytes()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="cv-125.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store, max-age=0, no-cache, must-revalidate, private"


def test_a_post_without_the_csrf_token_is_refused(units, leader_bien_hoa, officer_bien_hoa, private_media):
    request = file_request(leader_bien_hoa, units["bien_hoa"], [
        {"action": TurnoverAction.DISABLE, "account": officer_bien_hoa, "departure_reason": DepartureReason.LEFT}])
    client = login(Client(enforce_csrf_checks=True), leader_bien_hoa)
    assert client.post(reverse("accounts:turnover_submit", args=[request.pk])).status_code == 403
    assert client.post(NEW, letter_post(units["bien_hoa"], lines=[disable_line(officer_bien_hoa)])).status_code == 403
    request.refresh_from_db()
    assert request.state == TurnoverState.DRAFT
    assert TurnoverRequest.objects.count() == 1


# ----- the list's figures -------------------------------------------------------------------------------

def _executed(admin, leader, unit, account, *, letter_days_ago):
    request = file_request(leader, unit, [{"action": TurnoverAction.DISABLE, "account": account,
                                           "departure_reason": DepartureReason.LEFT}],
                           letter_date=timezone.localdate() - timedelta(days=letter_days_ago))
    turnover.turnover_request_submit(actor=leader, request=request)
    turnover.turnover_request_accept(actor=admin, request=request)
    return request


def test_the_list_shows_median_and_worst_letter_to_completion(client, units, it_admin, leader_bien_hoa,
                                                             private_media):
    for days in (1, 3, 10):
        _executed(it_admin, leader_bien_hoa, units["bien_hoa"], UserFactory(unit=units["tan_phong"]),
                  letter_days_ago=days)
    login(client, leader_bien_hoa)
    times = client.get(LIST).context["times"]
    assert times["count"] == 3
    start = timezone.make_aware(timezone.datetime.combine(timezone.localdate(), timezone.datetime.min.time()))
    complete = TurnoverRequest.objects.order_by("letter_date")
    worst = complete[0].completed_at - (start - timedelta(days=10))
    median = complete[1].completed_at - (start - timedelta(days=3))
    assert (times["median"], times["worst"]) == (median, worst)


def test_median_of_an_even_count_is_the_mean_of_the_middle_two(units, it_admin, leader_bien_hoa, private_media):
    for days in (2, 4):
        _executed(it_admin, leader_bien_hoa, units["bien_hoa"], UserFactory(unit=units["tan_phong"]),
                  letter_days_ago=days)
    times = turnover_completion_times(TurnoverRequest.objects.all())
    first, second = TurnoverRequest.objects.order_by("-letter_date")
    start = timezone.make_aware(timezone.datetime.combine(timezone.localdate(), timezone.datetime.min.time()))
    expected = ((first.completed_at - (start - timedelta(days=2))) + (second.completed_at - (start - timedelta(days=4)))) / 2
    assert times["median"] == expected


def test_the_list_costs_the_same_queries_for_3_or_9_requests(client, units, it_admin, leader_bien_hoa,
                                                             private_media, django_assert_num_queries):
    def add(count):
        for _ in range(count):
            _executed(it_admin, leader_bien_hoa, units["bien_hoa"], UserFactory(unit=units["tan_phong"]),
                      letter_days_ago=1)

    login(client, leader_bien_hoa)
    add(3)
    client.get(LIST)  # warm the session and the policy cache
    # (9: the header's notification bell counts the reader's unread notices, the contained-account
    # middleware reads the contained units once per request, and one read of the holidays shows the
    # deadlines.)
    with django_assert_num_queries(9) as few:
        assert len(client.get(LIST).context["page"]) == 3
    add(6)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(client.get(LIST).context["page"]) == 9


def test_an_overdue_request_is_marked_for_everyone_who_sees_it(client, units, it_admin, leader_bien_hoa,
                                                               officer_bien_hoa, private_media):
    request = file_request(leader_bien_hoa, units["bien_hoa"], [
        {"action": TurnoverAction.DISABLE, "account": officer_bien_hoa, "departure_reason": DepartureReason.LEFT}])
    turnover.turnover_request_submit(actor=leader_bien_hoa, request=request)
    TurnoverRequest.objects.filter(pk=request.pk).update(due_at=timezone.now() - timedelta(hours=1))
    login(client, it_admin)
    admin_page = client.get(LIST)
    assert [row.overdue for row in admin_page.context["page"]] == [True]
    assert admin_page.content.decode().count("Quá hạn") == 1
    leader_page = login(Client(), leader_bien_hoa).get(LIST)
    assert leader_page.content.decode().count("Quá hạn") == 1


# ----- the printed record and the holidays ----------------------------------------------------------------

def test_the_record_of_an_executed_request_reads_as_an_administrative_document(client, units, it_admin,
                                                                               leader_bien_hoa, officer_bien_hoa,
                                                                               private_media):
    request = _executed(it_admin, leader_bien_hoa, units["bien_hoa"], officer_bien_hoa, letter_days_ago=1)
    request.refresh_from_db()
    login(client, leader_bien_hoa)
    html = client.get(reverse("accounts:turnover_record", args=[request.pk])).content.decode()
    letter_date = request.letter_date.strftime("%d/%m/%Y")
    executed = timezone.localtime(request.executed_at)
    month = f"{executed.month:02d}" if executed.month < 3 else str(executed.month)
    for text in ("SỞ THÔNG TIN VÀ TRUYỀN THÔNG TỈNH ĐỒNG NAI", "TRUNG TÂM CÔNG NGHỆ THÔNG TIN VÀ TRUYỀN THÔNG",
                 "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                 f"Số: {request.record_number}", f"Đồng Nai, ngày {executed.day:02d} tháng {month} năm {executed.year}",
                 "BIÊN BẢN", "Thực hiện đề nghị thay đổi cán bộ",
                 f"Căn cứ Công văn số 125/UBND-VP ngày {letter_date} của UBND thành phố Biên Hòa",
                 "Biên bản được lập thành 02 bản, mỗi bên giữ 01 bản", "Trần Văn Bình, Chủ tịch",
                 officer_bien_hoa.username, "đã vô hiệu hóa", it_admin.full_name):
        assert text in html, text
    assert "onclick" not in html and "<script>" not in html


def test_a_request_not_executed_has_no_record(client, units, leader_bien_hoa, officer_bien_hoa, private_media):
    request = file_request(leader_bien_hoa, units["bien_hoa"], [
        {"action": TurnoverAction.DISABLE, "account": officer_bien_hoa, "departure_reason": DepartureReason.LEFT}])
    login(client, leader_bien_hoa)
    assert client.get(reverse("accounts:turnover_record", args=[request.pk])).status_code == 404


def test_the_handover_record_shares_the_document_layout(client, units, it_admin):
    from accounts.services import account_create

    account, _password, record = account_create(actor=it_admin, username="cb.hoa", full_name="Trần Thị Hoa",
                                                unit=units["tan_phong"], role=Role.OFFICER)
    login(client, it_admin)
    html = client.get(reverse("accounts:handover_record", args=[record.pk])).content.decode()
    for text in ("SỞ THÔNG TIN VÀ TRUYỀN THÔNG TỈNH ĐỒNG NAI", "TRUNG TÂM CÔNG NGHỆ THÔNG TIN VÀ TRUYỀN THÔNG",
                 f"Số: {record.number}", "Bàn giao tài khoản", "Biên bản được lập thành 02 bản, mỗi bên giữ 01 bản"):
        assert text in html, text
    assert "onclick" not in html and "TRUNG TÂM CNTT TỈNH" not in html


def test_an_it_admin_adds_and_removes_a_holiday_audited(client, units, it_admin, leader_bien_hoa):
    url = reverse("accounts:holiday_list")
    assert login(Client(), leader_bien_hoa).get(url).status_code == 403
    login(client, it_admin)
    before = Holiday.objects.count()  # Vietnam's public holidays are preloaded (migration 0014)
    response = client.post(url, {"date": "03/09/2027", "name": "Nghỉ bù Quốc khánh"})
    assert response.status_code == 302
    holiday = Holiday.objects.get(date="2027-09-03")
    assert (holiday.date.isoformat(), holiday.name) == ("2027-09-03", "Nghỉ bù Quốc khánh")
    again = client.post(url, {"date": "03/09/2027", "name": "Nghỉ bù Quốc khánh"})
    assert again.context["form"].errors == {"date": ["03/09/2027 đã là ngày nghỉ lễ (Nghỉ bù Quốc khánh)."]}
    client.post(reverse("accounts:holiday_remove", args=[holiday.pk]))
    assert Holiday.objects.count() == before
    assert SecurityEvent.objects.filter(kind=EventKind.HOLIDAY_ADDED).count() == 1
    assert SecurityEvent.objects.filter(kind=EventKind.HOLIDAY_REMOVED).count() == 1


def test_a_refused_form_sums_up_its_errors_at_the_top_and_says_the_letter_must_be_attached_again(
        client, units, leader_bien_hoa, officer_bien_hoa, private_media):
    login(client, leader_bien_hoa)
    response = client.post(NEW, letter_post(units["bien_hoa"], signer_name="", lines=[
        {"action": TurnoverAction.CREATE, "full_name": "Ngô Thị Lan", "username": "cb.lan", "phone": "abc"}]))
    assert response.status_code == 200
    assert response.context["error_summary"] == [
        ("Người ký", "Thông tin này là bắt buộc.", "id_signer_name"),
        ("Dòng 1, số điện thoại của cán bộ mới", "Nhập số điện thoại gồm 9–15 chữ số.", "id_lines-0-phone")]
    text = response.content.decode()
    assert "Đề nghị chưa được lưu: còn 2 nội dung cần sửa." in text
    assert "Tệp “cv-125.pdf” chưa được lưu lại: hãy chọn lại tệp công văn đã quét trước khi lưu." in text
    assert text.index('data-testid="error-summary"') < text.index('name="letter_number"')
    assert stored_files(private_media) == []


def test_the_account_picker_finds_accounts_in_scope_without_accents(client, units, leader_bien_hoa,
                                                                    officer_bien_hoa, officer_long_khanh):
    url = reverse("accounts:account_search")
    login(client, leader_bien_hoa)
    found = client.get(url, {"q": "pham thi huong"}).json()["results"]
    assert found == [{"id": officer_bien_hoa.pk, "label": "cb.tanphong — Phạm Thị Hương",
                      "parent": "UBND phường Tân Phong"}]
    assert client.get(url, {"q": officer_long_khanh.username}).json()["results"] == []  # outside the subtree
    refused = client.get(url, {"q": "a\x1bb"})
    assert (refused.status_code, refused.json()["error"]) == (400, "Chỉ nhập chữ, số và dấu câu.")
    assert client.get(url, {"q": "x" * 101}).status_code == 400


def test_the_account_field_sends_only_the_chosen_account_when_many_are_in_reach(client, units, it_admin,
                                                                               officer_bien_hoa, monkeypatch):
    from accounts.forms import turnover as forms_turnover

    monkeypatch.setattr(forms_turnover, "ACCOUNT_PICKER_FULL_LIST", 1)
    login(client, it_admin)
    page = client.get(NEW).content.decode()
    select = page[page.index('name="lines-0-account"'):]
    select = select[:select.index("</select>")]
    assert select.count("<option") == 1  # only the empty choice: the picker searches
    assert 'data-search-url="/' in page and reverse("accounts:account_search") in page
    response = client.post(NEW, letter_post(units["bien_hoa"], signer_name="", lines=[disable_line(officer_bien_hoa)]))
    select = response.content.decode()
    select = select[select.index('name="lines-0-account"'):]
    select = select[:select.index("</select>")]
    assert select.count("<option") == 2 and f'value="{officer_bien_hoa.pk}" selected' in select



def test_a_deadline_at_midnight_reads_as_the_end_of_the_last_working_day(client, units, leader_bien_hoa,
                                                                         officer_bien_hoa, private_media):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    vn = ZoneInfo("Asia/Ho_Chi_Minh")
    request = file_request(leader_bien_hoa, units["bien_hoa"], [disable_line_values(officer_bien_hoa)])
    turnover.turnover_request_submit(actor=leader_bien_hoa, request=request)
    detail = reverse("accounts:turnover_detail", args=[request.pk])
    login(client, leader_bien_hoa)
    TurnoverRequest.objects.filter(pk=request.pk).update(due_at=datetime(2026, 12, 8, 0, 0, tzinfo=vn))  # a Tuesday
    assert "07/12/2026 17:00" in client.get(detail).content.decode()
    Holiday.objects.create(date=datetime(2026, 12, 7).date(), name="Nghỉ bù")
    assert "04/12/2026 17:00" in client.get(detail).content.decode()  # Monday off: Friday's end
    TurnoverRequest.objects.filter(pk=request.pk).update(due_at=datetime(2026, 12, 8, 14, 35, tzinfo=vn))
    page = client.get(LIST).content.decode()
    assert "08/12/2026 14:35" in page and "00:00" not in page


def test_the_detail_says_what_each_duration_measures(client, units, it_admin, leader_bien_hoa, officer_bien_hoa,
                                                     private_media):
    request = _executed(it_admin, leader_bien_hoa, units["bien_hoa"], officer_bien_hoa, letter_days_ago=0)
    login(client, leader_bien_hoa)
    text = client.get(reverse("accounts:turnover_detail", args=[request.pk])).content.decode()
    assert "Trung tâm CNTT xử lý trong" in text
    assert 'data-testid="processing-time">0 phút' in text
    assert "tính từ đầu ngày ký công văn" in text


def disable_line_values(account):
    return {"action": TurnoverAction.DISABLE, "account": account, "departure_reason": DepartureReason.LEFT}



def test_vietnams_public_holidays_are_preloaded_and_the_it_centers_own_entries_kept(db):
    import importlib

    from django.apps import apps

    preloaded = importlib.import_module("accounts.migrations.0016_vietnam_public_holidays")
    Holiday.objects.all().delete()
    Holiday.objects.create(date="2026-09-01", name="Nghỉ theo Quyết định của UBND tỉnh")
    preloaded.preload(apps, None)
    days = {holiday.date.strftime("%d/%m/%Y"): holiday.name for holiday in Holiday.objects.filter(date__year=2026)}
    assert days["17/02/2026"] == "Tết Nguyên đán (mùng 1)"
    assert days["16/02/2026"] == "Tết Nguyên đán (ngày cuối năm âm lịch)"
    assert days["26/04/2026"] == "Giỗ Tổ Hùng Vương (10/3 âm lịch)"
    assert (days["30/04/2026"], days["01/05/2026"], days["02/09/2026"]) == (
        "Ngày Chiến thắng (30/4)", "Ngày Quốc tế Lao động (1/5)", "Quốc khánh (2/9)")
    assert days["01/09/2026"] == "Nghỉ theo Quyết định của UBND tỉnh"  # the IT Center's entry stays
    assert len(days) == 11
    assert Holiday.objects.filter(date__year=2027, name__startswith="Tết Nguyên đán").first().date.isoformat() == \
        "2027-02-05"
