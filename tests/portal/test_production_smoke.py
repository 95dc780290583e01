"""The production smoke test: gunicorn (with deploy/gunicorn.conf.py), a Celery worker and Celery beat,
all with DEBUG=0 and production settings, against PostgreSQL and Redis — driven as nginx would forward
a browser (X-Forwarded-Proto: https, X-Forwarded-For) through a sign-in with the TOTP second step, a
signed-in page, and a lookup through the API; the worker runs a task and the reminder pass (once per
threshold, also when run twice), beat loads its schedule."""
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.choices import Role
from audit.choices import EventKind
from audit.models import SecurityEvent
from lookups.models import LookupRecord
from notifications.choices import NoticeKind
from notifications.models import Notice
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.helpers import PRODUCTION_ENV, redis_keys_delete, totp_code, totp_enrol

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "smoke-Xq7$k2!qv9@pL#4mZ8&wR1^tY6*uI0(oP3)aS5-dF7_gH9+jK2=lZ4"
CLIENT_ADDRESS = "203.0.113.50"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Production:
    """The three processes of deploy/systemd, started with one production environment."""

    def __init__(self):
        self.run = uuid.uuid4().hex[:10]
        self.port = _free_port()
        self.static_root = tempfile.mkdtemp(prefix="smoke-static-")
        self.private_root = tempfile.mkdtemp(prefix="smoke-private-")
        os.chmod(self.private_root, 0o700)
        self.logs = Path(tempfile.mkdtemp(prefix="smoke-logs-"))
        self.queue = f"smoke-{self.run}"
        database = connection.settings_dict
        self.prefixes = {"CACHE_KEY_PREFIX": f"smoke-cache-{self.run}", "QUOTA_KEY_PREFIX": f"smoke-lq-{self.run}",
                         "RATE_LIMIT_KEY_PREFIX": f"smoke-rl-{self.run}"}
        self.environment = {
            **{key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST"))},
            "DEBUG": "0", "SECRET_KEY": SECRET_KEY, "CITIZEN_ID_KEY": "smoke-citizen-id-key-" + "c" * 32,
            "AUDIT_SEAL_KEY": "smoke-audit-seal-key-" + "a" * 32, "AUDIT_SIGNING_KEY": PRODUCTION_ENV["AUDIT_SIGNING_KEY"],
            # The national registry is not reachable from here: the synthetic one, named explicitly as
            # production requires (check --deploy would warn lookups.W001 about it).
            "LOOKUP_REGISTRY": "lookups.registry.SyntheticRegistry", "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
            "REDIS_URL": settings.REDIS_URL, "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "QUOTA_REDIS_URL": settings.QUOTA_REDIS_URL, "TRUSTED_PROXY_COUNT": "1", "DB_CONN_MAX_AGE": "0",
            "STATIC_ROOT": self.static_root, "PRIVATE_MEDIA_ROOT": self.private_root,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_WORKERS": "2", "EMAIL_URL": "smtp://127.0.0.1:1025",
            **self.prefixes,
        }
        self.processes = {}

    def manage(self, *args):
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.environment,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def start(self, name, *command):
        log = open(self.logs / f"{name}.log", "w")
        self.processes[name] = (subprocess.Popen(command, cwd=ROOT, env=self.environment, stdout=log,
                                                 stderr=subprocess.STDOUT, start_new_session=True), log)

    def start_all(self):
        self.manage("collectstatic", "--noinput", "-v", "0")
        self.start("web", sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "portal.wsgi:application")
        self.start("worker", sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "-Q", self.queue,
                   "--hostname", f"{self.queue}@%h", "--without-gossip", "--without-mingle", "--loglevel=INFO")
        self.start("beat", sys.executable, "-m", "celery", "-A", "portal", "beat", "--loglevel=INFO",
                   "--pidfile=", "--schedule", str(self.logs / "beat-schedule"))

    def log(self, name) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def alive(self):
        for name, (process, _log) in self.processes.items():
            assert process.poll() is None, f"{name} exited:\n{self.log(name)}"

    def stop(self):
        for process, _log in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process, log in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
            log.close()
        for prefix in self.prefixes.values():
            redis_keys_delete(settings.REDIS_URL, prefix)
        for directory in (self.static_root, self.private_root, self.logs):
            shutil.rmtree(directory, ignore_errors=True)


class Browser:
    """What nginx forwards of a browser: https, the client's address, the cookies it keeps."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, *, form=None, json_body=None, headers=None):
        sent = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https", "X-Forwarded-For": CLIENT_ADDRESS,
                "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 smoke", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            sent.update({"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://127.0.0.1"})
        if json_body is not None:
            body = json_body
            sent["Content-Type"] = "application/json"
        connection_ = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection_.request(method, path, body=body.encode() if body is not None else None, headers=sent)
            response = connection_.getresponse()
            content = response.read().decode("utf-8", "replace")
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    for name, morsel in SimpleCookie(value).items():
                        if morsel.value and morsel["max-age"] != "0":
                            self.cookies[name] = morsel.value
                        else:
                            self.cookies.pop(name, None)
            return response.status, {name.lower(): value for name, value in response.getheaders()}, content
        finally:
            connection_.close()

    def csrf(self, path):
        status, _headers, page = self.request("GET", path)
        assert status == 200, page
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def _wait_for(check, what, production, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        production.alive()
        try:
            if check():
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.3)
    raise AssertionError(f"{what} not ready within {timeout} s:\n" + "\n".join(
        f"--- {name}\n{production.log(name)[-3000:]}" for name in production.processes))


@pytest.fixture
def production(transactional_db):
    server = Production()
    try:
        server.start_all()
        yield server
    finally:
        server.stop()


@pytest.mark.django_db(transaction=True)
def test_production_processes_serve_a_totp_sign_in_and_a_lookup(production, units):
    from django_celery_beat.models import PeriodicTask

    from portal.celery import app

    admin = UserFactory(username="qt.smoke", role=Role.IT_ADMIN, unit=units["it_center"])
    device = totp_enrol(admin)
    officer = UserFactory(username="cb.smoke", role=Role.OFFICER, unit=units["tan_phong"], can_lookup=True)
    # Under the production SECRET_KEY (the token's hash is keyed from it): the operator's command.
    token = production.manage("create_api_client", "Một cửa tỉnh (smoke)", "--unit", units["province"].code).strip()
    browser = Browser(production.port)
    _wait_for(lambda: browser.request("GET", "/healthz")[0] == 200, "gunicorn /healthz", production)

    # The sign-in: the password, then the code; nothing opens in between.
    csrf = browser.csrf("/accounts/login/")
    status, headers, _page = browser.request("POST", "/accounts/login/", form={
        "csrfmiddlewaretoken": csrf, "username": admin.username, "password": DEFAULT_PASSWORD})
    assert (status, headers["location"]) == (302, "/accounts/login/code/")
    assert set(browser.cookies) == {"__Host-csrftoken", "__Host-sessionid"}
    assert browser.request("GET", "/admin/accounts/")[0] == 302
    csrf = browser.csrf("/accounts/login/code/")
    status, headers, _page = browser.request("POST", "/accounts/login/code/", form={
        "csrfmiddlewaretoken": csrf, "otp_token": totp_code(device)})
    assert (status, headers["location"]) == (302, "/")
    status, headers, page = browser.request("GET", "/admin/accounts/")
    assert status == 200 and "qt.smoke" in page
    assert "no-store" in headers["cache-control"] and "unsafe-inline" not in headers["content-security-policy"]
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert re.search(r'href="/static/css/portal\.[0-9a-f]{12}\.css"', page)  # the hashed, collected files
    success = SecurityEvent.objects.get(kind=EventKind.LOGIN_SUCCESS, target=admin)
    assert success.ip_address == CLIENT_ADDRESS and success.details == {"second_factor": "totp"}

    # A lookup through the API, decided and recorded by the production web process.
    status, _headers, answer = browser.request("POST", "/api/v1/lookups/", json_body=(
        '{"officer": "cb.smoke", "citizen_id": "075204000134", "dossier_code": "000.00.31.H19-241105-0001", '
        '"purpose": "Giải quyết hồ sơ"}'), headers={"Authorization": f"Bearer {token}"})
    assert status == 200 and '"decision": "allow"' in answer
    assert LookupRecord.objects.filter(officer=officer).count() == 1

    # The worker takes a task from the broker and runs it; beat has loaded the schedule into the database.
    worker_name = f"{production.queue}@{os.uname().nodename}"
    _wait_for(lambda: app.control.ping(destination=[worker_name], timeout=1), "the Celery worker", production)

    def runs_of(task_name):
        stats = app.control.inspect(destination=[worker_name], timeout=1).stats() or {}
        return stats.get(worker_name, {}).get("total", {}).get(task_name, 0)

    app.send_task("accounts.execute_due_turnover_requests", queue=production.queue)
    _wait_for(lambda: runs_of("accounts.execute_due_turnover_requests") == 1, "the task on the worker", production)
    _wait_for(lambda: PeriodicTask.objects.filter(name="disable-dormant-accounts").exists(), "beat's schedule",
              production)

    # The reminder pass on the production worker: an officer whose password expires in 7 days (a policy
    # threshold) gets one reminder, and a second pass (a redelivered or repeated task) makes no other.
    reminded = UserFactory(username="cb.nhacnho", role=Role.OFFICER, unit=units["tan_phong"],
                           password_changed_at=timezone.now() - timedelta(days=83))
    for run in (1, 2):
        app.send_task("notifications.send_reminders", queue=production.queue)
        _wait_for(lambda run=run: runs_of("notifications.send_reminders") == run, "the reminder pass", production)
    reminders = Notice.objects.filter(recipient=reminded, kind=NoticeKind.PASSWORD_EXPIRY)
    assert list(reminders.values_list("threshold", flat=True)) == [7]
    production.alive()
