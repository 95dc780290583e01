"""Anomaly rules: what makes an allowed lookup worth a second look (issue "Anomalies").

`anomaly_flags_write(record=, officer=, quota=)` runs inside the decision's transaction, right after
the record is written, and inserts one `AnomalyFlag` per rule the lookup trips. It costs the hot path
one SELECT (every rule that needs the database answered by one statement of indexed subqueries) and,
only when something is flagged, one INSERT — never a call to the Celery broker: the job
`lookups.process_anomaly_flags` picks the flags up (audit event, then the IT Center's alert).

The rules, judged on allowed lookups only (a refusal gave nothing away and is in the log already):
- outside office hours: the decision's time in Asia/Ho_Chi_Minh is not between
  LOOKUP_OFFICE_HOURS_START and LOOKUP_OFFICE_HOURS_END of a working day (Monday to Friday, not a
  public holiday the IT Center keeps — the accounts app's Holiday table, as the service levels use);
- burst near the quota: this lookup is the one that brought the officer's minute or day to
  LOOKUP_ANOMALY_QUOTA_SHARE of its limit (once per window: the counts are exact, so exactly one lookup
  reaches that count);
- many different citizens for one dossier: more than LOOKUP_ANOMALY_DOSSIER_CITIZENS different citizens
  allowed for one dossier code within LOOKUP_ANOMALY_WINDOW_HOURS, flagged on each new citizen past it;
- a citizen born in another province for an officer of a ward, commune or town: the ID's first three
  digits (the province where the birth was registered, kept in the record's mask) are not one of
  LOOKUP_HOME_PROVINCE_CODES;
- the same citizen looked up by many officers: more than LOOKUP_ANOMALY_CITIZEN_OFFICERS different
  officers allowed for one citizen within the window, flagged on each new officer past it;
- an account used after its disabling was requested: a submitted or accepted turnover request has a
  line disabling this officer's account;
- past a quota in shadow mode: a quota override in shadow mode (QuotaOverride.shadow) would have
  refused this lookup; it was allowed by the limit enforced, and counted here.

Under concurrency the counting rules are judged on what is committed plus the decision's own record:
two lookups crossing a threshold at the same instant may both miss it, and the next one is flagged.
They are alarms for people to look at, not quotas: the quotas are what is exact.
"""
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import connection

from accounts.choices import TurnoverAction, TurnoverState, UnitKind
from accounts.models import User
from policy.compliance import is_working_day

from .choices import AnomalyKind, Decision, QuotaWindow
from .models import AnomalyFlag, LookupRecord
from .quotas import QUOTA_TIME_ZONE, QuotaResult
from .validation import PROVINCE_CODES

COMMUNE_LEVEL = (UnitKind.WARD, UnitKind.COMMUNE, UnitKind.TOWN)
OPEN_TURNOVER_STATES = (TurnoverState.SUBMITTED, TurnoverState.ACCEPTED)


@dataclass(frozen=True)
class Facts:
    """What the database says around one allowed lookup (its own record included)."""

    holiday: bool
    dossier_citizens: int  # different citizens allowed for the dossier within the window
    citizen_new_to_dossier: bool
    citizen_officers: int  # different officers allowed for the citizen within the window
    officer_new_to_citizen: bool
    disable_request_id: int | None  # an open turnover request disabling the officer


def _office_hours() -> tuple[time, time]:
    return (time.fromisoformat(settings.LOOKUP_OFFICE_HOURS_START),
            time.fromisoformat(settings.LOOKUP_OFFICE_HOURS_END))


# One statement, each part served by an index (lookup_record_dossier, lookup_record_citizen, the
# turnover line's account, the holiday's date), kept as the database function lookups_anomaly_facts
# (migration 0008). Written as SQL: the ORM spent ~7 ms of Python compiling the same query as annotated
# subqueries, against well under a millisecond for PostgreSQL to plan and run it. A PL/pgSQL function's
# plan is prepared once per server connection and then only executed (its planning, ~0.5 ms of
# several subqueries, was most of what the rules cost a decision) — server-side, so it keeps working
# behind a transaction-pooling PgBouncer, where an SQL-level PREPARE made on one client connection is
# not there for the next transaction (README, "PgBouncer").
FACTS_SQL = "SELECT * FROM lookups_anomaly_facts(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


def facts_about(record: LookupRecord, officer: User) -> Facts:
    since = record.decided_at - timedelta(hours=settings.LOOKUP_ANOMALY_WINDOW_HOURS)
    day = record.decided_at.astimezone(QUOTA_TIME_ZONE).date()
    params = [day, officer.pk, TurnoverAction.DISABLE.value, *(state.value for state in OPEN_TURNOVER_STATES),
              record.citizen_id_hash, record.pk, record.dossier_code, Decision.ALLOW.value, since]
    with connection.cursor() as cursor:
        cursor.execute(FACTS_SQL, params)
        holiday, dossier_citizens, citizen_seen, citizen_officers, officer_seen, disable_request = cursor.fetchone()
    return Facts(holiday=bool(holiday), dossier_citizens=dossier_citizens or 0,
                 citizen_new_to_dossier=not citizen_seen, citizen_officers=citizen_officers or 0,
                 officer_new_to_citizen=not officer_seen, disable_request_id=disable_request)


def _outside_office_hours(moment: datetime, holiday: bool) -> dict | None:
    local = moment.astimezone(QUOTA_TIME_ZONE)
    start, end = _office_hours()
    working_day = is_working_day(local.date(), {local.date()} if holiday else set())
    if working_day and start <= local.time() < end:
        return None
    return {"local_time": local.strftime("%H:%M"), "working_day": working_day}


def near_quota_threshold(limit: int) -> int:
    """The count of a window of `limit` that is "near the quota" (0: none, for a limit of 1)."""
    if limit <= 1:
        return 0
    return max(1, -(-limit * settings.LOOKUP_ANOMALY_QUOTA_PERCENT // 100))  # ceil


def _near_quota(quota: QuotaResult | None) -> dict | None:
    """The lookup that brought the officer's minute or day to the share of its limit (the day first
    when both: the longer burst)."""
    if quota is None or quota.limits is None or not quota.allowed:
        return None
    for window in (QuotaWindow.OFFICER_DAY, QuotaWindow.OFFICER_MINUTE):
        limit = quota.limits.of(window)
        used = limit - quota.remaining.get(str(window), limit)
        threshold = near_quota_threshold(limit)
        if threshold and used == threshold:
            return {"window": str(window), "used": used, "limit": limit}
    return None


def quota_rule_parameters(limits) -> tuple[list[int], list[int]]:
    """The two rules that depend on the lookup's own count (near the quota, past a shadow quota), as
    the decision's database function applies them (migration 0009) when it counts: the officer's day
    and minute thresholds (0: none), and the shadow limits of the four windows (0: none)."""
    near = [near_quota_threshold(limits.of(QuotaWindow.OFFICER_DAY)),
            near_quota_threshold(limits.of(QuotaWindow.OFFICER_MINUTE))]
    shadow = [limits.shadow.get(str(window)) or 0 for window in
              (QuotaWindow.OFFICER_MINUTE, QuotaWindow.OFFICER_DAY, QuotaWindow.UNIT_MINUTE, QuotaWindow.UNIT_DAY)]
    return near, shadow


def _other_province(record: LookupRecord, officer: User) -> dict | None:
    if officer.unit.kind not in COMMUNE_LEVEL:
        return None
    code = record.citizen_id_masked[:3]
    if code in settings.LOOKUP_HOME_PROVINCE_CODES or code not in PROVINCE_CODES:
        return None
    return {"province_code": code, "province": PROVINCE_CODES[code]}


def anomalies_of(record: LookupRecord, officer: User, quota: QuotaResult | None, facts: Facts) -> dict:
    """{kind: details} of every rule the allowed lookup trips (pure: the facts are given)."""
    found = {}
    outside = _outside_office_hours(record.decided_at, facts.holiday)
    if outside is not None:
        found[AnomalyKind.OUTSIDE_OFFICE_HOURS] = outside
    near = _near_quota(quota)
    if near is not None:
        found[AnomalyKind.NEAR_QUOTA] = near
    hours = settings.LOOKUP_ANOMALY_WINDOW_HOURS
    citizens_max = settings.LOOKUP_ANOMALY_DOSSIER_CITIZENS
    if facts.citizen_new_to_dossier and facts.dossier_citizens > citizens_max:
        found[AnomalyKind.DOSSIER_MANY_CITIZENS] = {"citizens": facts.dossier_citizens, "threshold": citizens_max,
                                                    "hours": hours}
    other = _other_province(record, officer)
    if other is not None:
        found[AnomalyKind.CITIZEN_OTHER_PROVINCE] = other
    officers_max = settings.LOOKUP_ANOMALY_CITIZEN_OFFICERS
    if facts.officer_new_to_citizen and facts.citizen_officers > officers_max:
        found[AnomalyKind.CITIZEN_MANY_OFFICERS] = {"officers": facts.citizen_officers, "threshold": officers_max,
                                                    "hours": hours}
    if facts.disable_request_id is not None:
        found[AnomalyKind.DISABLE_REQUESTED] = {"turnover_request": facts.disable_request_id}
    shadow = _past_a_shadow_quota(quota)
    if shadow is not None:
        found[AnomalyKind.QUOTA_SHADOW_EXCEEDED] = shadow
    return found


def _past_a_shadow_quota(quota: QuotaResult | None) -> dict | None:
    """An allowed lookup that a quota in shadow mode would have refused (the first such window)."""
    if quota is None or quota.limits is None or not quota.allowed or not quota.limits.shadow:
        return None
    for window in (QuotaWindow.OFFICER_MINUTE, QuotaWindow.OFFICER_DAY, QuotaWindow.UNIT_MINUTE, QuotaWindow.UNIT_DAY):
        shadow_limit = quota.limits.shadow.get(str(window))
        if shadow_limit is None:
            continue
        limit = quota.limits.of(window)
        used = limit - quota.remaining.get(str(window), limit)
        if used > shadow_limit:
            return {"window": str(window), "used": used, "limit": shadow_limit}
    return None


def anomaly_flags_write(*, record: LookupRecord, officer: User, quota: QuotaResult | None) -> list[AnomalyFlag]:
    """In the decision's transaction: judge the allowed lookup, insert its flags (one INSERT, only
    when there are any) and return them."""
    if record.decision != Decision.ALLOW:
        return []
    found = anomalies_of(record, officer, quota, facts_about(record, officer))
    if not found:
        return []
    return AnomalyFlag.objects.bulk_create([
        AnomalyFlag(lookup_id=record.pk, decided_at=record.decided_at, kind=kind, officer_id=officer.pk,
                    officer_username=record.officer_username, unit_id_then=record.unit_id_then,
                    unit_code_then=record.unit_code_then, details=details)
        for kind, details in found.items()
    ])
