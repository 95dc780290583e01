"""Turnover measured to the end (letter point 2): an executed request is complete only when every connected
system concerned has confirmed — the back-channel logouts delivered to a real receiver, the SCIM push
acknowledged by the real scim2-server the suite starts, the manual task done with good evidence. Bad
evidence is refused and the request stays executed; the sweep run twice changes nothing more."""
import csv
import io
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.attachments import attachment_store
from accounts.choices import DepartureReason, TurnoverAction, TurnoverState
from accounts.models import TurnoverConfirmation, TurnoverRequest
from accounts.services import turnover
from accounts.services.turnover_completion import TURNOVER_COMPLETION_JOB, turnover_completion_sweep
from accounts.tasks import complete_turnover_requests
from audit.choices import EventKind
from audit.models import SecurityEvent
from federation.choices import DeliveryKind, DeliveryState, SystemKind
from federation.models import Delivery, ManualTask
from federation.propagation import deliveries_send
from federation.services import manual_task_complete, system_provision_all, system_register_target
from portal.actors import COMMAND_LINE, SystemActor
from portal.errors import NotAllowed, PolicyViolation
from tests.factories import UserFactory

from ..helpers import (
    LogoutReceiver,
    ScimServer,
    login,
    oidc_authorize,
    oidc_code_from,
    oidc_system_register,
    oidc_token,
    pdf_bytes,
    run_concurrently,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
Awaited = TurnoverConfirmation.Awaited


@pytest.fixture
def letter(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    return attachment_store(SimpleUploadedFile("cv-125.pdf", pdf_bytes(), content_type="application/pdf"))


@pytest.fixture
def receiver():
    server = LogoutReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def scim_server():
    server = ScimServer().start()
    yield server
    server.stop()


@pytest.fixture
def connected(units, receiver, scim_server, officer_bien_hoa):
    """Three systems of Biên Hòa, each already holding the officer of Tân Phong: a relying party the
    officer is signed in to (with a back-channel endpoint), a SCIM target, and a manual target."""
    relying_party, secret = oidc_system_register(units["bien_hoa"], name="Một cửa Biên Hòa",
                                                 backchannel_logout_uri=receiver.url)
    browser = login(Client(), officer_bien_hoa)
    response, verifier = oidc_authorize(browser, relying_party)
    answer = oidc_token(browser, relying_party, secret, grant_type="authorization_code",
                        code=oidc_code_from(response)["code"], redirect_uri=relying_party.application.redirect_uris,
                        code_verifier=verifier)
    assert answer.status_code == 200
    target = system_register_target(actor=COMMAND_LINE, name="Hộ tịch Biên Hòa", unit=units["bien_hoa"],
                                    kind=SystemKind.SCIM, scim_url=scim_server.url, scim_token=ScimServer.TOKEN)
    manual = system_register_target(actor=COMMAND_LINE, name="Phần mềm kế toán", unit=units["bien_hoa"],
                                    kind=SystemKind.MANUAL)
    system_provision_all(actor=COMMAND_LINE, system=target)
    assert _send(DeliveryKind.SCIM_PUSH)["delivered"] >= 1
    for task in ManualTask.objects.filter(done_at=None):
        manual_task_complete(actor=COMMAND_LINE, task=task, note="Đã tạo tài khoản",
                             evidence=SimpleUploadedFile("tao.png", PNG))
    assert scim_server.users()[officer_bien_hoa.username].active is True
    return {"relying_party": relying_party, "target": target, "manual": manual}


def _send(kind) -> dict:
    ids = list(Delivery.objects.filter(kind=kind, state=DeliveryState.READY).values_list("pk", flat=True))
    return deliveries_send(ids)


def _executed(units, leader, admin, account, letter) -> TurnoverRequest:
    request = turnover.turnover_request_create(
        actor=leader, unit=units["bien_hoa"], letter_number="125/UBND-VP",
        letter_date=timezone.localdate() - timedelta(days=1), effective_date=timezone.localdate(),
        issuing_unit_name=units["bien_hoa"].name, signer_name="Trần Văn Bình", signer_position="Chủ tịch",
        attachment=letter, lines=[{"action": TurnoverAction.DISABLE, "account": account,
                                   "departure_reason": DepartureReason.LEFT}])
    turnover.turnover_request_submit(actor=leader, request=request)
    result = turnover.turnover_request_accept(actor=admin, request=request)
    assert result.error is None
    return result.request


def _delivered(request, timeout=30):
    """Every delivery the request waits for, delivered. In a transactional test the deliveries are also
    handed to the suite's Celery worker when it is running (tests/conftest.py celery_worker, session-wide),
    which may claim one before this test does: wait for whoever sends it."""
    awaited = Delivery.objects.filter(pk__in=request.confirmations.exclude(delivery=None).values("delivery_id"))
    deadline = time.monotonic() + timeout
    while awaited.exclude(state=DeliveryState.DELIVERED).exists():
        assert time.monotonic() < deadline, list(awaited.values_list("kind", "state", "last_error"))
        _send(DeliveryKind.BACKCHANNEL_LOGOUT)
        _send(DeliveryKind.SCIM_PUSH)
        time.sleep(0.2)


def _awaited(request) -> list:
    return sorted((row.system.name, row.awaited, row.confirmed_at is not None)
                  for row in request.confirmations.select_related("system"))


def _completed_events(request) -> int:
    return SecurityEvent.objects.filter(kind=EventKind.TURNOVER_COMPLETED, details__turnover_request=request.pk).count()


def _state(request) -> str:
    request.refresh_from_db()
    return request.state


def test_complete_only_when_every_system_has_confirmed(units, it_admin, leader_bien_hoa, officer_bien_hoa, letter,
                                                       connected, scim_server, settings, tmp_path):
    request = _executed(units, leader_bien_hoa, it_admin, officer_bien_hoa, letter)
    assert request.state == TurnoverState.EXECUTED and request.completed_at is None
    # The session's logout and the "all sessions" one, the SCIM deactivation, the manual task.
    assert _awaited(request) == [("Hộ tịch Biên Hòa", Awaited.SCIM, False),
                                 ("Một cửa Biên Hòa", Awaited.LOGOUT, False),
                                 ("Một cửa Biên Hòa", Awaited.LOGOUT, False),
                                 ("Phần mềm kế toán", Awaited.MANUAL, False)]
    assert turnover_completion_sweep(actor=TURNOVER_COMPLETION_JOB) == {"confirmed": 0, "completed": []}

    admin = login(Client(), it_admin)
    listing = admin.get(reverse("accounts:turnover_list"))
    assert listing.context["page"][0].waiting_systems == 3
    assert "Đang chờ 3 hệ thống" in listing.content.decode()

    assert _send(DeliveryKind.BACKCHANNEL_LOGOUT) == {"delivered": 2, "retrying": 0, "failed": 0}
    assert turnover_completion_sweep(actor=TURNOVER_COMPLETION_JOB) == {"confirmed": 2, "completed": []}
    assert _state(request) == TurnoverState.EXECUTED

    assert _send(DeliveryKind.SCIM_PUSH) == {"delivered": 1, "retrying": 0, "failed": 0}
    assert scim_server.users()[officer_bien_hoa.username].active is False
    assert turnover_completion_sweep(actor=TURNOVER_COMPLETION_JOB) == {"confirmed": 1, "completed": []}
    assert _state(request) == TurnoverState.EXECUTED
    detail = admin.get(reverse("accounts:turnover_detail", args=[request.pk]))
    assert detail.context["turnover_request"].waiting_systems == 1
    assert "Đang chờ 1 hệ thống" in detail.content.decode()

    task = ManualTask.objects.get(account=officer_bien_hoa, done_at=None)
    assert task.action == ManualTask.Action.DEACTIVATE
    with pytest.raises(PolicyViolation) as refused:
        manual_task_complete(actor=it_admin, task=task, note="Đã khóa tài khoản",
                             evidence=SimpleUploadedFile("bang-chung.pdf", b"not a pdf at all"))
    assert refused.value.code == "evidence_type"
    assert turnover_completion_sweep(actor=TURNOVER_COMPLETION_JOB) == {"confirmed": 0, "completed": []}
    assert _state(request) == TurnoverState.EXECUTED and _completed_events(request) == 0

    task = manual_task_complete(actor=it_admin, task=task, note="Đã khóa tài khoản trên phần mềm",
                                evidence=SimpleUploadedFile("bang-chung.pdf", pdf_bytes()))
    assert turnover_completion_sweep(actor=TURNOVER_COMPLETION_JOB) == {"confirmed": 1, "completed": [request.pk]}
    request.refresh_from_db()
    assert request.state == TurnoverState.COMPLETE
    # Complete when the last system confirmed: here the manual task, done last.
    assert request.completed_at == task.done_at
    assert _completed_events(request) == 1
    event = SecurityEvent.objects.get(kind=EventKind.TURNOVER_COMPLETED)
    assert (event.actor_username, event.details["confirmations"]) == ("system:turnover_completion_job", 4)

    # The sweep again (and the job twice): nothing more changes, nothing more is recorded.
    assert turnover_completion_sweep(actor=TURNOVER_COMPLETION_JOB) == {"confirmed": 0, "completed": []}
    assert complete_turnover_requests() == 0
    assert complete_turnover_requests() == 0
    request.refresh_from_db()
    assert (request.state, request.completed_at, _completed_events(request)) == (
        TurnoverState.COMPLETE, task.done_at, 1)
    detail = admin.get(reverse("accounts:turnover_detail", args=[request.pk])).content.decode()
    assert 'data-testid="completion"><span class="tag ok">Hoàn tất</span>' in detail


def test_a_failed_logout_keeps_the_request_waiting_and_overdue(units, it_admin, leader_bien_hoa, officer_bien_hoa,
                                                               letter, connected, receiver):
    request = _executed(units, leader_bien_hoa, it_admin, officer_bien_hoa, letter)
    receiver.status = 503
    Delivery.objects.filter(kind=DeliveryKind.BACKCHANNEL_LOGOUT).update(attempts=4)
    assert _send(DeliveryKind.BACKCHANNEL_LOGOUT) == {"delivered": 0, "retrying": 0, "failed": 2}
    _send(DeliveryKind.SCIM_PUSH)
    for task in ManualTask.objects.filter(done_at=None):
        manual_task_complete(actor=it_admin, task=task, note="Đã khóa", evidence=SimpleUploadedFile("a.png", PNG))
    assert turnover_completion_sweep(actor=TURNOVER_COMPLETION_JOB) == {"confirmed": 2, "completed": []}
    assert _state(request) == TurnoverState.EXECUTED
    # Past its service level and not complete: overdue, although executed in time here.
    TurnoverRequest.objects.filter(pk=request.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    admin = login(Client(), it_admin)
    row = admin.get(reverse("accounts:turnover_list")).context["page"][0]
    assert (row.overdue, row.waiting_systems) == (True, 1)
    detail = admin.get(reverse("accounts:turnover_detail", args=[request.pk])).content.decode()
    assert detail.count('<span class="tag bad">Không thành công</span>') == 2
    # The exported list says it too: not complete, one system not confirmed, overdue.
    rows = list(csv.reader(io.StringIO(admin.get("/compliance/export/turnover.csv").content.decode("utf-8-sig"))))
    assert rows[0][-3:] == ["Đã hoàn tất trên mọi hệ thống kết nối", "Số hệ thống kết nối chưa xác nhận", "Quá hạn"]
    assert (rows[1][4], rows[1][-3:]) == ("Đã thực hiện", ["", "1", "Có"])


def test_a_request_no_connected_system_concerns_completes_at_once(units, it_admin, leader_bien_hoa, letter,
                                                                   connected):
    outside = UserFactory(unit=units["long_khanh"])
    request = turnover.turnover_request_create(
        actor=it_admin, unit=outside.unit, letter_number="7/UBND-VP", letter_date=timezone.localdate(),
        effective_date=timezone.localdate(), issuing_unit_name=outside.unit.name, signer_name="Trần Văn Bình",
        signer_position="Chủ tịch", attachment=letter,
        lines=[{"action": TurnoverAction.CHANGE_LOOKUP, "account": outside, "new_can_lookup": False}])
    turnover.turnover_request_submit(actor=it_admin, request=request)
    request = turnover.turnover_request_accept(actor=it_admin, request=request).request
    assert (request.state, request.completed_at) == (TurnoverState.COMPLETE, request.executed_at)
    assert request.confirmations.count() == 0 and _completed_events(request) == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_complete_a_request_once(units, it_admin, leader_bien_hoa, officer_bien_hoa, letter,
                                                    connected):
    request = _executed(units, leader_bien_hoa, it_admin, officer_bien_hoa, letter)
    _delivered(request)
    for task in ManualTask.objects.filter(done_at=None):
        manual_task_complete(actor=it_admin, task=task, note="Đã khóa", evidence=SimpleUploadedFile("a.png", PNG))
    outcomes = run_concurrently(lambda: turnover_completion_sweep(actor=TURNOVER_COMPLETION_JOB),
                                lambda: turnover_completion_sweep(actor=TURNOVER_COMPLETION_JOB))
    assert sorted(len(outcome["completed"]) for outcome in outcomes) == [0, 1]
    assert (_state(request), _completed_events(request)) == (TurnoverState.COMPLETE, 1)


def test_the_completion_job_holds_only_its_own_right(officer_bien_hoa):
    job = TURNOVER_COMPLETION_JOB
    assert job.rights == frozenset({"turnover_complete"})
    with pytest.raises(NotAllowed):
        turnover.turnover_due_execute(actor=job)
    with pytest.raises(NotAllowed):
        turnover_completion_sweep(actor=officer_bien_hoa)
    with pytest.raises(NotAllowed):
        turnover_completion_sweep(actor=SystemActor("turnover_job"))


def test_point_2_fails_while_a_request_is_not_complete_past_its_service_level(units, it_admin, leader_bien_hoa,
                                                                             officer_bien_hoa, letter, connected):
    from compliance.points import FAILING, NO_DATA, OK, unit_points

    request = _executed(units, leader_bien_hoa, it_admin, officer_bien_hoa, letter)
    # Executed within its service level, still waiting (and no daily figures yet): nothing against the unit.
    assert unit_points(units["bien_hoa"])[1].status == NO_DATA
    later = request.due_at + timedelta(minutes=1)
    point = unit_points(units["bien_hoa"], now=later)[1]
    assert point.status == FAILING
    assert dict(point.evidence)["Đề nghị thay đổi cán bộ chưa hoàn tất trên mọi hệ thống kết nối trong thời hạn xử lý"] == 1

    _send(DeliveryKind.BACKCHANNEL_LOGOUT)
    _send(DeliveryKind.SCIM_PUSH)
    for task in ManualTask.objects.filter(done_at=None):
        manual_task_complete(actor=it_admin, task=task, note="Đã khóa", evidence=SimpleUploadedFile("a.png", PNG))
    turnover_completion_sweep(actor=TURNOVER_COMPLETION_JOB)
    point = unit_points(units["bien_hoa"], now=later)[1]
    assert point.status == OK
    assert dict(point.evidence)["Đề nghị thay đổi cán bộ đã hoàn tất"] == 1
    # A leader of another district sees nothing of it.
    assert dict(unit_points(units["long_khanh"], now=later)[1].evidence) == {}
