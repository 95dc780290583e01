"""The HTTP registry adapter against a real HTTP server the test starts (stdlib http.server in a thread):
the request it sends (POSTed JSON, never the ID in a URL; bearer or Basic credentials), the record it
reads, and every failure — timeout, unreachable, 5xx, 401, 404, unreadable JSON — answered as a clear
Vietnamese refusal recorded beside the lookup, never a 500. And the setting itself: with DEBUG=0 the
registry must be named, and the synthetic one fails the deployment check."""
import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from audit.choices import EventKind
from audit.models import SecurityEvent
from lookups.choices import RegistryFailureKind
from lookups.models import LookupRecord, RegistryFailure
from lookups.registry import CitizenRecord, HttpRegistry, RegistryUnavailable
from tests.helpers import PRODUCTION_ENV, login

ROOT = Path(__file__).resolve().parents[2]
CITIZEN = "075095001234"
DOSSIER = "000.00.31.H19-210708-0032"
PURPOSE = "Cấp bản sao trích lục khai sinh"
RECORD = {"full_name": "Nguyễn Văn An", "birth_date": "1995-03-14", "gender": "male",
          "permanent_address": "Số 12 đường Lê Lợi, Khu phố 1, phường Tân Phong, tỉnh Đồng Nai"}


class FakeRegistry:
    """A registry on 127.0.0.1 that answers what the test tells it and keeps what it was sent."""

    def __init__(self):
        self.status, self.body, self.delay = 200, json.dumps(RECORD).encode(), 0.0
        self.requests = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                registry.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": self.rfile.read(length)})
                if registry.delay:
                    time.sleep(registry.delay)
                self.send_response(registry.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(registry.body)))
                self.end_headers()
                try:
                    self.wfile.write(registry.body)
                except OSError:
                    pass  # the client gave up first (the timeout tests)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/citizens/lookup"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_registry(settings):
    registry = FakeRegistry()
    settings.LOOKUP_REGISTRY = "lookups.registry.HttpRegistry"
    settings.LOOKUP_REGISTRY_URL = registry.url
    settings.LOOKUP_REGISTRY_TOKEN = "registry-token-123"
    settings.LOOKUP_REGISTRY_USERNAME = settings.LOOKUP_REGISTRY_PASSWORD = ""
    settings.LOOKUP_REGISTRY_CONNECT_TIMEOUT = 1.0
    settings.LOOKUP_REGISTRY_TIMEOUT = 1.0
    yield registry
    registry.close()


def _failure(citizen=CITIZEN) -> RegistryUnavailable:
    with pytest.raises(RegistryUnavailable) as failed:
        HttpRegistry().fetch(citizen)
    return failed.value


def test_it_posts_the_id_as_json_with_a_bearer_token_and_reads_the_record(fake_registry):
    record = HttpRegistry().fetch(CITIZEN)
    assert record == CitizenRecord(full_name="Nguyễn Văn An", birth_date=date(1995, 3, 14), gender="male",
                                   permanent_address=RECORD["permanent_address"])
    sent = fake_registry.requests[0]
    assert sent["path"] == "/api/v1/citizens/lookup"  # the ID is not in the URL
    assert json.loads(sent["body"]) == {"citizen_id": CITIZEN}
    assert sent["headers"]["Authorization"] == "Bearer registry-token-123"
    assert sent["headers"]["Content-Type"] == "application/json"


def test_it_sends_basic_credentials_when_given_a_user_and_password(fake_registry, settings):
    settings.LOOKUP_REGISTRY_TOKEN = ""
    settings.LOOKUP_REGISTRY_USERNAME, settings.LOOKUP_REGISTRY_PASSWORD = "dongnai", "mật-khẩu:1"
    HttpRegistry().fetch(CITIZEN)
    expected = base64.b64encode("dongnai:mật-khẩu:1".encode()).decode()
    assert fake_registry.requests[0]["headers"]["Authorization"] == f"Basic {expected}"


@pytest.mark.parametrize(("status", "kind"), [
    (500, RegistryFailureKind.SERVER_ERROR), (502, RegistryFailureKind.SERVER_ERROR),
    (503, RegistryFailureKind.SERVER_ERROR), (401, RegistryFailureKind.REFUSED), (403, RegistryFailureKind.REFUSED),
    (404, RegistryFailureKind.NOT_FOUND), (302, RegistryFailureKind.BAD_ANSWER),
])
def test_it_turns_each_error_status_into_its_failure(fake_registry, status, kind):
    fake_registry.status = status
    failure = _failure()
    assert (failure.kind, failure.status_code, failure.code, failure.status) == (kind, status, f"registry_{kind}", 503)


@pytest.mark.parametrize("body", [
    b"not json", b"[]", b'"text"', b"{}", json.dumps({**RECORD, "gender": "other"}).encode(),
    json.dumps({**RECORD, "birth_date": "14/03/1995"}).encode(), json.dumps({**RECORD, "full_name": ""}).encode(),
    json.dumps({**RECORD, "full_name": 7}).encode(), b"\xff\xfe{", json.dumps({**RECORD, "pad": "x" * 70000}).encode(),
])
def test_it_refuses_an_answer_it_cannot_read(fake_registry, body):
    fake_registry.body = body
    failure = _failure()
    assert (failure.kind, failure.status_code) == (RegistryFailureKind.BAD_ANSWER, 200)


def test_it_gives_up_at_its_timeout(fake_registry):
    fake_registry.delay = 3.0
    failure = _failure()
    assert failure.kind == RegistryFailureKind.TIMEOUT


def test_a_registry_that_is_not_there_is_unreachable(fake_registry, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.LOOKUP_REGISTRY_URL = f"http://127.0.0.1:{port}/"
    assert _failure().kind == RegistryFailureKind.UNREACHABLE


def test_its_failure_messages_are_vietnamese(fake_registry):
    fake_registry.status = 503
    with translation.override("vi"):
        failure = _failure()
    assert failure.message == ("Hệ thống Cơ sở dữ liệu quốc gia về dân cư đang báo lỗi. Lượt tra cứu đã được "
                                  "ghi nhận; vui lòng thử lại sau ít phút.")


# ----- through the officer's page ---------------------------------------------------------------------

def _look_up(client):
    return client.post(reverse("lookups:lookup"), {"citizen_id": CITIZEN, "dossier_code": DOSSIER,
                                                   "purpose": PURPOSE})


def test_the_page_shows_the_registrys_answer_masked(fake_registry, client, officer_bien_hoa):
    response = _look_up(login(client, officer_bien_hoa))
    assert response.status_code == 200
    assert response.context["masked"].initials == "N. V. A."
    assert RegistryFailure.objects.count() == 0


@pytest.mark.parametrize(("status", "delay", "kind"), [
    (500, 0.0, RegistryFailureKind.SERVER_ERROR), (200, 3.0, RegistryFailureKind.TIMEOUT),
])
def test_a_registry_failure_is_a_clear_answer_recorded_with_the_lookup(fake_registry, client, officer_bien_hoa,
                                                                       status, delay, kind):
    fake_registry.status, fake_registry.delay = status, delay
    response = _look_up(login(client, officer_bien_hoa))
    assert response.status_code == 200
    assert "masked" not in response.context
    messages = [str(message) for message in response.context["messages"]]
    assert len(messages) == 1 and "Cơ sở dữ liệu quốc gia về dân cư" in messages[0]
    record = LookupRecord.objects.get()
    failure = RegistryFailure.objects.get()
    assert (record.decision, failure.lookup_id, failure.decided_at, failure.kind) == (
        "allow", record.pk, record.decided_at, kind)
    assert CITIZEN not in failure.detail


def test_a_registry_failure_on_reveal_shows_nothing_and_records_no_reveal(fake_registry, client, officer_bien_hoa):
    login(client, officer_bien_hoa)
    _look_up(client)
    record = LookupRecord.objects.get()
    fake_registry.body = b"{"
    response = client.post(reverse("lookups:reveal", args=[record.pk]), {"citizen_id": CITIZEN}, follow=True)
    assert response.status_code == 200
    assert "revealed" not in response.context
    assert SecurityEvent.objects.filter(kind=EventKind.LOOKUP_REVEALED).count() == 0
    assert list(RegistryFailure.objects.values_list("lookup_id", "kind")) == [(record.pk, "bad_answer")]


def test_the_log_shows_that_the_registry_failed(fake_registry, client, officer_bien_hoa, inspector):
    fake_registry.status = 502
    _look_up(login(client, officer_bien_hoa))
    response = login(client, inspector).get(reverse("lookups:log"))
    assert "Cơ sở dữ liệu dân cư trả lời lỗi (HTTP 502)" in response.content.decode()


# ----- the setting under production ----------------------------------------------------------------------



def _manage(*args, **overrides):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LOOKUP_", "DEBUG"))}
    env.update(PRODUCTION_ENV)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_production_refuses_to_start_without_a_named_registry():
    result = _manage("check", LOOKUP_REGISTRY=None)
    assert result.returncode == 1
    assert "ImproperlyConfigured: LOOKUP_REGISTRY must be set when DEBUG=0" in result.stderr


@pytest.mark.parametrize(("overrides", "message"), [
    ({"LOOKUP_REGISTRY_URL": "http://dancu.example.gov.vn/api/lookup"}, "LOOKUP_REGISTRY_URL must be set"),
    ({"LOOKUP_REGISTRY_URL": None}, "LOOKUP_REGISTRY_URL must be set"),
    ({"LOOKUP_REGISTRY_TOKEN": None}, "The HTTP registry needs credentials"),
    ({"LOOKUP_REGISTRY_USERNAME": "dongnai", "LOOKUP_REGISTRY_PASSWORD": "x"}, "not both"),
])
def test_production_refuses_an_http_registry_without_https_or_credentials(overrides, message):
    result = _manage("check", **overrides)
    assert result.returncode == 1
    assert message in result.stderr


def test_the_http_registry_passes_the_deployment_check_and_the_synthetic_one_does_not():
    assert _manage("check", "--deploy", "--fail-level", "WARNING").returncode == 0
    synthetic = _manage("check", "--deploy", "--fail-level", "WARNING",
                        LOOKUP_REGISTRY="lookups.registry.SyntheticRegistry")
    assert synthetic.returncode == 1
    assert "lookups.W001" in synthetic.stderr
