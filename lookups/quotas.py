"""Lookup quotas: per officer and per unit, per minute and per day, exact, all-or-nothing, fail closed.

`quota_consume(officer_id=, unit_id=, limits=, now=)` decides one lookup against four windows —
officer/minute, officer/day, unit/minute, unit/day — aligned to the clock (the minute; the calendar day
in Asia/Ho_Chi_Minh). All four are incremented only when all pass, so a refused request uses up
nothing. No rate-limit library does this (docs/background.md, "Quotas and rate limits").

The engine is PostgreSQL alone, chosen by measurement (README, "Lookup quotas: PostgreSQL alone or
Redis with a PostgreSQL ledger"): the decision writes its record in PostgreSQL anyway, so counting
there costs one more statement in the same transaction, while Redis needed a ledger row, a lock and a
probe in PostgreSQL besides its own round trip to stay exact across its restarts and failovers.

How: one call of the database function `lookups_quota_consume` (migrations 0008 and 0012), one round
trip. The table `lookups_quotacounter` has one row per subject and window kind (`officer:<id>:minute`,
…); the function adds one to each of the four with an UPDATE per row in key order (no deadlock between
decisions; a row of an older window starts the new one at 1), inserting a row only when it is missing,
and when any window is then over its limit takes the four counts back before anyone can see them
(the rows stay locked): a refused request uses up nothing. The row locks serialise the decisions
of one officer and one unit until the caller's transaction ends; decisions of other units never wait.
The counts are committed rows: exact under any number of concurrent callers, across a restart of
the web workers or of PostgreSQL itself (a transaction that did not commit counted nothing), and
behind a transaction-pooling PgBouncer (no session state: no advisory lock, no SQL-level PREPARE).
Nothing grows with time: at most two rows per officer and two per unit, updated in place.

Call it inside the transaction that writes the lookup record (lookups.services.lookup_decide): the
count then commits with its record or not at all. Times are the caller's `now` (Django's
timezone.now(), DESIGN's one clock). Fail closed: when PostgreSQL does not answer, the result is a
refusal with reason `quota_unavailable` — never an uncounted allow.
"""
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from .choices import QuotaBackend, QuotaWindow

logger = logging.getLogger(__name__)

QUOTA_TIME_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
WINDOWS = (QuotaWindow.OFFICER_MINUTE, QuotaWindow.OFFICER_DAY, QuotaWindow.UNIT_MINUTE, QuotaWindow.UNIT_DAY)
WINDOW_SECONDS = {QuotaWindow.OFFICER_MINUTE: 60, QuotaWindow.OFFICER_DAY: 86400,
                  QuotaWindow.UNIT_MINUTE: 60, QuotaWindow.UNIT_DAY: 86400}
UNAVAILABLE = "quota_unavailable"


@dataclass(frozen=True)
class Limits:
    officer_minute: int
    officer_day: int
    unit_minute: int
    unit_day: int
    # Limits in shadow mode (window name → limit): counted against, never refused (QuotaOverride.shadow).
    shadow: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        for name in WINDOWS:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"quota limit {name} must be a whole number ≥ 1, not {value!r}")

    def of(self, window) -> int:
        return getattr(self, str(window))


@dataclass(frozen=True)
class QuotaResult:
    allowed: bool
    reason: str  # "" when allowed; "quota_officer_minute" … the binding window; "quota_unavailable"
    exceeded: list = field(default_factory=list)  # window names, in WINDOWS order
    retry_after: int = 0  # whole seconds until the binding window frees (0 when allowed)
    remaining: dict = field(default_factory=dict)  # window name → what is left after this decision
    resets: dict = field(default_factory=dict)  # window name → whole seconds until the window ends
    limits: Limits | None = None
    backend: str = ""  # "redis" | "database" | "" (neither answered)


# ----- windows ---------------------------------------------------------------------------------------

def window_bounds(window, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the window holding `now`: the clock minute, or the calendar day in Vietnam."""
    if WINDOW_SECONDS[window] == 60:
        start = now.astimezone(UTC).replace(second=0, microsecond=0)
        return start, start + timedelta(minutes=1)
    local = now.astimezone(QUOTA_TIME_ZONE)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def _subject_key(window, officer_id: int, unit_id: int) -> str:
    """The counter row's key of `window` (lookups_quota_consume, migration 0012, builds the same)."""
    subject = f"officer:{officer_id}" if window.startswith("officer") else f"unit:{unit_id}"
    return f"{subject}:{'minute' if WINDOW_SECONDS[window] == 60 else 'day'}"


def _seconds_until(end: datetime, now: datetime) -> int:
    return max(1, math.ceil((end - now).total_seconds()))


def _result(*, allowed, counts, limits, now, backend) -> QuotaResult:
    """`counts` are the windows' counts after the decision (unchanged when refused)."""
    exceeded, remaining, resets = [], {}, {}
    ends = {}  # a window's length → seconds until it ends: the officer's and the unit's share each
    for window, count in zip(WINDOWS, counts):
        limit = limits.of(window)
        if not allowed and count + 1 > limit:
            exceeded.append(str(window))
        remaining[str(window)] = max(0, limit - count)
        length = WINDOW_SECONDS[window]
        if length not in ends:
            ends[length] = _seconds_until(window_bounds(window, now)[1], now)
        resets[str(window)] = ends[length]
    retry_after = max((resets[name] for name in exceeded), default=0)
    binding = max(exceeded, key=lambda name: (resets[name], WINDOW_SECONDS[name]), default="")
    return QuotaResult(allowed=allowed, reason=f"quota_{binding}" if binding else "", exceeded=exceeded,
                       retry_after=retry_after, remaining=remaining, resets=resets, limits=limits,
                       backend=backend)


def _unavailable(limits) -> QuotaResult:
    return QuotaResult(allowed=False, reason=UNAVAILABLE, retry_after=settings.QUOTA_UNAVAILABLE_RETRY_AFTER,
                       limits=limits, backend="")


# ----- the decision ------------------------------------------------------------------------------------

CONSUME_SQL = "SELECT lookups_quota_consume(%s, %s, %s, %s)"


def quota_result(*, allowed: bool, counts, limits: Limits, now: datetime, unavailable: bool = False) -> QuotaResult:
    """The result of a count made in the database (`counts`: the four windows' after the decision)."""
    if unavailable:
        return _unavailable(limits)
    return _result(allowed=allowed, counts=counts, limits=limits, now=now, backend=QuotaBackend.DATABASE)


def quota_consume(*, officer_id: int, unit_id: int, limits: Limits, now: datetime | None = None) -> QuotaResult:
    """Count one lookup of `officer_id` (of `unit_id`) if all four windows have room; else refuse and
    count nothing. Inside a transaction the count commits with it; outside one it commits at once.
    Never raises for the database: a DatabaseError is a `quota_unavailable` refusal (inside a
    transaction, the caller's transaction is then broken and must be rolled back). The lookup decision
    counts through lookups_decision_write instead, which calls the same database function."""
    now = now or timezone.now()
    try:
        with connection.cursor() as cursor:
            cursor.execute(CONSUME_SQL, [officer_id, unit_id, now, [limits.of(window) for window in WINDOWS]])
            status, *counts = cursor.fetchone()[0]
    except DatabaseError:
        logger.exception("Quota database unreachable: lookup refused (fail closed)")
        return _unavailable(limits)
    return quota_result(allowed=status == 1, counts=counts, limits=limits, now=now)


def quota_counters_prune(*, older_than: timedelta = timedelta(days=2), now: datetime | None = None) -> int:
    """Delete the counters of subjects not counted for `older_than` (officers who left, units merged):
    the only rows the table could otherwise keep for ever. Returns how many were deleted."""
    from .models import QuotaCounter

    with transaction.atomic():
        deleted, _ = QuotaCounter.objects.filter(window_end__lt=(now or timezone.now()) - older_than).delete()
    return deleted


# ----- HTTP headers --------------------------------------------------------------------------------------

def ratelimit_headers(result: QuotaResult) -> dict:
    """`Retry-After` (RFC 9110 delay-seconds) when refused, and the IETF RateLimit-Policy / RateLimit
    fields (draft-ietf-httpapi-ratelimit-headers-10: structured-field lists of items named by policy,
    `q` quota and `w` window in seconds; `r` remaining and `t` seconds until the window resets)."""
    headers = {}
    if not result.allowed:
        headers["Retry-After"] = str(max(1, result.retry_after))
    if result.limits is not None and result.remaining:
        headers["RateLimit-Policy"] = ", ".join(
            f'"{window}";q={result.limits.of(window)};w={WINDOW_SECONDS[window]}' for window in WINDOWS)
        headers["RateLimit"] = ", ".join(
            f'"{window}";r={result.remaining[str(window)]};t={result.resets[str(window)]}' for window in WINDOWS)
    return headers
