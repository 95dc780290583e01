"""The rest of the letter end to end, in headless Chromium, as each person does it: the IT Center
publishes a directive (told in Vietnamese what to fix first), an officer acknowledges it, their leader
records a colleague's acknowledgement and the unit's measures (point 1); a leader imports the unit's
computers, fixes the file the portal reported line by line, and reads the register (point 4); an
inspector records an inspection and a finding, the leader answers the fix, the inspector closes it and
prints the inspection record, and the dashboard shows the five points (point 5). Screenshots of each
page at desktop and phone (390 px) size are saved under artifacts/."""
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from letter.models import Acknowledgement, Directive, Endpoint, Inspection, RequiredFix
from tests.factories import UserFactory
from tests.helpers import pdf_bytes

from .test_first_login_journey import submit
from .test_turnover_journey import both_sizes, signed_in

pytestmark = [pytest.mark.browser]


def choose_unit(page, label, typed):
    # The picker's own text box (static/js/unit-picker.js), not the <select> it replaces once its script
    # ran: a <select> is a combobox too, and a click on it before the swap lands on a hidden field.
    combobox = page.locator("input.unit-picker-input").and_(page.get_by_role("combobox", name=label))
    combobox.click()
    combobox.press_sequentially(typed, delay=20)
    page.get_by_role("listbox").get_by_role("option").first.click()


@pytest.mark.django_db(transaction=True)
def test_a_directive_is_published_acknowledged_and_recorded_on_behalf(journey, units, it_admin, leader_bien_hoa,
                                                                      officer_bien_hoa, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    colleague = UserFactory(username="cb.tanphong2", full_name="Đỗ Văn Lâm", role="officer", unit=units["tan_phong"])
    today = timezone.localdate()
    admin = signed_in(journey("letter-directive-admin"), it_admin)
    page = admin.page
    page.goto(admin.url("/letter/"))
    page.click("a:has-text('Tất cả văn bản chỉ đạo')")
    page.click("a:has-text('Ban hành văn bản chỉ đạo')")
    page.fill("input[name=number]", "5722/TCTTKĐA")
    page.fill("input[name=issued_on]", "10/8/2023x")
    page.fill("input[name=issuer]", "Tổ công tác triển khai Đề án 06")
    page.fill("input[name=signer]", "Tổ trưởng Tổ công tác")
    page.fill("input[name=title]", "Quy định kết nối, chia sẻ, khai thác CSDL quốc gia về dân cư")
    page.fill("textarea[name=summary]", "Cán bộ chỉ tra cứu khi có hồ sơ; không chia sẻ tài khoản, mật khẩu.")
    page.select_option("select[name=audience_units]", value=str(units["bien_hoa"].pk))
    page.fill("input[name=due_date]", (today + timedelta(days=14)).strftime("%d/%m/%Y"))
    page.set_input_files("input[name=attachment]", files=[{"name": "5722.pdf", "mimeType": "application/pdf",
                                                             "buffer": pdf_bytes()}])
    assert submit(page).status == 200
    expect(page.locator(".field.has-error .error")).to_have_text(["Nhập ngày theo dạng dd/mm/yyyy, ví dụ 31/01/2024."])
    assert Directive.objects.count() == 0
    both_sizes(admin, "01-form-with-errors")
    page.fill("input[name=issued_on]", "10/08/2023")
    page.set_input_files("input[name=attachment]", files=[{"name": "5722.pdf", "mimeType": "application/pdf",
                                                             "buffer": pdf_bytes()}])
    assert submit(page).status == 200
    directive = Directive.objects.get()
    expect(page.locator(".messages .msg.success")).to_have_text("Văn bản chỉ đạo đã được gửi đến các đơn vị, cán bộ nhận.")
    both_sizes(admin, "02-published")

    officer = signed_in(journey("letter-directive-officer"), officer_bien_hoa)
    officer.page.goto(officer.url("/letter/"))
    expect(officer.page.locator("[data-testid=letter-directives]")).to_contain_text("Có 1 văn bản chỉ đạo đang chờ bạn xác nhận.")
    both_sizes(officer, "03-officer-waiting")
    officer.page.click("a:has-text('5722/TCTTKĐA')")
    officer.page.click("button:has-text('Tôi đã đọc và cam kết thực hiện')")
    expect(officer.page.locator(".messages .msg.success")).to_have_text("Cảm ơn bạn: xác nhận của bạn đã được ghi nhận.")
    both_sizes(officer, "04-officer-acknowledged")

    leader = signed_in(journey("letter-directive-leader"), leader_bien_hoa)
    leader.page.goto(leader.url(f"/letter/directives/{directive.pk}/"))
    leader.page.fill(f"#note-{colleague.pk}", "Đã quán triệt tại cuộc họp giao ban ngày 05/12")
    leader.page.click(f"form:has(#note-{colleague.pk}) button:has-text('Ghi nhận')")
    expect(leader.page.locator(".messages .msg.success")).to_have_text("Đã ghi nhận xác nhận thay cho Đỗ Văn Lâm.")
    leader.page.fill("textarea[name=statement]", "Đã tổ chức họp quán triệt toàn thể cán bộ bộ phận một cửa.")
    leader.page.click("button:has-text('Lưu biện pháp')")
    expect(leader.page.locator("[data-testid=directive-measures]")).to_contain_text("bộ phận một cửa")
    both_sizes(leader, "05-leader-audience")
    assert Acknowledgement.objects.count() == 2
    for person in (admin, officer, leader):
        person.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_a_leader_imports_the_register_and_fixes_the_file(journey, units, leader_bien_hoa, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    day = (timezone.localdate() - timedelta(days=2)).strftime("%d/%m/%Y")
    header = ("Mã tài sản,Mã đơn vị,Tên máy,Người sử dụng,Hệ điều hành,Phiên bản hệ điều hành,Cập nhật,"
              "Phần mềm phòng chống mã độc,Phiên bản phòng chống mã độc,Ngày cập nhật mẫu,Quản lý tập trung,"
              "Agent giám sát,Chia sẻ thông tin,Ngày kiểm tra")
    good = f"TP-001,000.01.31.H19,PC-MOTCUA-01,Phạm Thị Hương,Windows,11,đã cập nhật,BKAV Pro,5.1,{day},có,có,có,{day}"
    bad = [good, f"TP-001,000.01.31.H19,PC-2,An,Windows,10,đã cập nhật,BKAV,5,{day},có,có,có,{day}",
           f"TP-003,999.99.99.H19,PC-3,Bình,Windows,10,đã cập nhật,BKAV,5,2026-31-12,có,có,có,{day}"]
    leader = signed_in(journey("letter-endpoints"), leader_bien_hoa)
    page = leader.page
    page.goto(leader.url("/letter/endpoints/"))
    page.click("a:has-text('Nhập từ tệp')")
    page.set_input_files("input[name=register]", files=[{"name": "may-tinh.csv", "mimeType": "text/csv",
                                                           "buffer": "\n".join([header, *bad]).encode()}])
    assert submit(page).status == 200
    expect(page.locator("[data-testid=import-problems] li")).to_have_text([
        "Dòng 3: Mã tài sản TP-001 trùng với dòng 2.",
        "Dòng 4: Ngày cập nhật mẫu nhận diện “2026-31-12” không phải ngày viết theo dạng dd/mm/yyyy. Mã định danh đơn vị "
        "999.99.99.H19 không tồn tại (hoặc nằm ngoài phạm vi của bạn)."])
    assert Endpoint.objects.count() == 0
    both_sizes(leader, "01-import-problems")
    page.click("a:has-text('Nhập tệp khác')")
    fixed = [good, "TP-002,000.01.31.H19,PC-MOTCUA-02,Lê Văn Tâm,Windows,10,chưa cập nhật,,,,không,không,không,"]
    page.set_input_files("input[name=register]", files=[{"name": "may-tinh.csv", "mimeType": "text/csv",
                                                           "buffer": "\n".join([header, *fixed]).encode()}])
    submit(page)
    expect(page.locator("[data-testid=import-done]")).to_contain_text("Đã nhập: thêm 2 máy tính, cập nhật 0 máy tính.")
    page.click("a:has-text('Mở sổ đăng ký')")
    expect(page.locator("[data-testid=endpoint-figures]")).to_contain_text("2 máy tính · 1 máy bị tính là chưa đạt")
    both_sizes(leader, "02-register")
    leader.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_an_inspection_is_recorded_answered_closed_and_printed(journey, units, inspector, leader_bien_hoa, settings,
                                                                tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    today = timezone.localdate()
    person = signed_in(journey("letter-inspection"), inspector)
    page = person.page
    page.goto(person.url("/letter/inspections/"))
    page.click("a:has-text('Ghi nhận cuộc kiểm tra')")
    choose_unit(page, "Đơn vị được kiểm tra", "bien hoa")
    page.fill("input[name=decision_number]", "15/QĐ-TTR")
    page.fill("input[name=inspected_on]", today.strftime("%d/%m/%Y"))
    page.fill("textarea[name=team]", "Trần Thị Mai, Thanh tra viên\nNguyễn Văn Bình, Chuyên viên")
    page.fill("textarea[name=scope]", "Quản trị tài khoản; cài đặt phòng, chống mã độc; chia sẻ thông tin giám sát")
    submit(page)
    inspection = Inspection.objects.get()
    page.select_option("select[name=point]", value="4")
    page.select_option("select[name=severity]", value="high")
    page.fill("textarea[name=description]", "3 máy tính bộ phận một cửa chưa cài phần mềm phòng, chống mã độc.")
    page.fill("textarea[name=fix_description]", "Cài phần mềm phòng, chống mã độc có quản lý tập trung")
    page.fill("input[name=fix_owner]", "Chánh Văn phòng HĐND-UBND")
    page.fill("input[name=fix_deadline]", (today + timedelta(days=15)).strftime("%d/%m/%Y"))
    submit(page, "[data-testid=finding-form] button[type=submit]")
    expect(page.locator(".messages .msg.success")).to_have_text("Phát hiện đã được ghi nhận.")
    both_sizes(person, "01-inspection")

    leader = signed_in(journey("letter-inspection-leader"), leader_bien_hoa)
    leader.page.goto(leader.url(f"/letter/inspections/{inspection.pk}/"))
    leader.page.fill("textarea[name=answer]", "Đã cài BKAV Pro quản lý tập trung cho 3 máy ngày 06/12.")
    leader.page.set_input_files("input[name=evidence]", files=[{"name": "anh-chup.pdf", "mimeType": "application/pdf",
                                                                  "buffer": pdf_bytes()}])
    submit(leader.page, "button:has-text('Gửi trả lời')")
    expect(leader.page.locator(".messages .msg.success")).to_have_text("Câu trả lời của bạn đã được gửi đến Thanh tra.")
    both_sizes(leader, "02-answered")

    page.reload()
    page.check("input[name=decision][value=close]")
    submit(page, "button:has-text('Quyết định')")
    expect(page.locator(".messages .msg.success")).to_have_text("Yêu cầu khắc phục đã được đóng.")
    assert RequiredFix.objects.get().state == "closed"
    page.click("a:has-text('Biên bản kiểm tra (in)')")
    expect(page.locator("h1")).to_have_text("BIÊN BẢN")
    expect(page.locator(".issuer")).to_have_text("THANH TRA SỞ")
    both_sizes(person, "03-record")

    leader.page.goto(leader.url("/"))
    expect(leader.page.locator("[data-testid=letter-points] th")).to_have_text(
        ["Điểm 1", "Điểm 2", "Điểm 3", "Điểm 4", "Điểm 5"])
    both_sizes(leader, "04-dashboard-points")
    leader.page.click("a:has-text('Bằng chứng từng điểm')")
    both_sizes(leader, "05-points-evidence")
    page.goto(person.url("/compliance/points/"))
    both_sizes(person, "06-ranking")
    for journey_ in (person, leader):
        journey_.assert_clean()
