"""The IT admin's account and unit pages under bad input: a clear message, nothing changed, never a 500 —
through the forms and through the services alike (a command or the API calls the services)."""
import threading
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.choices import PasswordChangeReason, Role
from accounts.models import Unit, User, agency_code_validator, phone_validator, username_validator
from accounts.selectors import account_locked_until, account_status
from accounts.services import (
    account_create,
    account_disable,
    account_enable,
    account_password_reset,
    account_update,
    unit_create,
    unit_rename,
)
from audit.choices import EventKind
from audit.models import SecurityEvent
from policy.services import password_change_force
from portal.errors import DomainError, PolicyViolation
from portal.text import first_invisible_character
from tests.conftest import login
from tests.factories import UserFactory
from tests.helpers import UNIT_CHANGE_BASIS_FORM

LONG_EMAIL = f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 59}.vn"  # 255 characters, well-formed otherwise

# One of each family the validator refuses.
INVISIBLE = ["\x00", "\x07", "\t", "\n", "\x1b", "\x7f", "\x85", "\u200b", "\u200d", "\u200e", "\u200f",
             "\u202a", "\u202e", "\u2066", "\u2069", "\ufeff", "\u2028"]


def _create_data(units, **overrides):
    return {"username": "cb.moi", "full_name": "Đỗ Thị Mới", "email": "cb.moi@dongnai.gov.vn", "phone": "0912345678",
            "unit": units["tan_phong"].pk, "role": "officer", **overrides}


def _edit_data(account, units, **overrides):
    return {"full_name": account.full_name, "email": account.email, "phone": "", "unit": units["tan_phong"].pk,
            "role": account.role, **overrides}


def _flash(response):
    return [str(message) for message in response.context["messages"]]


# 1. E-mail over 254 characters

def test_it_refuses_an_email_over_254_characters_on_create(admin_client, units):
    assert len(LONG_EMAIL) == 255
    response = admin_client.post(reverse("accounts:create"), _create_data(units, email=LONG_EMAIL))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["email"]
    assert not User.objects.filter(username="cb.moi").exists()


def test_it_refuses_an_email_over_254_characters_on_edit(admin_client, officer_bien_hoa, units):
    before = User.objects.values().get(pk=officer_bien_hoa.pk)
    response = admin_client.post(reverse("accounts:edit", args=[officer_bien_hoa.pk]),
                                 _edit_data(officer_bien_hoa, units, email=LONG_EMAIL))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["email"]
    assert User.objects.values().get(pk=officer_bien_hoa.pk) == before


def test_the_forms_themselves_refuse_an_email_over_254_characters(db, units):
    from accounts.forms import AccountCreateForm, AccountEditForm

    for form_class in (AccountCreateForm, AccountEditForm):
        form = form_class(_create_data(units, email=LONG_EMAIL), units=Unit.objects.all())
        assert not form.is_valid()
        assert form.errors["email"] == ["Giá trị này chỉ có tối đa 254 kí tự (hiện có 255)"]


def test_the_service_refuses_an_email_over_254_characters(db, it_admin, units):
    with pytest.raises(PolicyViolation) as refusal:
        account_create(actor=it_admin, username="cb.dai", full_name="Email Dài", unit=units["tan_phong"],
                       role="officer", email=LONG_EMAIL)
    assert refusal.value.field == "email"
    assert not User.objects.filter(username="cb.dai").exists()


# 2. Duplicate agency codes past the form's check

def test_the_service_refuses_a_duplicate_agency_code_clearly(db, it_admin, units):
    with pytest.raises(DomainError) as refusal:
        unit_create(actor=it_admin, code=" 000.00.31.h19 ", name="Trùng mã", kind="city", parent=units["province"])
    assert refusal.value.messages == ["Đã có đơn vị sử dụng mã định danh đơn vị này."]
    assert Unit.objects.filter(code="000.00.31.H19").count() == 1


def test_the_view_shows_a_duplicate_that_slipped_past_the_form(admin_client, units, monkeypatch):
    # The form's own check ran before a twin was saved (a race): the service's refusal shows on the form.
    from accounts.forms import UnitCreateForm

    monkeypatch.setattr(UnitCreateForm, "clean_code", lambda form: form.cleaned_data["code"])
    response = admin_client.post(reverse("accounts:unit_create"), {
        "code": "000.00.31.H19", "name": "Trùng mã", "kind": "city", "parent": units["province"].pk})
    assert response.status_code == 200
    assert response.context["form"].errors == {"code": ["Đã có đơn vị sử dụng mã định danh đơn vị này."]}
    assert Unit.objects.filter(code="000.00.31.H19").count() == 1


def _in_thread(target, results, *args):
    def run():
        try:
            results.append(target(*args))
        finally:
            connection.close()
    return threading.Thread(target=run)


@pytest.mark.django_db(transaction=True)
def test_two_admins_creating_the_same_unit_at_once_get_one_unit_and_one_clear_refusal(units, it_admin):
    other_admin = UserFactory(username="qt.admin2", role=Role.IT_ADMIN, unit=units["it_center"])
    barrier = threading.Barrier(2)

    def create(admin):
        client = Client()
        login(client, admin)
        barrier.wait()
        return client.post(reverse("accounts:unit_create"), {
            "code": "000.02.31.H19", "name": "UBND phường Mới", "kind": "ward", "parent": units["bien_hoa"].pk})

    results = []
    threads = [_in_thread(create, results, admin) for admin in (it_admin, other_admin)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(response.status_code for response in results) == [200, 302]
    refused = next(response for response in results if response.status_code == 200)
    assert refused.context["form"].errors == {"code": ["Đã có đơn vị sử dụng mã định danh đơn vị này."]}
    assert Unit.objects.filter(code="000.02.31.H19").count() == 1
    assert SecurityEvent.objects.filter(kind=EventKind.UNIT_CREATED, details__new__code="000.02.31.H19").count() == 1


# 3. Control and direction characters in names and reasons

@pytest.mark.parametrize("char", INVISIBLE)
def test_it_finds_each_invisible_character(char):
    assert first_invisible_character(f"Nguyễn{char}Văn") == (7, char)


def test_it_accepts_vietnamese_names():
    assert first_invisible_character("Nguyễn Thị Ánh Tuyết — UBND phường Tân Phong (Đ.1)") is None


@pytest.mark.parametrize("char", ["\u202e", "\u200b", "\x1b", "\n"])
def test_it_refuses_invisible_characters_in_a_full_name(admin_client, units, char):
    response = admin_client.post(reverse("accounts:create"), _create_data(units, full_name=f"Đỗ{char}Thị Mới"))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["full_name"]
    assert "ký tự ẩn hoặc ký tự điều khiển" in response.context["form"].errors["full_name"][0]
    assert not User.objects.filter(username="cb.moi").exists()


def test_it_refuses_invisible_characters_in_a_unit_name(admin_client, units):
    response = admin_client.post(reverse("accounts:unit_rename", args=[units["tan_phong"].pk]),
                                 {"name": "UBND phường \u202eTân Phong", **UNIT_CHANGE_BASIS_FORM})
    assert response.status_code == 200 and list(response.context["form"].errors) == ["name"]
    assert Unit.objects.get(pk=units["tan_phong"].pk).name == "UBND phường Tân Phong"


@pytest.mark.parametrize("url_name", ["accounts:disable", "accounts:force_change"])
def test_it_refuses_invisible_characters_in_a_reason(admin_client, officer_bien_hoa, url_name):
    response = admin_client.post(reverse(url_name, args=[officer_bien_hoa.pk]),
                                 {"reason": "Nghỉ việc \u202egnol"}, follow=True)
    assert response.status_code == 200
    assert len(_flash(response)) == 1 and "ký tự ẩn hoặc ký tự điều khiển" in _flash(response)[0]
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.is_active and officer_bien_hoa.password_change_reason == PasswordChangeReason.NONE
    assert not SecurityEvent.objects.filter(target=officer_bien_hoa).exclude(kind=EventKind.LOGIN_SUCCESS).exists()


@pytest.mark.parametrize("call", [
    lambda admin, units, officer: account_create(actor=admin, username="cb.x", full_name="A\u202eB",
                                                 unit=units["tan_phong"], role="officer"),
    lambda admin, units, officer: account_update(actor=admin, account=officer, values={"full_name": "A\u200bB"}),
    lambda admin, units, officer: account_disable(actor=admin, account=officer, reason="lý do\u2066"),
    lambda admin, units, officer: password_change_force(actor=admin, account=officer, reason="\x1b[31m"),
    lambda admin, units, officer: unit_create(actor=admin, code="000.09.31.H19", name="Phường\u202e",
                                              kind="ward", parent=units["bien_hoa"]),
    lambda admin, units, officer: unit_rename(actor=admin, unit=units["tan_phong"], name="Tân\ufeffPhong"),
], ids=["account_create", "account_update", "account_disable", "password_change_force", "unit_create",
        "unit_rename"])
def test_the_services_refuse_invisible_characters_whoever_calls(db, it_admin, units, officer_bien_hoa, call):
    before = SecurityEvent.objects.count()
    with pytest.raises(PolicyViolation) as refusal:
        call(it_admin, units, officer_bien_hoa)
    assert refusal.value.code == "control_character"
    assert SecurityEvent.objects.count() == before
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.full_name == "Phạm Thị Hương" and officer_bien_hoa.is_active


def test_it_stores_names_trimmed_and_composed(db, it_admin, units, officer_bien_hoa):
    decomposed = "Nguye\u0302\u0303n Va\u0306n  "  # "Nguyễn Văn" typed with combining marks
    account_update(actor=it_admin, account=officer_bien_hoa, values={"full_name": decomposed})
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.full_name == "Nguyễn Văn"
    unit = unit_create(actor=it_admin, code="000.08.31.H19", name=" Phu\u031bo\u031b\u0300ng Mo\u031b\u0301i ",
                       kind="ward", parent=units["bien_hoa"])
    assert unit.name == "Phường Mới"


# 4. Patterns end at the end of the text

@pytest.mark.parametrize("validator,value", [(phone_validator, "0912345678\n"), (username_validator, "cb.moi\n"),
                                             (agency_code_validator, "000.00.31.H19\n")])
def test_the_patterns_refuse_a_trailing_newline(validator, value):
    from django.core.exceptions import ValidationError

    validator(value.rstrip("\n"))
    with pytest.raises(ValidationError):
        validator(value)


def test_the_service_refuses_a_malformed_phone(db, it_admin, units):
    with pytest.raises(PolicyViolation) as refusal:
        account_create(actor=it_admin, username="cb.dt", full_name="Điện Thoại", unit=units["tan_phong"],
                       role="officer", phone="0912345678\n<b>")
    assert refusal.value.field == "phone"
    assert not User.objects.filter(username="cb.dt").exists()


# 5. An over-long reason says so

def test_it_says_a_reason_is_too_long_instead_of_missing(admin_client, officer_bien_hoa):
    response = admin_client.post(reverse("accounts:disable", args=[officer_bien_hoa.pk]), {"reason": "x" * 301},
                                 follow=True)
    assert _flash(response) == ["Lý do dài tối đa 300 ký tự (lý do này có 301 ký tự)."]
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.is_active


def test_the_service_refuses_an_over_long_reason(db, it_admin, officer_bien_hoa):
    with pytest.raises(PolicyViolation) as refusal:
        account_disable(actor=it_admin, account=officer_bien_hoa, reason="x" * 301)
    assert refusal.value.code == "too_long" and refusal.value.field == "reason"


# 6. Forcing a change on an account that must already change

def test_forcing_a_change_already_required_records_the_reason(admin_client, it_admin, units):
    account, _, _ = account_create(actor=it_admin, username="cb.otp", full_name="Chờ Đổi", unit=units["tan_phong"],
                                   role="officer")
    expires = User.objects.get(pk=account.pk).one_time_password_expires_at
    response = admin_client.post(reverse("accounts:force_change", args=[account.pk]),
                                 {"reason": "Mật khẩu lộ trên màn hình chung"}, follow=True)
    assert _flash(response) == ["Cán bộ đã thuộc diện phải đổi mật khẩu (Chờ đổi mật khẩu lần đầu); yêu cầu "
                                "và lý do của bạn đã được ghi nhận."]
    event = SecurityEvent.objects.get(kind=EventKind.PASSWORD_FORCED)
    assert event.details == {"reason": "Mật khẩu lộ trên màn hình chung", "already_required": "one_time"}
    account.refresh_from_db()
    # The one-time password keeps its status and its expiry.
    assert account.password_change_reason == PasswordChangeReason.ONE_TIME
    assert account.one_time_password_expires_at == expires


def test_forcing_a_change_on_an_expired_password_records_it_as_forced(db, it_admin, officer_bien_hoa):
    User.objects.filter(pk=officer_bien_hoa.pk).update(password_changed_at=timezone.now() - timedelta(days=200))
    already = password_change_force(actor=it_admin, account=officer_bien_hoa, reason="Chính sách mới")
    assert already == PasswordChangeReason.EXPIRED
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.password_change_reason == PasswordChangeReason.FORCED
    assert SecurityEvent.objects.get(kind=EventKind.PASSWORD_FORCED).details == {
        "reason": "Chính sách mới", "already_required": "expired"}


# 7. One state line, and the actions that make sense next

def test_it_says_a_re_enabled_accounts_one_time_password_is_void_and_offers_reset(admin_client, it_admin, units):
    account, _, _ = account_create(actor=it_admin, username="cb.tam", full_name="Tạm", unit=units["tan_phong"],
                                   role="officer")
    assert account_status(account).code == "first_change"
    account_disable(actor=it_admin, account=account, reason="Nhầm đơn vị")
    account_enable(actor=it_admin, account=account)
    account.refresh_from_db()
    page = admin_client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "Mật khẩu dùng một lần đã bị hủy khi vô hiệu hóa tài khoản — cần cấp mật khẩu mới" in page
    assert "hiệu lực đến" not in page
    assert reverse("accounts:reset", args=[account.pk]) in page
    # A reset issues a new one: no longer void.
    account_password_reset(actor=it_admin, account=account)
    account.refresh_from_db()
    assert account_status(account).code == "first_change"


def test_it_tells_an_expired_one_time_password_from_a_voided_one(db, it_admin, units):
    account, _, _ = account_create(actor=it_admin, username="cb.cu", full_name="Cũ", unit=units["tan_phong"],
                                   role="officer")
    status = account_status(account, now=account.one_time_password_expires_at + timedelta(minutes=1))
    assert status.code == "one_time_expired" and "reset" in status.actions


def test_it_shows_the_pending_one_time_password_with_its_end(db, it_admin, units):
    account, _, _ = account_create(actor=it_admin, username="cb.cho", full_name="Chờ", unit=units["tan_phong"],
                                   role="officer")
    end = timezone.localtime(account.one_time_password_expires_at)
    assert account_status(account).text == (
        f"Đang chờ đổi mật khẩu lần đầu — mật khẩu dùng một lần hết hạn lúc {end:%H:%M %d/%m/%Y}")


def test_a_disabled_account_offers_enable_not_reset(admin_client, it_admin, officer_bien_hoa):
    account_disable(actor=it_admin, account=officer_bien_hoa, reason="Nghỉ hưu")
    officer_bien_hoa.refresh_from_db()
    status = account_status(officer_bien_hoa)
    assert status.code == "disabled" and status.actions == frozenset({"enable"})
    assert status.text.startswith("Đã vô hiệu hóa lúc ") and status.text.endswith("— lý do: Nghỉ hưu")
    page = admin_client.get(reverse("accounts:detail", args=[officer_bien_hoa.pk])).content.decode()
    assert reverse("accounts:reset", args=[officer_bien_hoa.pk]) not in page
    assert reverse("accounts:enable", args=[officer_bien_hoa.pk]) in page
    assert page.count('data-testid="account-status"') == 1


def test_it_shows_one_lock_line_with_its_end(admin_client, officer_bien_hoa):
    now = timezone.now()
    attempt = AccessAttempt.objects.create(username=officer_bien_hoa.username, ip_address="10.0.0.1", user_agent="t",
                                           failures_since_start=5, get_data="", post_data="", http_accept="",
                                           path_info="/login/")
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=now - timedelta(minutes=2))  # auto_now_add
    assert account_locked_until(officer_bien_hoa, now) == now + timedelta(minutes=13)
    status = account_status(officer_bien_hoa, now)
    end = timezone.localtime(now + timedelta(minutes=13))
    assert status.code == "locked" and "unlock" in status.actions
    assert status.text == f"Bị khóa tạm thời đến {end:%H:%M %d/%m/%Y} (sau 5 lần đăng nhập sai)"
    page = admin_client.get(reverse("accounts:detail", args=[officer_bien_hoa.pk])).content.decode()
    assert page.count('data-testid="account-status"') == 1 and "Đang hoạt động" not in page


def test_disabling_asks_for_confirmation_like_reset(admin_client, officer_bien_hoa):
    page = admin_client.get(reverse("accounts:detail", args=[officer_bien_hoa.pk])).content.decode()
    disable_form = page[page.index(f'action="{reverse("accounts:disable", args=[officer_bien_hoa.pk])}"'):]
    disable_form = disable_form[:disable_form.index("</form>")]
    # static/js/confirm.js asks (no inline handler: the CSP has no unsafe-inline).
    assert "data-confirm=" in disable_form and "onsubmit" not in page
    assert '<script src="/static/js/confirm.js" defer></script>' in page
    assert "Vô hiệu hóa tài khoản?" in disable_form


def test_the_account_page_reads_the_state_in_a_bounded_number_of_queries(admin_client, officer_bien_hoa,
                                                                         django_assert_max_num_queries):
    # 12, and 3 for the second factor (enrolled? recovery codes left) and the count of open sessions,
    # 1 for the connected systems' sign-out deliveries ("đã đăng xuất khỏi N/M hệ thống"), and 3 for what
    # the systems that keep their own accounts hold (federation.selectors.account_provisioning).
    with django_assert_max_num_queries(19):
        assert admin_client.get(reverse("accounts:detail", args=[officer_bien_hoa.pk])).status_code == 200


# 8. Demoting oneself; the last signed-in IT admin

def _second_admin(units, signed_in):
    admin = UserFactory(username="qt.hai", role=Role.IT_ADMIN, unit=units["it_center"])
    if signed_in:
        login(Client(), admin)  # Django's login() records the LOGIN_SUCCESS event
    return admin


def test_demoting_oneself_needs_a_confirmation(admin_client, it_admin, units):
    _second_admin(units, signed_in=True)
    data = _edit_data(it_admin, units, role="officer", unit=units["it_center"].pk)
    response = admin_client.post(reverse("accounts:edit", args=[it_admin.pk]), data)
    assert response.status_code == 200 and list(response.context["form"].errors) == ["confirm_self_demotion"]
    assert User.objects.get(pk=it_admin.pk).role == Role.IT_ADMIN
    response = admin_client.post(reverse("accounts:edit", args=[it_admin.pk]), {**data, "confirm_self_demotion": "on"})
    assert response.status_code == 302
    assert User.objects.get(pk=it_admin.pk).role == Role.OFFICER


def test_demoting_oneself_needs_another_admin_who_has_signed_in(admin_client, it_admin, units):
    _second_admin(units, signed_in=False)
    data = {**_edit_data(it_admin, units, role="officer", unit=units["it_center"].pk), "confirm_self_demotion": "on"}
    response = admin_client.post(reverse("accounts:edit", args=[it_admin.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Chưa có quản trị viên Trung tâm CNTT đang hoạt động nào khác đã đăng nhập. Hãy đề nghị một người đăng "
        "nhập trước, để Cổng luôn có quản trị viên xử lý được công việc."]
    assert User.objects.get(pk=it_admin.pk).role == Role.IT_ADMIN


def test_the_last_signed_in_admin_cannot_be_disabled_by_a_never_used_one(db, it_admin, units):
    login(Client(), it_admin)
    newcomer = _second_admin(units, signed_in=False)
    with pytest.raises(DomainError) as refusal:
        account_disable(actor=newcomer, account=it_admin, reason="Thử")
    assert refusal.value.code == "last_signed_in_it_admin"
    assert User.objects.get(pk=it_admin.pk).is_active


def test_a_signed_in_admin_may_disable_another_admin(db, it_admin, units):
    login(Client(), it_admin)
    other = _second_admin(units, signed_in=False)
    account_disable(actor=it_admin, account=other, reason="Chuyển công tác")
    assert not User.objects.get(pk=other.pk).is_active


@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin(units, it_admin):
    other = _second_admin(units, signed_in=True)
    login(Client(), it_admin)
    barrier = threading.Barrier(2)

    def demote(actor, account):
        barrier.wait()
        try:
            account_update(actor=actor, account=account, values={"role": Role.OFFICER})
            return "demoted"
        except DomainError as error:
            return error.code

    results = []
    threads = [_in_thread(demote, results, it_admin, other), _in_thread(demote, results, other, it_admin)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["demoted", "last_it_admin"]
    assert User.objects.filter(role=Role.IT_ADMIN, is_active=True).count() == 1


# 10. Raw codes do not reach people

def test_the_event_list_names_reasons_and_system_actors_in_words(admin_client, it_admin, officer_bien_hoa):
    from accounts.services.signin import login_record_refused
    from portal.actors import SEED_DEMO

    login_record_refused(account=officer_bien_hoa, reason="one_time_password_expired")
    account_disable(actor=SEED_DEMO, account=officer_bien_hoa, reason="Dữ liệu mẫu")
    page = admin_client.get(reverse("audit:events")).content.decode()
    assert "one_time_password_expired" not in page and "seed_demo" not in page
    assert "Mật khẩu dùng một lần đã hết hạn" in page
    assert "Khởi tạo dữ liệu mẫu" in page


def test_the_officers_page_states_their_own_rotation_period(client, officer_bien_hoa, it_admin):
    from policy.services import policy_update

    policy_update(actor=it_admin, values={"max_age_days": 60})
    login(client, officer_bien_hoa)
    page = client.get(reverse("home")).content.decode()
    assert "ít nhất 60 ngày một lần" in page and "90 ngày" not in page
