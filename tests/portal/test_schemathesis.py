"""Schemathesis (its command line, in a subprocess: its pytest loader does not run under pytest 9) against
a portal served by gunicorn on a free port over the test database: the lookup API with a real client's
bearer token (tests/schemathesis/lookups.toml) and the OpenID Connect endpoints with a registered
system's credentials and a live access token (tests/schemathesis/oidc.toml). Checks: no server error,
every status, content type, body (and for the lookup API every header) as the served documents say.

The server reads what this test committed (a transactional test); it is stopped before pytest-django
empties the tables, and its cache and rate-limit keys are this run's own (tests/conftest.py deletes them)."""
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from lookups.choices import QuotaWindow
from lookups.models import QuotaOverride

from ..helpers import oidc_system_register

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "tests" / "schemathesis"
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    """The test database this process uses (pytest-django's test_<name>), as a URL for the server."""
    database = connection.settings_dict
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    return (f"postgres://{database['USER']}{password}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/"
            f"{database['NAME']}")


@pytest.fixture
def portal_server(transactional_db, cache_key_prefix, tmp_path):
    """gunicorn serving the portal on a free port, over the test database and this run's Redis prefixes."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": _database_url(), "PORTAL_URL": url,
           "CACHE_KEY_PREFIX": cache_key_prefix, "RATE_LIMIT_KEY_PREFIX": settings.RATE_LIMIT_KEY_PREFIX,
           "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "portal.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--threads", "4", "--timeout", "60"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v1/openapi.json", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "gunicorn.log").read_text()[-3000:]) from None
                time.sleep(0.2)
        yield url, tmp_path / "gunicorn.log"
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # gunicorn and its worker: the group this test started
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(30)
        log.close()


def _schemathesis(config: str, location: str, env: dict, log: Path) -> None:
    result = subprocess.run(
        [str(BIN / "schemathesis"), "--config-file", str(CONFIGS / config), "--no-color", "run", location],
        # In the test's own folder: the command line keeps a cache under its working directory.
        cwd=log.parent, env={**os.environ, **env}, capture_output=True, text=True, timeout=400)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-12000:] + "\n--- server ---\n" + log.read_text()[-4000:]
    # Every generated case ran every check and passed (warnings — the token endpoint refusing made-up
    # codes, the logout form without its page's CSRF token — are what these endpoints should do).
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counts is not None and int(counts[1]) == int(counts[2]) > 0, output[-4000:]


def test_the_lookup_api_answers_as_its_document_says(portal_server, units, officer_bien_hoa):
    from lookups.services import api_client_create
    from portal.actors import COMMAND_LINE

    url, log = portal_server
    _client, token = api_client_create(actor=COMMAND_LINE, name="Hệ thống một cửa tỉnh", unit=units["province"])
    # Enough quota for every generated request that reaches it: the quotas are not what is tested here.
    for window in (QuotaWindow.OFFICER_MINUTE, QuotaWindow.OFFICER_DAY):
        QuotaOverride.objects.create(unit=officer_bien_hoa.unit, window=window, limit=100000)
    _schemathesis("lookups.toml", f"{url}/api/v1/openapi.json", {"SCHEMATHESIS_LOOKUP_TOKEN": token},
                  log)


def test_the_openid_connect_endpoints_answer_as_their_document_says(portal_server, units, officer_bien_hoa):
    from oauth2_provider.models import AccessToken

    url, log = portal_server
    system, secret = oidc_system_register(units["bien_hoa"])
    token = AccessToken.objects.create(user=officer_bien_hoa, application=system.application,
                                       token="schemathesis-live-access-token-0123456789",
                                       expires=timezone.now() + timedelta(hours=1), scope="openid profile email")
    _schemathesis("oidc.toml", f"{url}/o/openapi.json", {
        "SCHEMATHESIS_CLIENT_ID": system.application.client_id, "SCHEMATHESIS_CLIENT_SECRET": secret,
        "SCHEMATHESIS_ACCESS_TOKEN": token.token}, log)
