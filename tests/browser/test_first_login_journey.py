"""Letter point 3 end to end, in headless Chromium: an account is handed over with a one-time password,
the officer must change it at the first login, a weak password is refused in Vietnamese, a strong
passphrase is accepted and the handover record counts as received.

Screenshots of every step are saved under artifacts/ (git-ignored) for a person to look at.
"""
import re
import unicodedata

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.choices import PasswordChangeReason, Role
from accounts.models import HandoverRecord, User
from accounts.services import account_create
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import totp_enrol

pytestmark = [pytest.mark.browser]

STRONG_PASSPHRASE = "Song-Dong-Nai-Xanh-Mat-48!"
# Both pass the composition rule (upper, lower, digit, special, length >= 8); both are refused as
# common or as a place/word plus a number. The English texts are the msgids that must not show.
WEAK_PASSWORDS = [
    ("weak-password-bienhoa", "Bienhoa@2024"),
    ("weak-password-matkhau", "Matkhau@123"),
]
ENGLISH_REFUSALS = (
    "This password is on the list of common or easily guessed passwords.",
    "The password is only names, places or common words",
    "This password is too easy to guess.",
)
ENGLISH_SUCCESS = "Your password has been changed."
# Letters only Vietnamese writes: proof that a text is in Vietnamese, not an untranslated msgid.
VIETNAMESE_LETTERS = re.compile(r"[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]")
PASSWORD_WORDS = "mật khẩu"


def folded(text: str) -> str:
    """NFC and lower case, so a Vietnamese phrase matches however its accents were composed."""
    return unicodedata.normalize("NFC", text).lower()


def assert_vietnamese(text: str, what: str, must_contain: str | None = PASSWORD_WORDS):
    text = folded(text)
    assert VIETNAMESE_LETTERS.search(text), f"{what} is not in Vietnamese: {text!r}"
    if must_contain is not None:
        assert must_contain in text, f"{what} does not speak of {must_contain!r}: {text!r}"


def submit(page, button="button[type=submit].primary"):
    """Click the form's submit button and return the final answer (after redirects)."""
    with page.expect_navigation() as navigation:
        page.click(button)
    return navigation.value


def login(journey, username, password, name):
    page = journey.page
    response = page.goto(journey.url("/accounts/login/"))
    assert response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("h1")).to_have_text("Đăng nhập")
    # The stylesheet is served: the top bar has the portal's colour, not the browser's transparent default.
    assert page.eval_on_selector(".topbar", "e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    journey.screenshot(name)
    return submit(page)


def officer_first_login(journey, account, one_time_password, screenshot_number=1):
    """The officer's side of the handover: log in with the one-time password, be held on the password
    change, be refused twice in Vietnamese, then choose a passphrase and reach the home page."""
    page = journey.page
    step = iter(range(screenshot_number, 100))

    def shot(name):
        journey.screenshot(f"{next(step):02d}-{name}")

    response = login(journey, account.username, one_time_password, f"{next(step):02d}-login")
    assert response.status == 200
    expect(page).to_have_url(journey.url("/accounts/password_change/"))
    expect(page.locator("input[name=old_password]")).to_be_visible()
    expect(page.locator("input[name=new_password1]")).to_be_visible()
    expect(page.locator("input[name=new_password2]")).to_be_visible()
    assert_vietnamese(page.inner_text("h1"), "the password change heading")
    assert_vietnamese(page.inner_text("p.msg.warning"), "the one-time password notice")
    shot("password-change-required")

    # Letter point 3: the first login with the default password does not let the account in.
    record = HandoverRecord.objects.get(account=account)
    assert record.received_at is not None, "the first login did not mark the handover record received"

    # Nothing else is reachable until the password is changed.
    for path, name in (("/", "home-held-on-password-change"), ("/admin/accounts/", "admin-held-on-password-change")):
        response = page.goto(journey.url(path))
        assert response.status == 200
        expect(page).to_have_url(journey.url("/accounts/password_change/"))
        shot(name)

    for name, weak_password in WEAK_PASSWORDS:
        page.fill("input[name=old_password]", one_time_password)
        page.fill("input[name=new_password1]", weak_password)
        page.fill("input[name=new_password2]", weak_password)
        response = submit(page)
        assert response.status == 200
        expect(page).to_have_url(journey.url("/accounts/password_change/"))
        errors = page.locator(".field.has-error .error")
        expect(errors.first).to_be_visible()
        texts = errors.all_inner_texts()
        for text in texts:
            assert_vietnamese(text, f"the refusal of {weak_password}", must_contain=None)
            for english in ENGLISH_REFUSALS:
                assert english not in text, f"untranslated refusal of {weak_password}: {text!r}"
        assert any(PASSWORD_WORDS in folded(text) for text in texts), texts
        # The form does not echo the passwords back.
        assert page.input_value("input[name=new_password1]") == ""
        shot(name)
        account.refresh_from_db()
        assert account.password_change_reason == PasswordChangeReason.ONE_TIME
        assert account.check_password(one_time_password)

    page.fill("input[name=old_password]", one_time_password)
    page.fill("input[name=new_password1]", STRONG_PASSPHRASE)
    page.fill("input[name=new_password2]", STRONG_PASSPHRASE)
    shot("strong-passphrase-filled")
    response = submit(page)
    assert response.status == 200
    expect(page).to_have_url(journey.url("/"))
    success = page.locator(".messages .msg.success")
    expect(success).to_have_count(1)
    assert ENGLISH_SUCCESS not in success.inner_text()
    assert_vietnamese(success.inner_text(), "the success message")
    expect(page.locator(".facts")).to_contain_text(account.username)
    expect(page.locator(".facts")).to_contain_text(account.full_name)
    shot("home-after-change")

    account.refresh_from_db()
    assert account.password_change_reason == PasswordChangeReason.NONE
    assert account.one_time_password_expires_at is None
    assert account.check_password(STRONG_PASSPHRASE)
    assert not account.check_password(one_time_password)
    # The live server's thread hashed it with the test run's cheap Argon2 (tests/hashers.py) too.
    assert account.password.startswith("argon2$argon2id$v=19$m=64,t=1,p=1$")

    # Now the portal lets the officer move: the home page stays the home page.
    response = page.goto(journey.url("/"))
    assert response.status == 200
    expect(page).to_have_url(journey.url("/"))
    return next(step)


@pytest.mark.django_db(transaction=True)
def test_an_officer_must_replace_the_one_time_password_at_first_login(journey, units, it_admin):
    account, one_time_password, record = account_create(
        actor=it_admin, username="cb.hoa", full_name="Trần Thị Hoa", unit=units["tan_phong"], role=Role.OFFICER)
    assert record.received_at is None

    officer = journey("journey")
    officer_first_login(officer, account, one_time_password)

    record.refresh_from_db()
    assert record.received_at is not None
    officer.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_an_it_admin_hands_over_a_new_account_that_the_officer_then_activates(journey, units, it_admin):
    device = totp_enrol(it_admin)
    admin = journey("handover")
    page = admin.page
    response = login(admin, it_admin.username, DEFAULT_PASSWORD, "01-admin-login")
    assert response.status == 200
    response = admin.second_step(device, "01b-admin-code")
    assert response.status == 200
    # The IT Center's home is the province's compliance dashboard; the account list is one click away.
    expect(page).to_have_url(admin.url("/"))
    page.click("nav.mainnav a[href='/admin/accounts/']")
    expect(page).to_have_url(admin.url("/admin/accounts/"))
    admin.screenshot("02-account-list")

    page.click("a[href='/admin/accounts/new/']")
    expect(page).to_have_url(admin.url("/admin/accounts/new/"))
    page.fill("input[name=username]", "cb.lan")
    page.fill("input[name=full_name]", "Ngô Thị Lan")
    page.fill("input[name=email]", "cb.lan@dongnai.gov.vn")
    page.fill("input[name=phone]", "0251 3822 123")
    # The unit picker (static/js/unit-picker.js): type without accents, choose with the keyboard.
    unit_box = page.get_by_role("combobox", name="Đơn vị")
    unit_box.press_sequentially("tan phong", delay=20)
    page.get_by_role("listbox").get_by_role("option").first.wait_for()
    unit_box.press("ArrowDown")
    unit_box.press("Enter")
    page.select_option("select[name=role]", value=Role.OFFICER)
    admin.screenshot("03-new-account-form")
    response = submit(page)
    assert response.status == 200
    assert "no-store" in response.headers.get("cache-control", "")

    one_time_password = page.inner_text("[data-testid=one-time-password]").strip()
    account = User.objects.get(username="cb.lan")
    assert account.unit_id == units["tan_phong"].pk and account.role == Role.OFFICER
    assert account.password_change_reason == PasswordChangeReason.ONE_TIME
    assert account.check_password(one_time_password), "the page shows another password than the account's"
    admin.screenshot("04-one-time-password")

    record = HandoverRecord.objects.get(account=account)
    assert record.received_at is None
    with admin.context.expect_page() as opened:
        page.click(f"a[href='/admin/accounts/handover/{record.pk}/']")
    record_page = admin.watch(opened.value)
    record_page.wait_for_load_state()
    expect(record_page).to_have_url(admin.url(f"/admin/accounts/handover/{record.pk}/"))
    sheet = record_page.locator("body.record")
    for text in (record.number, "cb.lan", "Ngô Thị Lan", "UBND phường Tân Phong", it_admin.full_name):
        expect(sheet).to_contain_text(text)
    # The one-time password is handed over separately, never printed on the record.
    assert one_time_password not in record_page.content()
    admin.screenshot("05-handover-record", page=record_page)

    officer = journey("handover")
    next_number = officer_first_login(officer, account, one_time_password, screenshot_number=6)

    # Back on the IT admin's screen, the record now shows when it was received.
    record.refresh_from_db()
    assert record.received_at is not None
    record_page.reload()
    received = record_page.locator("table.fields tr").last
    expect(received).not_to_contain_text("………")
    expect(received).to_contain_text(timezone.localtime(record.received_at).strftime("%d/%m/%Y %H:%M"))
    admin.screenshot(f"{next_number:02d}-handover-record-received", page=record_page)

    admin.assert_clean()
    officer.assert_clean()
