"""Roster reconciliation end to end, in headless Chromium: a unit leader opens the page from the menu,
uploads the ward's roster in which an officer has retired, sees that officer among those whose
account still works, chooses the line and lands on the turnover request form with a “disable” line
filled in (the letter and its PDF still to add). Screenshots at desktop and phone size under artifacts/."""
import pytest
from playwright.sync_api import expect

from accounts.choices import Role
from tests.factories import UserFactory

from .test_first_login_journey import submit
from .test_turnover_journey import both_sizes, signed_in

pytestmark = [pytest.mark.browser]
ROSTER = ("Họ và tên,Mã đơn vị,Chức vụ,Trạng thái,Email,Điện thoại\n"
          "Phạm Thị Hương,000.01.31.H19,Chuyên viên,Đang công tác,cb.tanphong@dongnai.gov.vn,\n"
          "Lê Văn Tâm,000.01.31.H19,Công chức địa chính,Nghỉ hưu,tam@dongnai.gov.vn,\n"
          "Đỗ Thị Mới,000.01.31.H19,Công chức tư pháp,Đang công tác,moi@dongnai.gov.vn,0912 345 678\n")


@pytest.mark.django_db(transaction=True)
def test_a_leader_turns_a_departed_officer_on_the_roster_into_a_prefilled_request(journey, units, leader_bien_hoa,
                                                                                 officer_bien_hoa):
    departed = UserFactory(username="cb.tam", full_name="Lê Văn Tâm", unit=units["tan_phong"],
                           email="tam@dongnai.gov.vn", role=Role.OFFICER)
    leader = signed_in(journey("review"), leader_bien_hoa)
    page = leader.page
    assert page.goto(leader.url("/")).status == 200
    page.click("nav.mainnav a:has-text('Đối chiếu danh sách cán bộ')")
    expect(page.locator("h1")).to_have_text("Đối chiếu danh sách cán bộ")
    both_sizes(leader, "01-roster-upload")

    page.set_input_files("input[name=roster]", files=[{"name": "ds-tan-phong.csv", "mimeType": "text/csv",
                                                         "buffer": ROSTER.encode()}])
    assert submit(page).status == 200
    left = page.locator("[data-testid=roster-left]")
    expect(left).to_contain_text("Lê Văn Tâm")
    expect(left).to_contain_text("Nghỉ hưu")
    expect(page.locator("[data-testid=roster-without-account]")).to_contain_text("Đỗ Thị Mới")
    page.check("input[name=left][aria-label='Lê Văn Tâm']")
    both_sizes(leader, "02-roster-findings")

    assert submit(page).status == 200
    expect(page.locator("h1")).to_have_text("Lập đề nghị thay đổi cán bộ")
    expect(page.locator(".msg.info")).to_contain_text("Các dòng lấy từ kết quả đối chiếu danh sách cán bộ")
    expect(page.locator("select[name=lines-0-action]")).to_have_value("disable")
    expect(page.locator("select[name=lines-0-account]")).to_have_value(str(departed.pk))
    expect(page.locator("select[name=lines-0-departure_reason]")).to_have_value("retired")
    expect(page.locator("select[name=lines-1-action]")).to_have_value("")
    expect(page.locator("select[name=unit]")).to_have_value(str(units["bien_hoa"].pk))
    expect(page.locator("input[name=letter_number]")).to_have_value("")  # the leader adds the letter
    both_sizes(leader, "03-prefilled-request")
    leader.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_a_leader_certifies_on_the_recertification_page(journey, units, it_admin, leader_bien_hoa, officer_bien_hoa):
    from accounts.models import RecertificationItem
    from accounts.services.recertification import recertification_campaign_start

    second = UserFactory(username="cb.lan", full_name="Ngô Thị Lan", unit=units["tan_phong"])
    campaign = recertification_campaign_start(actor=it_admin, name="Đợt 1/2027")
    leader = signed_in(journey("recertification"), leader_bien_hoa)
    page = leader.page
    assert page.goto(leader.url("/")).status == 200
    page.click("nav.mainnav a:has-text('Rà soát tài khoản')")
    expect(page.locator("[data-testid=left]")).to_have_text("2")
    both_sizes(leader, "01-items")
    row = page.locator("[data-testid='item-cb.lan']")
    row.locator("input[value=remove]").check()
    row.locator("input[name=note]").fill("Đã chuyển công tác")
    with page.expect_navigation():
        row.locator("button").click()
    expect(page.locator("[data-testid=left]")).to_have_text("1")
    page.check("input[name=items][aria-label='cb.tanphong']")
    with page.expect_navigation():
        page.click("#bulk-keep button")
    expect(page.locator(".msg.success")).to_have_text("Đã xác nhận 1 tài khoản vẫn cần, giữ nguyên.")
    assert RecertificationItem.objects.get(campaign=campaign, account=second).decision == "remove"
    both_sizes(leader, "02-decided")
    with page.expect_navigation():
        page.click("button:has-text('Lập đề nghị thay đổi cán bộ cho 1 tài khoản cần thu hồi')")
    expect(page.locator("select[name=lines-0-account]")).to_have_value(str(second.pk))

    admin = signed_in(journey("dormancy"), it_admin)
    assert admin.page.goto(admin.url(f"/admin/accounts/{second.pk}/")).status == 200
    expect(admin.page.locator("[data-testid=dormancy]")).to_contain_text("Hoạt động gần nhất")
    both_sizes(admin, "01-account-card")
    leader.assert_clean()
    admin.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_a_leader_chooses_every_account_of_a_recertification_at_once(journey, units, it_admin, leader_bien_hoa,
                                                                    officer_bien_hoa):
    from accounts.models import RecertificationItem
    from accounts.services import recertification as recert

    for n in range(3):
        UserFactory(username=f"cb.rasoat{n}", unit=units["tan_phong"], role=Role.OFFICER)
    campaign = recert.recertification_campaign_start(actor=it_admin, name="Đợt 1/2027")
    leader = signed_in(journey("recertification"), leader_bien_hoa)
    page = leader.page
    page.goto(leader.url("/admin/accounts/recertification/"))
    boxes = page.locator("input[name=items]")
    assert boxes.count() == 4
    page.check("input[data-select-all=items]")
    assert [boxes.nth(n).is_checked() for n in range(4)] == [True] * 4
    boxes.nth(0).uncheck()
    assert page.eval_on_selector("input[data-select-all=items]", "e => e.indeterminate") is True
    page.check("input[data-select-all=items]")
    both_sizes(leader, "01-all-chosen")
    page.click("#bulk-keep button[type=submit]")
    page.wait_for_load_state()
    assert RecertificationItem.objects.filter(campaign=campaign, decision="keep").count() == 4
    leader.assert_clean()
