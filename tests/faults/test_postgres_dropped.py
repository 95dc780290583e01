"""A request's PostgreSQL connection dropped while the request runs (docs/faults.md): the test holds the
request at one of its writes (the table SHARE-locked from a second connection), ends the request's
backend with pg_terminate_backend, and lets go. The request answers with the portal's error page or the
API's refusal — Vietnamese, no traceback — and nothing of it is left half-written; the next request
works. A real gunicorn under production settings (DEBUG=0), tests/faults/servers.py."""
import json
import threading
import time

import psycopg2
import pytest
from django.db import connection

from accounts.choices import Role
from audit.choices import EventKind
from audit.models import SecurityEvent
from lookups.models import LookupRecord, QuotaCounter
from tests.factories import UserFactory

from .servers import Browser, api_client_for_web

WRONG = "Sai-mat-khau-9!"


def _dropped_while_writing(table, request):
    """Run `request()` in a thread; when its backend waits for `table`, terminate that backend. Returns
    what `request()` returned."""
    database = connection.settings_dict
    holder = psycopg2.connect(host=database["HOST"], port=database["PORT"], user=database["USER"],
                              dbname=database["NAME"])
    answer = {}
    try:
        with holder.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")
            thread = threading.Thread(target=lambda: answer.update(value=request()))
            thread.start()
            deadline = time.monotonic() + 60
            while True:
                cursor.execute("SELECT pid FROM pg_locks WHERE NOT granted AND relation = %s::regclass", [table])
                waiting = [row[0] for row in cursor.fetchall()]
                if waiting:
                    break
                assert time.monotonic() < deadline, f"the request never reached {table}"
                time.sleep(0.05)
            for pid in waiting:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        holder.rollback()
        holder.close()
    thread.join(60)
    return answer["value"]


def _sign_in_failed(browser, username):
    csrf = browser.csrf("/accounts/login/")
    return browser.request("POST", "/accounts/login/", form={"csrfmiddlewaretoken": csrf, "username": username,
                                                            "password": WRONG})


@pytest.mark.django_db(transaction=True)
def test_a_sign_in_whose_connection_drops_shows_the_error_page_and_counts_nothing(portal_web, units):
    _server, browser = portal_web
    officer = UserFactory(username="cb.matketnoi", role=Role.OFFICER, unit=units["tan_phong"])

    status, _headers, page = _dropped_while_writing("audit_securityevent", lambda: _sign_in_failed(browser, officer.username))
    assert status == 500
    assert "Đã xảy ra lỗi" in page and "Thao tác vừa thực hiện có thể chưa được lưu" in page
    assert "Traceback" not in page and "psycopg2" not in page and "OperationalError" not in page
    assert not SecurityEvent.objects.filter(target_username=officer.username).exists()

    # Nothing of the dropped attempt was counted: four more wrong passwords are four failures, no lockout
    # (the fifth would lock the username).
    for _attempt in range(4):
        status, _headers, page = _sign_in_failed(browser, officer.username)
        assert status == 200 and "Tên đăng nhập hoặc mật khẩu không đúng" in page
    events = SecurityEvent.objects.filter(target_username=officer.username)
    assert sorted(events.values_list("kind", flat=True)) == [EventKind.LOGIN_FAILURE] * 4


@pytest.mark.django_db(transaction=True)
def test_a_lookup_whose_connection_drops_is_refused_and_counts_nothing(portal_web, units):
    server, _browser = portal_web
    _client, token = api_client_for_web(units["province"])
    officer = UserFactory(username="cb.tracuu", role=Role.OFFICER, unit=units["tan_phong"], can_lookup=True)
    body = json.dumps({"officer": officer.username, "citizen_id": "075095001234",
                       "dossier_code": "000.00.31.H19-241105-0001", "purpose": "Giải quyết hồ sơ"})

    def lookup():
        return Browser(server.port).request("POST", "/api/v1/lookups/", json_body=body,
                                            headers={"Authorization": f"Bearer {token}"})

    status, headers, answer = _dropped_while_writing("lookups_lookuprecord", lookup)
    assert status == 503, answer
    refusal = json.loads(answer)
    assert refusal["decision"] == "refuse" and headers["content-type"] == "application/json"
    # Refused with a reason and a time to retry: the record could not be written (or, when the drop hit
    # inside the quota function, the quotas could not be counted).
    assert refusal["reason"] in ("record_unavailable", "quota_unavailable") and int(headers["retry-after"]) > 0
    assert "Traceback" not in answer and refusal["message"].isascii() is False  # a Vietnamese message
    # One statement wrote the quota counters and the record: neither was kept.
    assert LookupRecord.objects.count() == 0
    assert QuotaCounter.objects.filter(count__gt=0).count() == 0

    status, _headers, answer = lookup()
    assert status == 200 and json.loads(answer)["decision"] == "allow"
    assert LookupRecord.objects.count() == 1
