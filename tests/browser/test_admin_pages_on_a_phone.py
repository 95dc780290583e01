"""The IT admin's pages on a phone (390 x 844): no page-level horizontal scroll; tables become one card
per row. Screenshots under artifacts/ (adminux-phone-*.png) for a person to look at."""
import pytest
from django.urls import reverse

from accounts.choices import Role
from accounts.services import account_create, account_disable
from audit.choices import EventKind
from audit.services import audit_event_record
from portal.actors import SEED_DEMO
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.helpers import totp_enrol

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_the_admin_pages_fit_a_390_px_phone(journey, units, it_admin):
    officer, _, _ = account_create(actor=SEED_DEMO, username="cb.dienthoai.rat.dai.ten", unit=units["tan_phong"],
                                   full_name="Nguyễn Thị Thanh Hương Một Cái Tên Rất Dài", role="officer",
                                   email="nguyen.thi.thanh.huong.mot.cai.ten.rat.dai@tanphong.bienhoa.dongnai.gov.vn")
    account_disable(actor=it_admin, account=officer, reason="Chuyển công tác sang UBND thành phố Long Khánh từ 01/12")
    audit_event_record(kind=EventKind.LOGIN_FAILURE, actor=SEED_DEMO, target=officer,
                       details={"reason": "one_time_password_expired"})
    UserFactory(username="cb.thu.hai", role=Role.OFFICER, unit=units["xuan_an"])
    device = totp_enrol(it_admin)
    person = journey("adminux-phone")
    page = person.page
    page.set_viewport_size(PHONE)
    page.goto(person.url(reverse("login")))
    page.fill("input[name=username]", it_admin.username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit].primary")  # not the language buttons of the top bar
    person.second_step(device)
    widths = {}
    for name, path in [("account-detail", reverse("accounts:detail", args=[officer.pk])),
                       ("account-list", reverse("accounts:list")), ("unit-list", reverse("accounts:unit_list")),
                       ("audit-log", reverse("audit:events")), ("seals", reverse("audit:seals"))]:
        page.goto(person.url(path))
        assert page.url.endswith(path), f"{name}: landed on {page.url}"
        widths[name] = page.evaluate("document.documentElement.scrollWidth")
        person.screenshot(name)
    assert widths == {"account-detail": 390, "account-list": 390, "unit-list": 390, "audit-log": 390, "seals": 390}
    person.assert_clean()
