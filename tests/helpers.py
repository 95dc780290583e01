"""Plain helpers of the test suite (STYLE.md "Tests"): imported by the tests, never from conftest.py,
which holds only fixtures and hooks."""
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import redis
from django.db import connection, connections

# The statement trigger that refuses TRUNCATE on the audit table is off in the test database only:
# pytest-django empties tables with TRUNCATE after transactional tests (the browser journeys, the
# concurrency tests). tests/audit/test_events.py turns it back on inside a transaction to show it works.
AUDIT_TRUNCATE_TRIGGER = "audit_securityevent_no_truncate"
# Every append-only table whose TRUNCATE trigger is off in the test database (partitions included:
# audit/partitions.py gives a new partition its parent's state).
APPEND_ONLY_TABLES = ["audit_securityevent", "lookups_lookuprecord", "audit_seal", "audit_sealverification",
                      "compliance_monthlyreport"]


def truncate_triggers_disable(cursor) -> None:
    """Switch off the TRUNCATE triggers of the append-only tables and of their partitions (test database)."""
    for table in APPEND_ONLY_TABLES:
        cursor.execute("SELECT relid::regclass::text FROM pg_partition_tree(%s::regclass)"
                       " UNION SELECT %s", [table, table])
        for (name,) in cursor.fetchall():
            cursor.execute(f'ALTER TABLE "{name}" DISABLE TRIGGER "{table}_no_truncate"')


def login(client, user):
    """Sign the test client in as the user, skipping the login form (and its password hash) and the
    second factor (the session is marked as having passed it, as the second step marks it)."""
    from accounts.session_store import SECOND_FACTOR_KEY

    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session[SECOND_FACTOR_KEY] = "totp"
    session.save()
    return client


# ----- the second factor (TOTP) ------------------------------------------------------------------------

def totp_enrol(user, key_hex: str | None = None):
    """A confirmed TOTP device for the account (what enrolment leaves), with a known or random key."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    fields = {"user": user, "name": "TOTP", "confirmed": True}
    if key_hex:
        fields["key"] = key_hex
    return TOTPDevice.objects.create(**fields)


def totp_code(device, *, steps_ahead: int = 0) -> str:
    """The code the authenticator app shows now (django_otp.oath, the device's own parameters). A code
    is accepted once: after a sign-in the next one needs a later step, so this moves past `last_t`."""
    from django_otp.oath import TOTP

    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    now_t = totp.t()
    target = max(now_t + steps_ahead, device.last_t + 1)
    totp.time = time.time() + (target - now_t) * device.step
    return f"{totp.token():0{device.digits}d}"


def sign_in(client, user, password, *, device=None, next_url: str = ""):
    """Sign in through the forms, as a person does: the password, then (when the account has a TOTP
    device) the code, in the field `otp_token`. Returns the last response."""
    from django.urls import reverse

    data = {"username": user.username, "password": password}
    if next_url:
        data["next"] = next_url
    response = client.post(reverse("login"), data)
    if device is None:
        return response
    assert response.status_code == 302 and response.url == reverse("login_second_step"), response
    return client.post(reverse("login_second_step"), {"otp_token": totp_code(device)})


# ----- real concurrency ------------------------------------------------------------------------------

def run_concurrently(*calls: Callable[[], Any], timeout: float = 30.0) -> list[Any]:
    """Run the calls at the same moment, each in a real thread with its own database connection.

    The threads start together (a barrier releases them once all are running) and each closes its
    connections when its call ends. Returns, in the order of the calls, what each returned or the
    exception it raised, so that a test asserts on every outcome. The threads see only committed rows,
    so the test needs `@pytest.mark.django_db(transaction=True)`."""
    if connection.in_atomic_block:
        raise RuntimeError("run_concurrently needs @pytest.mark.django_db(transaction=True): the threads "
                           "have their own connections and cannot see this test's uncommitted rows.")
    start_together = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            start_together.wait(timeout=timeout)
            outcomes[index] = call()
        except BaseException as error:  # handed back to the test as the call's outcome, never dropped
            outcomes[index] = error
        finally:
            connections.close_all()  # this thread's connections only

    threads = [threading.Thread(target=run, args=(index, call), name=f"concurrent-call-{index}", daemon=True)
               for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [thread.name for thread in threads if thread.is_alive()]
    if stuck:
        raise AssertionError(f"concurrent calls still running after {timeout} s: {stuck}")
    return outcomes


def wait_until_blocking_another_session(*, timeout: float = 10.0) -> None:
    """Inside an open transaction: return once another PostgreSQL session waits for a lock that this
    one holds (a row locked by SELECT … FOR UPDATE or by an UPDATE, an advisory lock).

    A test uses it to hold a transaction open until a racing one has reached the contested row, so
    the race happens on every run rather than when the scheduler happens to allow it."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            # pg_locks is read afresh by every statement (pg_stat_activity would be a snapshot
            # frozen for the whole transaction).
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted"
                           " AND pg_backend_pid() = ANY(pg_blocking_pids(pid))")
            if cursor.fetchone()[0]:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"no other session waited for this transaction's locks within {timeout} s")
            time.sleep(0.005)


# ----- Redis: the test cache's own keys ----------------------------------------------------------------

def redis_keys_delete(url: str, prefix: str) -> int:
    """Delete the keys that start with `prefix:` from the Redis database at `url`; return how many.

    This, and never FLUSHDB (what Django's `cache.clear()` sends), is how a test empties its cache:
    the same database may hold the Celery broker's queues and the lookup quota counters
    (CELERY_BROKER_URL and QUOTA_REDIS_URL default to REDIS_URL)."""
    if not prefix or any(char in prefix for char in "*?[]\\"):
        raise ValueError(f"refusing to delete by a pattern from the prefix {prefix!r}")
    client = redis.Redis.from_url(url)
    try:
        deleted = 0
        batch = []
        for key in client.scan_iter(match=f"{prefix}:*", count=500):
            batch.append(key)
            if len(batch) == 500:
                deleted += client.delete(*batch)
                batch = []
        if batch:
            deleted += client.delete(*batch)
        return deleted
    finally:
        client.close()


# ----- unit changes: a legal basis (accounts.services.units) -----------------------------------------

# What a rename, move, merge or retirement is ordered by, as the services take it and as the forms do.
UNIT_CHANGE_BASIS = {"basis_number": "1234/QĐ-UBND", "basis_date": date(2025, 6, 12),
                     "effective_date": date(2025, 7, 1)}
UNIT_CHANGE_BASIS_FORM = {"basis_number": "1234/QĐ-UBND", "basis_date": "12/06/2025", "effective_date": "01/07/2025"}


def pdf_bytes(pages: int = 1) -> bytes:
    """A small, well-formed PDF (blank A4 pages), as a scanned letter stands in the tests."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# The environment of a production start (DEBUG=0) in the subprocess tests: every required key set.
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x7$k2!qv9@pL#4mZ8&wR1^tY6*uI0(oP3)aS5-dF7_gH9+jK2=lZ4",
    "CITIZEN_ID_KEY": "c" * 40,
    "AUDIT_SEAL_KEY": "s" * 40,
    "AUDIT_SIGNING_KEY": "cHJvZHVjdGlvbi10ZXN0LXNpZ25pbmcta2V5LTAxMjM=",
    "ALLOWED_HOSTS": "antoan.dongnai.gov.vn",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/1",
    "LOOKUP_REGISTRY": "lookups.registry.HttpRegistry",
    "LOOKUP_REGISTRY_URL": "https://dancu.example.gov.vn/api/lookup",
    "LOOKUP_REGISTRY_TOKEN": "t" * 40,
}
# ----- a Redis server of the test's own (deployment checks, the production smoke test) ----------------

class PrivateRedisServer:
    """A redis-server started by the test with the settings it asks for (eviction, persistence), on a
    free port, stopped at the end: the shared test Redis is never reconfigured."""

    def __init__(self, *args: str):
        import socket
        import subprocess
        import tempfile

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = tempfile.mkdtemp(prefix="test-redis-")
        self.process = subprocess.Popen(
            ["/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.directory,
             *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.02)

    def stop(self):
        import shutil

        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None
        shutil.rmtree(self.directory, ignore_errors=True)


def xlsx_table(content: bytes):
    """An exported XLSX file's sheet and its rows from the header on (the title block above it —
    portal.exports.HEADING_ROWS rows — left out)."""
    import io

    from openpyxl import load_workbook

    from portal.exports import HEADING_ROWS

    sheet = load_workbook(io.BytesIO(content)).active
    return sheet, list(sheet.iter_rows(values_only=True))[HEADING_ROWS:]
