"""Issue #24, keyboard only: sign-in with the second factor, the password change and the citizen lookup
done with Tab, Shift+Tab, Enter and Space, never the mouse. The first Tab of a page reaches the skip link
"Bỏ qua, đến nội dung chính", which lands on <main id="main-content">; every element the keyboard stops
on shows where it is (an outline or a ring). Screenshots under artifacts/ (keyboard-*.png)."""
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import DEFAULT_PASSWORD
from tests.helpers import totp_code, totp_enrol

from .conftest import PHONE
from .test_turnover_journey import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSPHRASE = "Song-Dong-Nai-Xanh-Mat-48!"
SKIP_LINK = "Bỏ qua, đến nội dung chính"
# What the focused element looks like: its outline and ring, its box, and a short description.
FOCUS_STATE = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  return {tag: element.tagName.toLowerCase(), id: element.id, name: element.getAttribute("name") || "",
          text: (element.innerText || element.value || "").trim().slice(0, 40),
          outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
          ring: style.boxShadow !== "none",
          inside: box.width > 0 && box.height > 0 && box.top >= 0 && box.left >= 0
                  && box.bottom <= window.innerHeight && box.right <= window.innerWidth};
}"""


def focused(page):
    return page.evaluate(FOCUS_STATE)


def press(page, key):
    """One key; the element it lands on must show the focus, inside the window."""
    page.keyboard.press(key)
    state = focused(page)
    if state["tag"] not in ("body", "main"):
        assert state["outline"] or state["ring"], f"no visible focus on {state} after {key}"
        assert state["inside"], f"the focused element is off screen: {state} after {key}"
    return state


def tab_to(page, selector, *, key="Tab", limit=25):
    """Tab (or Shift+Tab; never click) until the element matching `selector` has the focus; the stops on
    the way are returned so that a test can say what it passed."""
    stops = []
    for _ in range(limit):
        state = press(page, key)
        stops.append(state)
        if page.evaluate("selector => document.activeElement.matches(selector)", selector):
            return stops
    raise AssertionError(f"{selector} not reached with {limit} Tabs; the focus went through {stops}")


def skip_to_main_content(page, screenshot=None):
    """The skip link is the first element the keyboard reaches: the first Tab of a fresh page, or Shift+Tab
    back through the top bar from the field a form page puts the focus in (autofocus). It shows when
    reached; Enter on it moves the focus into <main>, and the next Tab goes on from there."""
    if page.evaluate("document.activeElement === document.body"):
        state = press(page, "Tab")
    else:
        state = tab_to(page, "a.skip-link", key="Shift+Tab")[-1]
    assert (state["tag"], state["text"]) == ("a", SKIP_LINK)
    assert page.evaluate("document.activeElement === document.querySelector('a[href], button, input, select, textarea')")
    if screenshot:
        screenshot()
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main-content"
    assert page.evaluate("document.activeElement.tagName") == "MAIN"
    assert "#" not in page.url  # menu.js moves the focus without a fragment a form would carry on


def test_sign_in_with_the_code_and_change_the_password_with_the_keyboard_alone(journey, it_admin):
    it_admin.password_changed_at = timezone.now() - timedelta(days=2)  # past the policy's minimum age
    it_admin.save(update_fields=["password_changed_at"])
    device = totp_enrol(it_admin)
    person = journey("keyboard-signin")
    page = person.page
    page.goto(person.url("/accounts/login/"))
    assert focused(page)["name"] == "username"  # autofocus
    skip_to_main_content(page, lambda: person.screenshot("01-skip-link"))
    # From <main> on: the user name, the password, then the button.
    assert press(page, "Tab")["name"] == "username"
    page.keyboard.type(it_admin.username)
    assert press(page, "Tab")["name"] == "password"
    page.keyboard.type(DEFAULT_PASSWORD)
    assert press(page, "Shift+Tab")["name"] == "username"  # back, and forth again
    assert press(page, "Tab")["name"] == "password"
    state = press(page, "Tab")
    assert (state["tag"], state["text"]) == ("button", "Đăng nhập")
    person.screenshot("02-login-button-focused")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    page.wait_for_url("**/accounts/login/code/")
    assert focused(page)["name"] == "otp_token"
    page.keyboard.type(totp_code(device))
    state = press(page, "Tab")
    assert (state["tag"], state["text"]) == ("button", "Tiếp tục")
    person.screenshot("03-code-typed")
    with page.expect_navigation():
        page.keyboard.press("Space")
    expect(page).to_have_url(person.url("/"))

    # The password change, reached from the top bar with Tab and Enter.
    tab_to(page, "a[href='/accounts/password_change/']")
    person.screenshot("04-change-password-link-focused")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Đổi mật khẩu")
    skip_to_main_content(page)
    assert press(page, "Tab")["name"] == "old_password"
    page.keyboard.type(DEFAULT_PASSWORD)
    tab_to(page, "input[name=new_password1]")
    page.keyboard.type(NEW_PASSPHRASE)
    toggle = page.locator("button.password-toggle[aria-controls=id_new_password1]")
    state = press(page, "Tab")
    assert (state["tag"], state["text"]) == ("button", "Hiện")
    page.keyboard.press("Space")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#id_new_password1")).to_have_value(NEW_PASSPHRASE)
    expect(page.locator("#id_new_password1")).to_have_attribute("type", "text")
    person.screenshot("05-password-shown")
    page.keyboard.press("Enter")  # a button answers Enter as well as Space
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#id_new_password1")).to_have_attribute("type", "password")
    tab_to(page, "input[name=new_password2]")
    page.keyboard.type(NEW_PASSPHRASE)
    expect(page.locator("[data-password-checklist] li[data-check=match]")).to_have_class("met")
    tab_to(page, "form.password-form button[type=submit]")
    person.screenshot("06-change-button-focused")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".messages .msg.success")).to_have_count(1)
    it_admin.refresh_from_db()
    assert it_admin.check_password(NEW_PASSPHRASE)
    person.assert_clean()


def test_the_lookup_page_with_the_keyboard_alone_on_a_phone(journey, officer_bien_hoa):
    person = signed_in(journey("keyboard-lookup"), officer_bien_hoa)
    page = person.page
    page.set_viewport_size(PHONE)
    page.goto(person.url("/lookups/"))
    skip_to_main_content(page, lambda: person.screenshot("01-skip-link-390"))
    assert press(page, "Tab")["name"] == "citizen_id"
    page.keyboard.type("075095001234")
    assert press(page, "Tab")["name"] == "dossier_code"
    page.keyboard.type("000.00.31.H19-210708-0032")
    assert press(page, "Tab")["name"] == "purpose"
    page.keyboard.type("Cấp bản sao trích lục khai sinh")
    state = press(page, "Tab")
    assert (state["tag"], state["text"]) == ("button", "Tra cứu")
    person.screenshot("02-form-filled-390")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("[data-testid=answer-masked]")).to_contain_text("1995")

    skip_to_main_content(page)
    tab_to(page, "[data-testid=reveal-form] button[type=submit]")
    person.screenshot("03-reveal-focused-390")
    with page.expect_navigation():
        page.keyboard.press("Space")
    expect(page.locator("[data-testid=answer-full]")).to_have_count(1)
    person.screenshot("04-revealed-390")
    person.assert_clean()
