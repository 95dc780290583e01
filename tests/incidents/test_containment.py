"""Containment of an account and of a unit subtree (contain_account, contain_unit, lift_containment):
sessions end, passwords must change, sign-in and lookups are refused (`contained`), a failing step never
stops the others, two admins at once contain once, lifting restores lookups after the password change."""
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.choices import PasswordChangeReason, Role
from accounts.models import AccountSession, Unit, User
from accounts.permissions import account_access_refusal
from audit.choices import EventKind
from audit.models import SecurityEvent
from incidents.models import Containment
from incidents.services.containment import account_contain, containment_lift, unit_contain
from lookups.models import ApiClient
from portal.actors import COMMAND_LINE
from portal.errors import NotAllowed, PolicyViolation
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.helpers import login, run_concurrently, sign_in

from .helpers import lookup


def _signed_in(user) -> Client:
    client = Client()
    login(client, user)
    assert client.get(reverse("home")).status_code in (200, 302)
    return client


def test_containing_a_unit_ends_its_officers_session_and_refuses_their_lookup(
        units, it_admin, officer_bien_hoa, officer_long_khanh, province_token):
    officer_long_khanh.can_lookup = True
    officer_long_khanh.save(update_fields=["can_lookup"])
    browser = _signed_in(officer_bien_hoa)
    other_browser = _signed_in(officer_long_khanh)
    assert lookup(province_token, officer_bien_hoa.username).status_code == 200

    result = unit_contain(actor=it_admin, unit=units["bien_hoa"], reason="Lộ mật khẩu tại phường Tân Phong")

    assert result.already is False
    assert [step["step"] for step in result.steps] == ["hold", "sessions", "password_change", "lookups",
                                                       "targets", "api_clients"]
    assert [step["outcome"] for step in result.steps] == ["done", "done", "done", "done", "skipped", "skipped"]
    # The next request of the contained officer: the sign-in page.
    response = browser.get(reverse("notifications:list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    refused = lookup(province_token, officer_bien_hoa.username)
    assert refused.status_code == 403
    assert refused.json()["reason"] == "contained"
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.password_change_reason == PasswordChangeReason.FORCED
    assert account_access_refusal(officer_bien_hoa) == "contained"
    # Another district's officer: untouched.
    assert other_browser.get(reverse("notifications:list")).status_code == 200
    assert lookup(province_token, officer_long_khanh.username).status_code == 200
    officer_long_khanh.refresh_from_db()
    assert officer_long_khanh.password_change_reason == PasswordChangeReason.NONE
    assert account_access_refusal(officer_long_khanh) is None
    event = SecurityEvent.objects.get(kind=EventKind.UNIT_CONTAINED)
    assert event.unit_code == units["bien_hoa"].code
    assert event.details["accounts_contained"] == 1


def test_a_contained_account_cannot_sign_in(units, it_admin, officer_bien_hoa):
    account_contain(actor=it_admin, account=officer_bien_hoa, reason="Máy tính nhiễm mã độc")
    client = Client()
    response = sign_in(client, officer_bien_hoa, DEFAULT_PASSWORD)
    assert response.status_code == 200
    assert "đang bị Trung tâm CNTT khoanh vùng" in response.content.decode()
    assert AccountSession.objects.filter(account_id=officer_bien_hoa.pk).count() == 0
    assert SecurityEvent.objects.filter(kind=EventKind.LOGIN_FAILURE, target=officer_bien_hoa,
                                        details__reason="contained").count() == 1


def test_an_account_created_in_a_contained_unit_is_contained(units, it_admin):
    unit_contain(actor=it_admin, unit=units["bien_hoa"], reason="Sự cố")
    newcomer = UserFactory(username="cb.moi", unit=units["tan_phong"], can_lookup=True)
    assert account_access_refusal(newcomer) == "contained"
    elsewhere = UserFactory(username="cb.khac", unit=units["xuan_an"])
    assert account_access_refusal(elsewhere) is None


def test_lifting_restores_lookups_once_the_password_is_changed(units, it_admin, officer_bien_hoa, province_token):
    # The password is older than the policy's minimum age (1 day), so the officer may change it.
    User.objects.filter(pk=officer_bien_hoa.pk).update(password_changed_at=timezone.now() - timedelta(days=10))
    unit_contain(actor=it_admin, unit=units["bien_hoa"], reason="Sự cố")
    assert lookup(province_token, officer_bien_hoa.username).json()["reason"] == "contained"

    result = containment_lift(actor=it_admin, unit=units["bien_hoa"], reason="Đã xử lý xong")

    assert [step["step"] for step in result.steps] == ["release", "password_change", "targets"]
    assert result.containment.lifted_at is not None
    # The forced change stays: still refused, now for the password.
    assert lookup(province_token, officer_bien_hoa.username).json()["reason"] == "officer_must_change_password"
    client = Client()
    assert sign_in(client, officer_bien_hoa, DEFAULT_PASSWORD).status_code == 302
    new_password = "Hoa-sen#chiều-thu-47!"
    response = client.post(reverse("password_change"), {"old_password": DEFAULT_PASSWORD,
                                                        "new_password1": new_password, "new_password2": new_password})
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert lookup(province_token, officer_bien_hoa.username).status_code == 200
    assert SecurityEvent.objects.filter(kind=EventKind.CONTAINMENT_LIFTED).count() == 1


def test_lifting_an_account_held_by_its_units_containment_is_refused(units, it_admin, officer_bien_hoa):
    unit_contain(actor=it_admin, unit=units["bien_hoa"], reason="Sự cố")
    with pytest.raises(Exception) as refused:
        containment_lift(actor=it_admin, account=officer_bien_hoa, reason="Thử")
    assert refused.value.code == "not_contained"
    assert account_access_refusal(officer_bien_hoa) == "contained"


def test_a_second_containment_changes_nothing(units, it_admin, officer_bien_hoa):
    first = account_contain(actor=it_admin, account=officer_bien_hoa, reason="Sự cố")
    second = account_contain(actor=it_admin, account=officer_bien_hoa, reason="Sự cố lần hai")
    assert second.already is True
    assert second.containment.pk == first.containment.pk
    assert Containment.objects.count() == 1
    assert SecurityEvent.objects.filter(kind=EventKind.ACCOUNT_CONTAINED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_admins_containing_a_unit_at_once_contain_it_once(units, it_admin, officer_bien_hoa):
    other_admin = UserFactory(username="qt.admin2", role=Role.IT_ADMIN, unit=units["it_center"])
    unit = units["bien_hoa"]
    outcomes = run_concurrently(
        lambda: unit_contain(actor=it_admin, unit=unit, reason="Sự cố A"),
        lambda: unit_contain(actor=other_admin, unit=unit, reason="Sự cố B"),
    )
    assert not any(isinstance(outcome, BaseException) for outcome in outcomes), outcomes
    assert sorted(outcome.already for outcome in outcomes) == [False, True]
    assert Containment.objects.filter(unit=unit).count() == 1
    assert SecurityEvent.objects.filter(kind=EventKind.UNIT_CONTAINED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_failing_step_never_stops_the_others(units, it_admin, officer_bien_hoa, leader_bien_hoa, bien_hoa_client):
    """A real fault in PostgreSQL: deleting the sessions of one account fails. The other account's
    sessions still end, the passwords are still forced, the API client still suspended; the failure is shown."""
    _signed_in(officer_bien_hoa)
    _signed_in(leader_bien_hoa)
    with connection.cursor() as cursor:
        cursor.execute(f"""
            CREATE FUNCTION test_sessions_fail() RETURNS trigger AS $$
            BEGIN IF OLD.account_id = {officer_bien_hoa.pk} THEN RAISE EXCEPTION 'disk failure'; END IF;
            RETURN OLD; END; $$ LANGUAGE plpgsql;
            CREATE TRIGGER test_sessions_fail BEFORE DELETE ON accounts_accountsession
                FOR EACH ROW EXECUTE FUNCTION test_sessions_fail();""")
    try:
        result = unit_contain(actor=it_admin, unit=units["bien_hoa"], reason="Sự cố", suspend_api_clients=True)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_sessions_fail ON accounts_accountsession;"
                           " DROP FUNCTION test_sessions_fail();")
    outcomes = {step["step"]: step["outcome"] for step in result.steps}
    assert outcomes == {"hold": "done", "sessions": "failed", "password_change": "done", "lookups": "done",
                        "targets": "skipped", "api_clients": "done"}
    assert AccountSession.objects.filter(account_id=leader_bien_hoa.pk).count() == 0
    assert AccountSession.objects.filter(account_id=officer_bien_hoa.pk).count() == 1
    assert User.objects.filter(unit__path__startswith=units["bien_hoa"].path,
                               password_change_reason=PasswordChangeReason.FORCED).count() == 2
    assert ApiClient.objects.get(pk=bien_hoa_client.pk).is_active is False
    assert Unit.objects.get(pk=units["bien_hoa"].pk).contained_at is not None
    # The session that escaped is refused at its next request anyway (the kernel's refusal).
    assert Containment.objects.get().steps == result.steps


def test_lifting_a_unit_may_resume_its_suspended_api_clients(units, it_admin, bien_hoa_client):
    unit_contain(actor=it_admin, unit=units["bien_hoa"], reason="Sự cố", suspend_api_clients=True)
    assert ApiClient.objects.get(pk=bien_hoa_client.pk).is_active is False
    result = containment_lift(actor=it_admin, unit=units["bien_hoa"], reason="Xong", resume_api_clients=True)
    assert {step["step"]: step["outcome"] for step in result.steps}["api_clients"] == "done"
    assert ApiClient.objects.get(pk=bien_hoa_client.pk).is_active is True
    assert SecurityEvent.objects.filter(kind=EventKind.API_CLIENT_RESUMED).count() == 1


def test_only_it_admins_contain(units, leader_bien_hoa, officer_bien_hoa, inspector):
    for actor in (leader_bien_hoa, inspector):
        with pytest.raises(NotAllowed):
            account_contain(actor=actor, account=officer_bien_hoa, reason="Sự cố")
    assert Containment.objects.count() == 0


@pytest.mark.parametrize("reason", ["", "   ", "a\u202eb", "x" * 301])
def test_a_bad_reason_is_refused_and_changes_nothing(units, it_admin, officer_bien_hoa, reason):
    with pytest.raises(PolicyViolation):
        unit_contain(actor=it_admin, unit=units["bien_hoa"], reason=reason)
    assert Unit.objects.filter(contained_at__isnull=False).count() == 0
    assert Containment.objects.count() == 0


def test_the_commands_contain_and_lift(units, officer_bien_hoa, capsys):
    call_command("contain_unit", units["bien_hoa"].code, "--reason", "Lộ mật khẩu")
    out = capsys.readouterr().out
    assert f"{units['bien_hoa'].code} and the units below it contained (1 accounts):" in out
    assert "[done] sessions:" in out
    call_command("contain_unit", units["bien_hoa"].code, "--reason", "Lần hai")
    assert "already contained; nothing changed" in capsys.readouterr().out
    call_command("contain_account", officer_bien_hoa.username, "--reason", "Riêng tài khoản")
    call_command("lift_containment", officer_bien_hoa.username, "--reason", "Xong")
    call_command("lift_containment", units["bien_hoa"].code, "--reason", "Xong")
    assert account_access_refusal(User.objects.get(pk=officer_bien_hoa.pk)) is None
    event = SecurityEvent.objects.filter(kind=EventKind.UNIT_CONTAINED).get()
    assert event.actor_username == COMMAND_LINE.username


@pytest.mark.parametrize("args, message", [
    (["contain_unit", "999.99.99.H19", "--reason", "x"], "No unit with the agency code"),
    (["contain_account", "khong.co", "--reason", "x"], "No account"),
    (["lift_containment", "khong.co", "--reason", "x"], "No account or unit"),
    (["contain_account", "cb.tanphong", "--reason", "x", "--incident", "SC-0000-99999"], "No incident"),
    (["contain_account", "cb.tanphong", "--reason", " "], "Hãy nêu lý do khoanh vùng."),
    (["lift_containment", "cb.tanphong", "--reason", "x"], "không bị khoanh vùng riêng"),
])
def test_the_commands_refuse_bad_input(units, officer_bien_hoa, args, message):
    with pytest.raises(CommandError) as refused:
        call_command(*args)
    assert message in str(refused.value)
    assert Containment.objects.count() == 0


def test_the_command_attaches_the_containment_to_the_incident_and_the_log_reads_it(units, it_admin, officer_bien_hoa,
                                                                                   capsys):
    from incidents.choices import IncidentCategory, IncidentState
    from incidents.models import Incident
    from incidents.services.records import incident_report

    incident = incident_report(actor=officer_bien_hoa, title="Lộ mật khẩu", category=IncidentCategory.PASSWORD_LEAK,
                               discovered_at=timezone.now())
    call_command("contain_account", officer_bien_hoa.username, "--reason", "Lộ mật khẩu", "--incident", incident.number)
    incident = Incident.objects.get(pk=incident.pk)
    assert incident.state == IncidentState.CONTAINED
    assert Containment.objects.get().incident == incident
    assert incident.timeline.filter(kind="containment").count() == 1
    page = login(Client(), it_admin).get(reverse("audit:events")).content.decode()
    assert "hold: done — Chặn đăng nhập trong thời gian khoanh vùng" in page
