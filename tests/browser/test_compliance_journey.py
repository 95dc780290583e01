"""A leader of Biên Hòa opens the compliance dashboard (their home page), sees the score drawn by the
portal's own Chart.js with the table behind it, drills down unit → accounts → one account's history,
and exports the list as XLSX. Screenshots at desktop and phone size under artifacts/."""
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from compliance.services import snapshot_take
from portal.actors import SystemActor
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.helpers import xlsx_table

from .test_first_login_journey import login
from .test_turnover_journey import both_sizes

pytestmark = [pytest.mark.browser]


@pytest.mark.django_db(transaction=True)
def test_a_leader_drills_down_from_the_dashboard_to_an_account_and_exports(journey, units, leader_bien_hoa,
                                                                           officer_long_khanh):
    now = timezone.now()
    late = UserFactory(unit=units["tan_phong"], username="cb.quahan", full_name="Đỗ Văn Quá Hạn",
                       password_changed_at=now - timedelta(days=120))
    for _ in range(3):
        UserFactory(unit=units["tan_phong"])
    snapshot_take(actor=SystemActor("compliance_job"), now=now - timedelta(days=1))
    snapshot_take(actor=SystemActor("compliance_job"), now=now)

    leader = journey("compliance")
    page = leader.page
    assert login(leader, leader_bien_hoa.username, DEFAULT_PASSWORD, "01-login").status == 200
    expect(page.locator("h1")).to_contain_text("Bảng theo dõi tuân thủ: UBND thành phố Biên Hòa")
    expect(page.locator(".score-value")).to_have_text("80,0%")  # 4 of 5 active accounts comply
    page.wait_for_function("() => window.Chart && Object.keys(window.Chart.instances).length === 2")
    assert "Xuân An" not in page.content()
    both_sizes(leader, "02-dashboard")

    page.click("table.ranking a:has-text('UBND phường Tân Phong')")
    expect(page.locator("h1")).to_contain_text("UBND phường Tân Phong")
    page.click("a:has-text('Mật khẩu quá thời hạn sử dụng tối đa')")
    expect(page.locator("h1")).to_contain_text("Tài khoản chưa tuân thủ")
    expect(page.locator("table.stack tbody tr")).to_have_count(1)
    both_sizes(leader, "03-accounts")

    with page.expect_download() as download_info:
        page.click("a:has-text('XLSX')")
    _sheet, rows = xlsx_table(open(download_info.value.path(), "rb").read())
    assert [row[0] for row in rows[1:]] == ["cb.quahan"]

    page.click("a:has-text('cb.quahan')")
    expect(page.locator("h1")).to_contain_text("Đỗ Văn Quá Hạn")
    expect(page.locator("tr:has-text('Mật khẩu được đổi trong thời hạn sử dụng tối đa') .tag")).to_have_text("Chưa tuân thủ")
    both_sizes(leader, "04-account")
    assert late.pk
    leader.assert_clean()
