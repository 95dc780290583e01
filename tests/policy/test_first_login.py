"""Letter point 3: the default (one-time) password is changed at first login, expires unused, and
every password is changed at least every 90 days."""
import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.choices import HandoverReason, PasswordChangeReason
from accounts.models import HandoverRecord
from accounts.services import account_create, login_record_success
from audit.choices import EventKind
from audit.models import SecurityEvent
from tests.helpers import run_concurrently, sign_in, totp_enrol, wait_until_blocking_another_session

NEW_PASSWORD = "Song-Dong-Nai-Xanh-Mat-48!"


@pytest.fixture
def new_officer(units, it_admin):
    account, one_time_password, record = account_create(
        actor=it_admin, username="cb.moi", full_name="Đỗ Thị Mới", unit=units["tan_phong"], role="officer")
    return account, one_time_password, record


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_it_sends_a_one_time_password_login_to_the_password_change(client, new_officer):
    account, one_time_password, _ = new_officer
    response = _login(client, account.username, one_time_password)
    assert response.status_code == 302
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url == reverse("password_change")


@pytest.mark.parametrize("url_name", ["home", "accounts:list", "audit:events", "policy:edit", "accounts:unit_list"])
def test_it_lets_a_one_time_password_reach_nothing_but_the_change(client, new_officer, url_name):
    account, one_time_password, _ = new_officer
    _login(client, account.username, one_time_password)
    response = client.get(reverse(url_name))
    assert response.status_code == 302 and response.url == reverse("password_change")
    response = client.post(reverse(url_name), {})
    assert response.status_code == 302 and response.url == reverse("password_change")


def test_it_clears_the_requirement_once_the_officer_chooses_a_password(client, new_officer):
    account, one_time_password, _ = new_officer
    _login(client, account.username, one_time_password)
    response = client.post(reverse("password_change"), {
        "old_password": one_time_password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.password_change_reason == PasswordChangeReason.NONE
    assert account.one_time_password_expires_at is None
    assert account.check_password(NEW_PASSWORD)
    assert client.get(reverse("home")).status_code == 200
    event = SecurityEvent.objects.filter(kind=EventKind.PASSWORD_CHANGED, target=account).get()
    assert event.details == {"required_because": "one_time"}


def test_it_marks_the_handover_record_received_at_first_login(client, new_officer):
    account, one_time_password, record = new_officer
    assert record.reason == HandoverReason.CREATED and record.received_at is None
    _login(client, account.username, one_time_password)
    record.refresh_from_db()
    assert record.received_at is not None
    assert SecurityEvent.objects.filter(kind=EventKind.HANDOVER_RECEIVED, target=account).count() == 1
    assert HandoverRecord.objects.filter(account=account, received_at__isnull=True).count() == 0


@pytest.mark.django_db(transaction=True)
def test_it_marks_the_handover_record_received_once_for_two_first_logins_at_once(new_officer):
    account, one_time_password, record = new_officer
    first_has_claimed = threading.Event()

    def first_login():
        # The first login's claim stays uncommitted until the second login waits for it.
        with transaction.atomic():
            login_record_success(account=account)
            first_has_claimed.set()
            wait_until_blocking_another_session()
        return "committed"

    def second_login():
        # The same one-time password typed in a second browser at the same moment.
        if not first_has_claimed.wait(timeout=10):
            raise AssertionError("the first login did not claim the handover record")
        response = Client().post(reverse("login"), {"username": account.username, "password": one_time_password})
        return response.status_code

    assert run_concurrently(first_login, second_login) == ["committed", 302]
    logins = SecurityEvent.objects.filter(kind=EventKind.LOGIN_SUCCESS, target=account).order_by("pk")
    assert logins.count() == 2
    received = SecurityEvent.objects.filter(kind=EventKind.HANDOVER_RECEIVED, target=account)
    assert list(received.values_list("details", flat=True)) == [{"handover_records": [record.number]}]
    # Stamped by the first login; the second one, which began after it, did not stamp it again.
    record.refresh_from_db()
    assert logins[0].occurred_at < record.received_at < logins[1].occurred_at


def test_it_refuses_an_expired_one_time_password(client, new_officer):
    account, one_time_password, _ = new_officer
    account.one_time_password_expires_at = timezone.now() - timedelta(minutes=1)
    account.save(update_fields=["one_time_password_expires_at"])
    response = _login(client, account.username, one_time_password)
    assert response.status_code == 200
    assert "Hãy đề nghị Trung tâm CNTT" in response.content.decode()
    assert "_auth_user_id" not in client.session
    failures = SecurityEvent.objects.filter(kind=EventKind.LOGIN_FAILURE, target=account)
    assert list(failures.values_list("details", flat=True)) == [{"reason": "one_time_password_expired"}]


def test_it_forces_the_change_of_an_expired_password(client, officer_bien_hoa, password):
    officer_bien_hoa.password_changed_at = timezone.now() - timedelta(days=91)
    officer_bien_hoa.save(update_fields=["password_changed_at"])
    _login(client, officer_bien_hoa.username, password)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url == reverse("password_change")
    page = client.get(reverse("password_change")).content.decode()
    assert "Mật khẩu của bạn đã hết hạn" in page


def test_it_does_not_force_a_password_within_its_age(client, officer_bien_hoa, password):
    officer_bien_hoa.password_changed_at = timezone.now() - timedelta(days=89)
    officer_bien_hoa.save(update_fields=["password_changed_at"])
    _login(client, officer_bien_hoa.username, password)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "Mật khẩu của bạn sẽ hết hạn sau 1 ngày" in response.content.decode()


def test_it_expires_it_admin_passwords_sooner(client, it_admin, password):
    it_admin.password_changed_at = timezone.now() - timedelta(days=61)
    it_admin.save(update_fields=["password_changed_at"])
    sign_in(client, it_admin, password, device=totp_enrol(it_admin))
    assert client.get(reverse("accounts:list")).url == reverse("password_change")


def test_it_refuses_a_wrong_old_password(client, new_officer):
    account, one_time_password, _ = new_officer
    _login(client, account.username, one_time_password)
    response = client.post(reverse("password_change"), {
        "old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.password_change_reason == PasswordChangeReason.ONE_TIME
    assert account.check_password(one_time_password)


def test_it_locks_out_guessing_of_the_current_password_on_the_change_page(client, officer_bien_hoa, password):
    from tests.helpers import login

    officer_bien_hoa.password_change_reason = PasswordChangeReason.FORCED
    officer_bien_hoa.save(update_fields=["password_change_reason"])
    login(client, officer_bien_hoa)
    responses = [client.post(reverse("password_change"), {"old_password": f"Doan-{n}!x", "new_password1": NEW_PASSWORD,
                                                          "new_password2": NEW_PASSWORD}) for n in range(5)]
    assert [r.status_code for r in responses[:4]] == [200] * 4
    assert responses[4].status_code == 429
    assert "_auth_user_id" not in client.session
    assert SecurityEvent.objects.filter(kind=EventKind.LOGIN_FAILURE, target=officer_bien_hoa).count() == 5
    response = client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": password})
    assert response.status_code == 429


def test_it_ends_a_session_opened_with_a_one_time_password_that_has_since_expired(client, new_officer):
    account, one_time_password, _ = new_officer
    _login(client, account.username, one_time_password)
    account.one_time_password_expires_at = timezone.now() - timedelta(seconds=1)
    account.save(update_fields=["one_time_password_expires_at"])
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and "one_time_expired=1" in response.url
    assert "_auth_user_id" not in client.session
    assert "Hãy đề nghị Trung tâm CNTT" in client.get(response.url).content.decode()
