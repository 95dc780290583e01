"""Disabling an account stops it everywhere at once, for good (letter point 2; docs/architecture.md's
`disable_account`): its sessions end and stay ended, its one-time password is void."""
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.models import AccountSession
from accounts.services.lifecycle import account_disable, account_enable
from audit.choices import EventKind
from audit.models import SecurityEvent
from portal.actors import COMMAND_LINE


def _signed_in(user, password) -> Client:
    browser = Client()
    response = browser.post(reverse("login"), {"username": user.username, "password": password})
    assert response.status_code == 302
    assert "_auth_user_id" in browser.session
    return browser


def _is_signed_in(browser: Client) -> bool:
    response = browser.get(reverse("password_change"))
    return response.status_code == 200


def test_it_tags_each_session_with_its_account(db, officer_bien_hoa, password):
    _signed_in(officer_bien_hoa, password)
    assert AccountSession.objects.filter(account_id=officer_bien_hoa.pk).count() == 1


def test_it_ends_an_open_session_at_once_and_re_enabling_does_not_revive_it(db, it_admin, officer_bien_hoa,
                                                                            password):
    officer = _signed_in(officer_bien_hoa, password)
    other_device = _signed_in(officer_bien_hoa, password)
    assert _is_signed_in(officer) and _is_signed_in(other_device)

    account_disable(actor=it_admin, account=officer_bien_hoa, reason="Nghỉ hưu")
    assert AccountSession.objects.filter(account_id=officer_bien_hoa.pk).count() == 0
    assert not _is_signed_in(officer) and not _is_signed_in(other_device)

    account_enable(actor=it_admin, account=officer_bien_hoa)
    assert not _is_signed_in(officer) and not _is_signed_in(other_device)
    event = SecurityEvent.objects.get(kind=EventKind.ACCOUNT_DISABLED, target=officer_bien_hoa)
    assert event.details == {"reason": "Nghỉ hưu", "sessions_ended": 2}


def test_it_leaves_other_accounts_sessions_alone(db, it_admin, officer_bien_hoa, leader_bien_hoa, password):
    leader = _signed_in(leader_bien_hoa, password)
    account_disable(actor=it_admin, account=officer_bien_hoa, reason="Chuyển công tác")
    assert _is_signed_in(leader)


def test_it_never_disables_the_last_active_it_admin(db, it_admin):
    from portal.errors import DomainError

    with pytest.raises(DomainError) as error:
        account_disable(actor=COMMAND_LINE, account=it_admin, reason="Thử")
    assert error.value.code == "last_it_admin"
    it_admin.refresh_from_db()
    assert it_admin.is_active


def test_the_command_disables_and_names_the_operator(db, officer_bien_hoa, password):
    browser = _signed_in(officer_bien_hoa, password)
    out = StringIO()
    call_command("disable_account", officer_bien_hoa.username, reason="Công văn 125/UBND-VP", stdout=out)
    officer_bien_hoa.refresh_from_db()
    assert not officer_bien_hoa.is_active and officer_bien_hoa.disabled_reason == "Công văn 125/UBND-VP"
    assert not _is_signed_in(browser)
    event = SecurityEvent.objects.get(kind=EventKind.ACCOUNT_DISABLED, target=officer_bien_hoa)
    assert event.actor_id is None and event.actor_username == "system:command_line"
    assert "disabled" in out.getvalue()


def test_the_command_is_a_no_op_the_second_time(db, officer_bien_hoa):
    call_command("disable_account", officer_bien_hoa.username, reason="Nghỉ việc", stdout=StringIO())
    out = StringIO()
    call_command("disable_account", officer_bien_hoa.username, reason="Nghỉ việc", stdout=out)
    assert "already disabled" in out.getvalue()
    assert SecurityEvent.objects.filter(kind=EventKind.ACCOUNT_DISABLED).count() == 1


@pytest.mark.parametrize("args, message", [
    (["nobody.here", "--reason", "x"], "No account 'nobody.here'."),
    (["cb.tanphong", "--reason", "   "], "Give a reason with --reason."),
])
def test_the_command_refuses_bad_input_and_changes_nothing(db, officer_bien_hoa, args, message):
    with pytest.raises(CommandError) as error:
        call_command("disable_account", *args, stdout=StringIO())
    assert str(error.value) == message
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.is_active
    assert SecurityEvent.objects.filter(kind=EventKind.ACCOUNT_DISABLED).count() == 0
