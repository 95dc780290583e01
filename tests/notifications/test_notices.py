"""The notices the flows make (in the same transaction as their audit event), the holder's choice for
optional ones, and the outbox's refusal of anything secret."""
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.choices import Role, TurnoverAction, TurnoverState
from accounts.models import RecertificationCampaign
from accounts.services import account_create, account_password_reset, lockout_record, login_record_success
from accounts.services.dormancy import dormant_accounts_disable
from accounts.services.recertification import recertification_campaign_start, recertification_reminders_due
from audit.choices import EventKind
from audit.models import SecurityEvent
from notifications.choices import DeliveryState, NoticeKind
from notifications.messages import notice_message
from notifications.models import Notice, NotificationPreference
from notifications.outbox import context_refuse_secrets, notice_enqueue
from portal.actors import SystemActor
from portal.audit_context import audit_context
from tests.factories import UserFactory


def _notices(account, kind):
    return list(Notice.objects.filter(recipient=account, kind=kind))


@pytest.mark.django_db
def test_a_lockout_tells_the_holder_once_with_its_event(officer_bien_hoa):
    with audit_context(ip_address="203.0.113.7"):
        lockout_record(username=officer_bien_hoa.username)
    [notice] = _notices(officer_bien_hoa, NoticeKind.ACCOUNT_LOCKED)
    event = SecurityEvent.objects.get(kind=EventKind.LOCKOUT)
    assert notice.source_key == f"event:{event.pk}"
    assert notice.context == {"address": "203.0.113.7", "minutes": 15}
    assert notice.email_state == DeliveryState.READY
    message = notice_message(notice)
    assert message.subject == "Tài khoản của bạn đã bị khóa sau nhiều lần đăng nhập sai"
    assert "203.0.113.7" in message.text and "15 phút" in message.text


@pytest.mark.django_db
def test_a_lockout_of_an_unknown_username_tells_nobody(units):
    lockout_record(username="khong.ton.tai")
    assert Notice.objects.count() == 0


@pytest.mark.django_db
def test_the_notice_rolls_back_with_its_flow(officer_bien_hoa):
    with pytest.raises(RuntimeError), transaction.atomic():
        lockout_record(username=officer_bien_hoa.username)
        raise RuntimeError("the flow failed after the notice")
    assert Notice.objects.count() == 0
    assert SecurityEvent.objects.filter(kind=EventKind.LOCKOUT).count() == 0


@pytest.mark.django_db
def test_a_one_time_password_notice_never_holds_the_password(units, it_admin):
    account, password, record = account_create(actor=it_admin, username="cb.moi", full_name="Ngô Văn Bình",
                                                unit=units["tan_phong"], role=Role.OFFICER, email="cb.moi@dongnai.gov.vn")
    reset_password, reset_record = account_password_reset(actor=it_admin, account=account)
    created, reset = Notice.objects.filter(recipient=account).order_by("id")
    assert (created.kind, created.context["reason"], reset.context["reason"]) == (
        NoticeKind.ONE_TIME_PASSWORD_ISSUED, "created", "reset")
    for notice in (created, reset):
        message = notice_message(notice)
        for text in (message.subject, message.text, message.html, str(notice.context)):
            assert password not in text and reset_password not in text
    assert reset_record.number in notice_message(reset).text
    assert notice_message(reset).subject == "Trung tâm CNTT đã đặt lại mật khẩu của bạn"


@pytest.mark.django_db
def test_a_sign_in_from_a_new_address_is_told_not_the_first_one_nor_a_known_one(officer_bien_hoa):
    with audit_context(ip_address="198.51.100.1"):
        login_record_success(account=officer_bien_hoa)  # the first sign-in: nothing to compare with
        login_record_success(account=officer_bien_hoa)  # a known address
    assert _notices(officer_bien_hoa, NoticeKind.NEW_SIGNIN_ADDRESS) == []
    with audit_context(ip_address="198.51.100.99"):
        login_record_success(account=officer_bien_hoa)
    [notice] = _notices(officer_bien_hoa, NoticeKind.NEW_SIGNIN_ADDRESS)
    assert notice.context == {"address": "198.51.100.99"}
    assert "198.51.100.99" in notice_message(notice).text


@pytest.mark.django_db
def test_optional_notices_follow_the_holders_choice_mandatory_ones_do_not(officer_bien_hoa):
    NotificationPreference.objects.create(account=officer_bien_hoa, optional_by_email=False)
    with audit_context(ip_address="198.51.100.1"):
        login_record_success(account=officer_bien_hoa)
    with audit_context(ip_address="198.51.100.2"):
        login_record_success(account=officer_bien_hoa)
        lockout_record(username=officer_bien_hoa.username)
    [optional] = _notices(officer_bien_hoa, NoticeKind.NEW_SIGNIN_ADDRESS)
    [mandatory] = _notices(officer_bien_hoa, NoticeKind.ACCOUNT_LOCKED)
    assert (optional.email_state, optional.email_to) == (DeliveryState.NONE, "")
    assert (mandatory.email_state, mandatory.email_to) == (DeliveryState.READY, officer_bien_hoa.email)


@pytest.mark.django_db
def test_a_notice_is_made_once_per_key(officer_bien_hoa):
    first = notice_enqueue(recipient=officer_bien_hoa, kind=NoticeKind.ACCOUNT_LOCKED, source_key="event:1")
    second = notice_enqueue(recipient=officer_bien_hoa, kind=NoticeKind.ACCOUNT_LOCKED, source_key="event:1")
    assert isinstance(first, int) and second is None
    assert Notice.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("context", [
    {"password": "x"}, {"one_time_password": "Ab3$efgh"}, {"otp": "123456"}, {"citizen_id": "x"},
    {"note": "CCCD 079123456789 của công dân"}, {"lines": ["ok", {"token": "t"}]},
    # Only a whole hexadecimal digest is let through, not a citizen ID inside text that looks like one.
    {"chain": "a" * 20 + "079123456789" + "b" * 32 + " x"},
])
def test_the_outbox_refuses_anything_secret(officer_bien_hoa, context):
    with pytest.raises(ValueError):
        notice_enqueue(recipient=officer_bien_hoa, kind=NoticeKind.IT_ALERT, source_key="alert:x", context=context)
    assert Notice.objects.count() == 0


def test_the_outbox_keeps_a_digest_that_happens_to_hold_twelve_digits_in_a_row():
    # A seal's chain value (SHA-256 in hex) in the IT Center's daily mail: the citizen-ID guard once
    # refused the whole mail when a digest held exactly twelve decimal digits between two letters.
    digest = "3f" + "079123456789" + "ab" * 25
    assert len(digest) == 64
    assert context_refuse_secrets({"seals": [{"table": "audit_securityevent", "chain": digest}]}) == {
        "seals": [{"table": "audit_securityevent", "chain": digest}]}


def test_the_outbox_keeps_plain_context_and_times_as_text():
    moment = timezone.now()
    assert context_refuse_secrets({"address": "10.0.0.1", "at": moment, "count": 3}) == {
        "address": "10.0.0.1", "at": moment.isoformat(), "count": 3}


@pytest.mark.django_db
def test_turnover_execution_tells_each_account_it_changed(units, it_admin, leader_bien_hoa, officer_bien_hoa):
    from accounts.models import TurnoverLine, TurnoverRequest
    from accounts.services.turnover import turnover_request_execute

    request = TurnoverRequest.objects.create(
        unit=units["bien_hoa"], unit_code=units["bien_hoa"].code, unit_name=units["bien_hoa"].name,
        issuing_unit_name=units["bien_hoa"].name, letter_number="123/UBND-VP", letter_date=timezone.localdate(),
        effective_date=timezone.localdate(), signer_name="Lê Minh Tuấn", signer_position="Chủ tịch",
        created_by=leader_bien_hoa, state=TurnoverState.ACCEPTED)
    TurnoverLine.objects.create(request=request, action=TurnoverAction.DISABLE, account=officer_bien_hoa,
                                username=officer_bien_hoa.username, departure_reason="left")
    turnover_request_execute(actor=it_admin, request=request)
    [notice] = _notices(officer_bien_hoa, NoticeKind.TURNOVER_EXECUTED)
    message = notice_message(notice)
    assert message.subject == "Đề nghị 123/UBND-VP về tài khoản của bạn đã được thực hiện"
    assert "- Vô hiệu hóa tài khoản: " in message.text


@pytest.mark.django_db
def test_the_dormant_pass_tells_the_units_nearest_leader(units, it_admin, leader_bien_hoa):
    old = timezone.now() - timedelta(days=100)
    dormant = UserFactory(username="cb.ngu", unit=units["tan_phong"], created_at=old)
    dormant_accounts_disable(actor=SystemActor("dormant_job"))
    [notice] = _notices(leader_bien_hoa, NoticeKind.DORMANT_ACCOUNTS_DISABLED)
    assert notice.context["usernames"] == [dormant.username]
    assert "cb.ngu" in notice_message(notice).text
    assert Notice.objects.filter(kind=NoticeKind.DORMANT_ACCOUNTS_DISABLED).count() == 1


@pytest.mark.django_db
def test_a_recertification_reminder_reaches_the_leader(units, it_admin, leader_bien_hoa):
    UserFactory(unit=units["bien_hoa"])  # an account the leader of Biên Hòa certifies
    campaign = recertification_campaign_start(actor=it_admin, deadline=timezone.now() + timedelta(days=2, hours=12))
    actor = SystemActor("recertification_job")
    recertification_reminders_due(actor=actor, campaign=RecertificationCampaign.objects.get(pk=campaign.pk))
    recertification_reminders_due(actor=actor, campaign=RecertificationCampaign.objects.get(pk=campaign.pk))
    [notice] = _notices(leader_bien_hoa, NoticeKind.RECERTIFICATION_REMINDER)
    assert notice.context["days_before"] == 3
    assert notice_message(notice).subject.endswith("tài khoản chờ xác nhận lại")
