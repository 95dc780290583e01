"""Flagged lookups in headless Chromium: a unit leader opens "Tra cứu bất thường" from the menu, filters
by kind, opens a flag and downloads the officer's lookup history as CSV (citizen IDs masked; the export
recorded). The page does not scroll sideways at 390 px. Screenshots under artifacts/ (anomalies-*.png)."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from audit.choices import EventKind
from audit.models import SecurityEvent
from lookups.anomalies import anomaly_flags_write
from lookups.choices import Decision
from lookups.models import LookupRecord
from lookups.services import citizen_id_hash
from lookups.validation import citizen_id_masked

from .test_lookup_page import both_sizes
from .test_turnover_journey import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _flagged(officer, *, at, citizen):
    record = LookupRecord.objects.create(
        decided_at=at, officer=officer, officer_username=officer.username, unit_id_then=officer.unit_id,
        unit_code_then=officer.unit.code, dossier_code="000.00.31.H19-261201-0007", purpose="Cấp bản sao",
        decision=Decision.ALLOW, citizen_id_hash=citizen_id_hash(citizen), citizen_id_masked=citizen_id_masked(citizen))
    return anomaly_flags_write(record=record, officer=officer, quota=None)


def test_a_leader_reviews_a_flagged_lookup_and_exports_the_officers_history(journey, leader_bien_hoa,
                                                                             officer_bien_hoa):
    _flagged(officer_bien_hoa, at=datetime(2026, 12, 1, 21, 40, tzinfo=VN), citizen="075095001234")
    _flagged(officer_bien_hoa, at=datetime(2026, 12, 1, 21, 45, tzinfo=VN), citizen="001095001299")
    person = signed_in(journey("anomalies"), leader_bien_hoa)
    page = person.page
    page.goto(person.url("/"))
    page.click("nav.mainnav a:has-text('Tra cứu bất thường')")
    expect(page.locator("h1")).to_have_text("Tra cứu bất thường")
    expect(page.locator("[data-testid=anomaly-row]")).to_have_count(3)
    assert both_sizes(person, "list") <= 390

    page.select_option("select[name=kind]", label="Cấp xã tra cứu công dân đăng ký khai sinh ở tỉnh khác")
    page.click("[data-testid=anomaly-filters] button[type=submit]")
    expect(page.locator("[data-testid=anomaly-row]")).to_have_count(1)
    page.click("[data-testid=anomaly-row] a")
    expect(page.locator("[data-testid=anomaly]")).to_contain_text("Đăng ký khai sinh tại Hà Nội (mã 001).")
    expect(page.locator("[data-testid=anomaly-lookup]")).to_contain_text("001*******99")
    assert both_sizes(person, "detail") <= 390

    page.fill("[data-testid=history-export] input[name=date_from]", "01/12/2026")
    with page.expect_download() as download:
        page.click("[data-testid=history-export] button:has-text('Tải tệp CSV')")
    content = open(download.value.path(), encoding="utf-8-sig").read()
    assert content.count("\n") == 3  # the headers and the two lookups
    assert "001*******99" in content and "001095001299" not in content
    event = SecurityEvent.objects.get(kind=EventKind.LOOKUP_HISTORY_EXPORTED)
    assert (event.actor_id, event.target_id, event.details["date_from"]) == (
        leader_bien_hoa.pk, officer_bien_hoa.pk, "2026-12-01")
    person.assert_clean()
