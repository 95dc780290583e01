"""The demo's first directive is the letter itself (docs/mandate.md): published to every officer and
leader of the province, so that a trial shows point 1 at work. Idempotent: made once."""
from datetime import UTC, date, datetime, timedelta

from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.choices import Role
from accounts.models import Unit
from portal.actors import SEED_DEMO
from portal.pdf import FONTS

from .models import Directive
from .services import directive_publish

# The copy of the letter the project holds leaves its number and day blank ("Số: /STTTT-CĐS", "ngày
# tháng năm 2024"): the demo writes 000 and 1 February 2024, the day after the review it cites (31/1/2024).
LETTER_NUMBER = "000/STTTT-CĐS"
LETTER_DATE = date(2024, 2, 1)
LETTER_TITLE = ("Thực hiện nghiêm các biện pháp bảo mật tài khoản người dùng trên Hệ thống thông tin giải quyết "
                "thủ tục hành chính tỉnh")
LETTER_SUMMARY = (
    "1. Phổ biến, quán triệt lại văn bản 5722/TCTTKĐA ngày 10/8/2023 đến từng cán bộ, công chức, viên chức.\n"
    "2. Bảo mật thông tin cá nhân của công dân; khi thay đổi cán bộ tiếp nhận, xử lý hồ sơ, gửi văn bản về Sở "
    "(qua Trung tâm Công nghệ thông tin tỉnh) để kịp thời xóa, cập nhật phân quyền tài khoản.\n"
    "3. Thay đổi mật khẩu: tối thiểu 8 ký tự gồm ký tự đặc biệt, chữ hoa, chữ thường và số; đổi mật khẩu mặc định "
    "ngay khi nhận tài khoản; đổi ít nhất 03 tháng một lần; không tiết lộ mật khẩu khi chưa có biên bản bàn giao.\n"
    "4. Cài đặt hệ thống phòng, chống mã độc và chia sẻ thông tin với Trung tâm Giám sát an toàn không gian mạng "
    "quốc gia.\n"
    "5. Thanh tra Sở kiểm tra công tác quản trị, vận hành hệ thống và việc cài đặt phòng, chống mã độc; quản lý "
    "số lượt tra cứu thông tin công dân theo phút, ngày.")
FONT = FONTS / "DejaVuSans.ttf"  # portal/pdf.py: the fonts every printed document embeds


def letter_pdf() -> bytes:
    """The letter's subject and points as a one-page PDF (fpdf2, a font with Vietnamese glyphs)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime(2024, 2, 1, tzinfo=UTC))
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.add_page()
    pdf.set_font("DejaVu", "", 12)
    pdf.multi_cell(0, 7, f"SỞ THÔNG TIN VÀ TRUYỀN THÔNG TỈNH ĐỒNG NAI — Số: {LETTER_NUMBER}",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 7, f"V/v {LETTER_TITLE.lower()}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 11)
    pdf.multi_cell(0, 6, LETTER_SUMMARY, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def demo_directive_seed() -> bool:
    """Publish the letter as the demo's first directive, once; True when it was made now."""
    if Directive.objects.filter(number=LETTER_NUMBER, issued_on=LETTER_DATE).exists():
        return False
    province = Unit.objects.filter(parent__isnull=True).order_by("path").first()
    if province is None:
        return False
    directive_publish(
        actor=SEED_DEMO, number=LETTER_NUMBER, issued_on=LETTER_DATE,
        issuer="Sở Thông tin và Truyền thông tỉnh Đồng Nai", signer="Giám đốc Sở Thông tin và Truyền thông",
        title=LETTER_TITLE, summary=LETTER_SUMMARY, audience_units=[province],
        audience_roles=[Role.OFFICER, Role.UNIT_LEADER], due_date=timezone.localdate() + timedelta(days=14),
        attachment=ContentFile(letter_pdf(), name="cong-van-bao-mat-tai-khoan.pdf"))
    return True
