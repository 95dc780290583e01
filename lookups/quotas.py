"""Lookup quotas: per officer and per unit, per minute and per day, exact, all-or-nothing, fail closed.

`quota_consume(officer_id=, unit_id=, limits=)` decides one lookup against four windows — officer/minute,
officer/day, unit/minute, unit/day — aligned to the clock (the minute; the calendar day in
Asia/Ho_Chi_Minh). All four are checked first and incremented only when all pass, so a refused request
uses up nothing. No rate-limit library does this (docs/background.md "Lookup quotas").

Redis (settings.QUOTA_REDIS_URL) decides in ONE Lua script, one round trip (EVALSHA, loaded again when
missing): the window comes from Redis's own `TIME`, never the web worker's clock; each key's expiry
(≤ its window) is set in the same script, so no key is ever left without a TTL; the four keys share the
hash tag `{unit:<id>}` so the script runs on a Redis Cluster. A key is a hash {w: window start, c: count}:
a hash of an older window counts as empty. Tests pass `now` to pin the clock; production never does
(the script then calls TIME) — sleeping to a minute edge would cost a minute per test, and the
23:59:59 → 00:00:00 edge of a Vietnamese day cannot be slept to at all.

PostgreSQL twin (used when Redis does not answer within QUOTA_REDIS_SOCKET_TIMEOUT): the same four
windows as rows of `lookups_quotacounter`, decided under an exclusive transaction-level advisory lock on
the unit (every window of a decision belongs to one unit: an officer has one), rows read FOR UPDATE in
a fixed order, all four checked, all four incremented only when all pass.

How the two never allow more than the quota between them (no 2× at a switch)
---------------------------------------------------------------------------
1. A ledger. Every allow, whichever backend made it, inserts one `lookups_quotagrant` row (officer,
   unit, the time the deciding backend saw) in the same transaction as the decision. Insert-only, no
   lock: it costs the hot path one INSERT. It is the truth of "how many were allowed in this window",
   and it is what lets the database know what Redis allowed while Redis cannot be asked.
2. One lock, two modes. A Redis-path decision holds the unit's advisory lock SHARED (Redis-path
   decisions never wait for each other) from before it checks the twin until its grant commits; a
   database-path decision (and a seeding) holds it EXCLUSIVE, so it starts only once every Redis-path
   decision of that unit in flight has committed its grant or given up, and none starts until it ends.
3. Redis → PostgreSQL. The first database decision in a window creates that window's counter row
   seeded with the ledger's count for the window — so everything Redis allowed is counted — and then
   counts on in the row. While a unit has counter rows for a current window, every decision of the unit
   goes to the database, even from a worker that can reach Redis (it sees the rows under the shared
   lock): the twin is authoritative for that unit until it hands back.
4. PostgreSQL → Redis. A database decision made while Redis answers again (not the one whose Redis call
   just failed; at most once per QUOTA_REDIS_RETRY_SECONDS per process) writes every current counter
   of the unit into Redis, still under the exclusive lock, and deletes the rows in the same
   transaction: Redis then holds exactly the twin's counts, and the next Redis-path decision, waiting
   on the lock, sees no rows and uses Redis.
5. Redis that lost its data (restarted empty, failed over to an empty replica). A subject (officer or
   unit) whose day hash is missing or of another day may have lost its counts: the script answers
   "seed" instead of deciding, and the caller — under the exclusive lock — counts the ledger for that
   subject's minute and day and runs the script again with those counts. This happens once per
   officer and unit per day (a new day starts with no hash) and after any loss.
6. Over-counting is the only error left, and it is safe: a script whose reply timed out may still have
   incremented Redis, and a grant rolled back with the caller's transaction leaves Redis's increment;
   both make Redis stricter, never looser, and the next seeding or hand-back replaces Redis's counts with
   the ledger's.
Assumptions: the quota Redis never evicts (`maxmemory-policy noeviction`) and loses either nothing or a
subject's whole day hash (AOF with `appendfsync always`, or no persistence at all: then step 5 reseeds);
workers' clocks and Redis's agree to NTP accuracy (the twin uses Django's `timezone.now()`).

Fail closed: when neither backend answers, the result is a refusal with reason `quota_unavailable` —
never an uncounted allow. Call it outside the caller's transaction when possible (its locks and grant
then commit at once); inside one, it runs in a savepoint and its locks last until the caller commits.
"""
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import redis
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from .choices import QuotaBackend, QuotaWindow
from .models import QuotaCounter, QuotaGrant

logger = logging.getLogger(__name__)

QUOTA_TIME_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
WINDOWS = (QuotaWindow.OFFICER_MINUTE, QuotaWindow.OFFICER_DAY, QuotaWindow.UNIT_MINUTE, QuotaWindow.UNIT_DAY)
WINDOW_SECONDS = {QuotaWindow.OFFICER_MINUTE: 60, QuotaWindow.OFFICER_DAY: 86400,
                  QuotaWindow.UNIT_MINUTE: 60, QuotaWindow.UNIT_DAY: 86400}
UNAVAILABLE = "quota_unavailable"
# The first key of pg_advisory_xact_lock(int, int): the quota locks' own space (the second is the unit).
LOCK_CLASS = 0x4C51  # "LQ"


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
    subject = f"officer:{officer_id}" if window.startswith("officer") else f"unit:{unit_id}"
    return f"{subject}:{'minute' if WINDOW_SECONDS[window] == 60 else 'day'}"


def redis_key(unit_id: int, subject_key: str) -> str:
    """`<prefix>:{unit:<id>}:officer:<id>:minute` — the hash tag keeps a unit's keys in one slot."""
    return f"{settings.QUOTA_KEY_PREFIX}:{{unit:{unit_id}}}:{subject_key}"


def _seconds_until(end: datetime, now: datetime) -> int:
    return max(1, math.ceil((end - now).total_seconds()))


def _result(*, allowed, counts, limits, now, backend) -> QuotaResult:
    """`counts` are the windows' counts after the decision (unchanged when refused)."""
    exceeded, remaining, resets = [], {}, {}
    for window, count in zip(WINDOWS, counts):
        limit = limits.of(window)
        if not allowed and count + 1 > limit:
            exceeded.append(str(window))
        remaining[str(window)] = max(0, limit - count)
        resets[str(window)] = _seconds_until(window_bounds(window, now)[1], now)
    retry_after = max((resets[name] for name in exceeded), default=0)
    binding = max(exceeded, key=lambda name: (resets[name], WINDOW_SECONDS[name]), default="")
    return QuotaResult(allowed=allowed, reason=f"quota_{binding}" if binding else "", exceeded=exceeded,
                       retry_after=retry_after, remaining=remaining, resets=resets, limits=limits,
                       backend=backend)


def _unavailable(limits) -> QuotaResult:
    return QuotaResult(allowed=False, reason=UNAVAILABLE, retry_after=settings.QUOTA_UNAVAILABLE_RETRY_AFTER,
                       limits=limits, backend="")


# ----- Redis -----------------------------------------------------------------------------------------

# KEYS: officer minute, officer day, unit minute, unit day — hashes {w = window start (s), c = count}.
# ARGV: 1-4 the limits; 5 now in µs, "" for the server's TIME (production); 6 the day's UTC offset (s);
# 7 "seed" when 8-11 carry counts from the ledger ("" = leave that key) counted for the windows at
# 12 (µs), else "".
# Reply: {1 allowed | 0 refused | -1 seed needed, now µs, c1, c2, c3, c4}; for -1, c1 = 1 when the
# officer's keys need seeding and c3 = 1 when the unit's do.
CONSUME_LUA = """
local now_us
if ARGV[5] ~= '' then
  now_us = tonumber(ARGV[5])
else
  local t = redis.call('TIME')
  now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local offset = tonumber(ARGV[6])
local function starts_at(us)
  local s = math.floor(us / 1000000)
  local minute = s - (s % 60)
  local day = s - ((s + offset) % 86400)
  return {minute, day, minute, day}
end
local starts = starts_at(now_us)
local lengths = {60, 86400, 60, 86400}
local function write(i, count)
  redis.call('HSET', KEYS[i], 'w', starts[i], 'c', count)
  local ttl_ms = (starts[i] + lengths[i]) * 1000 - math.floor(now_us / 1000)
  if ttl_ms < 1 then ttl_ms = 1 end
  redis.call('PEXPIRE', KEYS[i], ttl_ms)
end
local counts = {}
local valid = {}
for i = 1, 4 do
  local v = redis.call('HMGET', KEYS[i], 'w', 'c')
  valid[i] = tonumber(v[1]) == starts[i]
  counts[i] = valid[i] and tonumber(v[2]) or 0
end
if ARGV[7] == 'seed' then
  -- the counts are the ledger's for the windows at ARGV[12]: a window that has turned since is not seeded
  local seeded_for = starts_at(tonumber(ARGV[12]))
  for i = 1, 4 do
    if ARGV[7 + i] ~= '' and seeded_for[i] ~= starts[i] then
      return {-1, now_us, ARGV[8] ~= '' and 1 or 0, 0, ARGV[10] ~= '' and 1 or 0, 0}
    end
  end
  for i = 1, 4 do
    if ARGV[7 + i] ~= '' then
      counts[i] = tonumber(ARGV[7 + i])
      valid[i] = true
      write(i, counts[i])
    end
  end
end
if not valid[2] or not valid[4] then
  return {-1, now_us, valid[2] and 0 or 1, 0, valid[4] and 0 or 1, 0}
end
for i = 1, 4 do
  if counts[i] + 1 > tonumber(ARGV[i]) then
    return {0, now_us, counts[1], counts[2], counts[3], counts[4]}
  end
end
for i = 1, 4 do
  counts[i] = counts[i] + 1
  write(i, counts[i])
end
return {1, now_us, counts[1], counts[2], counts[3], counts[4]}
"""

# Hand-back: KEYS are counters to set; ARGV: now in µs ("" = TIME), then per key its window start (s),
# its window length (s) and its count. Keys whose window is over by Redis's clock are left alone.
HANDBACK_LUA = """
local now_us
if ARGV[1] ~= '' then
  now_us = tonumber(ARGV[1])
else
  local t = redis.call('TIME')
  now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local now_ms = math.floor(now_us / 1000)
for i = 1, #KEYS do
  local start = tonumber(ARGV[3 * i - 1])
  local ttl_ms = (start + tonumber(ARGV[3 * i])) * 1000 - now_ms
  if ttl_ms > 0 then
    redis.call('HSET', KEYS[i], 'w', start, 'c', tonumber(ARGV[3 * i + 1]))
    redis.call('PEXPIRE', KEYS[i], ttl_ms)
  end
end
return #KEYS
"""


class _RedisState:
    """The process's quota Redis client and its scripts, and when Redis last failed (so that an
    outage costs each decision nothing, not a timeout each: Redis is tried again after
    QUOTA_REDIS_RETRY_SECONDS)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.url = None
        self.client = None
        self.consume = None
        self.handback = None
        self.failed_at = None

    def get(self):
        url = settings.QUOTA_REDIS_URL
        if not url:
            return None
        with self.lock:
            if self.client is None or self.url != url:
                self.client = redis.Redis.from_url(
                    url, socket_timeout=settings.QUOTA_REDIS_SOCKET_TIMEOUT,
                    socket_connect_timeout=settings.QUOTA_REDIS_SOCKET_TIMEOUT,
                    retry=Retry(NoBackoff(), 0), health_check_interval=0,
                )
                self.consume = self.client.register_script(CONSUME_LUA)
                self.handback = self.client.register_script(HANDBACK_LUA)
                self.url = url
                self.failed_at = None
            return self

    def usable(self) -> bool:
        failed_at = self.failed_at
        return failed_at is None or time.monotonic() - failed_at >= settings.QUOTA_REDIS_RETRY_SECONDS

    def failed(self):
        self.failed_at = time.monotonic()

    def answered(self):
        self.failed_at = None

    def reset(self):
        with self.lock:
            if self.client is not None:
                self.client.close()
            self.client = self.url = self.consume = self.handback = self.failed_at = None


_redis = _RedisState()


def quota_redis_reset() -> None:
    """Forget the client (tests pointing QUOTA_REDIS_URL elsewhere; a worker after fork)."""
    _redis.reset()


class _SeedNeeded(Exception):
    def __init__(self, now_us: int, officer: bool, unit: bool):
        super().__init__("quota keys need seeding from the ledger")
        self.now_us, self.officer, self.unit = now_us, officer, unit


class _DatabaseCounts(Exception):
    """The twin counts this unit's windows now (it has counter rows for a current window)."""


def _lock(unit_id: int, *, shared: bool) -> None:
    # A statement of its own, before any read it guards: under READ COMMITTED (Django's default; the
    # quota code needs it) each later statement takes a snapshot after the lock is granted, so it sees
    # what the previous holder committed. A read in the same statement would use an older snapshot.
    if connection.vendor != "postgresql":
        # The single-machine trial (`make run`, SQLite, no Redis): SQLite lets one writer at a time and
        # the trial has one user; production and the tests run on PostgreSQL, where this lock is what
        # makes the counts exact.
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_advisory_xact_lock{'_shared' if shared else ''}(%s, %s)",
                       [LOCK_CLASS, unit_id])


def _database_counts(unit_id: int, now: datetime) -> bool:
    return QuotaCounter.objects.filter(unit_id=unit_id, window_end__gt=now).exists()


def _redis_decide(state, *, officer_id, unit_id, limits, now, seed=None):
    """One round trip. `seed` = (ledger counts, the µs they were counted for) after a _SeedNeeded."""
    keys = [redis_key(unit_id, _subject_key(window, officer_id, unit_id)) for window in WINDOWS]
    args = [limits.of(window) for window in WINDOWS]
    args.append("" if now is None else str(int(now.timestamp() * 1_000_000)))
    args.append(int((now or timezone.now()).astimezone(QUOTA_TIME_ZONE).utcoffset().total_seconds()))
    if seed is None:
        args += ["", "", "", "", "", ""]
    else:
        counts, counted_for_us = seed
        args += ["seed", *counts, counted_for_us]
    status, now_us, *counts = (int(value) for value in state.consume(keys=keys, args=args))
    state.answered()
    if status == -1:
        raise _SeedNeeded(now_us, officer=bool(counts[0]), unit=bool(counts[2]))
    decided_at = datetime.fromtimestamp(now_us / 1_000_000, UTC)
    if status == 1:
        QuotaGrant.objects.create(officer_id=officer_id, unit_id=unit_id, granted_at=decided_at,
                                  backend=QuotaBackend.REDIS)
    return _result(allowed=status == 1, counts=counts, limits=limits, now=decided_at, backend=QuotaBackend.REDIS)


def _ledger_count(window, officer_id, unit_id, at: datetime) -> int:
    start, end = window_bounds(window, at)
    subject = Q(officer_id=officer_id) if str(window).startswith("officer") else Q(unit_id=unit_id)
    return QuotaGrant.objects.filter(subject, granted_at__gte=start, granted_at__lt=end).count()


def _redis_seed_and_decide(state, *, officer_id, unit_id, limits, now, seed: _SeedNeeded):
    """Under the exclusive lock: count the ledger for the subjects Redis may have lost and decide with
    those counts. Counted again (a few times at most) if a window turned between the two calls."""
    for _attempt in range(3):
        at = datetime.fromtimestamp(seed.now_us / 1_000_000, UTC)
        counts = []
        for window in WINDOWS:
            needed = seed.officer if str(window).startswith("officer") else seed.unit
            counts.append(str(_ledger_count(window, officer_id, unit_id, at)) if needed else "")
        try:
            return _redis_decide(state, officer_id=officer_id, unit_id=unit_id, limits=limits, now=now,
                                 seed=(counts, seed.now_us))
        except _SeedNeeded as again:
            seed = again
    raise redis.RedisError("quota keys could not be seeded")


# ----- PostgreSQL --------------------------------------------------------------------------------------

def _database_decide(*, officer_id, unit_id, limits, now, hand_back_to, pinned) -> QuotaResult:
    _lock(unit_id, shared=False)
    bounds = {window: window_bounds(window, now) for window in WINDOWS}
    keys = {window: _subject_key(window, officer_id, unit_id) for window in WINDOWS}
    wanted = Q()
    for window in WINDOWS:
        wanted |= Q(key=keys[window], window_start=bounds[window][0])
    # Row locks in a fixed order (by key) as well as the unit lock: an officer moved to another unit
    # mid-window is then still counted under one lock.
    rows = {(row.key, row.window_start): row
            for row in QuotaCounter.objects.select_for_update().filter(wanted).order_by("key")}
    counters = []
    for window in WINDOWS:
        row = rows.get((keys[window], bounds[window][0]))
        if row is None:  # first database decision in this window: start from what the ledger holds
            row = QuotaCounter.objects.create(
                unit_id=unit_id, key=keys[window], window_start=bounds[window][0], window_end=bounds[window][1],
                count=_ledger_count(window, officer_id, unit_id, now))
        counters.append(row)
    counts = [row.count for row in counters]
    allowed = all(count + 1 <= limits.of(window) for window, count in zip(WINDOWS, counts))
    if allowed:
        QuotaCounter.objects.filter(pk__in=[row.pk for row in counters]).update(count=F("count") + 1)
        QuotaGrant.objects.create(officer_id=officer_id, unit_id=unit_id, granted_at=now,
                                  backend=QuotaBackend.DATABASE)
        counts = [count + 1 for count in counts]
    if hand_back_to is not None:
        _hand_back(hand_back_to, unit_id=unit_id, now=now, pinned=pinned)
    else:
        QuotaCounter.objects.filter(unit_id=unit_id, window_end__lte=now).delete()
    return _result(allowed=allowed, counts=counts, limits=limits, now=now, backend=QuotaBackend.DATABASE)


def _hand_back(state, *, unit_id: int, now: datetime, pinned: bool) -> None:
    """Still under the exclusive lock: write the unit's current counters into Redis and delete them, so
    Redis holds exactly what the twin counted. If Redis does not answer, the twin keeps counting."""
    rows = list(QuotaCounter.objects.filter(unit_id=unit_id))
    current = [row for row in rows if row.window_end > now]
    args = [str(int(now.timestamp() * 1_000_000)) if pinned else ""]
    for row in current:
        args += [int(row.window_start.timestamp()), int((row.window_end - row.window_start).total_seconds()),
                 row.count]
    try:
        if current:
            state.handback(keys=[redis_key(unit_id, row.key) for row in current], args=args)
    except (redis.RedisError, OSError):
        state.failed()
        logger.warning("Quota Redis still unreachable; unit %s stays counted in the database", unit_id)
        QuotaCounter.objects.filter(unit_id=unit_id, window_end__lte=now).delete()
        return
    state.answered()
    QuotaCounter.objects.filter(pk__in=[row.pk for row in rows]).delete()


# ----- the decision ------------------------------------------------------------------------------------

def quota_consume(*, officer_id: int, unit_id: int, limits: Limits, now: datetime | None = None) -> QuotaResult:
    """Count one lookup of `officer_id` (of `unit_id`) if all four windows have room; else refuse and
    count nothing. `now` is for tests only (production lets Redis's TIME decide)."""
    state = _redis.get()
    redis_failed = False
    if state is not None and state.usable():
        try:
            with transaction.atomic():
                _lock(unit_id, shared=True)
                if _database_counts(unit_id, now or timezone.now()):
                    raise _DatabaseCounts
                return _redis_decide(state, officer_id=officer_id, unit_id=unit_id, limits=limits, now=now)
        except _DatabaseCounts:
            pass
        except _SeedNeeded as seed:
            try:
                with transaction.atomic():
                    _lock(unit_id, shared=False)
                    if not _database_counts(unit_id, now or timezone.now()):
                        return _redis_seed_and_decide(state, officer_id=officer_id, unit_id=unit_id,
                                                      limits=limits, now=now, seed=seed)
            except (redis.RedisError, OSError):
                redis_failed = True
                state.failed()
            except DatabaseError:
                logger.exception("Quota database unreachable while seeding Redis")
                return _unavailable(limits)
        except (redis.RedisError, OSError):
            redis_failed = True
            state.failed()
            logger.warning("Quota Redis unreachable; counting in the database", exc_info=True)
        except DatabaseError:
            logger.exception("Quota database unreachable on the Redis path")
            return _unavailable(limits)
    elif state is not None:
        redis_failed = True  # failed moments ago: not tried again yet
    hand_back_to = state if state is not None and not redis_failed and state.usable() else None
    try:
        with transaction.atomic():
            return _database_decide(officer_id=officer_id, unit_id=unit_id, limits=limits,
                                    now=now or timezone.now(), hand_back_to=hand_back_to,
                                    pinned=now is not None)
    except DatabaseError:
        logger.exception("Quota database unreachable: lookup refused (fail closed)")
        return _unavailable(limits)


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
