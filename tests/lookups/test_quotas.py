"""The lookup quota engine (lookups/quotas.py): exact, all-or-nothing, clock-aligned, in PostgreSQL alone,
closed when the database cannot count, and a table that never grows with time."""
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction

from lookups.models import QuotaCounter
from lookups.quotas import Limits, quota_consume, quota_counters_prune, ratelimit_headers
from tests.helpers import run_concurrently

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 1, 9, 30, 10, tzinfo=VN)  # a Tuesday morning, 10 s into the minute
ROOMY = dict(officer_minute=1000, officer_day=100000, unit_minute=1000, unit_day=100000)
OFFICER, UNIT, COLLEAGUE = 101, 7, 102


def limits(**overrides) -> Limits:
    return Limits(**{**ROOMY, **overrides})


def consume(now=NOW, officer=OFFICER, unit=UNIT, **limit_overrides):
    return quota_consume(officer_id=officer, unit_id=unit, limits=limits(**limit_overrides), now=now)


def _used(result) -> dict:
    return {window: result.limits.of(window) - left for window, left in result.remaining.items()}


def _allowed_count(outcomes) -> int:
    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert errors == []
    return sum(1 for outcome in outcomes if outcome.allowed)


def _counts() -> dict:
    return dict(QuotaCounter.objects.values_list("key", "count"))


# ----- exactness under concurrency ----------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_it_allows_exactly_ten_of_fifty_concurrent_callers():
    outcomes = run_concurrently(*[lambda: consume(officer_minute=10) for _ in range(50)])
    assert _allowed_count(outcomes) == 10
    assert {outcome.backend for outcome in outcomes} == {"database"}
    assert _counts() == {f"officer:{OFFICER}:minute": 10, f"officer:{OFFICER}:day": 10, f"unit:{UNIT}:minute": 10,
                         f"unit:{UNIT}:day": 10}
    assert sorted(outcome.reason for outcome in outcomes if not outcome.allowed) == ["quota_officer_minute"] * 40


@pytest.mark.django_db(transaction=True)
def test_it_allows_exactly_the_unit_minute_to_fifty_officers_at_once():
    outcomes = run_concurrently(*[lambda officer=officer: consume(officer=1000 + officer, unit_minute=7)
                                  for officer in range(50)])
    assert _allowed_count(outcomes) == 7
    assert QuotaCounter.objects.get(key=f"unit:{UNIT}:minute").count == 7


@pytest.mark.django_db(transaction=True)
def test_counts_held_in_a_decision_still_open_are_waited_for_not_missed():
    """The decision's transaction holds the four rows until it commits: a concurrent decision waits,
    then counts on from the committed count."""
    entered, release = threading.Event(), threading.Event()
    results = []

    def open_decision():
        try:
            with transaction.atomic():
                results.append(consume(officer_minute=2))
                entered.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=open_decision)
    holder.start()
    assert entered.wait(10)
    waiting = threading.Thread(target=lambda: (results.append(consume(officer_minute=2)), connections.close_all()))
    waiting.start()
    waiting.join(0.5)
    assert waiting.is_alive()  # blocked on the row locks, not deciding on a stale count
    release.set()
    holder.join(10)
    waiting.join(10)
    assert [(r.allowed, _used(r)["officer_minute"]) for r in results] == [(True, 1), (True, 2)]
    assert consume(officer_minute=2).allowed is False


@pytest.mark.django_db(transaction=True)
def test_a_decision_rolled_back_counts_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        assert consume(officer_minute=1).allowed is True
        raise RuntimeError("the record could not be written")
    assert consume(officer_minute=1).allowed is True
    assert consume(officer_minute=1).allowed is False


@pytest.mark.django_db(transaction=True)
def test_the_counts_outlive_the_connection_that_made_them():
    """What a restarted web worker (a new database connection) finds: the committed counts."""
    assert [consume(officer_minute=3).allowed for _ in range(2)] == [True, True]
    connection.close()
    assert [consume(officer_minute=3).allowed for _ in range(2)] == [True, False]


# ----- all or nothing -------------------------------------------------------------------------------------

FULL_WINDOW_CASES = {  # the window that fills up → the limits that make it the only tight one
    "officer_minute": dict(officer_minute=3),
    "officer_day": dict(officer_day=3),
    "unit_minute": dict(unit_minute=3),
    "unit_day": dict(unit_day=3),
}


@pytest.mark.django_db
@pytest.mark.parametrize("full_window", list(FULL_WINDOW_CASES))
def test_a_refused_request_uses_up_none_of_the_other_windows(full_window):
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
    expected = {"officer_minute": 0, "officer_day": 0, "unit_minute": 3, "unit_day": 3} if filler == COLLEAGUE \
        else {"officer_minute": 3, "officer_day": 3, "unit_minute": 3, "unit_day": 3}
    assert before == expected
    assert _counts().get(f"officer:{OFFICER}:minute", 0) == expected["officer_minute"]


# ----- failing closed ---------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_it_refuses_with_its_own_reason_when_the_database_cannot_count(settings):
    """A real database fault: the counters are locked by a stuck transaction and this one may not wait."""
    assert consume().allowed is True
    locked, release = threading.Event(), threading.Event()

    def stuck():
        try:
            with transaction.atomic():
                list(QuotaCounter.objects.select_for_update().all())
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=stuck)
    holder.start()
    try:
        assert locked.wait(10)
        results = []
        for _ in range(3):
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '50ms'")
                results.append(consume())
                transaction.set_rollback(True)
    finally:
        release.set()
        holder.join(10)
    assert [(r.allowed, r.reason, r.backend) for r in results] == [(False, "quota_unavailable", "")] * 3
    assert results[0].retry_after == settings.QUOTA_UNAVAILABLE_RETRY_AFTER
    assert ratelimit_headers(results[0]) == {"Retry-After": str(settings.QUOTA_UNAVAILABLE_RETRY_AFTER)}
    assert _used(consume())["officer_minute"] == 2  # the refusals counted nothing


# ----- a table that does not grow -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_table_keeps_two_rows_per_officer_and_per_unit_whatever_the_days():
    for day in range(3):
        for minute in range(4):
            assert consume(now=NOW + timedelta(days=day, minutes=minute)).allowed
            assert consume(now=NOW + timedelta(days=day, minutes=minute), officer=COLLEAGUE).allowed
    assert QuotaCounter.objects.count() == 6  # two officers × 2, the unit × 2
    assert _counts() == {f"officer:{OFFICER}:minute": 1, f"officer:{OFFICER}:day": 4, f"officer:{COLLEAGUE}:minute": 1,
                         f"officer:{COLLEAGUE}:day": 4, f"unit:{UNIT}:minute": 2, f"unit:{UNIT}:day": 8}


@pytest.mark.django_db
def test_pruning_deletes_only_subjects_not_counted_for_two_days():
    consume(now=NOW - timedelta(days=5), officer=COLLEAGUE, unit=8)
    consume()
    assert quota_counters_prune(now=NOW) == 4
    assert sorted(_counts()) == sorted([f"officer:{OFFICER}:minute", f"officer:{OFFICER}:day",
                                        f"unit:{UNIT}:minute", f"unit:{UNIT}:day"])


@pytest.mark.django_db
def test_a_caller_whose_clock_is_behind_never_turns_a_window_back():
    assert consume(now=NOW + timedelta(minutes=1), officer_minute=2).allowed
    behind = consume(now=NOW, officer_minute=2)  # sees the newer minute's count: stricter, never looser
    assert (behind.allowed, _used(behind)["officer_minute"]) == (True, 2)
    assert consume(now=NOW + timedelta(minutes=1), officer_minute=2).allowed is False


# ----- windows on the clock ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_day_resets_at_midnight_in_vietnam():
    evening = datetime(2026, 12, 1, 23, 59, 57, tzinfo=VN)
    assert [consume(now=evening + timedelta(seconds=i), officer_day=2).allowed for i in range(3)] == [True, True, False]
    last_second = consume(now=datetime(2026, 12, 1, 23, 59, 59, 999000, tzinfo=VN), officer_day=2)
    assert (last_second.allowed, last_second.retry_after) == (False, 1)
    midnight = consume(now=datetime(2026, 12, 2, 0, 0, 0, tzinfo=VN), officer_day=2)
    assert midnight.allowed is True
    assert midnight.remaining["officer_day"] == 1


@pytest.mark.django_db
def test_the_day_is_vietnams_not_utcs():
    """07:00 in Vietnam is midnight UTC: no reset there."""
    before = datetime(2026, 12, 2, 6, 59, 59, tzinfo=VN)
    assert [consume(now=before, officer_day=2).allowed for _ in range(2)] == [True, True]
    assert consume(now=before + timedelta(seconds=2), officer_day=2).allowed is False


@pytest.mark.django_db
@pytest.mark.parametrize("now", [
    datetime(2026, 12, 1, 23, 59, 59, 999999, tzinfo=VN),  # the last instant of a Vietnamese day
    datetime(2026, 12, 2, 0, 0, 0, tzinfo=VN),  # its midnight
    datetime(2026, 12, 2, 6, 59, 59, 500000, tzinfo=VN),  # just before midnight UTC
    datetime(2026, 12, 2, 7, 0, 0, tzinfo=VN),  # midnight UTC: not a new day here
    datetime(2026, 12, 31, 23, 59, 30, tzinfo=VN),  # the year's last minute
    datetime(2028, 2, 29, 12, 0, 0, 1, tzinfo=VN),  # a leap day
])
def test_the_database_names_the_windows_as_python_does(now):
    """lookups_quota_consume (migration 0012) builds the four keys and windows from the officer, the
    unit and the time; the headers and retry-after are computed in Python (window_bounds): both must
    name the same rows and bounds."""
    from lookups.quotas import WINDOWS, _subject_key, window_bounds

    assert consume(now=now).allowed
    stored = {key: (start, end) for key, start, end in
              QuotaCounter.objects.values_list("key", "window_start", "window_end")}
    assert stored == {_subject_key(window, OFFICER, UNIT): window_bounds(window, now) for window in WINDOWS}


@pytest.mark.django_db
def test_the_minute_resets_on_the_clock_minute():
    at_59 = datetime(2026, 12, 1, 9, 30, 59, 500000, tzinfo=VN)
    assert [consume(now=at_59, officer_minute=2).allowed for _ in range(3)] == [True, True, False]
    refused = consume(now=at_59, officer_minute=2)
    assert (refused.retry_after, refused.exceeded) == (1, ["officer_minute"])
    assert consume(now=datetime(2026, 12, 1, 9, 31, 0, tzinfo=VN), officer_minute=2).allowed is True


@pytest.mark.django_db
def test_retry_after_is_the_latest_of_the_exceeded_windows():
    for _ in range(2):
        assert consume(officer_minute=2, officer_day=2).allowed
    refused = consume(officer_minute=2, officer_day=2)
    assert refused.exceeded == ["officer_minute", "officer_day"]
    assert refused.reason == "quota_officer_day"
    # 09:30:10 → midnight is 14 h 29 min 50 s.
    assert refused.retry_after == 14 * 3600 + 29 * 60 + 50


# ----- headers and limits -------------------------------------------------------------------------------

@pytest.mark.django_db
def test_it_renders_retry_after_and_the_ratelimit_headers_of_draft_10():
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


@pytest.mark.django_db
def test_the_daily_task_prunes_what_nobody_counted_for_two_days():
    from django.utils import timezone

    from lookups.tasks import prune_quota_counters

    consume(now=timezone.now() - timedelta(days=3), officer=COLLEAGUE, unit=8)
    consume(now=timezone.now())
    assert prune_quota_counters() == 4
    assert prune_quota_counters() == 0
    assert QuotaCounter.objects.count() == 4
