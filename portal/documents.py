"""The issuing body of every document the portal prints (handover and turnover records, monthly
reports), as Decree 30/2020/NĐ-CP lays out an administrative document (appendix I): the governing body
above, the issuing body below it, their abbreviation in the document's number, the place in the date
line, and who signs.

These are settings, not translation strings: bodies get reorganised (in 2025 the province's Department
of Information and Communications merged into the Department of Science and Technology) and the IT
Center changes them in its environment (DOCUMENT_* in README "Configuration") without touching the
code or the catalogue of messages. A document keeps what it said when it was made: a record's number
is stored with it, and a monthly report is stored as rendered."""
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class DocumentIssuer:
    governing_body: str  # cơ quan, tổ chức chủ quản: "SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH ĐỒNG NAI"
    name: str  # cơ quan ban hành: "TRUNG TÂM CÔNG NGHỆ THÔNG TIN VÀ TRUYỀN THÔNG"
    abbreviation: str  # in numbers: "0003/BB-TTCNTT"
    place: str  # "Đồng Nai, ngày 05 tháng 12 năm 2026"
    signer_position: str  # "GIÁM ĐỐC"
    signer_name: str  # "" leaves a line to write the name by hand


def document_issuer() -> DocumentIssuer:
    return DocumentIssuer(
        governing_body=settings.DOCUMENT_GOVERNING_BODY, name=settings.DOCUMENT_ISSUER,
        abbreviation=settings.DOCUMENT_ISSUER_ABBREVIATION, place=settings.DOCUMENT_PLACE,
        signer_position=settings.DOCUMENT_SIGNER_POSITION, signer_name=settings.DOCUMENT_SIGNER_NAME)


def document_number(sequence: int, kind: str) -> str:
    """One numbering scheme for every document: "0003/BB-TTCNTT" — the number of the year (from 1 on
    1 January, Decree 30/2020/NĐ-CP appendix I, part II, 3), the kind's abbreviation (BB biên bản,
    BC báo cáo), the issuer's."""
    return f"{sequence:04d}/{kind}-{settings.DOCUMENT_ISSUER_ABBREVIATION}"
