"""Account lifecycle by IT admins: create with a one-time password shown once, reset, disable (kills
sessions), enable, edit role/unit; every step audited."""
import html
import re
import threading

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from accounts.choices import PasswordChangeReason, Role
from accounts.models import HandoverRecord, User
from audit.choices import EventKind
from audit.models import SecurityEvent
from tests.factories import UserFactory
from tests.helpers import login, run_concurrently, wait_until_blocking_another_session


def _create(admin_client, units, **overrides):
    data = {"username": "Cb.Moi", "full_name": "Đỗ Thị Mới", "email": "cb.moi@dongnai.gov.vn", "phone": "0912345678",
            "unit": units["tan_phong"].pk, "role": "officer", "can_lookup": "on", **overrides}
    return admin_client.post(reverse("accounts:create"), data)


def _shown_password(response):
    return html.unescape(re.search(r'data-testid="one-time-password">([^<]+)<', response.content.decode()).group(1))


def test_it_shows_the_one_time_password_once_and_stores_only_its_hash(admin_client, units):
    response = _create(admin_client, units)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    password = _shown_password(response)
    account = User.objects.get(username="cb.moi")
    assert account.password.startswith("argon2$") and password not in account.password
    assert account.check_password(password)
    assert account.password_change_reason == PasswordChangeReason.ONE_TIME
    assert account.one_time_password_expires_at is not None
    # Not on the account page, nor on the handover record, nor in any event.
    record = HandoverRecord.objects.get(account=account)
    assert password not in admin_client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert password not in admin_client.get(reverse("accounts:handover_record", args=[record.pk])).content.decode()
    assert not SecurityEvent.objects.filter(details__icontains=password).exists()


def test_it_sends_no_email_with_the_password(admin_client, units, mailoutbox):
    _create(admin_client, units)
    assert mailoutbox == []


def test_it_records_the_creation(admin_client, units, it_admin):
    _create(admin_client, units)
    event = SecurityEvent.objects.get(kind=EventKind.ACCOUNT_CREATED)
    assert event.actor == it_admin and event.target_username == "cb.moi" and event.unit_code == "000.01.31.H19"
    assert event.details["new"]["role"] == "officer"


def test_it_prints_a_handover_record_without_the_password(admin_client, units, it_admin):
    _create(admin_client, units)
    record = HandoverRecord.objects.get(account__username="cb.moi")
    page = admin_client.get(reverse("accounts:handover_record", args=[record.pk])).content.decode()
    for text in (record.number, "cb.moi", "Đỗ Thị Mới", "UBND phường Tân Phong", it_admin.full_name):
        assert text in page
    assert re.match(r"^\d{4}/BB-TTCNTT$", record.number)  # one scheme for every record (accounts/documents.py)


@pytest.mark.parametrize("overrides,field", [
    ({"username": "có dấu"}, "username"),
    ({"username": ""}, "username"),
    ({"email": "not-an-email"}, "email"),
    ({"phone": "12ab"}, "phone"),
    ({"role": "superuser"}, "role"),
    ({"unit": 999999}, "unit"),
])
def test_it_refuses_bad_input_and_changes_nothing(admin_client, units, overrides, field):
    before = User.objects.count()
    response = _create(admin_client, units, **overrides)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert User.objects.count() == before
    assert not SecurityEvent.objects.filter(kind=EventKind.ACCOUNT_CREATED).exists()


def test_it_refuses_a_duplicate_username_in_any_case(admin_client, units, officer_bien_hoa):
    response = _create(admin_client, units, username=officer_bien_hoa.username.upper())
    assert "username" in response.context["form"].errors


def test_it_refuses_a_forged_csrf_token(units, it_admin):
    client = Client(enforce_csrf_checks=True)
    login(client, it_admin)
    response = client.post(reverse("accounts:create"), {"username": "x.y", "csrfmiddlewaretoken": "forged"})
    assert response.status_code == 403
    assert "Chưa có thay đổi nào được lưu" in response.content.decode()
    assert not User.objects.filter(username="x.y").exists()


def test_it_resets_with_a_new_one_time_password_and_ends_sessions(admin_client, officer_bien_hoa, password):
    officer_client = Client()
    login(officer_client, officer_bien_hoa)
    assert officer_client.get(reverse("home")).status_code == 200
    response = admin_client.post(reverse("accounts:reset", args=[officer_bien_hoa.pk]))
    new_password = _shown_password(response)
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.check_password(new_password) and not officer_bien_hoa.check_password(password)
    assert officer_bien_hoa.password_change_reason == PasswordChangeReason.ONE_TIME
    assert HandoverRecord.objects.filter(account=officer_bien_hoa, reason="reset").count() == 1
    assert SecurityEvent.objects.filter(kind=EventKind.PASSWORD_RESET, target=officer_bien_hoa).count() == 1
    # The old session is tied to the old password hash: it is gone.
    assert officer_client.get(reverse("home")).status_code == 302


def test_it_disables_with_a_reason_and_ends_sessions(admin_client, it_admin, officer_bien_hoa):
    officer_client = Client()
    login(officer_client, officer_bien_hoa)
    response = admin_client.post(reverse("accounts:disable", args=[officer_bien_hoa.pk]),
                                 {"reason": "Chuyển công tác theo công văn 123/UBND"})
    assert response.status_code == 302
    officer_bien_hoa.refresh_from_db()
    assert not officer_bien_hoa.is_active and officer_bien_hoa.disabled_at is not None
    event = SecurityEvent.objects.get(kind=EventKind.ACCOUNT_DISABLED)
    assert event.details["reason"] == "Chuyển công tác theo công văn 123/UBND" and event.actor == it_admin
    response = officer_client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_it_refuses_to_disable_without_a_reason(admin_client, officer_bien_hoa):
    admin_client.post(reverse("accounts:disable", args=[officer_bien_hoa.pk]), {"reason": ""})
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.is_active


def test_it_disables_once_even_if_asked_twice(admin_client, officer_bien_hoa):
    for _ in range(2):
        admin_client.post(reverse("accounts:disable", args=[officer_bien_hoa.pk]), {"reason": "Nghỉ hưu"})
    assert SecurityEvent.objects.filter(kind=EventKind.ACCOUNT_DISABLED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_disables_once_when_two_it_admins_disable_at_the_same_moment(it_admin, units, officer_bien_hoa):
    from accounts.services import account_disable

    other_admin = UserFactory(username="qt.admin2", role=Role.IT_ADMIN, unit=units["it_center"])
    first_has_disabled = threading.Event()

    def first_admin():
        # Its transaction stays open until the second admin's disabling waits for it, so the two
        # overlap on every run, not only when the scheduler allows.
        with transaction.atomic():
            account_disable(actor=it_admin, account=officer_bien_hoa, reason="Nghỉ hưu")
            first_has_disabled.set()
            wait_until_blocking_another_session()
        return "committed"

    def second_admin():
        # Both admins opened the account page while it was active (officer_bien_hoa is that stale view).
        if not first_has_disabled.wait(timeout=10):
            raise AssertionError("the first admin did not disable the account")
        return account_disable(actor=other_admin, account=officer_bien_hoa, reason="Chuyển công tác").is_active

    assert run_concurrently(first_admin, second_admin) == ["committed", False]
    events = SecurityEvent.objects.filter(kind=EventKind.ACCOUNT_DISABLED, target=officer_bien_hoa)
    assert list(events.values_list("actor_username", "details")) == [("qt.admin", {"reason": "Nghỉ hưu", "sessions_ended": 0})]
    officer_bien_hoa.refresh_from_db()
    assert (officer_bien_hoa.is_active, officer_bien_hoa.disabled_reason) == (False, "Nghỉ hưu")


def test_it_refuses_a_disabled_account_at_login(admin_client, officer_bien_hoa, password):
    admin_client.post(reverse("accounts:disable", args=[officer_bien_hoa.pk]), {"reason": "Nghỉ hưu"})
    client = Client()
    response = client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": password})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_it_enables_a_disabled_account(admin_client, officer_bien_hoa):
    admin_client.post(reverse("accounts:disable", args=[officer_bien_hoa.pk]), {"reason": "Nghỉ phép dài"})
    admin_client.post(reverse("accounts:enable", args=[officer_bien_hoa.pk]))
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.is_active and officer_bien_hoa.disabled_reason == ""
    assert SecurityEvent.objects.filter(kind=EventKind.ACCOUNT_ENABLED).count() == 1


def test_it_records_role_and_unit_changes_with_old_and_new_values(admin_client, officer_bien_hoa, units):
    response = admin_client.post(reverse("accounts:edit", args=[officer_bien_hoa.pk]), {
        "full_name": officer_bien_hoa.full_name, "email": officer_bien_hoa.email, "phone": "",
        "unit": units["xuan_an"].pk, "role": "unit_leader"})
    assert response.status_code == 302
    role_event = SecurityEvent.objects.get(kind=EventKind.ROLE_CHANGED)
    assert role_event.details == {"old": {"role": "officer"}, "new": {"role": "unit_leader"}}
    unit_event = SecurityEvent.objects.get(kind=EventKind.UNIT_CHANGED)
    assert unit_event.details == {"old": {"unit": "000.01.31.H19"}, "new": {"unit": "000.01.32.H19"}}


def test_it_requires_a_change_at_the_next_request(admin_client, officer_bien_hoa, password):
    admin_client.post(reverse("accounts:force_change", args=[officer_bien_hoa.pk]), {"reason": "Lộ mật khẩu"})
    client = Client()
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.password_change_reason == PasswordChangeReason.FORCED
    client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": password})
    assert client.get(reverse("home")).url == reverse("password_change")


def test_it_shows_the_accounts_latest_events_to_admins_not_leaders(client, admin_client, leader_bien_hoa, officer_bien_hoa):
    admin_client.post(reverse("accounts:disable", args=[officer_bien_hoa.pk]), {"reason": "Nghỉ hưu sớm"})
    response = admin_client.get(reverse("accounts:detail", args=[officer_bien_hoa.pk]))
    assert [event.kind for event in response.context["events"]] == [EventKind.ACCOUNT_DISABLED]
    page = response.content.decode()
    assert "Lý do:</span> Nghỉ hưu sớm" in page
    title = page[page.index("<title>"):page.index("</title>")]
    assert title.startswith(f"<title>{officer_bien_hoa.username} · ") and "<div" not in title
    leader_client = Client()
    login(leader_client, leader_bien_hoa)
    response = leader_client.get(reverse("accounts:detail", args=[officer_bien_hoa.pk]))
    assert response.status_code == 200 and response.context["events"] is None


def test_it_expires_a_pending_one_time_password_when_disabling(admin_client, it_admin, units):
    from accounts.services import account_create, account_disable, account_enable

    account, one_time_password, _ = account_create(actor=it_admin, username="cb.tam", full_name="Tạm",
                                                    unit=units["tan_phong"], role="officer")
    account_disable(actor=it_admin, account=account, reason="Nhầm đơn vị")
    account_enable(actor=it_admin, account=account)
    client = Client()
    client.post(reverse("login"), {"username": "cb.tam", "password": one_time_password})
    assert "_auth_user_id" not in client.session


def test_it_names_the_command_line_in_the_readers_language(client, db, it_admin, units):
    from accounts.services import account_create
    from portal.actors import COMMAND_LINE

    _, _, record = account_create(actor=COMMAND_LINE, username="cb.cli", full_name="Dòng Lệnh", unit=units["tan_phong"],
                                  role="officer")
    login(client, it_admin)
    page = client.get(reverse("accounts:handover_record", args=[record.pk])).content.decode()
    assert "Quản trị viên tại dòng lệnh máy chủ" in page


def test_it_makes_a_promoted_it_admin_choose_a_password_under_the_admin_rules(db, it_admin, officer_bien_hoa):
    from accounts.services import account_update

    account_update(actor=it_admin, account=officer_bien_hoa, values={"role": "it_admin"})
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.password_change_reason == PasswordChangeReason.FORCED


def test_it_keeps_at_least_one_it_admin(db, it_admin):
    from accounts.services import account_update
    from portal.errors import DomainError

    with pytest.raises(DomainError):
        account_update(actor=it_admin, account=it_admin, values={"role": "officer"})
    it_admin.refresh_from_db()
    assert it_admin.role == "it_admin"


@pytest.mark.parametrize("overrides,field", [({"email": "khong-phai-email"}, "email"), ({"role": "root"}, "role"),
                                             ({"unit": 999999}, "unit"), ({"full_name": ""}, "full_name")])
def test_it_refuses_bad_account_edits_and_changes_nothing(admin_client, officer_bien_hoa, units, overrides, field):
    data = {"full_name": officer_bien_hoa.full_name, "email": officer_bien_hoa.email, "phone": "",
            "unit": units["tan_phong"].pk, "role": "officer", **overrides}
    before = User.objects.values().get(pk=officer_bien_hoa.pk)
    response = admin_client.post(reverse("accounts:edit", args=[officer_bien_hoa.pk]), data)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert User.objects.values().get(pk=officer_bien_hoa.pk) == before
    assert not SecurityEvent.objects.filter(kind__in=[EventKind.ROLE_CHANGED, EventKind.ACCOUNT_UPDATED]).exists()


def test_it_refuses_to_force_a_change_without_a_reason(admin_client, officer_bien_hoa):
    response = admin_client.post(reverse("accounts:force_change", args=[officer_bien_hoa.pk]), {"reason": ""},
                                 follow=True)
    assert "Hãy nêu lý do." in response.content.decode()
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.password_change_reason == PasswordChangeReason.NONE
