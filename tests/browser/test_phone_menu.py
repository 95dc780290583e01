"""On a 390 px phone the menu folds behind one button (a static script: no inline JavaScript under the
Content-Security-Policy), and the failing-accounts table fits the screen."""
import pytest
from django.utils import timezone

from compliance.services import snapshot_take
from portal.actors import SystemActor
from tests.factories import UserFactory

from .test_turnover_journey import PHONE, signed_in

pytestmark = [pytest.mark.browser]


@pytest.mark.django_db(transaction=True)
def test_the_menu_folds_behind_a_button_and_the_failing_accounts_fit(journey, units, leader_bien_hoa):
    from datetime import timedelta

    UserFactory(unit=units["tan_phong"], username="cb.quahan.dienthoai", full_name="Đỗ Văn Quá Hạn",
                password_changed_at=timezone.now() - timedelta(days=120))
    snapshot_take(actor=SystemActor("compliance_job"))
    leader = signed_in(journey("phone-menu"), leader_bien_hoa)
    page = leader.page
    page.set_viewport_size(PHONE)
    page.goto(leader.url(f"/compliance/units/{units['bien_hoa'].pk}/accounts/"))
    button = page.locator("button.menu-toggle")
    assert button.is_visible() and button.get_attribute("aria-expanded") == "false"
    assert page.locator("nav.mainnav").is_hidden()
    leader.screenshot("01-folded")
    button.click()
    assert page.locator("nav.mainnav").is_visible() and button.get_attribute("aria-expanded") == "true"
    leader.screenshot("02-open")
    button.click()
    assert page.locator("nav.mainnav").is_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") == 390
    page.set_viewport_size({"width": 1280, "height": 860})
    assert not button.is_visible() and page.locator("nav.mainnav").is_visible()
    leader.assert_clean()
