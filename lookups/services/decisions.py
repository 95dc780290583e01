"""The lookup decision (`lookup_decide`): one flow for the API and the officer's page, every decision
recorded exactly once.

Where the time goes and why it is written this way: README, "Where a decision's time goes". In short,
after the API client's token a decision is two statements: the officer (with its unit, the policy
record, its lockout figures, its quota overrides and the anomaly rules' facts: lookups.selectors.
officer_for_decision), then, once every rule but the quotas has passed, `lookups_decision_write` — the
quota count, the record and its anomaly flags in one statement, which is one transaction. A refusal
before the quotas is one INSERT. The statements the ORM would rebuild on every call are written once.
"""
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, InterfaceError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import account_contained
from accounts.scope import unit_within
from policy.selectors import password_change_reason
from portal.audit_context import current_audit_context
from portal.errors import DomainError, NotAllowed, PolicyViolation, QuotaExceeded
from portal.text import first_invisible_character

from ..anomalies import anomalies_of, quota_rule_parameters
from ..choices import AnomalyKind, Decision
from ..models import LookupRecord
from ..quotas import QUOTA_TIME_ZONE, UNAVAILABLE, WINDOWS, QuotaResult, quota_result
from ..selectors import DecisionOfficer, officer_for_decision
from ..validation import (
    citizen_id_checked,
    citizen_id_maskable,
    citizen_id_masked,
    dossier_code_checked,
    purpose_checked,
)

logger = logging.getLogger(__name__)

USERNAME_MAX = 64


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


def _encodable(value) -> bool:
    """Can PostgreSQL take this text? A lone UTF-16 surrogate (JSON's "\\ud800") is a str Python
    holds but no UTF-8 encoder writes."""
    if not isinstance(value, str):
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _username(value) -> str | None:
    """The username as accounts keep it (folded), or None when no account can hold this one."""
    if not isinstance(value, str) or not _encodable(value):
        return None
    value = value.strip().lower()
    if not 0 < len(value) <= USERNAME_MAX or first_invisible_character(value) is not None:
        return None  # no username holds one (and PostgreSQL refuses a NUL in a query: never a 500)
    return value


def _officer_checked(*, actor, client, found: DecisionOfficer | None) -> None:
    """Who may be decided for. Scope first, on its own: an API client learns nothing of an account
    outside its units — an unknown username and an account outside its subtree get the same answer,
    whatever that account's state."""
    officer = found.officer if found is not None else None
    if client is not None:
        in_scope = officer is not None and unit_within(officer.unit, client.unit)
    else:  # the portal's own page: an officer looks up for themself
        in_scope = officer is not None and getattr(actor, "pk", None) == officer.pk
    if not in_scope:
        if client is None and officer is None:
            raise NotAllowed(_("No active account has this username."), code="officer_disabled")
        raise NotAllowed(_("This officer is outside the units this system may decide for."),
                         code="out_of_scope")
    _officer_state_checked(officer, locked_until=found.locked_until, contained_paths=found.contained_paths)


def _officer_state_checked(officer, *, locked_until, contained_paths: list[str]) -> None:
    """The state of an account in scope: each state that stops it looking up citizens, in turn."""
    if not officer.is_active:
        raise NotAllowed(_("No active account has this username."), code="officer_disabled")
    if locked_until is not None:
        raise NotAllowed(_("This officer's account is locked after failed sign-ins."), code="officer_locked")
    # Incident containment (incidents app): held while the containment lasts; once lifted, the forced
    # password change below keeps refusing until the officer has chosen a new password. The contained
    # units were read with the officer (lookups_decision_facts): the rule itself is accounts'.
    if account_contained(officer, contained_paths=contained_paths):
        raise NotAllowed(_("This officer's account is held by an incident containment."), code="contained")
    if password_change_reason(officer):
        raise NotAllowed(_("This officer must change their password before looking up citizens."),
                         code="officer_must_change_password")
    if not officer.can_lookup:
        raise NotAllowed(_("This officer does not hold the right to look up citizens."), code="no_lookup_right")


def _text(value, limit: int) -> str:
    """What a record keeps of a typed field: a string cut to the column (never a control character,
    never text PostgreSQL cannot store)."""
    if not isinstance(value, str) or not _encodable(value):
        return ""
    value = value.strip()[:limit]
    return "" if first_invisible_character(value) is not None else value


RECORD_COLUMNS = ("decided_at", "officer_id", "officer_username", "unit_id_then", "unit_code_then", "client_id",
                  "dossier_code", "purpose", "decision", "reason", "citizen_id_hash", "citizen_id_masked",
                  "ip_address", "request_id")
# The ORM's create() costs more Python than the rest of the write: the record is one plain INSERT.
RECORD_SQL = "INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING id".format(
    table=LookupRecord._meta.db_table, columns=", ".join(RECORD_COLUMNS),
    values=", ".join(["%s"] * len(RECORD_COLUMNS)))


def _record_insert(**fields) -> LookupRecord:
    with connection.cursor() as cursor:
        cursor.execute(RECORD_SQL, [fields[column] for column in RECORD_COLUMNS])
        record_id = cursor.fetchone()[0]
    return LookupRecord(id=record_id, **fields)


def _record_fields(*, now, client, officer, officer_username, citizen_id, dossier_code, purpose, error,
                   citizen_hash: str | None = None) -> dict:
    """The record's columns. `citizen_hash`: citizen_id_hash of the trimmed number when the caller has
    it already (an HMAC a decision need not compute twice)."""
    context = current_audit_context()
    citizen = citizen_id.strip() if isinstance(citizen_id, str) and _encodable(citizen_id) else ""
    if citizen_hash is None:
        citizen_hash = citizen_id_hash(citizen) if citizen else ""
    return {
        "decided_at": now,
        "officer_id": officer.pk if officer is not None else None,
        "officer_username": officer.username if officer is not None else _text(officer_username, USERNAME_MAX),
        "unit_id_then": officer.unit_id if officer is not None else None,
        "unit_code_then": officer.unit.code if officer is not None else "",
        "client_id": client.pk if client is not None else None,
        "dossier_code": _text(dossier_code, 40),
        "purpose": _text(purpose, 300),
        "decision": Decision.REFUSE if error is not None else Decision.ALLOW,
        "reason": error.code if error is not None else "",
        "citizen_id_hash": citizen_hash,
        # Only a number is masked: whatever else was typed stays out of what people read and export.
        "citizen_id_masked": citizen_id_masked(citizen) if citizen_id_maskable(citizen) else "",
        "ip_address": context.ip_address,
        "request_id": context.request_id[:64],
    }


def _record(*, error, officer, **fields) -> LookupRecord:
    return _record_insert(**_record_fields(error=error, officer=officer, **fields))


# What a lookup meets when PostgreSQL fails under it: an error of the statement (DatabaseError), or, once
# the connection has been dropped (a restart, pg_terminate_backend), "connection already closed" on the
# next statement (InterfaceError, which is not a DatabaseError). Either way: refused, never a 500.
DATABASE_FAILURES = (DatabaseError, InterfaceError)


def _unrecorded() -> DomainError:
    return Unavailable(_("The lookup could not be recorded, so it is not allowed. Try again in a moment."),
                       code="record_unavailable", retry_after=settings.QUOTA_UNAVAILABLE_RETRY_AFTER)


def lookup_decide(*, actor, client, officer_username, citizen_id, dossier_code, purpose,
                  malformed: str | None = None, now: datetime | None = None) -> LookupDecision:
    """May this officer look up this citizen for this dossier? Refused for bad input, for an officer
    the caller may not decide for or who may not look up now, and over quota — the quotas consulted
    last, only when everything else passes, so that a refusal uses up none. `client` is the API
    client asking (None for the portal's own page, where `actor` is the officer). `malformed` is the
    interface's message when the request itself could not be read (the fields are then whatever it
    could make out): refused as `malformed`, recorded like any other. `now` is the decision's time
    (the record's, the quota windows', "today" for the dates typed): tests pin it; callers leave it.

    Every decision is recorded exactly once. An allow, its record, its count in the quotas and its
    anomaly flags commit in one transaction: if the record cannot be written, nothing is allowed and
    nothing is counted, and the answer is a refusal (`record_unavailable`), itself recorded when the
    database lets it."""
    if actor is None:
        raise TypeError("The actor is never None: pass a User or a portal.actors.SystemActor.")
    now = now or timezone.now()
    today = now.astimezone(QUOTA_TIME_ZONE).date()
    fields = {"now": now, "client": client, "officer_username": officer_username, "citizen_id": citizen_id,
              "dossier_code": dossier_code, "purpose": purpose}
    officer = None
    try:
        username = _username(officer_username)
        citizen = citizen_id.strip() if isinstance(citizen_id, str) and _encodable(citizen_id) else ""
        dossier = dossier_code.strip() if isinstance(dossier_code, str) and _encodable(dossier_code) else ""
        hashed = citizen_id_hash(citizen) if citizen else ""
        found = officer_for_decision(username, now=now, citizen_id_hash=hashed,
                                     dossier_code=dossier) if username is not None else None
        officer = found.officer if found is not None else None
        if malformed is not None:
            raise PolicyViolation(malformed, code="malformed")
        if not all(_encodable(value) for value in (officer_username, citizen_id, dossier_code, purpose)):
            raise PolicyViolation(_("The request holds text that is not valid Unicode (a lone surrogate): "
                                    "send each field as valid UTF-8 text."), code="malformed")
        citizen_id_checked(citizen_id, today=today)
        dossier_code_checked(dossier_code, today=today)
        purpose_checked(purpose)
        _officer_checked(actor=actor, client=client, found=found)
    except DomainError as error:
        return _refused(fields, officer=officer, error=error)
    except DATABASE_FAILURES:
        logger.exception("Lookup refused: the database did not answer")
        return _refused(fields, officer=officer, error=_unrecorded())
    record = _record_fields(officer=officer, error=None, citizen_hash=hashed, **fields)
    flags = anomalies_of(LookupRecord(**record), officer, None, found.facts)
    try:
        if connection.in_atomic_block:  # a caller's transaction: a savepoint, so a failure leaves it usable
            with transaction.atomic():
                status, counts, record_id = _decision_write(officer=officer, limits=found.limits, record=record,
                                                            flags=flags, now=now)
        else:  # one statement, one transaction of its own
            status, counts, record_id = _decision_write(officer=officer, limits=found.limits, record=record,
                                                        flags=flags, now=now)
    except DATABASE_FAILURES as failure:
        if _in_quota_function(failure):  # fail closed: nothing counted, nothing allowed
            logger.exception("Lookup refused: the quotas could not be counted")
            unavailable = quota_result(allowed=False, counts=None, limits=found.limits, now=now, unavailable=True)
            return _refused(fields, officer=officer, error=_quota_error(unavailable), quota=unavailable)
        logger.exception("Lookup refused: its record could not be written")
        return _refused(fields, officer=officer, error=_unrecorded())
    result = quota_result(allowed=status == 1, counts=counts, limits=found.limits, now=now)
    error = None if result.allowed else _quota_error(result)
    return LookupDecision(allowed=result.allowed, record_id=record_id, error=error, quota=result, decided_at=now)


def _in_quota_function(failure: DatabaseError) -> bool:
    """Did the decision's statement fail while counting the quotas (PostgreSQL names the function in
    the error's context), rather than while writing the record?"""
    diag = getattr(getattr(failure, "__cause__", None), "diag", None) or getattr(failure, "diag", None)
    return "lookups_quota_consume" in (getattr(diag, "context", None) or "")


# The quotas, the record and (when allowed) its anomaly flags in one statement (migrations 0009, 0012, 0013).
DECISION_SQL = "SELECT lookups_decision_write({})".format(", ".join(["%s"] * 18))


def _decision_write(*, officer, limits, record: dict, flags: dict, now) -> tuple[int, list[int], int]:
    """(1 allowed | 0 refused, the four windows' counts after the decision, the record's id)."""
    near, shadow = quota_rule_parameters(limits)
    with connection.cursor() as cursor:
        cursor.execute(DECISION_SQL, [
            officer.pk, officer.unit_id, now, [limits.of(window) for window in WINDOWS],
            record["officer_username"], record["unit_code_then"], record["client_id"], record["dossier_code"],
            record["purpose"], record["citizen_id_hash"], record["citizen_id_masked"], record["ip_address"],
            record["request_id"],
            json.dumps([{"kind": str(kind), "details": details} for kind, details in flags.items()]),
            str(AnomalyKind.NEAR_QUOTA), near, str(AnomalyKind.QUOTA_SHADOW_EXCEEDED), shadow])
        status, *counts, record_id = cursor.fetchone()[0]
    return status, counts, record_id


def _refused(fields, *, officer, error: DomainError, quota: QuotaResult | None = None) -> LookupDecision:
    try:
        if connection.in_atomic_block:  # a savepoint: a failure leaves the caller's transaction usable
            with transaction.atomic():
                record = _record(officer=officer, error=error, **fields)
        else:  # one INSERT, its own transaction
            record = _record(officer=officer, error=error, **fields)
    except DATABASE_FAILURES:
        logger.exception("A refused lookup could not be recorded")
        return LookupDecision(allowed=False, record_id=None, error=error, quota=quota)
    return LookupDecision(allowed=False, record_id=record.pk, error=error, quota=quota,
                          decided_at=record.decided_at)
