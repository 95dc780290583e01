"""The bell in headless Chromium: an officer with a password expiring and a lockout notice sees the
unread count in the header, opens the list, marks one notice read then all, and chooses in-app only
for optional notices — at desktop width and on a 390-pixel phone. Screenshots go to artifacts/."""
import pytest
from playwright.sync_api import expect

from accounts.services import lockout_record
from notifications.models import Notice, NotificationPreference
from notifications.reminders import reminders_send
from portal.audit_context import audit_context
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.notifications.helpers import changed_for

from .test_first_login_journey import login, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_an_officer_reads_their_notifications_from_the_bell(journey, units, width):
    officer = UserFactory(username=f"cb.chuong{width}", full_name="Phạm Thị Hương", unit=units["tan_phong"],
                          password_changed_at=changed_for(days_left=3))
    reminders_send(dispatch=False)
    with audit_context(ip_address="203.0.113.7"):
        lockout_record(username=officer.username)
    trip = journey(f"notifications-{width}")
    if width == "phone":
        trip.page.set_viewport_size(PHONE)
    page = trip.page
    response = login(trip, officer.username, DEFAULT_PASSWORD, "01-login")
    assert response.status == 200
    bell = page.locator("a.bell")
    expect(bell.locator(".bell-count")).to_have_text("2")
    trip.screenshot("02-bell")
    bell.click()
    expect(page.locator("h1")).to_have_text("Thông báo")
    expect(page.locator("li.notice.unread")).to_have_count(2)
    expect(page.locator("li.notice").first).to_contain_text("Tài khoản của bạn đã bị khóa sau nhiều lần đăng nhập sai")
    expect(page.locator("li.notice").nth(1)).to_contain_text("Mật khẩu của bạn sẽ hết hạn sau 3 ngày")
    assert "Kính gửi" not in page.locator("li.notice").first.inner_text()  # the body, not the letter
    trip.screenshot("03-list")
    submit(page, "li.notice.unread >> nth=0 >> button[type=submit]")
    expect(page.locator("li.notice.unread")).to_have_count(1)
    expect(bell.locator(".bell-count")).to_have_text("1")
    submit(page, "form.inline button[type=submit].button")
    expect(page.locator("li.notice.unread")).to_have_count(0)
    expect(bell.locator(".bell-count")).to_have_count(0)
    assert Notice.objects.filter(recipient=officer, read_at__isnull=True).count() == 0
    trip.screenshot("04-all-read")
    page.click("text=Cách nhận thông báo")
    page.check("text=Chỉ trên cổng")
    submit(page)
    expect(page.locator(".msg.success")).to_have_text("Đã lưu lựa chọn của bạn.")
    assert NotificationPreference.objects.get(account=officer).optional_by_email is False
    trip.screenshot("05-preferences")
    trip.assert_clean()
