"""The lookup quota engine (lookups/quotas.py): exact, all-or-nothing, clock-aligned, on Redis and on
its PostgreSQL twin, across Redis going down and coming back, and closed when neither answers."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from django.conf import settings
from django.db import OperationalError

from lookups import quotas
from lookups.models import QuotaCounter, QuotaGrant
from lookups.quotas import Limits, quota_consume, quota_redis_reset, ratelimit_headers, redis_key
from tests.helpers import run_concurrently

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 1, 9, 30, 10, tzinfo=VN)  # a Tuesday morning, 10 s into the minute
ROOMY = dict(officer_minute=1000, officer_day=100000, unit_minute=1000, unit_day=100000)
OFFICER, UNIT, COLLEAGUE = 101, 7, 102


def limits(**overrides) -> Limits:
    return Limits(**{**ROOMY, **overrides})


def consume(now=NOW, officer=OFFICER, unit=UNIT, **limit_overrides):
    return quota_consume(officer_id=officer, unit_id=unit, limits=limits(**limit_overrides), now=now)


@pytest.fixture(params=["redis", "database"])
def backend(request, settings):
    """Each behaviour on both: Redis, and the PostgreSQL twin alone (no quota Redis configured)."""
    if request.param == "database":
        settings.QUOTA_REDIS_URL = ""
        quota_redis_reset()
    return request.param


def _used(result) -> dict:
    return {window: result.limits.of(window) - left for window, left in result.remaining.items()}


def _allowed_count(outcomes) -> int:
    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert errors == []
    return sum(1 for outcome in outcomes if outcome.allowed)


# ----- exactness under concurrency ----------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_it_allows_exactly_ten_of_fifty_concurrent_callers(backend):
    outcomes = run_concurrently(*[lambda: consume(officer_minute=10) for _ in range(50)])
    assert _allowed_count(outcomes) == 10
    assert {outcome.backend for outcome in outcomes} == {backend}
    assert QuotaGrant.objects.count() == 10
    assert sorted(outcome.reason for outcome in outcomes if not outcome.allowed) == ["quota_officer_minute"] * 40


@pytest.mark.django_db(transaction=True)
def test_it_allows_exactly_the_unit_minute_to_fifty_officers_at_once(backend):
    outcomes = run_concurrently(*[lambda officer=officer: consume(officer=1000 + officer, unit_minute=7)
                                  for officer in range(50)])
    assert _allowed_count(outcomes) == 7
    assert QuotaGrant.objects.filter(unit_id=UNIT).count() == 7


# ----- all or nothing -------------------------------------------------------------------------------------

FULL_WINDOW_CASES = {  # the window that fills up → the limits that make it the only tight one
    "officer_minute": dict(officer_minute=3),
    "officer_day": dict(officer_day=3),
    "unit_minute": dict(unit_minute=3),
    "unit_day": dict(unit_day=3),
}


@pytest.mark.django_db
@pytest.mark.parametrize("full_window", list(FULL_WINDOW_CASES))
def test_a_refused_request_uses_up_none_of_the_other_windows(backend, full_window):
    tight = FULL_WINDOW_CASES[full_window]
    # A unit window is filled by a colleague, so that the officer's own windows start empty.
    filler = COLLEAGUE if full_window.startswith("unit") else OFFICER
    for _ in range(3):
        assert consume(officer=filler, **tight).allowed
    before = _used(consume(officer=OFFICER, **tight))  # refused: the full window binds
    refused = [consume(officer=OFFICER, **tight) for _ in range(5)]
    assert [result.allowed for result in refused] == [False] * 5
    assert {result.reason for result in refused} == {f"quota_{full_window}"}
    assert {tuple(result.exceeded) for result in refused} == {(full_window,)}
    assert _used(refused[-1]) == before
    assert QuotaGrant.objects.filter(officer_id=OFFICER).count() == (3 if filler == OFFICER else 0)
    expected = {"officer_minute": 0, "officer_day": 0, "unit_minute": 3, "unit_day": 3} if filler == COLLEAGUE \
        else {"officer_minute": 3, "officer_day": 3, "unit_minute": 3, "unit_day": 3}
    assert before == expected


@pytest.mark.django_db
def test_a_refused_request_leaves_the_officers_redis_counters_unchanged(quota_redis):
    for officer in range(5):
        assert consume(officer=500 + officer, unit_minute=5).allowed
    assert consume(officer=OFFICER, unit_minute=5).reason == "quota_unit_minute"
    client = redis.Redis.from_url(settings.QUOTA_REDIS_URL)
    # Seeded from the (empty) ledger on the officer's first lookup of the day, never incremented.
    assert client.hget(redis_key(UNIT, f"officer:{OFFICER}:minute"), "c") == b"0"
    assert client.hget(redis_key(UNIT, f"officer:{OFFICER}:day"), "c") == b"0"
    assert client.hget(redis_key(UNIT, f"unit:{UNIT}:minute"), "c") == b"5"


# ----- Redis going down and coming back ----------------------------------------------------------------

@pytest.mark.django_db
def test_it_counts_on_in_the_database_when_redis_is_killed_and_stays_exact_when_it_returns(private_redis):
    results = [consume(officer_minute=10) for _ in range(4)]
    assert [(r.allowed, r.backend) for r in results] == [(True, "redis")] * 4
    private_redis.stop()
    results = [consume(officer_minute=10) for _ in range(4)]
    assert [(r.allowed, r.backend) for r in results] == [(True, "database")] * 4
    private_redis.start()  # back mid-minute, empty (no persistence): it must learn the 8 from PostgreSQL
    results = [consume(now=NOW + timedelta(seconds=20), officer_minute=10) for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, False, False]
    assert QuotaGrant.objects.count() == 10
    # The twin handed its counters back and Redis decides again, with the twin's counts.
    assert QuotaCounter.objects.count() == 0
    assert results[-1].backend == "redis"
    assert private_redis.client().hget(redis_key(UNIT, f"officer:{OFFICER}:minute"), "c") == b"10"


@pytest.mark.django_db
def test_it_stays_exact_when_redis_comes_back_with_its_old_counts(settings, private_redis, closed_port_url):
    """A network blip: Redis keeps its counts but misses what the twin allowed meanwhile."""
    assert [consume(officer_minute=10).allowed for _ in range(6)] == [True] * 6
    settings.QUOTA_REDIS_URL = closed_port_url
    quota_redis_reset()
    assert [consume(officer_minute=10).backend for _ in range(3)] == ["database"] * 3
    settings.QUOTA_REDIS_URL = private_redis.url
    quota_redis_reset()
    results = [consume(officer_minute=10) for _ in range(3)]
    assert [r.allowed for r in results] == [True, False, False]
    assert QuotaGrant.objects.count() == 10
    assert private_redis.client().hget(redis_key(UNIT, f"officer:{OFFICER}:minute"), "c") == b"10"


@pytest.mark.django_db
def test_it_reseeds_from_the_ledger_a_redis_that_lost_its_data_while_nobody_asked(private_redis):
    assert [consume(officer_day=8).allowed for _ in range(6)] == [True] * 6
    private_redis.stop()
    private_redis.start()  # empty, and no decision was made while it was down
    results = [consume(now=NOW + timedelta(minutes=5), officer_day=8) for _ in range(3)]
    assert [(r.allowed, r.backend) for r in results] == [(True, "redis"), (True, "redis"), (False, "redis")]
    assert results[-1].reason == "quota_officer_day"


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_callers_across_redis_dying_and_returning_get_exactly_the_quota(private_redis):
    first = run_concurrently(*[lambda: consume(officer_minute=25) for _ in range(15)])
    private_redis.stop()
    second = run_concurrently(*[lambda: consume(officer_minute=25) for _ in range(20)])
    private_redis.start()
    third = run_concurrently(*[lambda: consume(now=NOW + timedelta(seconds=30), officer_minute=25)
                               for _ in range(15)])
    assert (_allowed_count(first), _allowed_count(second), _allowed_count(third)) == (15, 10, 0)
    assert {outcome.backend for outcome in second} == {"database"}
    assert QuotaGrant.objects.count() == 25


@pytest.mark.django_db(transaction=True)
def test_it_is_exact_when_redis_is_killed_while_callers_are_deciding(private_redis):
    import threading

    killed = threading.Event()

    def call(index):
        if index == 20:
            private_redis.stop()
            killed.set()
        return consume(officer_minute=10, unit_minute=10)

    outcomes = run_concurrently(*[lambda index=index: call(index) for index in range(50)])
    assert killed.is_set()
    assert _allowed_count(outcomes) == 10
    assert QuotaGrant.objects.count() == 10


@pytest.mark.django_db
def test_it_refuses_with_its_own_reason_when_neither_redis_nor_the_database_answers(
        settings, closed_port_url, monkeypatch):
    settings.QUOTA_REDIS_URL = closed_port_url
    quota_redis_reset()

    def database_down(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

    monkeypatch.setattr(quotas, "_lock", database_down)
    results = [consume() for _ in range(3)]
    assert [(r.allowed, r.reason, r.backend) for r in results] == [(False, "quota_unavailable", "")] * 3
    assert results[0].retry_after == settings.QUOTA_UNAVAILABLE_RETRY_AFTER
    assert ratelimit_headers(results[0]) == {"Retry-After": str(settings.QUOTA_UNAVAILABLE_RETRY_AFTER)}
    monkeypatch.undo()
    assert QuotaGrant.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_when_redis_answers_but_the_database_cannot_record_the_grant(monkeypatch):
    def database_down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(quotas, "_lock", database_down)
    assert consume().reason == "quota_unavailable"


@pytest.mark.django_db
def test_it_does_not_wait_for_a_dead_redis_on_every_decision(settings, closed_port_url):
    settings.QUOTA_REDIS_URL = closed_port_url
    settings.QUOTA_REDIS_RETRY_SECONDS = 60.0
    quota_redis_reset()
    assert consume().backend == "database"
    settings.QUOTA_REDIS_URL = closed_port_url  # same URL: the same client remembers the failure
    state = quotas._redis.get()
    assert state.usable() is False
    assert consume().backend == "database"


# ----- windows on the clock ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_day_resets_at_midnight_in_vietnam(backend):
    evening = datetime(2026, 12, 1, 23, 59, 57, tzinfo=VN)
    assert [consume(now=evening + timedelta(seconds=i), officer_day=2).allowed for i in range(3)] == [True, True, False]
    last_second = consume(now=datetime(2026, 12, 1, 23, 59, 59, 999000, tzinfo=VN), officer_day=2)
    assert (last_second.allowed, last_second.retry_after) == (False, 1)
    midnight = consume(now=datetime(2026, 12, 2, 0, 0, 0, tzinfo=VN), officer_day=2)
    assert midnight.allowed is True
    assert midnight.remaining["officer_day"] == 1


@pytest.mark.django_db
def test_the_day_is_vietnams_not_utcs(backend):
    """07:00 in Vietnam is midnight UTC: no reset there."""
    before = datetime(2026, 12, 2, 6, 59, 59, tzinfo=VN)
    assert [consume(now=before, officer_day=2).allowed for _ in range(2)] == [True, True]
    assert consume(now=before + timedelta(seconds=2), officer_day=2).allowed is False


@pytest.mark.django_db
def test_the_minute_resets_on_the_clock_minute(backend):
    at_59 = datetime(2026, 12, 1, 9, 30, 59, 500000, tzinfo=VN)
    assert [consume(now=at_59, officer_minute=2).allowed for _ in range(3)] == [True, True, False]
    refused = consume(now=at_59, officer_minute=2)
    assert (refused.retry_after, refused.exceeded) == (1, ["officer_minute"])
    assert consume(now=datetime(2026, 12, 1, 9, 31, 0, tzinfo=VN), officer_minute=2).allowed is True


@pytest.mark.django_db
def test_retry_after_is_the_latest_of_the_exceeded_windows(backend):
    for _ in range(2):
        assert consume(officer_minute=2, officer_day=2).allowed
    refused = consume(officer_minute=2, officer_day=2)
    assert refused.exceeded == ["officer_minute", "officer_day"]
    assert refused.reason == "quota_officer_day"
    # 09:30:10 → midnight is 14 h 29 min 50 s.
    assert refused.retry_after == 14 * 3600 + 29 * 60 + 50


@pytest.mark.django_db
def test_keys_expire_with_their_window_and_share_one_hash_tag(quota_redis):
    consume(now=datetime(2026, 12, 1, 23, 59, 30, tzinfo=VN))
    client = redis.Redis.from_url(settings.QUOTA_REDIS_URL)
    keys = sorted(key.decode() for key in client.scan_iter(match=f"{quota_redis}:*"))
    assert keys == sorted(redis_key(UNIT, name) for name in
                          (f"officer:{OFFICER}:minute", f"officer:{OFFICER}:day", f"unit:{UNIT}:minute",
                           f"unit:{UNIT}:day"))
    assert {key.split("{")[1].split("}")[0] for key in keys} == {f"unit:{UNIT}"}
    for key in keys:  # 30 s to both the minute's end and the day's: no key outlives its window
        assert 29_000 <= client.pttl(key) <= 30_000, key


@pytest.mark.django_db
def test_without_a_given_time_the_script_uses_redis_own_clock(quota_redis):
    client = redis.Redis.from_url(settings.QUOTA_REDIS_URL)
    seconds, micros = client.time()
    result = quota_consume(officer_id=OFFICER, unit_id=UNIT, limits=limits())
    grant = QuotaGrant.objects.get()
    assert abs(grant.granted_at.timestamp() - (seconds + micros / 1e6)) < 1.0
    assert 0 < client.pttl(redis_key(UNIT, f"officer:{OFFICER}:minute")) <= 60_000
    assert 0 < client.pttl(redis_key(UNIT, f"unit:{UNIT}:day")) <= 86_400_000
    assert result.backend == "redis"


@pytest.mark.django_db
def test_it_never_touches_keys_outside_its_prefix(quota_redis):
    client = redis.Redis.from_url(settings.QUOTA_REDIS_URL)
    client.set("someone-else:key", "kept")
    try:
        consume()
        assert client.get("someone-else:key") == b"kept"
    finally:
        client.delete("someone-else:key")


# ----- headers and limits -------------------------------------------------------------------------------

@pytest.mark.django_db
def test_it_renders_retry_after_and_the_ratelimit_headers_of_draft_10(backend):
    consume(officer_minute=1)
    refused = consume(officer_minute=1)
    assert ratelimit_headers(refused) == {
        "Retry-After": "50",
        "RateLimit-Policy": '"officer_minute";q=1;w=60, "officer_day";q=100000;w=86400, '
                            '"unit_minute";q=1000;w=60, "unit_day";q=100000;w=86400',
        "RateLimit": '"officer_minute";r=0;t=50, "officer_day";r=99999;t=52190, '
                     '"unit_minute";r=999;t=50, "unit_day";r=99999;t=52190',
    }
    assert "Retry-After" not in ratelimit_headers(consume(officer=COLLEAGUE, officer_minute=1))


@pytest.mark.parametrize("bad", [0, -1, 1.5, "10", True, None])
def test_limits_refuse_anything_but_a_positive_whole_number(bad):
    with pytest.raises(ValueError):
        limits(unit_minute=bad)


# ----- the switch under a race: the unit lock -------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_database_decision_waits_for_a_redis_decision_in_flight_and_counts_it(settings):
    """The twin seeds its counters from the ledger: a Redis-path grant not yet committed must not be
    missed. The Redis-path decision holds the unit's lock (shared) until its grant commits; the
    database decision's exclusive lock waits for it."""
    import threading

    from django.db import connections, transaction

    from tests.helpers import wait_until_blocking_another_session

    for _ in range(9):
        assert consume(officer_minute=10).allowed
    outcome = {}

    def database_decision():
        try:
            outcome["result"] = quotas._database_decide(officer_id=OFFICER, unit_id=UNIT, limits=limits(officer_minute=10),
                                                        now=NOW, hand_back_to=None, pinned=True)
        finally:
            connections.close_all()

    with transaction.atomic():  # the caller's transaction, still open after the quota said yes
        assert consume(officer_minute=10).allowed  # the 10th, on Redis, its grant uncommitted
        racer = threading.Thread(target=lambda: _in_own_transaction(database_decision))
        racer.start()
        wait_until_blocking_another_session()
    racer.join(10)
    assert outcome["result"].allowed is False
    assert outcome["result"].reason == "quota_officer_minute"
    assert QuotaGrant.objects.count() == 10


def _in_own_transaction(call):
    from django.db import transaction

    with transaction.atomic():
        call()


@pytest.mark.django_db
def test_a_redis_that_stops_answering_is_a_redis_that_is_down(private_redis):
    """SIGSTOP: the port accepts, nothing answers. After the socket timeout the twin decides."""
    import signal

    assert consume(officer_minute=3).backend == "redis"
    private_redis.process.send_signal(signal.SIGSTOP)
    try:
        results = [consume(officer_minute=3) for _ in range(3)]
    finally:
        private_redis.process.send_signal(signal.SIGCONT)
    assert [(r.allowed, r.backend) for r in results] == [(True, "database"), (True, "database"),
                                                         (False, "database")]
    back = consume(officer_minute=3)
    assert (back.allowed, back.backend) == (False, "database")  # the twin hands back while deciding
    assert consume(officer_minute=3).backend == "redis"
    assert QuotaGrant.objects.count() == 3
