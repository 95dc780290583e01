"""The portal's Redis (cache, Celery broker, rate limits: every role on one server here) killed with
SIGKILL in the middle of a burst of requests, then restarted empty (docs/faults.md). The lookup quotas
are counted in PostgreSQL, so lookups go on; the rate limits are not counted while Redis is away
(portal/ratelimit.py) and are counted again once it is back; sign-in keeps working from the database.
A real gunicorn under production settings (tests/faults/servers.py)."""
import json
import threading
import time

import pytest
import redis

from accounts.choices import Role
from audit.choices import EventKind
from audit.models import SecurityEvent
from lookups.models import AnomalyFlag, LookupRecord
from tests.factories import UserFactory

from .servers import Browser, api_client_for_web

OFFICERS = 5
LOOKUPS_EACH = 8  # under the officer's 10 a minute: every lookup is allowed on its merits


def _lookup(browser, token, officer, number):
    body = json.dumps({"officer": officer, "citizen_id": f"0750950{number:05d}",
                       "dossier_code": "000.00.31.H19-241105-0001", "purpose": "Giải quyết hồ sơ"})
    status, _headers, answer = browser.request("POST", "/api/v1/lookups/", json_body=body,
                                               headers={"Authorization": f"Bearer {token}"})
    return status, answer


@pytest.mark.django_db(transaction=True)
def test_redis_killed_mid_burst_loses_and_doubles_nothing_and_comes_back(portal_web, killable_redis, units):
    server, browser = portal_web
    _client, token = api_client_for_web(units["province"])
    officers = [UserFactory(username=f"cb.dot{n}", role=Role.OFFICER, unit=units["tan_phong"], can_lookup=True)
                for n in range(OFFICERS)]
    signing_in = UserFactory(username="cb.dangnhap", role=Role.OFFICER, unit=units["tan_phong"])
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()
    progress = threading.Condition(lock)

    def burst(officer, offset):
        own = Browser(server.port)
        for number in range(LOOKUPS_EACH):
            answer = _lookup(own, token, officer.username, offset + number)
            with progress:
                answers.append(answer)
                progress.notify_all()

    def wait_answers(count):
        with progress:
            assert progress.wait_for(lambda: len(answers) >= count, timeout=120), f"{len(answers)} answers"

    sign_ins = []

    def failed_sign_in():
        csrf = browser.csrf("/accounts/login/")
        status, _headers, page = browser.request("POST", "/accounts/login/", form={
            "csrfmiddlewaretoken": csrf, "username": signing_in.username, "password": "Sai-mat-khau-9!"})
        sign_ins.append((status, page))

    threads = [threading.Thread(target=burst, args=(officer, index * 100)) for index, officer in enumerate(officers)]
    for thread in threads:
        thread.start()
    wait_answers(8)
    failed_sign_in()
    killable_redis.kill()  # mid-burst: the cache, the broker and the rate limits' counters are gone
    wait_answers(16)
    failed_sign_in()  # with Redis down: the sign-in page and the lockout count work from PostgreSQL
    killable_redis.start()  # back, empty
    wait_answers(24)
    failed_sign_in()
    for thread in threads:
        thread.join(120)

    statuses = [status for status, _answer in answers]
    assert len(answers) == OFFICERS * LOOKUPS_EACH
    assert statuses == [200] * len(answers), [answer for answer in answers if answer[0] != 200]
    lookup_ids = [json.loads(answer)["lookup_id"] for _status, answer in answers]
    # Every decision recorded exactly once: as many records as answers, each answer's record its own.
    assert len(set(lookup_ids)) == len(lookup_ids)
    assert sorted(LookupRecord.objects.values_list("pk", flat=True)) == sorted(lookup_ids)
    flags = list(AnomalyFlag.objects.values_list("lookup_id", "kind"))
    assert len(flags) == len(set(flags)) and {record for record, _kind in flags} <= set(lookup_ids)

    assert [status for status, _page in sign_ins] == [200] * 3
    assert all("Tên đăng nhập hoặc mật khẩu không đúng" in page for _status, page in sign_ins), sign_ins[0][1][-2000:]
    assert SecurityEvent.objects.filter(kind=EventKind.LOGIN_FAILURE, target_username=signing_in.username).count() == 3

    # Service back after the restart: the rate limits count in the new Redis again, /healthz is 200.
    assert browser.request("GET", "/healthz")[0] == 200
    prefix = server.prefixes["RATE_LIMIT_KEY_PREFIX"]
    client = redis.Redis.from_url(killable_redis.url)
    try:
        def counted():
            time.sleep(0.2)  # a worker that found Redis down asks again after QUOTA_REDIS_RETRY_SECONDS
            _lookup(Browser(server.port), token, officers[0].username, 999)
            return any(True for _key in client.scan_iter(f"{prefix}:lookup_api:*"))
        assert any(counted() for _attempt in range(20))
    finally:
        client.close()
