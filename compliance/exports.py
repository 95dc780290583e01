"""The lists a reader can export, each read through its app's scoped selector: the account list (with
its filters), the accounts behind a dashboard figure, the units of a dashboard's ranking, turnover
requests, the lookup log and the security events. A parameter outside the reader's scope (a guessed
unit id) gives an empty list, never someone else's rows."""
from dataclasses import dataclass
from typing import Callable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import selectors as account_selectors
from accounts.choices import AccountState, Role, TurnoverState
from accounts.models import Unit
from accounts.scope import units_visible_to
from audit.forms import EventFilterForm
from audit.selectors import security_events_visible_to
from lookups.forms import LookupLogForm
from lookups.selectors import lookup_log
from policy.compliance import ComplianceReason
from portal.exports import ExportHeading, csv_bytes, xlsx_bytes

from .models import UnitSnapshot
from .selectors import accounts_failing

LOOKUP_PRIVATE_PARAMS = ("citizen_id", "citizen", "citizen_masked", "after", "before")
# Above this many rows an export runs as a background job with progress (the request would time out).
INLINE_LIMIT = 5000


def _unit_param(user, params) -> Unit | None:
    try:
        pk = int(params.get("unit") or 0)
    except (TypeError, ValueError):
        return None
    return units_visible_to(user).filter(pk=pk).first() if pk else None


def _choice(value, choices) -> str:
    return value if value in choices else ""


def _accounts(user, params):
    unit = _unit_param(user, params)
    if params.get("unit") and unit is None:
        return account_selectors.account_list(user).none()
    return account_selectors.account_list(
        user, search=str(params.get("q", ""))[:100], unit_id=unit.pk if unit else None,
        role=_choice(params.get("role"), Role.values), state=_choice(params.get("state"), AccountState.values))


def _account_row(account):
    return [account.username, account.full_name, account.unit.code, account.unit.name, account.get_role_display(),
            account.is_active, account.password_changed_at, account.last_login, account.email]


def _account_header():
    return [_("Username"), _("Full name"), _("Unit code"), _("Unit"), _("Role"), _("Active"),
            _("Password changed"), _("Last sign-in"), _("E-mail")]


def _failing(user, params):
    unit = _unit_param(user, params)
    if unit is None:
        return account_selectors.account_list(user).none()
    return accounts_failing(user, unit, _choice(params.get("reason"), ComplianceReason.values))


def _failing_row(account):
    reasons = "; ".join(str(ComplianceReason(reason).label) for reason in ComplianceReason.values
                        if getattr(account, f"fails_{reason}", False))
    return _account_row(account) + [reasons]


def _ranking(user, params):
    unit = _unit_param(user, params)
    if unit is None:
        return UnitSnapshot.objects.none()
    latest = UnitSnapshot.objects.filter(unit=unit).order_by("-day").first()
    if latest is None:
        return UnitSnapshot.objects.none()
    rows = UnitSnapshot.objects.filter(day=latest.day, unit_path__startswith=latest.unit_path, depth__gte=latest.depth)
    if not user.sees_everything:
        rows = rows.filter(unit_id__in=units_visible_to(user).values("pk"))
    return rows.order_by("unit_path")


def _ranking_row(row):
    return [row.day, row.unit_code, row.unit_name, row.accounts_total, row.accounts_compliant, row.score,
            *[getattr(row, reason) for reason in ComplianceReason.values]]


def _ranking_header():
    return [_("Day"), _("Unit code"), _("Unit"), _("Active accounts"), _("Complying"), _("Score (%)"),
            *[str(label) for label in ComplianceReason.labels]]


def _units(user, params):
    return account_selectors.unit_tree(user)


def _unit_row(unit):
    return [unit.code, unit.name, unit.get_kind_display(), unit.get_state_display(),
            unit.parent.code if unit.parent_id else "", unit.merged_into.code if unit.merged_into_id else ""]


def _unit_header():
    return [_("Agency code"), _("Name"), _("Kind"), _("State"), _("Parent unit"), _("Merged into")]


def _turnover(user, params):
    return account_selectors.turnover_request_list(user, state=_choice(params.get("state"), TurnoverState.values))


def _turnover_row(request):
    return [request.letter_number, request.letter_date, request.unit_code, request.unit_name,
            request.get_state_display(), request.submitted_at, request.due_at, request.executed_at,
            request.completed_at, getattr(request, "waiting_systems", 0), bool(getattr(request, "overdue", False))]


def _turnover_header():
    return [_("Letter number and symbol"), _("Letter date"), _("Unit code"), _("Unit"), _("State"),
            _("Submitted"), _("Due by"), _("Executed"), _("Complete in every connected system"),
            _("Connected systems not confirmed yet"), _("Overdue")]


def _lookups(user, params):
    """The lookup log with the page's filters (its GET form; a citizen ID never comes in a URL)."""
    form = LookupLogForm({name: value for name, value in params.items() if name not in LOOKUP_PRIVATE_PARAMS})
    if not form.is_valid():
        return lookup_log(user).none()
    data = form.cleaned_data
    return lookup_log(user, officer_username=data["officer"], unit_code=data["unit"] or str(
        params.get("unit_code") or "")[:13], unit_exact=data["unit_exact"], decision=data["decision"],
        reason=data["reason"], date_from=data["date_from"], date_to=data["date_to"])


def _lookup_row(record):
    return [record.decided_at, record.officer_username, record.unit_code_then, record.dossier_code,
            record.get_decision_display(), record.reason, record.citizen_id_masked, record.ip_address]


def _lookup_header():
    return [_("Time"), _("Officer"), _("Unit code"), _("Dossier code"), _("Decision"), _("Reason"),
            _("Citizen ID"), _("IP address")]


def _events(user, params):
    """The security events with the page's filters (its GET form)."""
    form = EventFilterForm({name: value for name, value in params.items() if name not in ("after", "before")})
    if not form.is_valid():
        return security_events_visible_to(user).none()
    return security_events_visible_to(user, **form.cleaned_data)


def _event_row(event):
    return [event.occurred_at, event.get_kind_display(), event.actor_username, event.target_username, event.unit_code,
            event.ip_address]


def _event_header():
    return [_("Time"), _("Event"), _("By"), _("Account"), _("Unit code"), _("IP address")]


@dataclass(frozen=True)
class ExportList:
    title: object
    rows: Callable
    header: Callable
    row: Callable
    readers: tuple


READERS = (Role.IT_ADMIN, Role.INSPECTOR, Role.UNIT_LEADER)

LISTS = {
    "accounts": ExportList(gettext_lazy("Accounts"), _accounts, _account_header, _account_row, READERS),
    "compliance_accounts": ExportList(gettext_lazy("Accounts that do not comply"), _failing,
                                      lambda: _account_header() + [_("Reasons")], _failing_row, READERS),
    "units": ExportList(gettext_lazy("Compliance of units"), _ranking, _ranking_header, _ranking_row, READERS),
    "unit_tree": ExportList(gettext_lazy("Units"), _units, _unit_header, _unit_row, READERS),
    "turnover": ExportList(gettext_lazy("Turnover requests"), _turnover, _turnover_header, _turnover_row,
                           READERS + (Role.OFFICER,)),
    "lookups": ExportList(gettext_lazy("Lookup log"), _lookups, _lookup_header, _lookup_row, READERS),
    "events": ExportList(gettext_lazy("Security events"), _events, _event_header, _event_row,
                         (Role.IT_ADMIN, Role.INSPECTOR)),
}
FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def export_heading(export: ExportList, reader, params, at=None) -> ExportHeading:
    """The XLSX title block: the list, the unit it covers (the unit asked for, else the reader's scope),
    when and by whom."""
    unit = _unit_param(reader, params)
    unit_code = str(params.get("unit_code") or "")[:13]
    if not unit_code and params.get("unit") and not str(params.get("unit")).isdigit():
        unit_code = str(params.get("unit"))[:13]  # the lookup log's filter names the unit by its code
    scope = ""
    if unit is not None:
        scope = _("%(unit)s and the units below it") % {"unit": unit.name}
    elif unit_code:
        named = units_visible_to(reader).filter(code=unit_code).first()
        scope = _("%(unit)s and the units below it") % {"unit": named.name if named else unit_code}
    return ExportHeading.for_reader(title=export.title, reader=reader, scope=scope, at=at)


def export_file(export: ExportList, file_format: str, rows_iterable, *, heading: ExportHeading | None = None) -> bytes:
    header = export.header()
    rows = (export.row(item) for item in rows_iterable)
    if file_format == "csv":
        return csv_bytes(header, rows)
    return xlsx_bytes(header, rows, title=str(export.title), heading=heading)
