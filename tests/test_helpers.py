"""The suite's own helpers (tests/helpers.py): real concurrency, and a cache cleanup that spares the
other roles of the Redis database."""
import threading

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connection, connections

from tests.helpers import redis_keys_delete, run_concurrently

ADVISORY_KEY = 0x74657374  # "test": no portal lock uses it


@pytest.mark.django_db(transaction=True)
def test_it_runs_the_calls_at_once_each_on_its_own_connection():
    inside = threading.Barrier(2, timeout=10)  # broken (an error) unless both calls are inside together

    def hold_the_shared_lock_with_the_other():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock_shared(%s)", [ADVISORY_KEY])
            inside.wait()
            # Both sessions hold the lock now: PostgreSQL counts two holders.
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 0"
                           " AND objid = %s AND objsubid = 1 AND granted", [ADVISORY_KEY])
            holders = cursor.fetchone()[0]
            inside.wait()  # neither lets go before the other has counted
            cursor.execute("SELECT pg_advisory_unlock_shared(%s), pg_backend_pid()", [ADVISORY_KEY])
            backend_pid = cursor.fetchone()[1]
        return holders, backend_pid, connections[DEFAULT_DB_ALIAS]  # this thread's own wrapper

    first, second = run_concurrently(hold_the_shared_lock_with_the_other, hold_the_shared_lock_with_the_other)

    assert [type(outcome) for outcome in (first, second)] == [tuple, tuple], (first, second)
    assert (first[0], second[0]) == (2, 2)
    assert first[1] != second[1]  # two PostgreSQL sessions
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] not in (first[1], second[1])  # neither is the test's own
    # Each thread closed its connection when its call ended.
    assert first[2] is not second[2]
    assert (first[2].connection, second[2].connection) == (None, None)


@pytest.mark.django_db(transaction=True)
def test_it_hands_back_each_outcome_in_the_order_of_the_calls():
    def refuse():
        raise ValueError("refused")

    outcomes = run_concurrently(lambda: "first", refuse, lambda: "third")

    assert outcomes[0] == "first" and outcomes[2] == "third"
    assert type(outcomes[1]) is ValueError and str(outcomes[1]) == "refused"


def test_it_refuses_to_run_inside_the_tests_transaction(db):
    with pytest.raises(RuntimeError, match=r"django_db\(transaction=True\)"):
        run_concurrently(lambda: None, lambda: None)


def test_it_clears_only_the_caches_own_keys_and_spares_the_other_roles(cache_key_prefix):
    """A cache cleanup between tests must never be FLUSHDB: the broker's queues and the quota counters
    may share the cache's Redis database (CELERY_BROKER_URL and QUOTA_REDIS_URL default to REDIS_URL)."""
    location = settings.CACHES["default"]["LOCATION"]
    raw = redis.Redis.from_url(location)
    # Keys as the other roles write them: no cache prefix, or another portal's cache prefix.
    broker_queue, quota_counter = f"{cache_key_prefix}-celery", f"quota:{cache_key_prefix}:officer:1:minute"
    other_cache = f"portal:1:{cache_key_prefix}"
    try:
        raw.lpush(broker_queue, "a task message")
        raw.set(quota_counter, 3)
        raw.set(other_cache, "a developer portal's cached policy")
        cache.set("policy", "this run's cached policy")
        cache.set("another", 1)
        assert cache.make_key("policy").startswith(f"{cache_key_prefix}:")

        assert redis_keys_delete(location, cache_key_prefix) == 2

        assert (cache.get("policy"), cache.get("another")) == (None, None)
        assert raw.lrange(broker_queue, 0, -1) == [b"a task message"]
        assert raw.get(quota_counter) == b"3"
        assert raw.get(other_cache) == b"a developer portal's cached policy"
    finally:
        raw.delete(broker_queue, quota_counter, other_cache)
        raw.close()


def test_it_gives_this_runs_cache_a_key_prefix_of_its_own(cache_key_prefix):
    assert settings.CACHES["default"]["KEY_PREFIX"] == cache_key_prefix
    assert cache_key_prefix.startswith("portal-test-") and len(cache_key_prefix) == len("portal-test-") + 12


@pytest.mark.parametrize("prefix", ["", "*", "portal-test-*", "a?b", "[ab]"])
def test_it_refuses_to_delete_by_a_pattern(prefix):
    with pytest.raises(ValueError):
        redis_keys_delete(settings.CACHES["default"]["LOCATION"], prefix)
