"""CSV and XLSX files of a list, for every app that offers one (docs/architecture.md: every list and dashboard
offers CSV and XLSX export of what the reader may see; the rows come already scoped).

CSV injection (OWASP): a cell that starts with = + - @ (or a tab or carriage return) is read as a
formula by spreadsheet programs, so such a value is written with a leading apostrophe. XLSX cells are
written as strings by openpyxl unless they are numbers or dates, and a string starting with "=" would
still become a formula there, so the same guard applies.

What XLSX cannot hold: an XLSX sheet is XML, which has no place for the C0 control characters (other
than tab, line feed and carriage return), for U+FFFE/U+FFFF, or for a lone UTF-16 surrogate (not even
UTF-8). openpyxl refuses the first kind with IllegalCharacterError and the last makes the file unwritable;
the records that hold such text are append-only, so one hostile value would break an export for good.
Every writer (this module's, the lookup history's, the monthly report's) passes its text through
`text_storable`, the one place that decides what is dropped.

An XLSX file opens as a person expects: a title block (what the list is, for which unit, when and by
whom it was exported), the header in bold, frozen and with a filter, columns as wide as their contents,
times and days as real dates (shown dd/mm/yyyy), yes/no as words.
"""
import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# XML 1.0 has no place for these (openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE, plus what UTF-8 cannot encode).
NOT_STORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
DATE_FORMAT = "dd/mm/yyyy"
# The title block above the header: title, unit, exported at/by, one empty row.
HEADING_ROWS = 4
# Column widths are measured on the first rows (a write-only sheet takes them before any row).
WIDTH_SAMPLE = 500
WIDTH_MIN, WIDTH_MAX = 8, 60


def text_storable(text: str) -> str:
    """The text without what an XLSX (XML) cell cannot hold; everything else as it is."""
    return NOT_STORABLE.sub("", text)


def yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def _text_guarded(text: str) -> str:
    text = text_storable(text)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def cell_guarded(value):
    """A value safe to put in a CSV cell: numbers as they are, times and days as dd/mm/yyyy text,
    yes/no as words, text with a leading apostrophe when it would start a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, datetime):
        return _local(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return _text_guarded(str(value))


def xlsx_value(value):
    """A value for an XLSX cell and its number format: times (in the portal's time zone) and days as
    real dates, numbers as numbers, yes/no as words, text guarded and stripped."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return yes_no(value), None
    if isinstance(value, (int, float, Decimal)):
        return value, None
    if isinstance(value, datetime):
        return _local(value).replace(tzinfo=None), DATETIME_FORMAT
    if isinstance(value, date):
        return value, DATE_FORMAT
    return _text_guarded(str(value)), None


@dataclass(frozen=True)
class ExportHeading:
    """The title block of an exported sheet: what, for which unit, when, by whom."""
    title: str
    scope: str
    exported_by: str
    exported_at: datetime

    @classmethod
    def for_reader(cls, *, title, reader, scope: str = "", at: datetime | None = None) -> "ExportHeading":
        if not scope:
            scope = _("The whole province") if reader.sees_everything else _(
                "%(unit)s and the units below it") % {"unit": reader.unit.name}
        who = f"{reader.full_name} ({reader.username})" if reader.full_name else reader.username
        return cls(title=str(title), scope=scope, exported_by=who, exported_at=at or timezone.now())

    def lines(self) -> list[str]:
        return [self.title, _("Unit: %(scope)s") % {"scope": self.scope},
                _("Exported on %(moment)s by %(who)s") % {
                    "moment": _local(self.exported_at).strftime("%d/%m/%Y %H:%M"), "who": self.exported_by}]


def csv_bytes(header, rows) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens Vietnamese text as it is. The header is the
    first line (a CSV file is read by programs as well as people)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([cell_guarded(title) for title in header])
    for row in rows:
        writer.writerow([cell_guarded(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _width(value, number_format) -> int:
    if number_format == DATETIME_FORMAT:
        return 19
    if number_format == DATE_FORMAT:
        return 11
    return len(str(value)) if value is not None else 0


def xlsx_sheet_write(workbook, header, rows, *, heading: ExportHeading | None, sheet_title: str = "",
                     column_formats: dict[int, str] | None = None) -> None:
    """One sheet of a write-only workbook: title block, frozen bold header with a filter, the rows.
    `column_formats` overrides the number format of a column's dates (by index)."""
    column_formats = column_formats or {}
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    title = text_storable(sheet_title or (heading.title if heading else "") or "Sheet")
    # A sheet's name may not hold []:*?/\ and is at most 31 characters.
    sheet = workbook.create_sheet(title=re.sub(r"[\[\]:*?/\\]", " ", title)[:31])
    header = [text_storable(str(name)) for name in header]
    rows = iter(rows)
    sample = []
    for row in rows:
        sample.append([xlsx_value(value) for value in row])
        if len(sample) >= WIDTH_SAMPLE:
            break
    widths = [len(name) + 3 for name in header]  # + room for the filter's button
    for row in sample:
        for index, (value, number_format) in enumerate(row[:len(widths)]):
            widths[index] = max(widths[index], _width(value, number_format))
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, WIDTH_MIN), WIDTH_MAX)
    first_row = 1
    if heading is not None:
        first_row = HEADING_ROWS + 1
        sheet.freeze_panes = f"A{first_row + 1}"
    else:
        sheet.freeze_panes = "A2"

    def written(values):
        cells = []
        for index, (value, number_format) in enumerate(values):
            cell = WriteOnlyCell(sheet, value=value)
            if number_format and index in column_formats:
                number_format = column_formats[index]
            if number_format:
                cell.number_format = number_format
            cells.append(cell)
        return cells

    if heading is not None:
        for index, line in enumerate(heading.lines()):
            cell = WriteOnlyCell(sheet, value=_text_guarded(line))
            cell.font = Font(bold=True, size=14) if index == 0 else Font(italic=True)
            sheet.append([cell])
        sheet.append([])
    header_cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=_text_guarded(name))
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header_cells.append(cell)
    sheet.append(header_cells)
    last_row = first_row
    for row in sample:
        sheet.append(written(row))
        last_row += 1
    for row in rows:
        sheet.append(written([xlsx_value(value) for value in row]))
        last_row += 1
    if header:
        sheet.auto_filter.ref = f"A{first_row}:{get_column_letter(len(header))}{last_row}"


def xlsx_bytes(header, rows, *, title: str = "Sheet", heading: ExportHeading | None = None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    xlsx_sheet_write(workbook, header, rows, heading=heading, sheet_title=title)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
