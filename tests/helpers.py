"""Plain helpers of the test suite (docs/conventions.md "Tests"): imported by the tests, never from conftest.py,
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
                      "compliance_monthlyreport", "incidents_timelineentry", "incidents_evidence"]


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


# ----- connected systems (OpenID Connect) ------------------------------------------------------------

class LogoutReceiver:
    """A real HTTP server on a free port of localhost standing for a relying party's back-channel logout
    endpoint: it records each POSTed `logout_token`, and answers `status` (set 503 to play a system
    that is down)."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs

        receiver = self
        self.tokens: list[str] = []
        self.status = 200
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                with receiver._lock:
                    status = receiver.status
                    if status == 200:
                        receiver.tokens.extend(form.get("logout_token", []))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/backchannel-logout"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.tokens) >= count:
                    return list(self.tokens)
            time.sleep(0.05)
        raise TimeoutError(f"{len(self.tokens)} logout token(s) arrived, not {count}.")


def oidc_system_register(unit, *, name="Hệ thống một cửa", backchannel_logout_uri="",
                         redirect_uri="https://motcua.example.vn/callback"):
    """A relying party registered as the IT Center's command line does; returns (system, secret)."""
    from federation.services import system_register
    from portal.actors import COMMAND_LINE

    return system_register(actor=COMMAND_LINE, name=name, unit=unit, redirect_uris=[redirect_uri],
                           backchannel_logout_uri=backchannel_logout_uri)


def oidc_authorize(client, system, *, nonce="n-0S6_WzA2Mj", state="af0ifjsldkj", verifier=None,
                   redirect_uri=None, scope="openid profile email", **extra):
    """The browser's step: GET /o/authorize/ as an Authlib relying party builds it (PKCE S256).
    Returns (response, verifier)."""
    from authlib.common.security import generate_token
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    verifier = verifier or generate_token(48)
    params = {"response_type": "code", "client_id": system.application.client_id, "scope": scope,
              "redirect_uri": redirect_uri or system.application.redirect_uris.split()[0], "state": state,
              "nonce": nonce, "code_challenge": create_s256_code_challenge(verifier),
              "code_challenge_method": "S256", **extra}
    params = {key: value for key, value in params.items() if value is not None}
    return client.get("/o/authorize/", params), verifier


def oidc_code_from(response) -> dict:
    from urllib.parse import parse_qs, urlsplit

    assert response.status_code == 302, (response.status_code, getattr(response, "content", b"")[:300])
    return {key: values[0] for key, values in parse_qs(urlsplit(response.url).query).items()}


def oidc_token(client, system, secret, **data):
    """POST /o/token/ with the system's credentials (HTTP Basic, client_secret_basic)."""
    import base64

    credentials = base64.b64encode(f"{system.application.client_id}:{secret}".encode()).decode()
    return client.post("/o/token/", data, HTTP_AUTHORIZATION=f"Basic {credentials}")


def oidc_verify(client, token: str, *, audience: str) -> dict:
    """Check a JWT the portal signed against its published JWKS (joserfc); returns its claims."""
    from joserfc import jwt as jose_jwt
    from joserfc.jwk import KeySet

    keys = KeySet.import_key_set(client.get("/o/jwks/").json())
    decoded = jose_jwt.decode(token, keys, algorithms=["RS256"])
    assert decoded.claims["aud"] == audience
    return {"header": decoded.header, **decoded.claims}


def xlsx_table(content: bytes):
    """An exported XLSX file's sheet and its rows from the header on (the title block above it —
    portal.exports.HEADING_ROWS rows — left out)."""
    import io

    from openpyxl import load_workbook

    from portal.exports import HEADING_ROWS

    sheet = load_workbook(io.BytesIO(content)).active
    return sheet, list(sheet.iter_rows(values_only=True))[HEADING_ROWS:]


class ScimServer:
    """A real SCIM 2.0 server (scim2-server, in memory) on a port of localhost, in a thread of the test
    process: `stop()` closes its socket (the target is down: connections refused), `start()` opens it
    again on the same port with the same storage; `storage` lets a test plant users the portal never sent."""

    TOKEN = "scim-test-token-0123456789abcdef"

    def __init__(self):
        from scim2_models import ScimProvider
        from scim2_server.memory import InMemoryStorage
        from scim2_server.service import ScimService
        from scim2_server.testserver.application import BEARER_TOKEN_SCHEME, BearerTokenApplication
        from scim2_server.utils import (
            load_default_resource_types,
            load_default_schemas,
            load_default_service_provider_config,
        )

        config = load_default_service_provider_config()
        config.authentication_schemes = [*(config.authentication_schemes or []), BEARER_TOKEN_SCHEME]
        provider = ScimProvider.from_discovery(load_default_schemas().values(),
                                               load_default_resource_types().values(), config=config)
        self.storage = InMemoryStorage()
        self.app = BearerTokenApplication(self.storage, provider, service=ScimService(provider, secret="s" * 32),
                                          bearer_tokens=[self.TOKEN])
        self.port = 0
        self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/scim/v2/"

    def start(self):
        import threading
        from wsgiref.simple_server import WSGIRequestHandler, make_server

        from scim2_server.testserver.cli import ThreadingWSGIServer

        class Quiet(WSGIRequestHandler):
            def log_message(self, *args):
                pass

        def app(environ, start_response):
            # Served under /scim/v2/ as a real target would be.
            path = environ.get("PATH_INFO", "")
            if path.startswith("/scim/v2"):
                environ["PATH_INFO"] = path[len("/scim/v2"):] or "/"
                environ["SCRIPT_NAME"] = "/scim/v2"
            return self.app(environ, start_response)

        self.server = make_server("127.0.0.1", self.port, app, server_class=ThreadingWSGIServer, handler_class=Quiet)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def users(self) -> dict:
        """{userName: resource} of what the target holds."""
        return {resource.user_name: resource for resource in self.storage.resources
                if getattr(resource, "user_name", None)}
