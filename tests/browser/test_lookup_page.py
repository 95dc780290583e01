"""The citizen lookup in headless Chromium: an officer opens "Tra cứu công dân" from the menu, is told
in Vietnamese that a 9-digit CMND is not accepted, looks the citizen up, sees the answer masked, shows
it in full (recorded); an inspector then finds the lookup in "Nhật ký tra cứu" by the full citizen ID.
No URL the browser ever asked for holds the citizen ID. Screenshots at desktop and 390 px wide under
artifacts/ (lookup-*.png)."""

import pytest
from playwright.sync_api import expect

from audit.choices import EventKind
from audit.models import SecurityEvent
from lookups.models import LookupRecord
from lookups.registry import SyntheticRegistry

from .test_turnover_journey import DESKTOP, PHONE, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CITIZEN = "075095001234"
DOSSIER = "000.00.31.H19-210708-0032"


def both_sizes(person, name):
    """Desktop and phone screenshots, each size judged by axe-core; at 390 px the page must not scroll
    sideways."""
    person.screenshot(f"{name}-desktop")
    person.assert_accessible(f"{name}-desktop")
    person.page.set_viewport_size(PHONE)
    width = person.page.evaluate("document.documentElement.scrollWidth")
    person.screenshot(f"{name}-390")
    person.assert_accessible(f"{name}-390")
    person.page.set_viewport_size(DESKTOP)
    return width


def test_an_officer_looks_up_a_citizen_and_an_inspector_finds_it_in_the_log(journey, officer_bien_hoa, inspector):
    person = signed_in(journey("lookup"), officer_bien_hoa)
    page = person.page
    requested = []
    person.context.on("request", lambda request: requested.append(request.url))
    page.goto(person.url("/"))
    page.click("nav.mainnav a:has-text('Tra cứu công dân')")
    expect(page.locator("h1")).to_have_text("Tra cứu công dân")

    page.fill("input[name=citizen_id]", "272123456")
    page.fill("input[name=dossier_code]", DOSSIER)
    page.fill("textarea[name=purpose]", "Cấp bản sao trích lục khai sinh")
    page.click("[data-testid=lookup-form] button[type=submit]")
    expect(page.locator(".field-errors")).to_have_text(
        "Không chấp nhận số chứng minh nhân dân (CMND) 9 chữ số: nhập số định danh cá nhân 12 chữ số của công dân.")
    assert both_sizes(person, "01-cmnd-refused") == 390

    page.fill("input[name=citizen_id]", CITIZEN)
    page.click("[data-testid=lookup-form] button[type=submit]")
    answer = SyntheticRegistry().fetch(CITIZEN)
    expect(page.locator("[data-testid=answer-masked]")).to_contain_text("1995")
    expect(page.locator("[data-testid=answer]")).not_to_contain_text(answer.full_name)
    assert page.locator("[data-testid=recent-lookup]").count() == 2
    assert both_sizes(person, "02-masked") == 390

    page.click("[data-testid=reveal-form] button[type=submit]")
    expect(page.locator("[data-testid=answer-full]")).to_contain_text(answer.full_name)
    assert both_sizes(person, "03-revealed") == 390
    record = LookupRecord.objects.get(decision="allow")
    assert list(SecurityEvent.objects.filter(kind=EventKind.LOOKUP_REVEALED).values_list("details", flat=True)) == [
        {"lookup": record.pk, "dossier_code": DOSSIER}]

    reader = signed_in(journey("lookup-log"), inspector)
    reader.context.on("request", lambda request: requested.append(request.url))
    reader.page.goto(reader.url("/"))
    reader.page.click("nav.mainnav a:has-text('Nhật ký tra cứu')")
    assert reader.page.locator("[data-testid=log-row]").count() == 2
    reader.page.fill("input[name=citizen_id]", CITIZEN)
    reader.page.click("[data-testid=citizen-form] > button.button")
    expect(reader.page.locator("[data-testid=citizen-filter]")).to_contain_text("075*******34")
    assert reader.page.locator("[data-testid=log-row]").count() == 1
    assert reader.page.input_value("input[name=citizen_id]") == ""
    assert both_sizes(reader, "04-log") == 390
    reader.page.click("[data-testid=citizen-filter] a")  # drop the citizen filter, keep the others
    assert reader.page.locator("[data-testid=log-row]").count() == 2

    assert [url for url in requested if CITIZEN in url or "272123456" in url] == []
    person.assert_clean()
    reader.assert_clean()
