"""An incident from report to close in headless Chromium: an officer of a Biên Hòa ward reports a
suspected password leak; the IT admin triages it, contains the ward (the officer's open page goes to
the sign-in page at its next request), lifts the containment, records the lessons and closes it. Desktop
and 390 px screenshots under artifacts/ (incident-*.png); no page scrolls sideways at 390 px."""
import pytest
from playwright.sync_api import expect

from incidents.models import Containment, Incident
from tests.incidents.helpers import deadline_rules_seeded

from .test_lookup_page import both_sizes
from .test_turnover_journey import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_report_triage_contain_lift_close(journey, it_admin, officer_bien_hoa, units):
    deadline_rules_seeded()
    officer = signed_in(journey("incident-officer"), officer_bien_hoa)
    page = officer.page
    page.goto(officer.url("/"))
    page.click("nav.mainnav a:has-text('Sự cố')")
    page.click("[data-testid=report-incident]")
    page.fill("input[name=title]", "Nghi lộ mật khẩu tài khoản một cửa")
    page.select_option("select[name=category]", "password_leak")
    page.fill("textarea[name=units]", "000.01.31.H19")
    page.fill("textarea[name=description]", "Mật khẩu được ghi trên giấy dán ở màn hình máy tính bộ phận một cửa.")
    assert both_sizes(officer, "report") <= 390
    page.click("[data-testid=incident-report-form] button[type=submit]")
    expect(page.locator("[data-testid=incident-state]")).to_have_text("Mới báo cáo")
    incident = Incident.objects.get()

    admin = signed_in(journey("incident-admin"), it_admin)
    admin_page = admin.page
    admin_page.on("dialog", lambda dialog: dialog.accept())
    admin_page.goto(admin.url(f"/incidents/{incident.pk}/"))
    admin_page.select_option("select[name=severity]", "high")
    admin_page.click("[data-testid=triage] button[type=submit]")
    expect(admin_page.locator("[data-testid=incident-state]")).to_have_text("Đã phân loại")

    admin_page.fill("[data-testid=containment-form] input[name=target]", "000.01.31.H19")
    admin_page.fill("[data-testid=containment-form] input[name=reason]", "Lộ mật khẩu tại bộ phận một cửa")
    admin_page.click("[data-testid=contain]")
    expect(admin_page.locator("[data-testid=incident-state]")).to_have_text("Đã khoanh vùng")
    expect(admin_page.locator(".messages")).to_contain_text("Kết thúc mọi phiên đăng nhập: Đã kết thúc 1 phiên đăng nhập")
    expect(admin_page.locator("[data-testid=containments]")).to_contain_text("Đang hiệu lực")
    assert both_sizes(admin, "contained") <= 390

    # The officer's next request: the sign-in page.
    page.goto(officer.url(f"/incidents/{incident.pk}/"))
    expect(page).to_have_url(officer.url("/accounts/login/") + f"?next=/incidents/{incident.pk}/")

    admin_page.goto(admin.url("/"))
    expect(admin_page.locator("[data-testid=contained-banner]")).to_contain_text("UBND phường Tân Phong")
    admin.screenshot("dashboard-banner-desktop")

    admin_page.goto(admin.url(f"/incidents/{incident.pk}/"))
    containment = Containment.objects.get()
    admin_page.fill("[data-testid=containments] input[name=reason]", "Đã thu hồi giấy, cán bộ sẽ đổi mật khẩu")
    admin_page.click(f"[data-testid=lift-{containment.pk}]")
    expect(admin_page.locator("[data-testid=unit-containment]")).to_contain_text("Không bị khoanh vùng.")

    admin_page.goto(admin.url(f"/incidents/{incident.pk}/"))
    admin_page.click("[data-testid=to-resolved]")
    expect(admin_page.locator("[data-testid=incident-state]")).to_have_text("Đã xử lý xong")
    admin_page.click("a:has-text('Bổ sung hồ sơ')")
    admin_page.fill("textarea[name=lessons_learned]", "Không ghi mật khẩu ra giấy; kiểm tra bàn làm việc hằng tháng.")
    admin_page.fill("textarea[name=actions_taken]", "Khoanh vùng phường, buộc đổi mật khẩu, gỡ khoanh vùng.")
    admin_page.click("button:has-text('Lưu')")
    admin_page.click("[data-testid=to-closed]")
    expect(admin_page.locator("[data-testid=incident-state]")).to_have_text("Đã kết thúc")
    expect(admin_page.locator("[data-testid=timeline]")).to_contain_text("Đã gỡ khoanh vùng UBND phường Tân Phong")
    assert both_sizes(admin, "closed") <= 390
    admin_page.goto(admin.url(f"/incidents/{incident.pk}/print/"))
    expect(admin_page.locator("h1")).to_have_text("BÁO CÁO")
    both_sizes(admin, "print")
    officer.assert_clean(allowed=())
    admin.assert_clean()
