"""What keeps a stranger from turning the username lockout against the portal: one source address that
fails too often is refused first; IT admins are delayed, not locked; the operator unlocks from the
shell. And the change page checks the lockout before the current password."""
from datetime import timedelta
from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.selectors import account_is_locked, account_list, locked_usernames
from audit.choices import EventKind
from audit.models import SecurityEvent
from tests.conftest import login
from tests.factories import UserFactory
from tests.helpers import totp_code, totp_enrol

WRONG = "Sai-mat-khau-1!"


@pytest.fixture(autouse=True)
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1


def _attempt(client, username, password, ip="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password},
                       HTTP_X_FORWARDED_FOR=f"203.0.113.9, {ip}", REMOTE_ADDR="127.0.0.1")


def _backdate(seconds, **filters):
    AccessAttempt.objects.filter(**filters).update(attempt_time=timezone.now() - timedelta(seconds=seconds))


def _failures(username):
    return AccessAttempt.objects.filter(username=username).aggregate(total=Sum("failures_since_start"))["total"] or 0


# (a) the source address


def test_it_refuses_an_address_that_fails_over_many_usernames(client, units, officer_bien_hoa, password, settings):
    settings.SIGNIN_ADDRESS_FAILURE_LIMIT = 6
    victims = [UserFactory(unit=units["tan_phong"]) for _ in range(3)]
    for victim in victims:  # two failures each: no username reaches its lockout
        _attempt(client, victim.username, WRONG, ip="10.9.9.9")
        _attempt(client, victim.username, WRONG, ip="10.9.9.9")
    response = _attempt(client, officer_bien_hoa.username, password, ip="10.9.9.9")
    assert response.status_code == 429
    assert "Tạm thời từ chối đăng nhập từ địa chỉ này" in response.content.decode()
    assert int(response["Retry-After"]) == 15 * 60
    assert locked_usernames(timezone.now()) == []
    assert "_auth_user_id" not in client.session
    # The refusal is recorded, not counted: the officer's own counter is untouched.
    event = SecurityEvent.objects.get(kind=EventKind.LOGIN_FAILURE, target=officer_bien_hoa)
    assert event.details == {"reason": "address_blocked"}
    assert _failures(officer_bien_hoa.username) == 0


def test_it_lets_other_addresses_in_while_one_is_refused(client, units, officer_bien_hoa, password, settings):
    settings.SIGNIN_ADDRESS_FAILURE_LIMIT = 4
    for victim in (UserFactory(unit=units["tan_phong"]), UserFactory(unit=units["tan_phong"])):
        _attempt(client, victim.username, WRONG, ip="10.9.9.9")
        _attempt(client, victim.username, WRONG, ip="10.9.9.9")
    assert _attempt(client, officer_bien_hoa.username, password, ip="10.9.9.9").status_code == 429
    response = _attempt(client, officer_bien_hoa.username, password, ip="10.1.1.1")
    assert response.status_code == 302 and response.url == reverse("home")


def test_it_lifts_the_address_block_after_its_window(client, units, officer_bien_hoa, password, settings):
    settings.SIGNIN_ADDRESS_FAILURE_LIMIT = 4
    for victim in (UserFactory(unit=units["tan_phong"]), UserFactory(unit=units["tan_phong"])):
        _attempt(client, victim.username, WRONG, ip="10.9.9.9")
        _attempt(client, victim.username, WRONG, ip="10.9.9.9")
    _backdate(16 * 60, ip_address="10.9.9.9")
    assert _attempt(client, officer_bien_hoa.username, password, ip="10.9.9.9").status_code == 302


def test_it_blocks_an_address_at_twenty_failures_by_default(settings):
    assert settings.SIGNIN_ADDRESS_FAILURE_LIMIT == 20 and settings.SIGNIN_ADDRESS_BLOCK_MINUTES == 15


# (b) IT admins: an escalating delay instead of a quarter-hour lockout


def test_it_delays_an_it_admin_instead_of_locking_for_the_cool_off(client, it_admin, password):
    device = totp_enrol(it_admin)
    for _ in range(5):
        _attempt(client, it_admin.username, WRONG)
    response = _attempt(client, it_admin.username, password)
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 2
    assert "2 giây" in response.content.decode()
    assert account_is_locked(it_admin)
    assert _failures(it_admin.username) == 5  # the refused attempt was not counted
    # The real administrator, after the wait, gets in with the right password.
    _backdate(3, username=it_admin.username)
    assert not account_is_locked(it_admin)
    response = _attempt(client, it_admin.username, password)
    assert response.status_code == 302 and response.url == reverse("login_second_step")
    # The failures are cleared by the whole sign-in, second factor included, not by the password alone.
    assert _failures(it_admin.username) == 5
    response = client.post(reverse("login_second_step"), {"otp_token": totp_code(device)},
                           HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.1", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 302
    assert AccessAttempt.objects.filter(username=it_admin.username).count() == 0


def test_it_doubles_an_it_admins_delay_with_each_further_failure(client, it_admin):
    for _ in range(5):
        _attempt(client, it_admin.username, WRONG)
    wait, waits = 2, []
    for _ in range(3):
        _backdate(wait + 1, username=it_admin.username)  # the stranger waits out each delay, and guesses
        response = _attempt(client, it_admin.username, WRONG)
        assert response.status_code == 429
        wait = int(response["Retry-After"])
        waits.append(wait)
    assert waits == [4, 8, 16]
    assert _failures(it_admin.username) == 8
    assert SecurityEvent.objects.filter(kind=EventKind.LOCKOUT, target=it_admin).count() == 1


def test_it_shows_an_it_admin_delayed_only_while_the_delay_lasts(db, it_admin, officer_bien_hoa):
    now = timezone.now()
    for account in (it_admin, officer_bien_hoa):
        AccessAttempt.objects.create(username=account.username, ip_address="10.0.0.1", user_agent="ua",
                                     http_accept="*/*", path_info="/accounts/login/", get_data="", post_data="",
                                     failures_since_start=5)
    AccessAttempt.objects.update(attempt_time=now - timedelta(seconds=30))  # attempt_time is auto_now_add
    assert locked_usernames(now) == [officer_bien_hoa.username]
    rows = {account.username: account for account in account_list(it_admin, now=now)}
    assert rows[it_admin.username].is_locked is False and rows[officer_bien_hoa.username].is_locked is True
    assert account_is_locked(it_admin, now=now - timedelta(seconds=29)) is True


def test_it_keeps_both_it_admins_usable_after_ten_anonymous_requests(client, units, it_admin, password):
    second = UserFactory(username="qt.admin2", role=it_admin.role, unit=units["it_center"])
    for account in (it_admin, second):
        for _ in range(5):
            _attempt(client, account.username, WRONG, ip="198.51.100.7")
    _backdate(3)
    for account in (it_admin, second):
        assert _attempt(client, account.username, password, ip="10.0.0.1").status_code == 302
        client.logout()


# (c) the operator's break-glass


def test_it_unlocks_from_the_command_line_and_names_it(client, officer_bien_hoa, password):
    for _ in range(5):
        _attempt(client, officer_bien_hoa.username, WRONG)
    assert account_is_locked(officer_bien_hoa)
    out = StringIO()
    call_command("unlock_account", "CB.TanPhong", reason="Phiếu hỗ trợ 2026-118", stdout=out)
    assert not account_is_locked(officer_bien_hoa)
    assert out.getvalue() == "cb.tanphong: 1 failed-attempt record(s) cleared.\n"
    event = SecurityEvent.objects.get(kind=EventKind.UNLOCK)
    assert event.actor is None and event.actor_username == "system:command_line"
    assert event.target == officer_bien_hoa
    assert event.details == {"attempts_cleared": 1, "reason": "Phiếu hỗ trợ 2026-118"}
    assert _attempt(client, officer_bien_hoa.username, password).status_code == 302


def test_it_refuses_to_unlock_an_unknown_username_from_the_command_line(db):
    with pytest.raises(CommandError, match="No account with username 'nguoi.la'"):
        call_command("unlock_account", "nguoi.la", reason="thử")
    assert not SecurityEvent.objects.exists()


def test_it_refuses_to_unlock_without_a_reason_from_the_command_line(officer_bien_hoa):
    with pytest.raises(CommandError, match="Give a reason"):
        call_command("unlock_account", officer_bien_hoa.username, reason="   ")
    assert not SecurityEvent.objects.exists()


# The change page: the lockout before the current password


def test_it_refuses_the_right_current_password_of_a_locked_account_without_checking_it(
        client, officer_bien_hoa, password, monkeypatch):
    login(client, officer_bien_hoa)
    officer_bien_hoa.password_changed_at = timezone.now() - timedelta(days=2)
    officer_bien_hoa.save(update_fields=["password_changed_at"])
    for _ in range(5):
        _attempt(client.__class__(), officer_bien_hoa.username, WRONG)
    checked = []
    original = User.check_password
    monkeypatch.setattr(User, "check_password", lambda user, raw: checked.append(raw) or original(user, raw))
    response = client.post(reverse("password_change"), {
        "old_password": password, "new_password1": "Song-Dong-Nai-Xanh-Mat-48!",
        "new_password2": "Song-Dong-Nai-Xanh-Mat-48!"})
    assert response.status_code == 429
    assert checked == []
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.check_password(password)
    assert "_auth_user_id" not in client.session
    assert SecurityEvent.objects.filter(kind=EventKind.PASSWORD_CHANGED).count() == 0
