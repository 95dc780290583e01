"""An officer's lookup history as a file people open in a spreadsheet: CSV (UTF-8 with a byte-order
mark, so that Excel reads the Vietnamese) streamed row by row, or XLSX (openpyxl's write-only mode).

The records hold text that callers typed (a refused request keeps what it was sent: the dossier code,
the purpose, even the username), so every text cell is guarded against formula injection (OWASP "CSV
Injection"): a cell starting with = + - @ or a tab or carriage return gets a leading apostrophe, which
spreadsheets show as text and never evaluate. The citizen ID appears only masked (`075*******34`)."""
import csv
import io
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from portal.exports import ExportHeading, text_storable, xlsx_sheet_write

from .choices import Decision
from .forms import REFUSAL_REASONS

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 200_000


def cell_guarded(value: str) -> str:
    """The text as a spreadsheet must show it: never read as a formula, and without what an XLSX cell
    cannot hold (portal.exports.text_storable: a control character typed into a refused request)."""
    value = text_storable(value) if value else value
    if value and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _headers() -> list[str]:
    return [_("Time"), _("Officer's username"), _("Unit code"), _("Citizen ID"), _("Dossier code"), _("Purpose"),
            _("Decision"), _("Reason"), _("Channel"), _("IP address"), _("Lookup no.")]


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(tzinfo=None)


def _texts(record) -> list[str]:
    """The record's text cells, after the time (each guarded)."""
    decision = Decision(record.decision).label if record.decision in Decision.values else record.decision
    channel = record.client.name if record.client_id and record.client is not None else _("Portal page")
    reason = str(REFUSAL_REASONS.get(record.reason, record.reason))
    values = [record.officer_username, record.unit_code_then, record.citizen_id_masked, record.dossier_code,
              record.purpose, str(decision), reason, channel, record.ip_address or ""]
    return [cell_guarded(value) for value in values]


def history_csv_rows(records):
    """The CSV text, a line at a time (for a StreamingHttpResponse): the BOM, the headers, the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")

    def flushed() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    writer.writerow(_headers())
    yield "\ufeff" + flushed()
    for record in records:
        writer.writerow([_local(record.decided_at).strftime("%d/%m/%Y %H:%M:%S"), *_texts(record), record.pk])
        yield flushed()


def history_xlsx(records, *, title: str, heading: ExportHeading | None = None) -> bytes:
    """The XLSX file (times as real dates shown dd/mm/yyyy hh:mm:ss, in the portal's time zone), with
    the portal's title block, frozen header, filter and column widths (portal.exports)."""
    workbook = Workbook(write_only=True)
    rows = ([_local(record.decided_at), *_texts(record), record.pk] for record in records)
    # A lookup's time to the second (other lists show the minute).
    xlsx_sheet_write(workbook, _headers(), rows, heading=heading, sheet_title=title,
                     column_formats={0: "dd/mm/yyyy hh:mm:ss"})
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
