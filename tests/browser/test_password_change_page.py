"""The password change page in headless Chromium: the checklist follows what the officer types, the
show/hide button reveals the text and hides it again, and a refusal appears under its own field.
Screenshots at desktop width and at a 390-pixel phone width go to artifacts/ for a person to look at."""
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from policy.validators import PASSPHRASE_EXAMPLES
from tests.factories import DEFAULT_PASSWORD

from .test_first_login_journey import login, submit

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


def _rule(page, check):
    return page.locator(f"[data-password-checklist] li[data-check={check}]")


def _walk_through(journey, officer, prefix):
    page = journey.page
    response = login(journey, officer.username, DEFAULT_PASSWORD, f"{prefix}-01-login")
    assert response.status == 200
    page.goto(journey.url("/accounts/password_change/"))
    expect(page.locator("input[name=new_password1]")).to_be_visible()
    for check in ("min_length", "upper", "lower", "digit", "special", "match"):
        expect(_rule(page, check)).to_have_class("unmet")
    journey.screenshot(f"{prefix}-02-empty")

    page.locator("input[name=new_password1]").press_sequentially("abc")
    expect(_rule(page, "lower")).to_have_class("met")
    expect(_rule(page, "upper")).to_have_class("unmet")
    expect(_rule(page, "min_length")).to_have_class("unmet")
    expect(_rule(page, "lower").locator(".rule-state")).to_have_text("(đã đạt)")
    expect(_rule(page, "upper").locator(".rule-state")).to_have_text("(chưa đạt)")
    page.locator("input[name=new_password1]").press_sequentially("-Đèn-7!")
    for check in ("min_length", "upper", "lower", "digit", "special"):
        expect(_rule(page, check)).to_have_class("met")
    expect(_rule(page, "match")).to_have_class("unmet")
    journey.screenshot(f"{prefix}-03-typing")

    toggle = page.locator("button.password-toggle[aria-controls=id_new_password1]")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(toggle).to_have_accessible_name("Hiện nội dung ô “Mật khẩu mới”")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#id_new_password1")).to_have_attribute("type", "text")
    journey.screenshot(f"{prefix}-04-shown")
    toggle.click()
    expect(page.locator("#id_new_password1")).to_have_attribute("type", "password")

    # The example the page prints: the checklist is all green, the server refuses it next to the field.
    example = PASSPHRASE_EXAMPLES[0]
    page.fill("input[name=old_password]", DEFAULT_PASSWORD)
    page.fill("input[name=new_password1]", example)
    page.fill("input[name=new_password2]", example)
    expect(_rule(page, "match")).to_have_class("met")
    page.locator("button.password-toggle[aria-controls=id_new_password2]").click()
    response = submit(page)
    assert response.status == 200
    error = page.locator("#id_new_password1_error .error")
    expect(error).to_have_count(1)
    expect(error).to_contain_text("Mật khẩu này nằm trong danh sách mật khẩu phổ biến hoặc dễ đoán.")
    # Under the new-password field itself, above its rules.
    field = page.locator(".field.has-error")
    expect(field).to_have_count(1)
    expect(field.locator("input[name=new_password1]")).to_have_count(1)
    error_box = error.bounding_box()
    input_box = page.locator("#id_new_password1").bounding_box()
    rules_box = page.locator("#id_new_password1_helptext").bounding_box()
    assert input_box["y"] < error_box["y"] < rules_box["y"]
    assert error_box["y"] - (input_box["y"] + input_box["height"]) < 40
    # The fields went back as password fields, the browser keeps no text.
    expect(page.locator("#id_new_password2")).to_have_attribute("type", "password")
    journey.screenshot(f"{prefix}-05-refused-next-to-field")
    journey.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_the_checklist_follows_typing_and_errors_sit_by_their_field_on_a_desktop(journey, officer_bien_hoa):
    officer_bien_hoa.password_changed_at = timezone.now() - timedelta(days=2)
    officer_bien_hoa.save(update_fields=["password_changed_at"])
    _walk_through(journey("password-page-desktop"), officer_bien_hoa, "desktop")


@pytest.mark.django_db(transaction=True)
def test_the_checklist_and_toggles_work_on_a_phone(journey, officer_bien_hoa):
    officer_bien_hoa.password_changed_at = timezone.now() - timedelta(days=2)
    officer_bien_hoa.save(update_fields=["password_changed_at"])
    phone = journey("password-page-phone")
    phone.page.set_viewport_size(PHONE)
    _walk_through(phone, officer_bien_hoa, "phone")
    # Nothing wider than the screen.
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
