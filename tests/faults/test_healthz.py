"""/healthz answers 503 while PostgreSQL or Redis cannot be reached and 200 again once they are back
(docs/faults.md): a real gunicorn, its database behind a proxy the test cuts, its Redis SIGKILLed."""
import json

import pytest


def _health(browser):
    status, _headers, body = browser.request("GET", "/healthz")
    return status, json.loads(body)


@pytest.mark.django_db(transaction=True)
def test_healthz_is_503_while_postgresql_or_redis_is_unreachable_and_200_after(portal_web, pg_proxy, killable_redis):
    _server, browser = portal_web
    assert _health(browser) == (200, {"status": "ok", "database": "up", "redis": "up", "broker": "up"})

    pg_proxy.cut()
    status, body = _health(browser)
    assert (status, body["status"], body["database"]) == (503, "fail", "down")
    pg_proxy.restore()
    assert _health(browser)[0] == 200

    killable_redis.kill()
    status, body = _health(browser)
    assert (status, body["redis"], body["broker"], body["database"]) == (503, "down", "down", "up")
    killable_redis.start()
    assert _health(browser) == (200, {"status": "ok", "database": "up", "redis": "up", "broker": "up"})
