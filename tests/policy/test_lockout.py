"""Five failed logins lock the username (not the address: whole offices share one), for everyone."""
import pytest
from django.urls import reverse

from accounts.selectors import account_is_locked
from audit.choices import EventKind
from audit.models import SecurityEvent


@pytest.fixture(autouse=True)
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1


def _attempt(client, username, password, ip="10.0.0.1"):
    # Behind one reverse proxy the client address is the last X-Forwarded-For hop.
    return client.post(reverse("login"), {"username": username, "password": password},
                       HTTP_X_FORWARDED_FOR=f"203.0.113.9, {ip}", REMOTE_ADDR="127.0.0.1")


def _fail(client, username, times, ip="10.0.0.1"):
    for _ in range(times):
        _attempt(client, username, "Sai-mat-khau-1!", ip=ip)


def test_it_locks_the_username_after_five_failures(client, officer_bien_hoa, password):
    _fail(client, officer_bien_hoa.username, 4)
    assert not account_is_locked(officer_bien_hoa)
    response = _attempt(client, officer_bien_hoa.username, "Sai-mat-khau-1!")
    assert response.status_code == 429
    assert account_is_locked(officer_bien_hoa)
    # Even the right password is refused now, with the Vietnamese lockout page.
    response = _attempt(client, officer_bien_hoa.username, password)
    assert response.status_code == 429
    assert "Tài khoản bị khóa tạm thời" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_locks_the_username_from_another_address_too(client, officer_bien_hoa, password):
    _fail(client, officer_bien_hoa.username, 5, ip="10.0.0.1")
    response = _attempt(client, officer_bien_hoa.username, password, ip="192.0.2.77")
    assert response.status_code == 429


def test_it_counts_the_username_without_case(client, officer_bien_hoa, password):
    _fail(client, officer_bien_hoa.username.upper(), 5)
    assert _attempt(client, officer_bien_hoa.username, password).status_code == 429


def test_it_does_not_lock_another_username_from_the_same_address(client, officer_bien_hoa, leader_bien_hoa, password):
    _fail(client, officer_bien_hoa.username, 5, ip="10.0.0.1")
    response = _attempt(client, leader_bien_hoa.username, password, ip="10.0.0.1")
    assert response.status_code == 302
    assert response.url == reverse("home")


def test_it_records_failures_and_the_lockout_with_the_client_address(client, officer_bien_hoa):
    _fail(client, officer_bien_hoa.username, 5, ip="10.1.2.3")
    failures = SecurityEvent.objects.filter(kind=EventKind.LOGIN_FAILURE, target=officer_bien_hoa)
    assert failures.count() == 5
    assert set(failures.values_list("ip_address", flat=True)) == {"10.1.2.3"}
    assert SecurityEvent.objects.filter(kind=EventKind.LOCKOUT, target=officer_bien_hoa).count() == 1


def test_it_records_one_lockout_event_per_lockout_and_refusals_as_locked_failures(client, officer_bien_hoa,
                                                                                  password):
    _fail(client, officer_bien_hoa.username, 5)
    _fail(client, officer_bien_hoa.username, 3)
    assert _attempt(client, officer_bien_hoa.username, password).status_code == 429
    assert SecurityEvent.objects.filter(kind=EventKind.LOCKOUT, target=officer_bien_hoa).count() == 1
    failures = SecurityEvent.objects.filter(kind=EventKind.LOGIN_FAILURE, target=officer_bien_hoa)
    assert failures.count() == 9
    assert failures.filter(details__reason="locked").count() == 4
    assert failures.exclude(details__has_key="reason").count() == 5


def test_it_records_a_second_lockout_once_after_the_first_has_ended(client, officer_bien_hoa):
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.utils import timezone

    _fail(client, officer_bien_hoa.username, 6)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    _fail(client, officer_bien_hoa.username, 6)
    assert SecurityEvent.objects.filter(kind=EventKind.LOCKOUT, target=officer_bien_hoa).count() == 2


def test_it_never_stores_the_password_of_a_failure(client, officer_bien_hoa):
    from axes.models import AccessAttempt

    _attempt(client, officer_bien_hoa.username, "Bi-Mat-Tuyet-Doi-99!")
    attempt = AccessAttempt.objects.get(username=officer_bien_hoa.username)
    assert "Bi-Mat-Tuyet-Doi-99!" not in attempt.post_data
    assert not SecurityEvent.objects.filter(details__icontains="Bi-Mat-Tuyet-Doi-99!").exists()


def test_it_lets_an_it_admin_unlock_and_records_who(admin_client, it_admin, officer_bien_hoa, password):
    from django.test import Client

    other = Client()
    _fail(other, officer_bien_hoa.username, 5)
    assert account_is_locked(officer_bien_hoa)
    refused = admin_client.post(reverse("accounts:unlock", args=[officer_bien_hoa.pk]), follow=True)
    assert [str(m) for m in refused.context["messages"]] == ["Hãy nêu lý do."]
    assert account_is_locked(officer_bien_hoa)  # no reason, no unlock
    response = admin_client.post(reverse("accounts:unlock", args=[officer_bien_hoa.pk]),
                                 {"reason": "Cán bộ gọi tổng đài, đã xác minh"})
    assert response.status_code == 302
    assert not account_is_locked(officer_bien_hoa)
    event = SecurityEvent.objects.get(kind=EventKind.UNLOCK, target=officer_bien_hoa)
    # django-axes keeps one attempt row per username (lockout by username only): one row cleared.
    assert event.actor == it_admin
    assert event.details == {"attempts_cleared": 1, "reason": "Cán bộ gọi tổng đài, đã xác minh"}
    assert _attempt(other, officer_bien_hoa.username, password).status_code == 302


@pytest.mark.parametrize("role_fixture", ["inspector", "leader_bien_hoa", "officer_long_khanh"])
def test_it_lets_no_one_else_unlock(client, request, role_fixture, officer_bien_hoa):
    from tests.helpers import login

    login(client, request.getfixturevalue(role_fixture))
    _fail(client.__class__(), officer_bien_hoa.username, 5)
    response = client.post(reverse("accounts:unlock", args=[officer_bien_hoa.pk]))
    # Unlocking is an IT admin's act: any other role is refused as a role (403), even a leader whose
    # subtree holds the account and an officer outside it.
    assert response.status_code == 403
    assert account_is_locked(officer_bien_hoa)
    assert not SecurityEvent.objects.filter(kind=EventKind.UNLOCK).exists()


def test_it_takes_the_threshold_from_the_policy(client, it_admin, officer_bien_hoa):
    from policy.services import policy_update

    policy_update(actor=it_admin, values={"lockout_threshold": 3})
    _fail(client, officer_bien_hoa.username, 3)
    assert account_is_locked(officer_bien_hoa)


def test_it_does_not_extend_the_lockout_with_each_new_attempt(client, officer_bien_hoa, password):
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.utils import timezone

    _fail(client, officer_bien_hoa.username, 5)
    locked_at = AccessAttempt.objects.get(username=officer_bien_hoa.username).attempt_time
    _fail(client, officer_bien_hoa.username, 3)
    assert AccessAttempt.objects.get(username=officer_bien_hoa.username).attempt_time == locked_at
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert not account_is_locked(officer_bien_hoa)
    assert _attempt(client, officer_bien_hoa.username, password).status_code == 302
