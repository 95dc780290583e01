"""Letter point 2 end to end, in headless Chromium: a unit leader files a turnover request with the
scanned letter, is told in Vietnamese what to fix, submits it; an IT admin accepts it and it runs at
once; the departed officer's open session (a second browser context) ends — the next page is the login
page. Screenshots of the list, the form with errors, the detail and the printed records, at desktop and
phone size, are saved under artifacts/."""

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from accounts.choices import Role, TurnoverState
from accounts.models import TurnoverRequest
from accounts.services import account_create
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import login as client_login
from tests.helpers import pdf_bytes

from .test_first_login_journey import login, submit

pytestmark = [pytest.mark.browser]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


def signed_in(journey, user):
    """A browser context holding a session of the user (as after the sign-in, second factor included)."""
    client = client_login(Client(), user)
    journey.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": journey.base_url,
                                  "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])
    return journey


def both_sizes(journey, name, page=None):
    """Desktop and phone screenshots, each size judged by axe-core (no serious or critical violation)."""
    page = page or journey.page
    journey.screenshot(f"{name}-desktop", page)
    journey.assert_accessible(f"{name}-desktop", page)
    page.set_viewport_size(PHONE)
    journey.screenshot(f"{name}-390", page)
    journey.assert_accessible(f"{name}-390", page)
    page.set_viewport_size(DESKTOP)


@pytest.mark.django_db(transaction=True)
def test_a_leader_files_and_the_it_center_executes_ending_the_officers_session(journey, units, it_admin,
                                                                              leader_bien_hoa, officer_bien_hoa,
                                                                              settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    officer = signed_in(journey("turnover-officer"), officer_bien_hoa)
    assert officer.page.goto(officer.url("/")).status == 200
    expect(officer.page).to_have_url(officer.url("/"))

    leader = journey("turnover")
    page = leader.page
    assert login(leader, leader_bien_hoa.username, DEFAULT_PASSWORD, "01-leader-login").status == 200
    page.click("nav.mainnav a:has-text('Đề nghị thay đổi cán bộ')")
    expect(page.locator("h1")).to_have_text("Đề nghị thay đổi cán bộ")
    page.click("a:has-text('Lập đề nghị')")

    today = timezone.localdate()
    # The unit picker starts on the leader's own unit (Biên Hòa), as most requests are the filer's own.
    page.fill("input[name=letter_number]", "125/UBND-VP")
    page.fill("input[name=letter_date]", today.strftime("%d/%m/%Y"))
    page.fill("input[name=issuing_unit_name]", "UBND thành phố Biên Hòa")
    page.fill("input[name=signer_position]", "Chủ tịch")
    page.fill("input[name=effective_date]", (today - timezone.timedelta(days=1)).strftime("%d/%m/%Y"))
    page.set_input_files("input[name=attachment]", files=[{"name": "cv-125.pdf", "mimeType": "application/pdf",
                                                             "buffer": pdf_bytes()}])
    page.select_option("select[name=lines-0-action]", value="disable")
    # The account: typed into its search-as-you-type picker, chosen with the keyboard.
    picker = page.locator("#id_lines-0-account").locator("xpath=..").get_by_role("combobox")
    picker.press_sequentially(officer_bien_hoa.username, delay=20)
    page.get_by_role("listbox").get_by_role("option").first.wait_for()
    picker.press("ArrowDown")
    picker.press("Enter")
    assert page.locator("select[name=lines-0-account]").input_value() == str(officer_bien_hoa.pk)
    page.select_option("select[name=lines-0-departure_reason]", value="left")
    assert submit(page).status == 200
    errors = page.locator(".field.has-error .error")
    expect(errors).to_have_count(2)
    assert errors.all_inner_texts() == ["Thông tin này là bắt buộc.", "Ngày hiệu lực không được trước ngày công văn."]
    assert TurnoverRequest.objects.count() == 0 and list(tmp_path.rglob("*.pdf")) == []
    both_sizes(leader, "02-form-with-errors")

    page.fill("input[name=signer_name]", "Trần Văn Bình")
    page.fill("input[name=effective_date]", today.strftime("%d/%m/%Y"))
    page.set_input_files("input[name=attachment]", files=[{"name": "cv-125.pdf", "mimeType": "application/pdf",
                                                             "buffer": pdf_bytes()}])
    assert submit(page).status == 200
    request = TurnoverRequest.objects.get()
    expect(page).to_have_url(leader.url(f"/admin/accounts/turnover/{request.pk}/"))
    page.click("button:has-text('Gửi Trung tâm CNTT')")
    expect(page.locator(".messages .msg.success")).to_have_text("Đã gửi đề nghị đến Trung tâm CNTT.")
    both_sizes(leader, "03-detail-submitted")

    admin = signed_in(journey("turnover-admin"), it_admin)
    admin_page = admin.page
    admin_page.goto(admin.url("/admin/accounts/turnover/"))
    both_sizes(admin, "04-list", admin_page)
    admin_page.click(f"a[href='/admin/accounts/turnover/{request.pk}/']")
    admin_page.on("dialog", lambda dialog: dialog.accept())
    admin_page.click("button:has-text('Tiếp nhận')")
    expect(admin_page.locator(".messages .msg.success")).to_have_text("Đã thực hiện đề nghị.")
    # No connected system concerned: complete at once (docs/federation.md, "Turnover measured to the end").
    expect(admin_page.locator("[data-testid=state]")).to_have_text("Đã hoàn tất trên mọi hệ thống kết nối")
    request.refresh_from_db()
    assert request.state == TurnoverState.COMPLETE
    both_sizes(admin, "05-detail-executed", admin_page)

    # The departed officer's open session has ended: the next page load is the login page.
    officer.page.reload()
    expect(officer.page).to_have_url(officer.url("/accounts/login/?next=/"))

    with admin.context.expect_page() as opened:
        admin_page.click(f"a[href='/admin/accounts/turnover/{request.pk}/record/']")
    record = admin.watch(opened.value)
    record.wait_for_load_state()
    expect(record.locator("h1")).to_have_text("BIÊN BẢN")
    request.refresh_from_db()
    expect(record.locator(".number")).to_have_text(f"Số: {request.record_number}")
    font = record.eval_on_selector("body", "e => getComputedStyle(e).fontFamily")
    assert font == '"Times New Roman", "DejaVu Serif", "Noto Serif", serif'
    both_sizes(admin, "06-record", record)

    for journey_ in (officer, leader, admin):
        journey_.assert_clean(allowed=[r"^400 POST .*/admin/accounts/turnover/new/$"])


@pytest.mark.django_db(transaction=True)
def test_the_handover_record_prints_in_the_same_document_form(journey, units, it_admin):
    account, _password, record = account_create(actor=it_admin, username="cb.hoa", full_name="Trần Thị Hoa",
                                                unit=units["tan_phong"], role=Role.OFFICER)
    admin = signed_in(journey("handover-record"), it_admin)
    admin.page.goto(admin.url(f"/admin/accounts/handover/{record.pk}/"))
    expect(admin.page.locator(".issuer")).to_have_text("TRUNG TÂM CÔNG NGHỆ THÔNG TIN VÀ TRUYỀN THÔNG")
    expect(admin.page.locator(".doc-subject")).to_contain_text("Bàn giao tài khoản")
    both_sizes(admin, "record")
    admin.assert_clean()
