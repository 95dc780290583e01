"""The unit picker in a browser: typing without accents finds the unit, the keyboard chooses it, the
form sends its id; on a desktop and on a 390 px phone. Screenshots under artifacts/ (units-*.png)."""
import pytest
from django.urls import reverse

from accounts.models import User
from tests.factories import DEFAULT_PASSWORD, UnitFactory, UserFactory
from tests.helpers import totp_enrol

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _sign_in(person, account):
    page = person.page
    device = totp_enrol(account) if account.role in ("it_admin", "inspector") else None
    page.goto(person.url(reverse("login")))
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    if device is not None:
        person.second_step(device)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_admin_types_a_unit_without_accents_and_chooses_it_with_the_keyboard(journey, units, it_admin, size):
    for n in range(3):  # more than one match, so that the arrow keys have somewhere to go
        UnitFactory(name=f"UBND phường Tân Phong {n + 2}", parent=units["bien_hoa"])
    person = journey(f"units-picker-{size}")
    page = person.page
    if size == "phone":
        page.set_viewport_size(PHONE)
    _sign_in(person, it_admin)
    page.goto(person.url(reverse("accounts:create")))
    combobox = page.get_by_role("combobox", name="Đơn vị")
    assert page.locator("select[name=unit]").is_hidden()
    combobox.click()
    combobox.press_sequentially("tan phong", delay=30)
    listbox = page.get_by_role("listbox")
    options = listbox.get_by_role("option")
    options.first.wait_for()
    assert options.count() == 4
    assert combobox.get_attribute("aria-expanded") == "true"
    combobox.press("ArrowDown")
    combobox.press("ArrowDown")
    assert options.nth(1).get_attribute("aria-selected") == "true"
    assert combobox.get_attribute("aria-activedescendant") == options.nth(1).get_attribute("id")
    combobox.press("ArrowUp")
    person.screenshot("open")
    combobox.press("Enter")
    assert listbox.is_hidden() and combobox.get_attribute("aria-expanded") == "false"
    assert combobox.input_value() == "UBND phường Tân Phong (000.01.31.H19)"
    assert page.locator("select[name=unit]").input_value() == str(units["tan_phong"].pk)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.fill("input[name=username]", f"cb.chon.{size}")
    page.fill("input[name=full_name]", "Trần Văn Chọn")
    person.screenshot("chosen")
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    assert User.objects.get(username=f"cb.chon.{size}").unit_id == units["tan_phong"].pk
    assert width == (390 if size == "phone" else 1280)
    person.assert_clean()


def test_escape_closes_the_list_and_a_leader_sees_only_their_units(journey, units, leader_bien_hoa):
    person = journey("units-picker-leader")
    page = person.page
    page.set_viewport_size(PHONE)
    _sign_in(person, leader_bien_hoa)
    page.goto(person.url(reverse("accounts:list")))
    combobox = page.get_by_role("combobox", name="Đơn vị")
    combobox.click()
    combobox.press_sequentially("ubnd", delay=30)
    options = page.get_by_role("listbox").get_by_role("option")
    options.first.wait_for()
    names = [text.split("\n")[0] for text in options.all_inner_texts()]
    assert names == ["UBND thành phố Biên Hòa (000.00.31.H19)", "UBND phường Tân Phong (000.01.31.H19)"]
    person.screenshot("filter-open")
    combobox.press("Escape")
    assert page.get_by_role("listbox").is_hidden()
    combobox.fill("")
    combobox.press_sequentially("long khanh", delay=30)
    page.get_by_role("status").filter(has_text="Không có đơn vị nào phù hợp.").wait_for()
    person.screenshot("filter-none")
    page.goto(person.url(reverse("accounts:unit_list")))
    assert page.evaluate("document.documentElement.scrollWidth") == 390
    person.screenshot("unit-list-phone")
    person.assert_clean()


def test_the_merge_preview_on_a_phone(journey, units, it_admin):
    UserFactory(username="ld.longkhanh", full_name="Lê Văn Lãnh", role="unit_leader", unit=units["long_khanh"])
    UserFactory(username="cb.longkhanh", full_name="Phạm Thị Cán", unit=units["long_khanh"])
    person = journey("units-merge-phone")
    page = person.page
    page.set_viewport_size(PHONE)
    _sign_in(person, it_admin)
    page.goto(person.url(reverse("accounts:unit_merge", args=[units["long_khanh"].pk])))
    combobox = page.get_by_role("combobox", name="Đơn vị tiếp nhận")
    combobox.click()
    combobox.press_sequentially("bien hoa", delay=30)
    page.get_by_role("listbox").get_by_role("option").first.wait_for()
    combobox.press("ArrowDown")
    combobox.press("Enter")
    page.fill("input[name=basis_number]", "1234/QĐ-UBND")
    page.fill("input[name=basis_date]", "12/06/2025")
    page.fill("input[name=effective_date]", "01/07/2025")
    person.screenshot("form")
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    assert page.locator(".merge-summary").inner_text() == (
        "2 tài khoản và 1 đơn vị trực thuộc sẽ chuyển sang UBND thành phố Biên Hòa.")
    assert page.evaluate("document.documentElement.scrollWidth") == 390
    person.screenshot("preview")
    with page.expect_navigation():
        page.click("button[type=submit].danger")
    assert User.objects.get(username="ld.longkhanh").role == "officer"
    page.goto(person.url(reverse("accounts:unit_list")))
    person.screenshot("unit-list-after")
    person.assert_clean()


def test_an_admin_finds_the_account_of_a_turnover_line_by_typing(journey, units, it_admin, officer_bien_hoa,
                                                                  monkeypatch):
    from accounts.forms import turnover as forms_turnover

    monkeypatch.setattr(forms_turnover, "ACCOUNT_PICKER_FULL_LIST", 1)  # as for a province of 10,000 accounts
    person = journey("account-picker")
    page = person.page
    _sign_in(person, it_admin)
    page.goto(person.url(reverse("accounts:turnover_create")))
    page.select_option("select[name=lines-0-action]", "disable")
    combobox = page.locator("#id_lines-0-account").locator("xpath=..").get_by_role("combobox")
    combobox.click()
    combobox.press_sequentially("pham thi", delay=30)
    options = page.get_by_role("listbox").get_by_role("option")
    options.first.wait_for()
    assert options.count() == 1
    person.screenshot("open")
    combobox.press("ArrowDown")
    combobox.press("Enter")
    assert page.locator("select[name=lines-0-account]").input_value() == str(officer_bien_hoa.pk)
    page.set_viewport_size(PHONE)
    person.screenshot("chosen-390")
    assert page.evaluate("document.documentElement.scrollWidth") == 390
    person.assert_clean()
