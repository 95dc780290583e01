"""What the lookups app does: the lookup decision (`lookup_decide`, one flow for the API and the
officer's page, every decision recorded once), the API clients and their tokens, and the quota
overrides the IT Center sets, every change audited. The quota engine itself is lookups.quotas."""
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import Unit, User
from accounts.permissions import account_contained, ensure_it_admin, ensure_right
from accounts.selectors import account_is_locked
from audit.choices import EventKind
from audit.services import audit_event_record
from policy.selectors import password_change_reason
from portal.actors import Right
from portal.audit_context import current_audit_context
from portal.errors import DomainError, NotAllowed, PolicyViolation, QuotaExceeded
from portal.text import first_invisible_character

from .anomalies import anomaly_flags_write
from .choices import Decision, QuotaWindow
from .exports import XLSX_MAX_ROWS
from .models import AnomalyFlag, ApiClient, LookupRecord, QuotaOverride, RegistryFailure
from .quotas import QUOTA_TIME_ZONE, UNAVAILABLE, QuotaResult, quota_consume
from .registry import CitizenRecord, RegistryUnavailable, registry_adapter
from .selectors import lookup_history_of, quota_limits_for
from .tokens import api_token_hash, api_token_new
from .validation import citizen_id_checked, citizen_id_masked, dossier_code_checked, purpose_checked

logger = logging.getLogger(__name__)

OFFICER_WINDOWS = (QuotaWindow.OFFICER_MINUTE, QuotaWindow.OFFICER_DAY)
LIMIT_MAX = 10_000_000


def _scope_checked(*, window, unit, role) -> tuple[str, str]:
    if window not in QuotaWindow.values:
        raise PolicyViolation(_("Choose one of the four quota windows."), code="quota_window_invalid", field="window")
    role = role or ""
    if role and role not in Role.values:
        raise PolicyViolation(_("Choose a role from the list."), code="quota_role_invalid", field="role")
    if unit is None and not role:
        raise PolicyViolation(_("An override applies to a unit, a role, or a role in a unit: choose at least one."),
                              code="quota_scope_missing", field="unit")
    if role and window not in OFFICER_WINDOWS:
        raise PolicyViolation(_("A unit's own quota applies to the whole unit: it cannot be set per role."),
                              code="quota_role_on_unit_window", field="role")
    return str(window), role


def _details(override_unit, role, window, old, new, *, shadow=None) -> dict:
    details = {"window": window, "unit": override_unit.code if override_unit is not None else "", "role": role,
               "old": old, "new": new}
    if shadow is not None:  # only where shadow mode is concerned, before or after
        details["shadow"] = shadow
    return details


@transaction.atomic
def quota_override_set(*, actor, window: str, limit: int, unit=None, role: str = "",
                       shadow: bool = False) -> QuotaOverride:
    """Set the limit of one window for a unit, a role or a role in a unit; `shadow` counts it without
    refusing (QuotaOverride.shadow). Setting what is already set changes and records nothing."""
    ensure_it_admin(actor, _("Only IT Center administrators may change lookup quotas."))
    window, role = _scope_checked(window=window, unit=unit, role=role)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= LIMIT_MAX:
        raise PolicyViolation(_("Enter a whole number of lookups from 1 to %(max)d.") % {"max": LIMIT_MAX},
                              code="quota_limit_invalid", field="limit")
    shadow = bool(shadow)
    override = QuotaOverride.objects.select_for_update().filter(unit=unit, role=role, window=window).first()
    old = override.limit if override is not None else None
    old_shadow = override.shadow if override is not None else False
    if old == limit and old_shadow == shadow:
        return override
    if override is None:
        override = QuotaOverride.objects.create(unit=unit, role=role, window=window, limit=limit, shadow=shadow)
    else:
        override.limit, override.shadow = limit, shadow
        override.save(update_fields=["limit", "shadow"])
    audit_event_record(kind=EventKind.QUOTA_OVERRIDE_SET, actor=actor, unit=unit, details=_details(
        unit, role, window, old, limit, shadow=shadow if (shadow or old_shadow) else None))
    return override


@transaction.atomic
def quota_override_clear(*, actor, window: str, unit=None, role: str = "") -> bool:
    """Back to the next less specific limit. Clearing what is not set changes and records nothing."""
    ensure_it_admin(actor, _("Only IT Center administrators may change lookup quotas."))
    window, role = _scope_checked(window=window, unit=unit, role=role)
    override = QuotaOverride.objects.select_for_update().filter(unit=unit, role=role, window=window).first()
    if override is None:
        return False
    old, old_shadow = override.limit, override.shadow
    override.delete()
    audit_event_record(kind=EventKind.QUOTA_OVERRIDE_CLEARED, actor=actor, unit=unit,
                       details=_details(unit, role, window, old, None, shadow=True if old_shadow else None))
    return True


# ----- the lookup decision -------------------------------------------------------------------------------

class Unavailable(QuotaExceeded):
    """What the decision needs cannot answer (the quota counters, the record table): HTTP 503, try
    again after `retry_after` seconds. Never an allow."""

    status = 503
    default_code = "unavailable"


@dataclass(frozen=True)
class LookupDecision:
    allowed: bool
    record_id: int | None  # None only when not even the refusal could be recorded
    error: DomainError | None = None  # why it was refused (its code is the API's `reason`)
    quota: QuotaResult | None = None  # when the quotas were consulted
    decided_at: datetime | None = None  # the record's time

    @property
    def reason(self) -> str:
        return self.error.code if self.error is not None else ""


def citizen_id_hash(citizen_id: str) -> str:
    """HMAC-SHA256 of the typed number with CITIZEN_ID_KEY: what a record keeps, and what "who looked
    up this citizen" compares against."""
    return hmac.new(settings.CITIZEN_ID_KEY.encode(), citizen_id.encode(), hashlib.sha256).hexdigest()


def _quota_error(result: QuotaResult) -> DomainError:
    if result.reason == UNAVAILABLE:
        return Unavailable(_("Lookup quotas cannot be counted right now, so no lookup is allowed. Try again "
                             "in %(seconds)d seconds.") % {"seconds": result.retry_after},
                           code=UNAVAILABLE, retry_after=result.retry_after)
    messages = {
        "quota_officer_minute": _("This officer has used this minute's lookups."),
        "quota_officer_day": _("This officer has used today's lookups."),
        "quota_unit_minute": _("The officer's unit has used this minute's lookups."),
        "quota_unit_day": _("The officer's unit has used today's lookups."),
    }
    message = _("%(quota)s Try again in %(seconds)d seconds.") % {
        "quota": messages.get(result.reason, _("A lookup quota is used up.")), "seconds": result.retry_after}
    return QuotaExceeded(message, code=result.reason, retry_after=result.retry_after)


def _officer_named(officer_username) -> User | None:
    if not isinstance(officer_username, str) or not 0 < len(officer_username) <= 64:
        return None
    if first_invisible_character(officer_username.strip()) is not None:
        return None  # no username holds one (and PostgreSQL refuses a NUL in a query: never a 500)
    return User.objects.select_related("unit").filter(username=officer_username.strip().lower()).first()


def _officer_checked(*, actor, client, officer: User | None) -> None:
    """Who may be decided for, most telling refusal last: an officer the caller may not see is out of
    scope whatever the state of the account."""
    if officer is None:
        raise NotAllowed(_("No active account has this username."), code="officer_disabled")
    if client is not None:
        in_scope = officer.unit.path.startswith(client.unit.path)
    else:  # the portal's own page: an officer looks up for themself
        in_scope = getattr(actor, "pk", None) == officer.pk
    if not in_scope:
        raise NotAllowed(_("This officer is outside the units this system may decide for."), code="out_of_scope")
    if not officer.is_active:
        raise NotAllowed(_("No active account has this username."), code="officer_disabled")
    if account_is_locked(officer):
        raise NotAllowed(_("This officer's account is locked after failed sign-ins."), code="officer_locked")
    # Incident containment (incidents app): held while the containment lasts; once lifted, the forced
    # password change below keeps refusing until the officer has chosen a new password.
    if account_contained(officer):
        raise NotAllowed(_("This officer's account is held by an incident containment."), code="contained")
    if password_change_reason(officer):
        raise NotAllowed(_("This officer must change their password before looking up citizens."),
                         code="officer_must_change_password")
    if not officer.can_lookup:
        raise NotAllowed(_("This officer does not hold the right to look up citizens."), code="no_lookup_right")


def _text(value, limit: int) -> str:
    """What a record keeps of a typed field: a string cut to the column (never a control character)."""
    if not isinstance(value, str):
        return ""
    value = value.strip()[:limit]
    return "" if first_invisible_character(value) is not None else value


def _record_insert(**fields) -> LookupRecord:
    return LookupRecord.objects.create(**fields)


def _record(*, client, officer, officer_username, citizen_id, dossier_code, purpose, error) -> LookupRecord:
    context = current_audit_context()
    citizen = citizen_id.strip() if isinstance(citizen_id, str) else ""
    return _record_insert(
        decided_at=timezone.now(),
        officer=officer,
        officer_username=officer.username if officer is not None else _text(officer_username, 64),
        unit_id_then=officer.unit_id if officer is not None else None,
        unit_code_then=officer.unit.code if officer is not None else "",
        client=client,
        dossier_code=_text(dossier_code, 40),
        purpose=_text(purpose, 300),
        decision=Decision.REFUSE if error is not None else Decision.ALLOW,
        reason=error.code if error is not None else "",
        citizen_id_hash=citizen_id_hash(citizen) if citizen else "",
        citizen_id_masked=citizen_id_masked(citizen) if citizen and len(citizen) <= 12 else "",
        ip_address=context.ip_address,
        request_id=context.request_id[:64],
    )


def _unrecorded() -> DomainError:
    return Unavailable(_("The lookup could not be recorded, so it is not allowed. Try again in a moment."),
                       code="record_unavailable", retry_after=settings.QUOTA_UNAVAILABLE_RETRY_AFTER)


def lookup_decide(*, actor, client, officer_username, citizen_id, dossier_code, purpose,
                  malformed: str | None = None) -> LookupDecision:
    """May this officer look up this citizen for this dossier? Refused for bad input, for an officer
    the caller may not decide for or who may not look up now, and over quota — the quotas consulted
    last, only when everything else passes, so that a refusal uses up none. `client` is the API
    client asking (None for the portal's own page, where `actor` is the officer). `malformed` is the
    interface's message when the request itself could not be read (the fields are then whatever it
    could make out): refused as `malformed`, recorded like any other.

    Every decision is recorded exactly once. An allow and its record (and the quota grant) commit in
    one transaction: if the record cannot be written, nothing is allowed and nothing is counted, and
    the answer is a refusal (`record_unavailable`), itself recorded when the database lets it."""
    if actor is None:
        raise TypeError("The actor is never None: pass a User or a portal.actors.SystemActor.")
    today = timezone.now().astimezone(QUOTA_TIME_ZONE).date()
    fields = {"client": client, "officer_username": officer_username, "citizen_id": citizen_id,
              "dossier_code": dossier_code, "purpose": purpose}
    officer = None
    try:
        officer = _officer_named(officer_username)
        if malformed is not None:
            raise PolicyViolation(malformed, code="malformed")
        citizen_id_checked(citizen_id, today=today)
        dossier_code_checked(dossier_code, today=today)
        purpose_checked(purpose)
        _officer_checked(actor=actor, client=client, officer=officer)
        limits = quota_limits_for(officer)
    except DomainError as error:
        return _refused(fields, officer=officer, error=error)
    except DatabaseError:
        logger.exception("Lookup refused: the database did not answer")
        return _refused(fields, officer=officer, error=_unrecorded())
    try:
        with transaction.atomic():
            # Inside this transaction the quota engine runs in a savepoint; its grant commits (or rolls
            # back) with the record, and its unit lock is held until then (lookups/quotas.py).
            result = quota_consume(officer_id=officer.pk, unit_id=officer.unit_id, limits=limits)
            error = None if result.allowed else _quota_error(result)
            record = _record(officer=officer, error=error, **fields)
            if result.allowed:  # flags commit with their lookup; the job takes them from there
                anomaly_flags_write(record=record, officer=officer, quota=result)
    except DatabaseError:
        logger.exception("Lookup refused: its record could not be written")
        return _refused(fields, officer=officer, error=_unrecorded())
    return LookupDecision(allowed=result.allowed, record_id=record.pk, error=error, quota=result,
                          decided_at=record.decided_at)


def _refused(fields, *, officer, error: DomainError) -> LookupDecision:
    try:
        with transaction.atomic():
            record = _record(officer=officer, error=error, **fields)
    except DatabaseError:
        logger.exception("A refused lookup could not be recorded")
        return LookupDecision(allowed=False, record_id=None, error=error)
    return LookupDecision(allowed=False, record_id=record.pk, error=error)


# ----- the registry's answer to an allowed lookup --------------------------------------------------------

REVEAL_WINDOW = timedelta(minutes=30)


def _registry_fetch(*, lookup_id: int, decided_at, citizen_id: str) -> CitizenRecord:
    """The configured registry's record of the citizen. A failure is recorded beside the lookup (the
    record itself is append-only) in its own transaction, and raised as the RegistryUnavailable the
    interfaces show. No transaction is held open while the registry is asked."""
    try:
        return registry_adapter().fetch(citizen_id)
    except RegistryUnavailable as failure:
        logger.warning("Registry failure for lookup %s: %s %s", lookup_id, failure.kind, failure.status_code or "")
        try:
            RegistryFailure.objects.create(lookup_id=lookup_id, decided_at=decided_at, kind=failure.kind,
                                           status_code=failure.status_code, detail=failure.detail)
        except DatabaseError:
            logger.exception("A registry failure could not be recorded")
        raise


def lookup_answer(*, decision: LookupDecision, citizen_id: str) -> CitizenRecord:
    """The registry's record for an allowed decision (the officer's page shows it masked). Raises
    RegistryUnavailable — recorded with the lookup — when the registry gives none."""
    if not decision.allowed or decision.record_id is None:
        raise NotAllowed(_("Only an allowed lookup is answered."), code="lookup_not_allowed")
    return _registry_fetch(lookup_id=decision.record_id, decided_at=decision.decided_at,
                           citizen_id=citizen_id.strip())


def lookup_reveal(*, actor, lookup_id: int, citizen_id: str) -> CitizenRecord:
    """The registry's answer in full, for the officer who was allowed this lookup, within
    REVEAL_WINDOW of the decision, and only for the citizen it was allowed for (the typed number must
    hash to the record's). Recorded as an event naming the lookup once the registry has answered (a
    failure is recorded as a RegistryFailure instead: nothing was shown)."""
    refused = NotAllowed(_("This lookup's answer can no longer be shown in full: look the citizen up again."),
                         code="reveal_refused")
    citizen = citizen_id.strip() if isinstance(citizen_id, str) else ""
    if not citizen or len(citizen) > 12 or getattr(actor, "pk", None) is None:
        raise refused
    record = LookupRecord.objects.filter(
        pk=lookup_id, officer_id=actor.pk, decision=Decision.ALLOW,
        decided_at__gte=timezone.now() - REVEAL_WINDOW).first()
    if record is None or not hmac.compare_digest(record.citizen_id_hash, citizen_id_hash(citizen)):
        raise refused
    answer = _registry_fetch(lookup_id=record.pk, decided_at=record.decided_at, citizen_id=citizen)
    audit_event_record(kind=EventKind.LOOKUP_REVEALED, actor=actor, unit=actor.unit,
                       details={"lookup": record.pk, "dossier_code": record.dossier_code})
    return answer


# ----- API clients -------------------------------------------------------------------------------------

@transaction.atomic
def api_client_create(*, actor, name: str, unit) -> tuple[ApiClient, str]:
    """Register an external system for `unit`'s subtree; returns the client and its token, which is
    stored only hashed and never shown again."""
    ensure_it_admin(actor, _("Only IT Center administrators may register API clients."))
    name = (name or "").strip()
    if not name or len(name) > 100 or first_invisible_character(name) is not None:
        raise PolicyViolation(_("Enter a client name of 1 to 100 characters on one line."),
                              code="api_client_name_invalid", field="name")
    if ApiClient.objects.filter(name=name).exists():
        raise PolicyViolation(_("An API client with this name already exists."), code="api_client_name_taken",
                              field="name")
    token = api_token_new()
    try:
        with transaction.atomic():
            client = ApiClient.objects.create(name=name, unit=unit, token_hash=api_token_hash(token),
                                              token_prefix=token[:10])
    except IntegrityError:
        raise PolicyViolation(_("An API client with this name already exists."), code="api_client_name_taken",
                              field="name") from None
    audit_event_record(kind=EventKind.API_CLIENT_CREATED, actor=actor, unit=unit,
                       details={"client": name, "token_prefix": client.token_prefix})
    return client, token


@transaction.atomic
def api_client_revoke(*, actor, name: str) -> bool:
    """The client's token stops working at once. Revoking a revoked client changes nothing (False)."""
    ensure_it_admin(actor, _("Only IT Center administrators may revoke API clients."))
    client = ApiClient.objects.select_for_update().select_related("unit").filter(name=(name or "").strip()).first()
    if client is None:
        raise PolicyViolation(_("No API client has this name."), code="api_client_unknown", field="name")
    if not client.is_active:
        return False
    client.is_active = False
    client.revoked_at = timezone.now()
    client.save(update_fields=["is_active", "revoked_at"])
    audit_event_record(kind=EventKind.API_CLIENT_REVOKED, actor=actor, unit=client.unit,
                       details={"client": client.name, "token_prefix": client.token_prefix})
    return True


# ----- anomaly flags: the job's side and the IT Center's alert ------------------------------------------

ANOMALY_BATCH = 500


def _anomaly_events_record(*, actor, flags: list[AnomalyFlag]) -> None:
    officers = User.objects.in_bulk({flag.officer_id for flag in flags if flag.officer_id is not None})
    units = Unit.objects.in_bulk({flag.unit_id_then for flag in flags if flag.unit_id_then is not None})
    for flag in flags:
        officer = officers.get(flag.officer_id)
        audit_event_record(kind=EventKind.LOOKUP_ANOMALY_FLAGGED, actor=actor, target=officer,
                           target_username=flag.officer_username, unit=units.get(flag.unit_id_then),
                           details={"anomaly": flag.kind, "lookup": flag.lookup_id,
                                    "decided_at": flag.decided_at.isoformat(), **flag.details})


def anomaly_flags_process(*, actor, batch_size: int = ANOMALY_BATCH) -> int:
    """The job (lookups.tasks.process_anomaly_flags): one security event per flag not yet processed,
    batch by batch. A batch is claimed with a conditional update (`processed_at` still empty) on rows
    locked SKIP LOCKED, and its events are written in the same transaction: a second worker or a second
    run finds nothing to do, a worker killed mid-batch leaves the batch unclaimed, and nothing is
    recorded twice. Returns how many flags were processed."""
    ensure_right(actor, Right.ANOMALIES_PROCESS, _("Only IT Center administrators may process anomaly flags."))
    processed = 0
    while True:
        with transaction.atomic():
            ids = list(AnomalyFlag.objects.select_for_update(skip_locked=True).filter(processed_at__isnull=True)
                       .order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                return processed
            now = timezone.now()
            AnomalyFlag.objects.filter(pk__in=ids, processed_at__isnull=True).update(processed_at=now)
            flags = list(AnomalyFlag.objects.filter(pk__in=ids, processed_at=now).order_by("pk"))
            _anomaly_events_record(actor=actor, flags=flags)
            processed += len(flags)
        if len(ids) < batch_size:
            return processed


REVIEW_NOTE_MAX = 1000


def anomaly_flag_review(*, actor, flag: AnomalyFlag, note: str) -> AnomalyFlag:
    """The IT Center closes a flag after looking into it, saying what it found: from then on the flag no
    longer counts against the officer (compliance: "lookups without open anomalies"). Once only — two
    admins clicking at once: one conditional update wins, the other is told it was reviewed already."""
    ensure_it_admin(actor, _("Only IT Center administrators may close a flagged lookup."))
    note = (note or "").strip()
    if not note:
        raise PolicyViolation([_("Say what the review found.")], field="note")
    if len(note) > REVIEW_NOTE_MAX:
        raise PolicyViolation([_("The note may have at most %(max)d characters.") % {"max": REVIEW_NOTE_MAX}],
                              field="note")
    if first_invisible_character(note.replace("\n", "").replace("\r", "").replace("\t", "")) is not None:
        raise PolicyViolation([_("The note holds a control character.")], field="note")
    now = timezone.now()
    with transaction.atomic():
        closed = AnomalyFlag.objects.filter(pk=flag.pk, reviewed_at__isnull=True).update(
            reviewed_at=now, reviewed_by=actor, review_note=note)
        if not closed:
            raise DomainError(_("This flagged lookup was reviewed already."), code="already_reviewed")
        flag.refresh_from_db()
        officer = User.objects.filter(pk=flag.officer_id).first() if flag.officer_id else None
        audit_event_record(kind=EventKind.LOOKUP_ANOMALY_REVIEWED, actor=actor, target=officer,
                           target_username=flag.officer_username,
                           unit=Unit.objects.filter(pk=flag.unit_id_then).first() if flag.unit_id_then else None,
                           details={"anomaly": flag.kind, "lookup": flag.lookup_id, "note": note})
    return flag


def anomaly_flags_mark_alerted(*, actor, flag_ids) -> list[int]:
    """The IT Center's alert claims the flags it is about to announce: of `flag_ids`, those processed and
    not alerted yet get `alerted_at` now, and their ids are returned — only those may be announced.
    Call it inside the transaction that writes the notifications (outbox rows), so that the claim and
    the notices commit or roll back together: a second run, or a second worker waiting on the row
    locks, gets an empty list. Flags are alerted once, whatever the number of callers."""
    ensure_right(actor, Right.ANOMALY_ALERTS_SEND, _("Only IT Center administrators may mark anomaly alerts as sent."))
    ids = [flag_id for flag_id in flag_ids if isinstance(flag_id, int) and not isinstance(flag_id, bool)]
    if not ids:
        return []
    with transaction.atomic():
        claimed = list(AnomalyFlag.objects.select_for_update().filter(
            pk__in=ids, processed_at__isnull=False, alerted_at__isnull=True).order_by("pk").values_list("pk", flat=True))
        AnomalyFlag.objects.filter(pk__in=claimed).update(alerted_at=timezone.now())
    return claimed


# ----- exporting an officer's lookup history ------------------------------------------------------------

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
    allowed = actor.sees_everything or actor.pk == officer.pk or (
        actor.role == Role.UNIT_LEADER and officer.unit.path.startswith(actor.unit.path))
    if not allowed:
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
