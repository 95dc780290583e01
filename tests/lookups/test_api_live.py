"""The lookup API through a real HTTP server (pytest-django's live_server, its own threads and database
connections): 50 clients at once, each a real thread with its own HTTP connection, against a per-minute
quota of 10 — exactly 10 allowed and 50 records, counted in PostgreSQL. (Schemathesis against the served
OpenAPI document: tests/portal/test_schemathesis.py.)"""
import http.client
import json
import threading
import urllib.parse

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread, _StaticFilesHandler

from lookups.choices import QuotaWindow
from lookups.models import LookupRecord, QuotaCounter, QuotaOverride

URL = "/api/v1/lookups/"
BODY = {"officer": "cb.tanphong", "citizen_id": "075095001234", "dossier_code": "000.00.31.H19-210708-0032",
        "purpose": "Cấp bản sao trích lục khai sinh"}
CLIENTS = 50


class _DeepBacklogServer(ThreadedWSGIServer):
    # Django's development server queues 10 connections; fifty clients connecting in the same instant
    # would see resets before any request is read. A production server (gunicorn) queues 2048.
    request_queue_size = 128


class _LiveServerThread(LiveServerThread):
    server_class = _DeepBacklogServer


@pytest.fixture
def api_server(transactional_db):
    """A live server of the portal in a thread of this process (as pytest-django's live_server), whose
    socket queues fifty connections at once; every request runs in a thread of its own with its own
    database connection."""
    thread = _LiveServerThread("127.0.0.1", _StaticFilesHandler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


def _post(base_url: str, token: str) -> int:
    address = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    try:
        connection.request("POST", URL, body=json.dumps(BODY).encode(),
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _fifty_clients_at_once(base_url: str, token: str) -> list[int]:
    """Each client a real thread with its own connection, released together by a barrier."""
    start = threading.Barrier(CLIENTS)
    statuses: list = [None] * CLIENTS

    def client(index):
        start.wait(timeout=30)
        try:
            statuses[index] = _post(base_url, token)
        except Exception as error:  # handed to the assertion, never dropped
            statuses[index] = repr(error)

    threads = [threading.Thread(target=client, args=(index,), daemon=True) for index in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return statuses


@pytest.fixture
def day_quota_of_ten(officer_bien_hoa):
    """A day's quota, not a minute's: fifty calls never straddle its end (no waiting for a minute to start)."""
    QuotaOverride.objects.create(unit=officer_bien_hoa.unit, window=QuotaWindow.OFFICER_DAY, limit=10)


@pytest.mark.django_db(transaction=True)
def test_fifty_clients_against_a_live_server_get_exactly_ten_allowed(api_server, province_client, day_quota_of_ten,
                                                                      settings, closed_port_url):
    settings.QUOTA_REDIS_URL = closed_port_url  # the quotas never ask Redis (only the rate limit does)
    statuses = _fifty_clients_at_once(api_server, province_client[1])
    assert sorted(statuses, key=str) == [200] * 10 + [429] * 40
    assert LookupRecord.objects.count() == 50
    assert LookupRecord.objects.filter(decision="allow").count() == 10
    assert QuotaCounter.objects.get(key__startswith="officer:", key__endswith=":day").count == 10
