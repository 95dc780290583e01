"""CSV and XLSX files of a list, for every app that offers one (docs/architecture.md: every list and dashboard
offers CSV and XLSX export of what the reader may see; the rows come already scoped).

CSV injection (OWASP): a cell that starts with = + - @ (or a tab or carriage return) is read as a
formula by spreadsheet programs, so such a value is written with a leading apostrophe. XLSX cells are
written as strings by openpyxl unless they are numbers or dates, and a string starting with "=" would
still become a formula there, so the same guard applies.
"""
import csv
import io
from datetime import date, datetime

from django.utils import timezone

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_guarded(value):
    """A value safe to put in a spreadsheet cell: numbers and dates as they are, text with a leading
    apostrophe when it would start a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "x" if value else ""
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if timezone.is_aware(value) else value.strftime(
            "%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_bytes(header, rows) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens Vietnamese text as it is."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([cell_guarded(title) for title in header])
    for row in rows:
        writer.writerow([cell_guarded(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(header, rows, *, title: str = "Sheet") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    from openpyxl.cell import WriteOnlyCell

    header_cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=cell_guarded(str(name)))
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([cell_guarded(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
