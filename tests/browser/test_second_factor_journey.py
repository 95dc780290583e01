"""The second factor in a browser: an inspector's first sign-in enrols the authenticator app from the
portal's own QR code (or the key in text), confirms with a code, sees the ten recovery codes once; the
next sign-in asks for the code; "My sessions" lists both browsers and ending one signs it out; the idle
warning comes a minute before the timeout. No Content-Security-Policy violation on the way. Desktop and
390 px screenshots under artifacts/ (totp-*.png)."""
import base64

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from playwright.sync_api import expect

from accounts.models import RecoveryCode
from policy.models import PasswordPolicy
from policy.selectors import policy_cache_clear
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def _password_step(person, account):
    page = person.page
    page.goto(person.url(reverse("login")))
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit].primary")


def _code_from_key_on_screen(text: str) -> str:
    """What the person's phone computes from the key they typed (RFC 6238: 30 s, 6 digits)."""
    import time

    totp = TOTP(base64.b32decode("".join(text.split())), step=30, t0=0, digits=6)
    totp.time = time.time()
    return f"{totp.token():06d}"


def test_an_inspector_enrols_then_signs_in_with_the_code_and_manages_sessions(journey, inspector):
    person = journey("totp")
    page = person.page
    _password_step(person, inspector)
    expect(page).to_have_url(person.url(reverse("login_enrol")))
    qr = page.get_by_test_id("enrolment-qr")
    expect(qr).to_be_visible()
    assert page.evaluate("document.querySelector('[data-testid=enrolment-qr]').naturalWidth") > 100
    key = page.get_by_test_id("enrolment-key").inner_text()
    person.screenshot("01-enrol")
    page.set_viewport_size(PHONE)
    person.screenshot("01-enrol-390")
    assert page.evaluate("document.documentElement.scrollWidth") == 390
    page.set_viewport_size({"width": 1280, "height": 860})
    page.fill("input[name=otp_token]", _code_from_key_on_screen(key))
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    codes = page.get_by_test_id("recovery-codes").locator("code").all_inner_texts()
    assert len(codes) == 10
    assert RecoveryCode.objects.filter(account=inspector).count() == 10
    person.screenshot("02-recovery-codes")
    page.click("text=Tôi đã lưu lại")
    expect(page).to_have_url(person.url(reverse("home")))  # an inspector's home: the province dashboard

    # Another browser: the password, then the code.
    phone = journey("totp-phone")
    phone.page.set_viewport_size(PHONE)
    _password_step(phone, inspector)
    expect(phone.page.locator("input[name=otp_token]")).to_be_visible()
    phone.screenshot("03-code-390")
    device = inspector.totpdevice_set.get()
    phone.second_step(device)
    expect(phone.page).to_have_url(phone.url(reverse("home")))

    # The first browser sees both sessions and ends the phone's.
    page.goto(person.url(reverse("sessions")))
    rows = page.get_by_test_id("sessions").locator("tbody tr")
    expect(rows).to_have_count(2)
    person.screenshot("04-sessions")
    other_row = rows.filter(has_not_text="trình duyệt này")
    with page.expect_navigation():
        other_row.get_by_role("button").click()
    expect(page.get_by_test_id("sessions").locator("tbody tr")).to_have_count(1)
    phone.page.reload()
    expect(phone.page).to_have_url(phone.url(reverse("login")) + "?next=/")
    person.assert_clean()
    phone.assert_clean()


def test_the_idle_warning_comes_a_minute_before_and_stay_signed_in_keeps_the_session(journey, officer_bien_hoa):
    # A transactional test starts without the policy row (flushed): written whole.
    PasswordPolicy.objects.update_or_create(id=1, defaults={**PasswordPolicy.from_defaults().values(),
                                                            "session_idle_minutes": 1})
    policy_cache_clear()
    person = journey("idle")
    page = person.page
    _password_step(person, officer_bien_hoa)
    warning = page.get_by_test_id("idle-warning")
    expect(warning).to_be_visible()
    person.screenshot("warning")
    with page.expect_response(lambda response: response.url.endswith(reverse("session_keepalive"))) as answer:
        warning.get_by_role("button").click()
    assert answer.value.status == 200 and answer.value.json() == {"idle_seconds_left": 60}
    page.goto(person.url(reverse("sessions")))
    expect(page).to_have_url(person.url(reverse("sessions")))
    person.assert_clean()


def test_an_it_admin_with_the_app_signs_in_in_two_steps(journey, it_admin):
    from tests.helpers import totp_enrol

    device = totp_enrol(it_admin)
    person = journey("totp-admin")
    _password_step(person, it_admin)
    wrong = f"{(int(totp_code(device)) + 1) % 1000000:06d}"
    person.page.fill("input[name=otp_token]", wrong)
    with person.page.expect_navigation():
        person.page.click("button[type=submit].primary")
    expect(person.page.locator(".field-errors")).to_contain_text("Mã không đúng")
    person.screenshot("wrong-code")
    person.second_step(device)
    expect(person.page).to_have_url(person.url(reverse("home")))
    person.assert_clean()
