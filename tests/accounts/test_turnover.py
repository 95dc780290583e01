"""Turnover requests through the service (letter point 2): filing, states, the IT Center's decisions,
execution once, service level, scope."""
from datetime import date, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.attachments import attachment_path, attachment_store
from accounts.choices import DepartureReason, Role, TurnoverAction, TurnoverState
from accounts.models import AccountSession, Holiday, TurnoverRequest, User
from accounts.scope import turnover_requests_visible_to
from accounts.services import turnover
from audit.choices import EventKind
from audit.models import SecurityEvent
from policy.compliance import service_deadline
from portal.actors import SystemActor
from portal.errors import DomainError, NotAllowed, PolicyViolation
from tests.factories import UserFactory
from tests.helpers import pdf_bytes, run_concurrently

JOB = SystemActor("turnover_job")


@pytest.fixture
def letter(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    return attachment_store(SimpleUploadedFile("cv-125.pdf", pdf_bytes(), content_type="application/pdf"))


def _file(actor, unit, letter, lines, **overrides):
    values = dict(letter_number="125/UBND-VP", letter_date=timezone.localdate() - timedelta(days=1),
                  effective_date=timezone.localdate(), issuing_unit_name=unit.name, signer_name="Trần Văn Bình",
                  signer_position="Chủ tịch", attachment=letter, lines=lines)
    values.update(overrides)
    return turnover.turnover_request_create(actor=actor, unit=unit, **values)


def _disable_line(account):
    return {"action": TurnoverAction.DISABLE, "account": account, "departure_reason": DepartureReason.LEFT}


def _events(kind):
    return SecurityEvent.objects.filter(kind=kind).count()


def test_the_whole_workflow_disables_the_departed_officers_account(db, units, it_admin, leader_bien_hoa,
                                                                   officer_bien_hoa, letter):
    request = _file(leader_bien_hoa, units["bien_hoa"], letter, [_disable_line(officer_bien_hoa)])
    assert request.state == TurnoverState.DRAFT
    turnover.turnover_request_submit(actor=leader_bien_hoa, request=request)
    result = turnover.turnover_request_accept(actor=it_admin, request=request)
    # No connected system concerned: complete at once, at its execution.
    assert result.error is None and result.request.state == TurnoverState.COMPLETE
    assert result.request.completed_at == result.request.executed_at
    officer_bien_hoa.refresh_from_db()
    assert not officer_bien_hoa.is_active
    assert officer_bien_hoa.disabled_reason == "Theo Công văn số 125/UBND-VP: Nghỉ việc"
    line = request.lines.get()
    assert (line.outcome, line.executed_at is not None) == ("đã vô hiệu hóa", True)
    assert result.request.record_number == "0001/BB-TTCNTT"  # the year's first record (accounts/documents.py)
    for kind in (EventKind.TURNOVER_CREATED, EventKind.TURNOVER_SUBMITTED, EventKind.TURNOVER_ACCEPTED,
                 EventKind.TURNOVER_EXECUTED, EventKind.ACCOUNT_DISABLED):
        assert _events(kind) == 1


def test_it_stores_the_letter_outside_the_web_root_under_its_digest(db, letter, settings):
    path = attachment_path(letter.sha256)
    assert path.read_bytes() == pdf_bytes()
    assert str(path).startswith(str(settings.PRIVATE_MEDIA_ROOT))
    assert letter.size == len(pdf_bytes()) and letter.name == "cv-125.pdf"


@pytest.mark.parametrize("name, content, message", [
    ("virus.pdf", b"MZ\x90\x00" + b"\x00" * 200, "Tệp công văn không phải tài liệu PDF (hãy quét công văn sang định dạng PDF)."),
    ("cut.pdf", pdf_bytes()[:200], "Tệp PDF bị hỏng hoặc không đầy đủ; hãy quét hoặc xuất lại công văn."),
    ("empty.pdf", b"", "Tệp công văn trống; hãy chọn lại tệp bản quét công văn."),
    ("huge.pdf", b"%PDF-1.4\n" + b"0" * (50 * 1024 * 1024), "Tệp công văn lớn hơn 10 MB; hãy quét lại với độ phân giải thấp hơn."),
])
def test_it_refuses_a_bad_attachment_and_stores_nothing(db, settings, tmp_path, name, content, message):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    with pytest.raises(PolicyViolation) as error:
        attachment_store(SimpleUploadedFile(name, content, content_type="application/pdf"))
    assert error.value.messages == [message]
    assert list(tmp_path.rglob("*")) == []


@pytest.mark.parametrize("overrides, field", [
    ({"letter_number": ""}, "letter_number"),
    ({"signer_name": "  "}, "signer_name"),
    ({"letter_date": None}, "letter_date"),
    ({"effective_date": date(2020, 1, 1)}, "effective_date"),
    ({"letter_date": timezone.localdate() + timedelta(days=3), "effective_date": timezone.localdate() + timedelta(days=3)},
     "letter_date"),
    ({"attachment": None}, "attachment"),
    ({"lines": []}, None),
])
def test_it_refuses_an_incomplete_letter_and_files_nothing(db, units, leader_bien_hoa, officer_bien_hoa, letter,
                                                           overrides, field):
    lines = overrides.pop("lines", [_disable_line(officer_bien_hoa)])
    with pytest.raises(PolicyViolation) as error:
        _file(leader_bien_hoa, units["bien_hoa"], letter, lines, **overrides)
    assert error.value.field == field
    assert TurnoverRequest.objects.count() == 0 and _events(EventKind.TURNOVER_CREATED) == 0


def test_it_refuses_the_effective_date_before_the_letter_date(db, units, leader_bien_hoa, officer_bien_hoa, letter):
    with pytest.raises(PolicyViolation) as error:
        _file(leader_bien_hoa, units["bien_hoa"], letter, [_disable_line(officer_bien_hoa)],
              letter_date=timezone.localdate(), effective_date=timezone.localdate() - timedelta(days=1))
    assert error.value.messages == ["Ngày hiệu lực không được trước ngày công văn."]


def test_a_leader_cannot_file_for_another_district(db, units, leader_bien_hoa, officer_long_khanh, letter):
    with pytest.raises(NotAllowed):
        _file(leader_bien_hoa, units["long_khanh"], letter, [_disable_line(officer_long_khanh)])
    with pytest.raises(PolicyViolation) as error:
        _file(leader_bien_hoa, units["bien_hoa"], letter, [_disable_line(officer_long_khanh)])
    assert error.value.code == "line_out_of_scope"
    assert TurnoverRequest.objects.count() == 0


def test_an_officer_drafts_but_only_a_leader_submits(db, units, leader_bien_hoa, officer_bien_hoa, letter):
    colleague = UserFactory(username="cb.tanphong2", unit=units["tan_phong"])
    request = _file(officer_bien_hoa, units["tan_phong"], letter, [_disable_line(colleague)])
    with pytest.raises(NotAllowed):
        turnover.turnover_request_submit(actor=officer_bien_hoa, request=request)
    turnover.turnover_request_submit(actor=leader_bien_hoa, request=request)
    assert TurnoverRequest.objects.get().state == TurnoverState.SUBMITTED


def test_it_refuses_a_transition_from_the_wrong_state_and_changes_nothing(db, units, it_admin, leader_bien_hoa,
                                                                         officer_bien_hoa, letter):
    request = _file(leader_bien_hoa, units["bien_hoa"], letter, [_disable_line(officer_bien_hoa)])
    with pytest.raises(DomainError) as error:
        turnover.turnover_request_accept(actor=it_admin, request=request)
    assert error.value.code == "wrong_state"
    assert error.value.message == "Đề nghị hiện ở trạng thái “Dự thảo”; hãy tải lại trang."
    assert TurnoverRequest.objects.get().state == TurnoverState.DRAFT and _events(EventKind.TURNOVER_ACCEPTED) == 0


def test_returned_with_a_reason_then_submitted_again(db, units, it_admin, leader_bien_hoa, officer_bien_hoa, letter):
    request = _file(leader_bien_hoa, units["bien_hoa"], letter, [_disable_line(officer_bien_hoa)])
    turnover.turnover_request_submit(actor=leader_bien_hoa, request=request)
    with pytest.raises(PolicyViolation):
        turnover.turnover_request_return(actor=it_admin, request=request, reason=" ")
    turnover.turnover_request_return(actor=it_admin, request=request, reason="Thiếu chữ ký")
    request.refresh_from_db()
    assert (request.state, request.returned_reason) == (TurnoverState.RETURNED, "Thiếu chữ ký")
    turnover.turnover_request_submit(actor=leader_bien_hoa, request=request)
    assert TurnoverRequest.objects.get().state == TurnoverState.SUBMITTED
    assert SecurityEvent.objects.get(kind=EventKind.TURNOVER_RETURNED).details["reason"] == "Thiếu chữ ký"


def test_a_future_effective_date_waits_for_the_daily_job(db, units, it_admin, leader_bien_hoa, officer_bien_hoa,
                                                         letter):
    in_a_week = timezone.localdate() + timedelta(days=7)
    request = _file(leader_bien_hoa, units["bien_hoa"], letter, [_disable_line(officer_bien_hoa)],
                    effective_date=in_a_week)
    turnover.turnover_request_submit(actor=leader_bien_hoa, request=request)
    assert turnover.turnover_request_accept(actor=it_admin, request=request).request.state == TurnoverState.ACCEPTED
    assert turnover.turnover_due_execute(actor=JOB, today=in_a_week - timedelta(days=1)) == []
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.is_active
    assert len(turnover.turnover_due_execute(actor=JOB, today=in_a_week)) == 1
    assert turnover.turnover_due_execute(actor=JOB, today=in_a_week) == []
    officer_bien_hoa.refresh_from_db()
    assert not officer_bien_hoa.is_active
    assert _events(EventKind.TURNOVER_EXECUTED) == 1 and _events(EventKind.ACCOUNT_DISABLED) == 1


def test_role_lookup_and_newcomer_lines(db, units, it_admin, leader_bien_hoa, officer_bien_hoa, letter):
    colleague = UserFactory(username="cb.tanphong2", unit=units["tan_phong"], can_lookup=True)
    request = _file(leader_bien_hoa, units["bien_hoa"], letter, [
        {"action": TurnoverAction.CHANGE_ROLE, "account": officer_bien_hoa, "new_role": Role.UNIT_LEADER},
        {"action": TurnoverAction.CHANGE_LOOKUP, "account": colleague, "new_can_lookup": False},
        {"action": TurnoverAction.CREATE, "username": "cb.moi", "full_name": "Đỗ Thị Hạnh",
         "email": "hanh@dongnai.gov.vn", "new_unit": units["tan_phong"], "new_can_lookup": True},
    ])
    turnover.turnover_request_submit(actor=leader_bien_hoa, request=request)
    result = turnover.turnover_request_accept(actor=it_admin, request=request)
    officer_bien_hoa.refresh_from_db()
    colleague.refresh_from_db()
    newcomer = User.objects.get(username="cb.moi")
    assert officer_bien_hoa.role == Role.UNIT_LEADER and colleague.can_lookup is False
    assert (newcomer.unit, newcomer.can_lookup, newcomer.password_change_reason) == (units["tan_phong"], True,
                                                                                      "one_time")
    [(account, password, record)] = result.issued
    assert account == newcomer and newcomer.check_password(password) and record.account == newcomer


def test_a_move_waits_for_the_receiving_leader(db, units, it_admin, officer_bien_hoa, letter):
    province_leader = UserFactory(username="ld.tinh", role=Role.UNIT_LEADER, unit=units["province"])
    leader_long_khanh = UserFactory(username="ld.longkhanh", role=Role.UNIT_LEADER, unit=units["long_khanh"])
    request = _file(province_leader, units["bien_hoa"], letter, [
        {"action": TurnoverAction.MOVE, "account": officer_bien_hoa, "new_unit": units["xuan_an"]}])
    turnover.turnover_request_submit(actor=province_leader, request=request)
    result = turnover.turnover_request_accept(actor=it_admin, request=request)
    assert result.error.code == "move_unconfirmed"
    assert TurnoverRequest.objects.get().state == TurnoverState.ACCEPTED
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.unit == units["tan_phong"]
    assert request in turnover_requests_visible_to(leader_long_khanh)
    turnover.turnover_move_confirm(actor=leader_long_khanh, line=request.lines.get())
    turnover.turnover_request_execute(actor=it_admin, request=request)
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.unit == units["xuan_an"]


def test_a_leader_outside_the_receiving_unit_cannot_confirm_a_move(db, units, leader_bien_hoa, officer_bien_hoa,
                                                                    letter):
    request = _file(leader_bien_hoa, units["bien_hoa"], letter, [
        {"action": TurnoverAction.MOVE, "account": officer_bien_hoa, "new_unit": units["xuan_an"]}])
    with pytest.raises(NotAllowed):
        turnover.turnover_move_confirm(actor=leader_bien_hoa, line=request.lines.get())


def test_scope_hides_other_districts_requests(db, units, leader_bien_hoa, officer_bien_hoa, officer_long_khanh,
                                              letter):
    leader_long_khanh = UserFactory(username="ld.longkhanh", role=Role.UNIT_LEADER, unit=units["long_khanh"])
    bien_hoa = _file(leader_bien_hoa, units["bien_hoa"], letter, [_disable_line(officer_bien_hoa)])
    long_khanh = _file(leader_long_khanh, units["long_khanh"], letter, [_disable_line(officer_long_khanh)])
    assert list(turnover_requests_visible_to(leader_bien_hoa)) == [bien_hoa]
    assert list(turnover_requests_visible_to(leader_long_khanh)) == [long_khanh]
    assert list(turnover_requests_visible_to(officer_bien_hoa)) == []


def test_the_disable_line_ends_the_officers_sessions_for_good(db, units, it_admin, leader_bien_hoa,
                                                              officer_bien_hoa, letter, client, password):
    client.post("/accounts/login/", {"username": officer_bien_hoa.username, "password": password})
    assert AccountSession.objects.filter(account_id=officer_bien_hoa.pk).count() == 1
    request = _file(leader_bien_hoa, units["bien_hoa"], letter, [_disable_line(officer_bien_hoa)])
    turnover.turnover_request_submit(actor=leader_bien_hoa, request=request)
    turnover.turnover_request_accept(actor=it_admin, request=request)
    assert AccountSession.objects.filter(account_id=officer_bien_hoa.pk).count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_admins_executing_at_once_execute_once(units, it_admin, leader_bien_hoa, officer_bien_hoa, letter):
    other_admin = UserFactory(username="qt.admin2", role=Role.IT_ADMIN, unit=units["it_center"])
    request = _file(leader_bien_hoa, units["bien_hoa"], letter, [_disable_line(officer_bien_hoa)],
                    effective_date=timezone.localdate() + timedelta(days=2))
    turnover.turnover_request_submit(actor=leader_bien_hoa, request=request)
    turnover.turnover_request_accept(actor=it_admin, request=request)

    def execute(admin):
        def call():
            return turnover.turnover_request_execute(actor=admin, request=TurnoverRequest.objects.get(pk=request.pk))
        return call

    outcomes = run_concurrently(execute(it_admin), execute(other_admin))
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["DomainError", "ExecutionResult"]
    assert _events(EventKind.TURNOVER_EXECUTED) == 1 and _events(EventKind.ACCOUNT_DISABLED) == 1


def test_the_service_level_counts_working_days_and_the_it_centers_holidays():
    tz = timezone.get_current_timezone()
    friday = timezone.make_aware(datetime(2026, 12, 4, 16, 0), tz)
    assert service_deadline(friday, 1, set()) == timezone.make_aware(datetime(2026, 12, 7, 16, 0), tz)
    saturday = timezone.make_aware(datetime(2026, 12, 5, 10, 0), tz)
    assert service_deadline(saturday, 1, set()) == timezone.make_aware(datetime(2026, 12, 8, 0, 0), tz)
    new_year_eve = timezone.make_aware(datetime(2026, 12, 31, 9, 0), tz)
    assert service_deadline(new_year_eve, 1, {date(2027, 1, 1)}) == timezone.make_aware(datetime(2027, 1, 4, 9, 0), tz)


def test_submission_sets_the_due_time_from_the_holiday_list(db, units, leader_bien_hoa, officer_bien_hoa, letter):
    tomorrow = timezone.localdate() + timedelta(days=1)
    Holiday.objects.create(date=tomorrow, name="Ngày nghỉ thử")
    request = _file(leader_bien_hoa, units["bien_hoa"], letter, [_disable_line(officer_bien_hoa)])
    turnover.turnover_request_submit(actor=leader_bien_hoa, request=request)
    request.refresh_from_db()
    assert timezone.localdate(request.due_at) > tomorrow


@pytest.mark.django_db(transaction=True)
def test_the_daily_job_run_twice_on_a_real_worker_executes_once(celery_worker, units, it_admin, leader_bien_hoa,
                                                                officer_bien_hoa, letter):
    from accounts.tasks import execute_due_turnover_requests

    request = _file(leader_bien_hoa, units["bien_hoa"], letter, [_disable_line(officer_bien_hoa)],
                    effective_date=timezone.localdate() + timedelta(days=1))
    turnover.turnover_request_submit(actor=leader_bien_hoa, request=request)
    turnover.turnover_request_accept(actor=it_admin, request=request)
    # The effective date has come (the job compares with today's date).
    TurnoverRequest.objects.filter(pk=request.pk).update(effective_date=timezone.localdate())
    before = celery_worker.runs_of(execute_due_turnover_requests)
    celery_worker.send(execute_due_turnover_requests)
    celery_worker.send(execute_due_turnover_requests)
    celery_worker.wait_done(execute_due_turnover_requests, before + 2)
    assert TurnoverRequest.objects.get().state == TurnoverState.COMPLETE
    assert _events(EventKind.TURNOVER_EXECUTED) == 1 and _events(EventKind.TURNOVER_COMPLETED) == 1 and _events(EventKind.ACCOUNT_DISABLED) == 1


def test_it_refuses_direction_characters_in_the_letter_and_files_nothing(db, units, leader_bien_hoa,
                                                                         officer_bien_hoa, letter):
    with pytest.raises(PolicyViolation) as error:
        _file(leader_bien_hoa, units["bien_hoa"], letter, [_disable_line(officer_bien_hoa)],
              signer_name="Trần\u202eVăn Bình")
    assert error.value.field == "signer_name"
    assert TurnoverRequest.objects.count() == 0


def test_it_refuses_a_line_whose_action_it_does_not_know(db, units, it_admin, leader_bien_hoa, officer_bien_hoa,
                                                          letter):
    """Before, any action but create, disable and the two changes was run as a move."""
    request = _file(leader_bien_hoa, units["bien_hoa"], letter, [
        {"action": TurnoverAction.MOVE, "account": officer_bien_hoa, "new_unit": units["xuan_an"]}])
    line = request.lines.get()
    turnover.turnover_move_confirm(actor=it_admin, line=line)
    request.lines.update(action="transfer")  # not a TurnoverAction: written by hand, or a choice since removed
    turnover.turnover_request_submit(actor=leader_bien_hoa, request=request)
    result = turnover.turnover_request_accept(actor=it_admin, request=request)
    assert result.error.code == "line_action_unknown"
    assert str(result.error) == "Đề nghị có một dòng với thao tác không xác định (transfer); chưa thực hiện gì."
    assert TurnoverRequest.objects.get().state == TurnoverState.ACCEPTED
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.unit == units["tan_phong"]
    assert _events(EventKind.TURNOVER_EXECUTED) == 0
