"""The containment forms' choice to deactivate the accounts in the connected systems that keep their own
(headless Chromium): the checkbox on the unit's containment page and on the incident page, its step shown
with its own result after containing. Desktop and 390 px screenshots under artifacts/
(containment-form-*.png); no page scrolls sideways at 390 px."""
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Unit
from incidents.models import Containment
from incidents.services.records import incident_report
from tests.incidents.helpers import deadline_rules_seeded

from .test_lookup_page import both_sizes
from .test_turnover_journey import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LABEL = "Đồng thời vô hiệu hóa tài khoản trên các hệ thống kết nối tự quản lý tài khoản (SCIM, thủ công)"


def test_the_containment_form_offers_and_records_the_deactivation_in_the_connected_systems(
        journey, it_admin, officer_bien_hoa, units):
    deadline_rules_seeded()
    incident = incident_report(actor=officer_bien_hoa, title="Nghi lộ mật khẩu", category="password_leak",
                               discovered_at=timezone.now())
    admin = signed_in(journey("containment-form"), it_admin)
    page = admin.page
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto(admin.url(f"/incidents/{incident.pk}/"))
    expect(page.locator("[data-testid=containment-form]")).to_contain_text(LABEL)
    assert both_sizes(admin, "incident") <= 390

    page.goto(admin.url(f"/incidents/units/{units['tan_phong'].pk}/"))
    form = page.locator("[data-testid=unit-containment]")
    expect(form).to_contain_text(LABEL)
    form.locator("input[name=reason]").fill("Lộ mật khẩu tại bộ phận một cửa")
    form.get_by_label(LABEL).check()
    assert both_sizes(admin, "unit") <= 390
    page.click("[data-testid=contain-unit]")

    expect(page.locator(".messages")).to_contain_text("Tài khoản trên các hệ thống kết nối: Đã chuyển 0 yêu cầu")
    expect(form.locator(".steps")).to_contain_text("Tài khoản trên các hệ thống kết nối")
    assert both_sizes(admin, "unit-contained") <= 390
    assert Unit.objects.get(pk=units["tan_phong"].pk).contained_targets_deactivated is True
    assert Containment.objects.get().targets_deactivated is True
    admin.assert_clean()
