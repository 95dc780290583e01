"""PDF documents in the layout of an administrative document (Decree 30/2020/NĐ-CP, Appendix I), shared by
every app that prints one (the monthly compliance report, the incident report and its notification
drafts): fpdf2 with the DejaVu fonts shipped in portal/fonts and embedded in each file, so Vietnamese text
reads the same on any machine; the two columns of the head (issuing body, national motto), the number,
place and date, the document's kind and subject; the recipients and the signature block at the end; the
page number centred at the top from the second page.

The issuer is `portal.documents.document_issuer()` as a dict (a stored report keeps the one it had)."""
from datetime import date
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"


def place_date(place: str, day: date) -> str:
    """“Đồng Nai, ngày 01 tháng 12 năm 2026” (Decree 30/2020/NĐ-CP: a leading zero for days below 10 and
    months below 3)."""
    return _("%(place)s, day %(day)s month %(month)s year %(year)s") % {
        "place": place, "day": f"{day.day:02d}", "month": f"{day.month:02d}" if day.month < 3 else str(day.month),
        "year": day.year}


def pdf_document(*, title: str):
    """A new A4 document with the fonts embedded, its title set and its first page open."""
    from fpdf import FPDF

    class DocumentPDF(FPDF):
        def header(self):
            # Decree 30/2020/NĐ-CP: the page number centred at the top, none on the first page.
            if self.page_no() > 1:
                self.set_font(FONT, "", 10)
                self.set_y(8)
                self.cell(0, 6, str(self.page_no()), align="C")
                self.set_y(20)

    pdf = DocumentPDF(format="A4")
    pdf.set_margins(20, 20, 15)
    pdf.set_creation_date(timezone.now().replace(microsecond=0))
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(title)
    pdf.add_page()
    return pdf


def pdf_letterhead(pdf, *, issuer: dict, number: str, place_and_date: str, kind: str, subject: list[str]) -> None:
    """The two columns of the head, the number, the place and date, the kind (REPORT…) and the subject."""
    left, right = 80, pdf.epw - 80
    top = pdf.get_y()
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(left, 5, issuer["governing_body"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(left, 5, issuer["name"], align="C", new_x="LMARGIN", new_y="NEXT")
    y = pdf.get_y() + 1
    pdf.line(pdf.l_margin + left * 0.3, y, pdf.l_margin + left * 0.7, y)
    pdf.set_y(y + 2)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(left, 5, f"{_('No.')} {number}", align="C", new_x="LMARGIN", new_y="NEXT")
    left_bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin + left, top)
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(right, 5, _("SOCIALIST REPUBLIC OF VIETNAM"), align="C", new_x="LEFT", new_y="NEXT")
    pdf.multi_cell(right, 5, _("Independence - Freedom - Happiness"), align="C", new_x="LEFT", new_y="NEXT")
    y = pdf.get_y() + 1
    pdf.line(pdf.l_margin + left + right * 0.2, y, pdf.l_margin + left + right * 0.8, y)
    pdf.set_xy(pdf.l_margin + left, y + 2)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(right, 5, place_and_date, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(left_bottom, pdf.get_y()) + 6)
    pdf.set_font(FONT, "B", 14)
    pdf.cell(0, 8, kind, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 11)
    for line in subject:
        pdf.multi_cell(0, 6, line, align="C", new_x="LMARGIN", new_y="NEXT")
    y = pdf.get_y() + 1
    pdf.line(pdf.l_margin + pdf.epw * 0.4, y, pdf.l_margin + pdf.epw * 0.6, y)
    pdf.set_y(y + 4)


def pdf_signatures(pdf, *, issuer: dict, recipients: list[str]) -> None:
    """Recipients on the left, the signer on the right; kept together on one page."""
    if pdf.get_y() + 50 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(6)
    top = pdf.get_y()
    half = pdf.epw / 2
    pdf.set_font(FONT, "B", 9)
    pdf.cell(half, 5, _("Recipients:"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    for line in recipients:
        pdf.multi_cell(half, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(pdf.l_margin + half, top)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(half, 6, issuer["signer_position"], align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(half, 5, _("(signature, full name)"), align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_y(pdf.get_y() + 22)
    pdf.set_x(pdf.l_margin + half)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(half, 6, issuer["signer_name"] or "……………………………", align="C", new_x="LMARGIN", new_y="NEXT")


def pdf_heading(pdf, text: str) -> None:
    pdf.ln(2)
    pdf.set_font(FONT, "B", 12)
    pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)


def pdf_paragraph(pdf, text: str, *, size: int = 10) -> None:
    pdf.set_font(FONT, "", size)
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
