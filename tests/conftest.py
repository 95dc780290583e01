"""Fixtures and hooks only (plain helpers live in tests/helpers.py). Shared actors (docs/conventions.md): an IT
admin, an inspector, a leader of Biên Hòa, an officer of a Biên Hòa ward and an officer of another
district (Long Khánh), in a small Đồng Nai tree."""
import copy
import datetime
import os
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import override_settings

from accounts.choices import Role

from .factories import DEFAULT_PASSWORD, UserFactory, dong_nai_units
from .hashers import hashers_for_tests
from .helpers import ScimServer, login, redis_keys_delete, truncate_triggers_disable


def pytest_sessionstart(session):
    # CI must run against the real services; a missing one is a failure, never a skip.
    if not os.environ.get("DATABASE_URL"):
        pytest.exit("The suite runs on the machine's PostgreSQL: run it with `make test` (DATABASE_URL).", returncode=2)
    if not settings.REDIS_URL:
        pytest.exit("The suite runs with Redis: run it with `make test` (REDIS_URL).", returncode=2)


@pytest.fixture(scope="session")
def test_run_id():
    return uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
def cache_key_prefix(test_run_id):
    """This run's cache keys start with a prefix of its own, so that emptying the cache between tests
    deletes those keys and nothing else of the Redis database (the broker's queues, the quota counters,
    another run's or a developer portal's cache)."""
    return f"{settings.CACHES['default'].get('KEY_PREFIX') or 'portal'}-test-{test_run_id}"


@pytest.fixture(scope="session", autouse=True)
def _test_run_settings(cache_key_prefix):
    """The settings of the whole run, set before the test database exists and seen by every thread
    (the live server's too): a cheap Argon2 (tests/hashers.py) and the run's own cache key prefix."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = cache_key_prefix
    with override_settings(PASSWORD_HASHERS=hashers_for_tests(settings.PASSWORD_HASHERS), CACHES=caches,
                           RATE_LIMIT_KEY_PREFIX=f"rl-test-{cache_key_prefix}"):
        yield


@pytest.fixture(scope="session")
def django_db_setup(_test_run_settings, django_db_setup, django_db_blocker):
    from audit.partitions import months_before, partitions_ensure

    this_month = datetime.date.today().replace(day=1)
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        # Tests write lookups in the past (a quarter of history, windows across a month's end): the
        # months the portal itself never writes into are made here, before their triggers are switched off.
        for table in settings.AUDIT_PARTITIONED_TABLES:
            partitions_ensure(table, since=months_before(this_month, 2), through=months_before(this_month, -3))
        truncate_triggers_disable(cursor)


@pytest.fixture(scope="session")
def _other_roles_sentinel(_test_run_settings, test_run_id):
    """A key outside the cache's prefix that no test may lose: it stands for what the other roles (the
    broker's queues, the quota counters) keep in the cache's Redis database."""
    client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    key = f"test-run:{test_run_id}:other-roles-sentinel"
    client.set(key, "the broker's queues and the quota counters live here too")
    yield client, key
    client.delete(key)
    client.close()


@pytest.fixture(autouse=True)
def _clean_cache(_other_roles_sentinel, cache_key_prefix):
    """Each test starts and ends with an empty cache: this run's cache keys are deleted, never the
    database (Django's `cache.clear()` is FLUSHDB). A test that flushed it anyway fails here."""
    location = settings.CACHES["default"]["LOCATION"]
    redis_keys_delete(location, cache_key_prefix)
    # The rate limits' counters (portal.ratelimit) of this run, on the quota Redis: each test starts afresh.
    redis_keys_delete(settings.QUOTA_REDIS_URL, settings.RATE_LIMIT_KEY_PREFIX)
    yield
    redis_keys_delete(location, cache_key_prefix)
    redis_keys_delete(settings.QUOTA_REDIS_URL, settings.RATE_LIMIT_KEY_PREFIX)
    client, sentinel = _other_roles_sentinel
    if not client.exists(sentinel):
        client.set(sentinel, "restored")
        pytest.fail("This test emptied the whole Redis database (FLUSHDB, e.g. cache.clear()): the Celery "
                    "broker's queues and the quota counters share it. Delete the test's own keys instead.",
                    pytrace=False)


@pytest.fixture(autouse=True)
def _audit_heads_file(request, tmp_path):
    """Each test keeps the seals' heads in a file of its own (audit/heads.py): the database is rolled
    back after each test, a shared file would hold heads of chains that no longer exist. A test with
    the Celery worker shares the worker's file, emptied first. (Not through the `settings` fixture:
    that would be set up before, and restored after, the cache-cleaning fixture above.)"""
    if "celery_worker" in request.fixturenames:
        heads = Path(request.getfixturevalue("celery_worker").heads_file)
        heads.unlink(missing_ok=True)
    else:
        heads = tmp_path / "audit-heads.jsonl"
    with override_settings(AUDIT_HEADS_FILE=str(heads)):
        yield


@pytest.fixture
def password():
    return DEFAULT_PASSWORD


@pytest.fixture
def units(db):
    return dong_nai_units()


@pytest.fixture
def it_admin(units):
    return UserFactory(username="qt.admin", full_name="Nguyễn Văn Hùng", role=Role.IT_ADMIN, unit=units["it_center"])


@pytest.fixture
def inspector(units):
    return UserFactory(username="tt.inspector", full_name="Trần Thị Mai", role=Role.INSPECTOR,
                       unit=units["inspectorate"])


@pytest.fixture
def leader_bien_hoa(units):
    return UserFactory(username="ld.bienhoa", full_name="Lê Minh Tuấn", role=Role.UNIT_LEADER, unit=units["bien_hoa"])


@pytest.fixture
def officer_bien_hoa(units):
    return UserFactory(username="cb.tanphong", full_name="Phạm Thị Hương", role=Role.OFFICER, unit=units["tan_phong"],
                       can_lookup=True)


@pytest.fixture
def officer_long_khanh(units):
    return UserFactory(username="cb.xuanan", full_name="Võ Văn Khánh", role=Role.OFFICER, unit=units["xuan_an"])


@pytest.fixture
def admin_client(client, it_admin):
    return login(client, it_admin)


@pytest.fixture
def scim_server():
    """A real SCIM 2.0 server (scim2-server, in memory) on a port of localhost (tests/helpers.py)."""
    server = ScimServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server on a free port of localhost that records what it receives (tests/smtp.py);
    the Celery worker sends through it."""
    import os

    from .smtp import RecordingSMTPServer

    server = RecordingSMTPServer().start()
    previous = os.environ.get("EMAIL_URL")
    os.environ["EMAIL_URL"] = server.url  # for the worker process, which reads its settings at start
    yield server
    server.stop()
    if previous is None:
        os.environ.pop("EMAIL_URL", None)
    else:
        os.environ["EMAIL_URL"] = previous


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, smtp_server):
    """A real Celery worker process on the test database (tests/worker.py), sending e-mail through the
    tests' SMTP server; tests using it need `@pytest.mark.django_db(transaction=True)` so that the
    worker sees their rows."""
    from .worker import Worker

    worker = Worker()
    with django_db_blocker.unblock():
        worker.start()
    yield worker
    worker.stop()
