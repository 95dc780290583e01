"""Exporting an officer's lookup history (CSV, XLSX), recorded as an event."""
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.scope import account_is_visible_to
from audit.choices import EventKind
from audit.services import audit_event_record
from portal.errors import NotAllowed, PolicyViolation

from ..exports import XLSX_MAX_ROWS
from ..selectors import lookup_history_of

EXPORT_FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class HistoryExport:
    records: object  # a queryset, oldest first
    rows: int
    file_name: str


def lookup_history_export(*, actor, officer: User, file_format: str, date_from=None, date_to=None) -> HistoryExport:
    """An officer's lookup history for a file: for it_admin and inspectors, a leader whose subtree holds
    the officer (the records of their subtree only) and the officer themself. The export is recorded as
    an event naming the officer, the format, the dates and the number of rows."""
    if getattr(actor, "pk", None) is None:
        raise NotAllowed(_("Only a signed-in person may export a lookup history."), code="export_not_allowed")
    if not account_is_visible_to(actor, officer):
        raise NotAllowed(_("You may not export this officer's lookup history."), code="export_not_allowed")
    if file_format not in EXPORT_FORMATS:
        raise PolicyViolation(_("Choose CSV or XLSX."), code="export_format_invalid")
    records = lookup_history_of(actor, officer, date_from=date_from, date_to=date_to)
    rows = records.count()
    if file_format == "xlsx" and rows > XLSX_MAX_ROWS:
        raise PolicyViolation(_("This history has %(rows)d lookups, more than an XLSX file takes here "
                                "(%(max)d): choose fewer days, or CSV.") % {"rows": rows, "max": XLSX_MAX_ROWS},
                              code="export_too_large")
    with transaction.atomic():
        audit_event_record(kind=EventKind.LOOKUP_HISTORY_EXPORTED, actor=actor, target=officer, details={
            "format": file_format, "rows": rows, "date_from": date_from.isoformat() if date_from else "",
            "date_to": date_to.isoformat() if date_to else ""})
    stamp = timezone.localdate().strftime("%Y%m%d")
    return HistoryExport(records=records, rows=rows,
                         file_name=f"lich-su-tra-cuu-{officer.username}-{stamp}.{file_format}")
