"""The second factor (TOTP): an it_admin or inspector with the right password and no code, a wrong
code or a reused one gets nowhere; the step has a short window; enrolment with the portal's own QR code
and a confirming code; ten recovery codes shown once, stored hashed, each working once; wrong codes
count towards the one lockout and the events say which factor failed; re-enrolment by an IT admin."""

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.choices import Role, SignInFactor
from accounts.models import AccountSession, RecoveryCode
from accounts.services.second_factor import recovery_code_hash
from accounts.session_store import AUTH_USER_KEY
from audit.choices import EventKind
from audit.models import SecurityEvent
from policy.models import PasswordPolicy
from policy.selectors import policy_cache_clear
from tests.helpers import login, run_concurrently, sign_in, totp_code, totp_enrol

PENDING_KEY = "_signin_pending"


def _password_step(client, user, password):
    return client.post(reverse("login"), {"username": user.username, "password": password})


def _code(client, token):
    return client.post(reverse("login_second_step"), {"otp_token": token})


def _signed_in(client) -> bool:
    return AUTH_USER_KEY in client.session


@pytest.fixture
def admin_device(it_admin):
    return totp_enrol(it_admin)


@pytest.fixture
def inspector_device(inspector):
    return totp_enrol(inspector)


def test_the_password_alone_opens_no_page(client, it_admin, admin_device, password):
    response = _password_step(client, it_admin, password)
    assert response.status_code == 302 and response.url == reverse("login_second_step")
    assert not _signed_in(client)
    for name in ("home", "accounts:list", "audit:events", "sessions"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response.url.startswith(reverse("login")), name
    assert SecurityEvent.objects.filter(kind=EventKind.LOGIN_SUCCESS).count() == 0


def test_it_refuses_no_code_and_a_wrong_code(client, it_admin, admin_device, password):
    _password_step(client, it_admin, password)
    response = _code(client, "")
    assert response.status_code == 200 and not _signed_in(client)
    assert "Nhập mã 6 chữ số" in response.content.decode()
    right = totp_code(admin_device)
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    response = _code(client, wrong)
    assert response.status_code == 200 and not _signed_in(client)
    failure = SecurityEvent.objects.get(kind=EventKind.LOGIN_FAILURE, target=it_admin)
    assert failure.details == {"factor": SignInFactor.TOTP}
    assert wrong not in str(failure.details)


def test_a_code_is_accepted_once(client, it_admin, admin_device, password):
    code = totp_code(admin_device)
    _password_step(client, it_admin, password)
    assert _code(client, code).status_code == 302 and _signed_in(client)
    other = Client()
    _password_step(other, it_admin, password)
    response = _code(other, code)
    assert response.status_code == 200 and not _signed_in(other)
    assert "đã được dùng" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_one_code_sent_twice_at_once_signs_in_once(it_admin, password):
    device = totp_enrol(it_admin)
    clients = [Client(), Client()]
    for each in clients:
        _password_step(each, it_admin, password)
    code = totp_code(device)
    outcomes = run_concurrently(*[lambda each=each: _code(each, code).status_code for each in clients])
    assert sorted(outcomes) == [200, 302]


def test_the_second_step_has_a_short_window(client, it_admin, admin_device, password, settings):
    _password_step(client, it_admin, password)
    session = client.session
    pending = session[PENDING_KEY]
    pending["since"] -= settings.SIGNIN_SECOND_STEP_SECONDS + 1
    session[PENDING_KEY] = pending
    session.save()
    response = _code(client, totp_code(admin_device))
    assert response.status_code == 302 and response.url == reverse("login") + "?second_step_expired=1"
    assert not _signed_in(client)


def test_it_signs_in_with_the_code_under_a_new_session_key(client, it_admin, admin_device, password):
    client.get(reverse("login"))
    before = client.cookies["sessionid"].value if "sessionid" in client.cookies else None
    _password_step(client, it_admin, password)
    pending_key = client.cookies["sessionid"].value
    response = _code(client, totp_code(admin_device))
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.cookies["sessionid"].value not in (before, pending_key)
    success = SecurityEvent.objects.get(kind=EventKind.LOGIN_SUCCESS, target=it_admin)
    assert success.details == {"second_factor": SignInFactor.TOTP}
    assert client.get(reverse("accounts:list")).status_code == 200


def test_five_wrong_codes_lock_the_account(client, inspector, inspector_device, password):
    _password_step(client, inspector, password)
    for _attempt in range(5):
        response = _code(client, "000000" if totp_code(inspector_device) != "000000" else "111111")
    assert response.status_code == 429 and response["Retry-After"] == "900"
    assert SecurityEvent.objects.filter(kind=EventKind.LOGIN_FAILURE, target=inspector,
                                        details__factor=SignInFactor.TOTP).count() == 5
    assert SecurityEvent.objects.filter(kind=EventKind.LOCKOUT, target=inspector).count() == 1
    # Locked: the right password and the right code both get the lockout page now.
    response = _password_step(Client(), inspector, password)
    assert response.status_code == 429


def test_wrong_passwords_and_wrong_codes_share_one_counter(client, inspector, inspector_device, password):
    for _ in range(3):
        _password_step(client, inspector, "Sai-mat-khau-1!")
    _password_step(client, inspector, password)
    _code(client, "000000" if totp_code(inspector_device) != "000000" else "111111")
    response = _code(client, "000000" if totp_code(inspector_device) != "000000" else "111111")
    assert response.status_code == 429
    failures = SecurityEvent.objects.filter(kind=EventKind.LOGIN_FAILURE, target=inspector)
    assert sorted(event.details["factor"] for event in failures) == ["password"] * 3 + ["totp"] * 2


def _enrol(client, user, password):
    """The first sign-in of an account without a device, up to the recovery codes page."""
    response = _password_step(client, user, password)
    assert response.status_code == 302 and response.url == reverse("login_enrol")
    page = client.get(reverse("login_enrol"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    return page, device


def test_it_enrols_at_the_first_sign_in_with_the_portals_qr_code(client, inspector, password):
    page, device = _enrol(client, inspector, password)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    html = page.content.decode()
    assert f'src="{reverse("login_enrol_qr")}"' in html
    import base64
    key = base64.b32encode(device.bin_key).decode()
    assert " ".join(key[i:i + 4] for i in range(0, len(key), 4)) in html
    qr = client.get(reverse("login_enrol_qr"))
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml"
    assert qr.content.startswith(b"<svg") or qr.content.startswith(b"<?xml")
    assert not _signed_in(client)
    response = client.post(reverse("login_enrol"), {"otp_token": totp_code(device)})
    assert response.status_code == 200 and _signed_in(client)
    assert "no-store" in response["Cache-Control"]
    codes = response.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    device.refresh_from_db()
    assert device.confirmed
    # Hashed: no code in clear anywhere in the table.
    stored = set(RecoveryCode.objects.filter(account=inspector).values_list("code_hash", flat=True))
    assert len(stored) == 10
    assert all(code.replace("-", "") not in "".join(stored) for code in codes)
    assert recovery_code_hash(inspector, codes[0].replace("-", "")) in stored
    assert SecurityEvent.objects.filter(kind=EventKind.SECOND_FACTOR_ENROLLED, target=inspector).count() == 1


def test_enrolment_refuses_a_wrong_first_code(client, inspector, password):
    _page, device = _enrol(client, inspector, password)
    right = totp_code(device)
    response = client.post(reverse("login_enrol"), {"otp_token": f"{(int(right) + 1) % 1000000:06d}"})
    assert response.status_code == 200 and not _signed_in(client)
    device.refresh_from_db()
    assert not device.confirmed
    assert SecurityEvent.objects.get(kind=EventKind.LOGIN_FAILURE, target=inspector).details == {
        "factor": SignInFactor.TOTP}


def test_the_qr_code_needs_a_pending_enrolment(client):
    assert client.get(reverse("login_enrol_qr")).status_code == 404


def test_recovery_codes_work_once(client, inspector, password):
    _page, device = _enrol(client, inspector, password)
    codes = client.post(reverse("login_enrol"), {"otp_token": totp_code(device)}).context["codes"]
    client.post(reverse("logout"))
    _password_step(client, inspector, password)
    response = _code(client, codes[3].upper())
    assert response.status_code == 302 and _signed_in(client)
    success = SecurityEvent.objects.filter(kind=EventKind.LOGIN_SUCCESS, target=inspector).latest("id")
    assert success.details == {"second_factor": SignInFactor.RECOVERY_CODE, "recovery_codes_left": 9}
    other = Client()
    _password_step(other, inspector, password)
    response = _code(other, codes[3])
    assert response.status_code == 200 and not _signed_in(other)


def test_a_session_without_the_second_factor_opens_nothing(client, it_admin):
    client.force_login(it_admin, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(reverse("accounts:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert not _signed_in(client)
    event = SecurityEvent.objects.get(kind=EventKind.LOGOUT, target=it_admin)
    assert event.details == {"ended_because": "second_factor_missing"}


def test_the_policy_can_ask_officers_with_the_lookup_right(client, officer_bien_hoa, password):
    PasswordPolicy.objects.filter(id=1).update(second_factor_lookup=True)
    policy_cache_clear()
    response = _password_step(client, officer_bien_hoa, password)
    assert response.status_code == 302 and response.url == reverse("login_enrol")


def test_the_policy_can_ask_a_role(client, leader_bien_hoa, password):
    assert _password_step(client, leader_bien_hoa, password).url == reverse("home")
    PasswordPolicy.objects.filter(id=1).update(second_factor_roles=[Role.UNIT_LEADER])
    policy_cache_clear()
    # The open session ends at its next request; the next sign-in enrols.
    response = client.get(reverse("accounts:list"))
    assert response.status_code == 302 and not _signed_in(client)
    assert _password_step(client, leader_bien_hoa, password).url == reverse("login_enrol")


def test_an_it_admin_resets_another_accounts_app(admin_client, inspector, inspector_device, password):
    other = Client()
    login(other, inspector)
    response = admin_client.post(reverse("accounts:second_factor_reset", args=[inspector.pk]),
                                 {"reason": "Mất điện thoại"})
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=inspector).count() == 0
    assert other.get(reverse("home")).status_code == 302  # signed out everywhere
    event = SecurityEvent.objects.get(kind=EventKind.SECOND_FACTOR_RESET, target=inspector)
    assert event.details == {"sessions_ended": 1, "reason": "Mất điện thoại"}
    assert _password_step(Client(), inspector, password).url == reverse("login_enrol")


def test_nobody_resets_their_own_app_or_anothers_without_the_role(admin_client, it_admin, inspector, admin_device,
                                                                   inspector_device):
    admin_client.post(reverse("accounts:second_factor_reset", args=[it_admin.pk]), {"reason": "x"})
    assert TOTPDevice.objects.filter(user=it_admin).count() == 1
    response = login(Client(), inspector).post(reverse("accounts:second_factor_reset", args=[it_admin.pk]),
                                               {"reason": "x"})
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=it_admin).count() == 1
    assert SecurityEvent.objects.filter(kind=EventKind.SECOND_FACTOR_RESET).count() == 0


def test_sign_in_helper_and_officers_without_a_second_factor(client, officer_bien_hoa, password):
    response = sign_in(client, officer_bien_hoa, password)
    assert response.status_code == 302 and response.url == reverse("home") and _signed_in(client)
    assert AccountSession.objects.filter(account_id=officer_bien_hoa.pk).count() == 1


def test_an_it_admin_adds_a_role_on_the_policy_page_and_it_is_audited(admin_client):
    data = {**PasswordPolicy.from_defaults().values(), "second_factor_roles": [Role.UNIT_LEADER],
            "second_factor_lookup": "on"}
    response = admin_client.post(reverse("policy:edit"), data)
    assert response.status_code == 302
    policy = PasswordPolicy.objects.get()
    assert (policy.second_factor_roles, policy.second_factor_lookup) == ([Role.UNIT_LEADER], True)
    event = SecurityEvent.objects.get(kind=EventKind.POLICY_CHANGED)
    assert event.details == {"old": {"second_factor_roles": [], "second_factor_lookup": False},
                             "new": {"second_factor_roles": [Role.UNIT_LEADER], "second_factor_lookup": True}}


def test_the_policy_page_refuses_a_role_it_does_not_offer(admin_client):
    data = {**PasswordPolicy.from_defaults().values(), "second_factor_roles": ["superuser"]}
    response = admin_client.post(reverse("policy:edit"), data)
    assert response.status_code == 200
    assert PasswordPolicy.objects.get().second_factor_roles == []


# ----- issue 22: two enrolments at once; a half-finished sign-in and another sign-in ---------------

@pytest.mark.django_db(transaction=True)
def test_two_sessions_confirming_one_accounts_enrolment_at_once_make_one_winner(inspector):
    from accounts.services.second_factor import second_factor_enrolment_confirm
    from portal.errors import DomainError

    # What two enrolment pages opened at the same moment leave: two unconfirmed devices.
    devices = [TOTPDevice.objects.create(user=inspector, name="TOTP", confirmed=False) for _ in range(2)]
    codes = [totp_code(device) for device in devices]
    outcomes = run_concurrently(*[
        lambda device=device, code=code: second_factor_enrolment_confirm(account=inspector, device_id=device.pk,
                                                                         token=code)
        for device, code in zip(devices, codes)])
    winners = [outcome for outcome in outcomes if isinstance(outcome, list)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, DomainError)]
    assert (len(winners), len(refused)) == (1, 1), outcomes
    assert refused[0].code == "already_enrolled"
    assert TOTPDevice.objects.filter(user=inspector, confirmed=True).count() == 1
    assert TOTPDevice.objects.filter(user=inspector).count() == 1
    assert RecoveryCode.objects.filter(account=inspector).count() == 10


def test_an_enrolment_finished_in_another_browser_ends_this_one_with_a_message(inspector, password):
    reloading, posting, winner = Client(), Client(), Client()
    for each in (reloading, posting):
        _password_step(each, inspector, password)
        each.get(reverse("login_enrol"))
    _page, device = _enrol(winner, inspector, password)
    assert winner.post(reverse("login_enrol"), {"otp_token": totp_code(device)}).status_code == 200
    for each, response in ((reloading, reloading.get(reverse("login_enrol"))),
                           (posting, posting.post(reverse("login_enrol"), {"otp_token": "123456"}))):
        assert response.status_code == 302 and response.url == reverse("login")
        assert PENDING_KEY not in each.session and not _signed_in(each)
        page = each.get(reverse("login"))
        assert ("Ứng dụng xác thực của tài khoản này vừa được thiết lập ở một cửa sổ hoặc trình duyệt khác. Hãy "
                "đăng nhập lại và nhập mã do ứng dụng đó hiển thị.") in page.content.decode()
    assert TOTPDevice.objects.filter(user=inspector).count() == 1


def test_a_half_finished_sign_in_is_dropped_by_another_sign_in_in_the_same_browser(client, inspector,
                                                                                   inspector_device,
                                                                                   officer_bien_hoa, password):
    _password_step(client, inspector, password)
    assert client.session[PENDING_KEY]["account"] == inspector.pk
    response = client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": password})
    assert response.status_code == 302 and _signed_in(client)
    assert int(client.session[AUTH_USER_KEY]) == officer_bien_hoa.pk
    assert PENDING_KEY not in client.session
    response = client.get(reverse("login_second_step"))
    assert response.status_code == 302 and response.url == f"{reverse('login')}?second_step_expired=1"
