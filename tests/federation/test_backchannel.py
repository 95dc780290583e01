"""Access ends everywhere: every way an account's access ends here queues a logout token per system and
session (plus one without `sid` when the account may no longer sign in), revokes the tokens, and the
real Celery worker delivers them to a real HTTP receiver; a system that is down is retried, then
alerted, and the account page says so."""
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AccountSession
from accounts.services.lifecycle import account_disable, account_password_reset, account_update
from accounts.services.second_factor import second_factor_reset
from accounts.services.sessions import account_sessions_end, session_end, sessions_end_others
from accounts.session_store import session_handle
from audit.choices import EventKind
from audit.models import SecurityEvent
from federation.choices import DeliveryState
from federation.models import Delivery
from federation.propagation import BACKCHANNEL_LOGOUT_EVENT, deliveries_send
from federation.selectors import account_sign_outs
from notifications.alerts import alerts_send
from notifications.choices import NoticeKind
from notifications.models import Notice
from portal.actors import COMMAND_LINE

from ..helpers import (
    LogoutReceiver,
    login,
    oidc_authorize,
    oidc_code_from,
    oidc_system_register,
    oidc_token,
    oidc_verify,
)


@pytest.fixture
def receiver():
    server = LogoutReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def systems(units, receiver):
    """Two relying parties of Biên Hòa with a back-channel endpoint, one without."""
    first = oidc_system_register(units["bien_hoa"], name="Một cửa", backchannel_logout_uri=receiver.url)
    second = oidc_system_register(units["province"], name="Hộ tịch", backchannel_logout_uri=receiver.url,
                                  redirect_uri="https://hotich.example.vn/cb")
    silent = oidc_system_register(units["province"], name="Văn bản", redirect_uri="https://vanban.example.vn/cb")
    return [first, second, silent]


def _sign_in(client, system, secret):
    response, verifier = oidc_authorize(client, system)
    code = oidc_code_from(response)["code"]
    answer = oidc_token(client, system, secret, grant_type="authorization_code", code=code,
                        redirect_uri=system.application.redirect_uris, code_verifier=verifier)
    assert answer.status_code == 200, answer.content
    return answer.json()


def _two_sessions_in_every_system(client_factory, officer, systems):
    """Two browsers of the officer, each signed in to every system. Returns the two clients and sids."""
    browsers = []
    for _ in range(2):
        browser = login(client_factory(), officer)
        for system, secret in systems:
            _sign_in(browser, system, secret)
        browsers.append(browser)
    return browsers, [browser.session["_oidc_sid"] for browser in browsers]


def _queued():
    return sorted((row.system.name, row.payload.get("sid", "")) for row in Delivery.objects.select_related("system"))


@pytest.fixture
def client_factory():
    from django.test import Client

    return Client


def test_disabling_queues_every_session_of_every_system_plus_all_sessions(client_factory, officer_bien_hoa, systems):
    _browsers, sids = _two_sessions_in_every_system(client_factory, officer_bien_hoa, systems)
    account_disable(actor=COMMAND_LINE, account=officer_bien_hoa, reason="Chuyển công tác")
    assert _queued() == sorted([("Một cửa", sids[0]), ("Một cửa", sids[1]), ("Hộ tịch", sids[0]),
                                ("Hộ tịch", sids[1]), ("Một cửa", ""), ("Hộ tịch", "")])
    event = SecurityEvent.objects.get(kind=EventKind.SYSTEM_TOKENS_REVOKED, target=officer_bien_hoa)
    assert event.details["logout_deliveries"] == 6
    assert event.details["tokens_revoked"] == 12  # 6 access + 6 refresh tokens


@pytest.mark.parametrize("way", ["sign_out", "session_end", "password_change", "password_reset", "role_change",
                                 "admin_ends_sessions", "idle_timeout", "lifetime", "second_factor_reset"])
def test_every_way_access_ends_queues_its_sessions(way, client_factory, officer_bien_hoa, it_admin, systems,
                                                   settings):
    browsers, sids = _two_sessions_in_every_system(client_factory, officer_bien_hoa, systems)
    first, second = browsers
    if way == "sign_out":
        first.post("/accounts/logout/")
        ended = [sids[0]]
    elif way == "session_end":
        session_end(actor=officer_bien_hoa, handle=session_handle(first.session.session_key))
        ended = [sids[0]]
    elif way == "password_change":
        sessions_end_others(account=officer_bien_hoa, keep_session_key=second.session.session_key)
        ended = [sids[0]]
    elif way == "password_reset":
        account_password_reset(actor=it_admin, account=officer_bien_hoa)
        ended = sids
    elif way == "role_change":
        account_update(actor=it_admin, account=officer_bien_hoa, values={"role": "unit_leader"})
        ended = sids
    elif way == "admin_ends_sessions":
        account_sessions_end(actor=it_admin, account=officer_bien_hoa)
        ended = sids
    elif way == "second_factor_reset":
        second_factor_reset(actor=it_admin, account=officer_bien_hoa, reason="Mất điện thoại")
        ended = sids
    else:
        session = first.session
        if way == "idle_timeout":
            session["_last_activity"] = int(timezone.now().timestamp()) - 3600
        else:
            session["_session_started"] = int(timezone.now().timestamp()) - 48 * 3600
        session.save()
        assert first.get("/").status_code == 302
        ended = [sids[0]]
    expected = sorted((name, sid) for sid in ended for name in ("Một cửa", "Hộ tịch"))
    assert _queued() == expected
    if len(ended) == 1:
        # The other session goes on, in the portal and in the systems.
        assert AccountSession.objects.filter(account_id=officer_bien_hoa.pk).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_signed_logout_tokens(client_factory, officer_bien_hoa, systems, receiver, celery_worker):
    browsers, sids = _two_sessions_in_every_system(client_factory, officer_bien_hoa, systems)
    account_disable(actor=COMMAND_LINE, account=officer_bien_hoa, reason="Chuyển công tác")
    tokens = receiver.wait_for(6)
    assert len(tokens) == 6
    audiences = {system.application.client_id: system.name for system, _secret in systems}
    seen = []
    for token in tokens:
        claims = oidc_verify(browsers[0], token, audience=_audience_of(token))
        assert claims["header"]["typ"] == "logout+jwt"
        assert claims["events"] == {BACKCHANNEL_LOGOUT_EVENT: {}}
        assert claims["sub"] == str(officer_bien_hoa.pk)
        assert "nonce" not in claims
        assert claims["exp"] - claims["iat"] == 120
        assert {"iss", "aud", "iat", "jti"} <= set(claims)
        seen.append((audiences[claims["aud"]], claims.get("sid", "")))
    assert sorted(seen) == sorted([("Một cửa", sids[0]), ("Một cửa", sids[1]), ("Hộ tịch", sids[0]),
                                   ("Hộ tịch", sids[1]), ("Một cửa", ""), ("Hộ tịch", "")])
    _wait_settled()
    assert Delivery.objects.filter(state=DeliveryState.DELIVERED).count() == 6
    assert SecurityEvent.objects.filter(kind=EventKind.SYSTEM_LOGOUT_DELIVERED).count() == 6
    sign_outs = account_sign_outs(officer_bien_hoa)
    assert (sign_outs.delivered, sign_outs.total) == (2, 2)


def _audience_of(token):
    import base64
    import json

    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["aud"]


def _wait_settled(timeout=30):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Delivery.objects.filter(state__in=[DeliveryState.READY, DeliveryState.SENDING], attempts=0).exists() \
                and not Delivery.objects.filter(state=DeliveryState.SENDING).exists():
            return
        time.sleep(0.1)
    raise TimeoutError("Deliveries still being sent.")


def test_a_system_down_is_retried_then_alerted_and_the_account_page_says_so(client_factory, officer_bien_hoa,
                                                                           units, receiver, admin_client):
    system, secret = oidc_system_register(units["bien_hoa"], name="Một cửa", backchannel_logout_uri=receiver.url)
    browser = login(client_factory(), officer_bien_hoa)
    _sign_in(browser, system, secret)
    receiver.status = 503
    account_disable(actor=COMMAND_LINE, account=officer_bien_hoa, reason="Chuyển công tác")
    ids = list(Delivery.objects.values_list("pk", flat=True))
    assert len(ids) == 2
    delays = []
    for attempt in range(1, 6):
        before = timezone.now()
        outcome = deliveries_send(ids)
        if attempt < 5:
            assert outcome == {"delivered": 0, "retrying": 2, "failed": 0}
            row = Delivery.objects.get(pk=ids[0])
            assert (row.state, row.attempts, row.last_error) == (DeliveryState.READY, attempt, "HTTP 503")
            delays.append(round((row.next_at - before).total_seconds() / 60))
            Delivery.objects.filter(pk__in=ids).update(next_at=timezone.now() - timedelta(seconds=1))
        else:
            assert outcome == {"delivered": 0, "retrying": 0, "failed": 2}
    assert delays == [1, 5, 30, 120]
    assert Delivery.objects.filter(state=DeliveryState.FAILED).count() == 2
    assert SecurityEvent.objects.filter(kind=EventKind.SYSTEM_LOGOUT_FAILED).count() == 2
    assert receiver.tokens == []
    sign_outs = account_sign_outs(officer_bien_hoa)
    assert (sign_outs.delivered, sign_outs.total) == (0, 1)
    page = admin_client.get(f"/admin/accounts/{officer_bien_hoa.pk}/")
    assert "Đã đăng xuất khỏi 0/1 hệ thống" in page.content.decode()
    # The IT Center's alert pass tells every IT admin, once.
    alerts_send()
    alerted = Notice.objects.filter(kind=NoticeKind.IT_ALERT, source_key__startswith="alert:system_deliveries_failed")
    assert alerted.count() == 1
    assert Delivery.objects.filter(alerted_at=None).count() == 0
    alerts_send()
    assert alerted.count() == 1


def test_a_delivery_claimed_twice_is_sent_once(client_factory, officer_bien_hoa, units, receiver):
    system, secret = oidc_system_register(units["bien_hoa"], name="Một cửa", backchannel_logout_uri=receiver.url)
    browser = login(client_factory(), officer_bien_hoa)
    _sign_in(browser, system, secret)
    account_disable(actor=COMMAND_LINE, account=officer_bien_hoa, reason="Chuyển công tác")
    ids = list(Delivery.objects.values_list("pk", flat=True))
    assert deliveries_send(ids) == {"delivered": 2, "retrying": 0, "failed": 0}
    assert deliveries_send(ids) == {"delivered": 0, "retrying": 0, "failed": 0}
    assert len(receiver.tokens) == 2


def test_disabling_from_the_account_page_tells_the_systems(client_factory, officer_bien_hoa, systems, admin_client):
    _browsers, sids = _two_sessions_in_every_system(client_factory, officer_bien_hoa, systems)
    answer = admin_client.post(f"/admin/accounts/{officer_bien_hoa.pk}/disable/", {"reason": "Nghỉ việc"})
    assert answer.status_code == 302
    assert len(_queued()) == 6
    page = admin_client.get(f"/admin/accounts/{officer_bien_hoa.pk}/").content.decode()
    assert "Đã đăng xuất khỏi 0/2 hệ thống" in page


def test_a_session_that_ran_out_unseen_is_signed_out_of_every_system(client_factory, officer_bien_hoa, systems):
    """Keycloak#39604: no back-channel logout when a session expires centrally. Here the sweep ends a
    session past its idle limit whose browser never comes back, with a logout token per system; the
    other session, still in use, goes on; a second sweep does nothing."""
    from accounts.services.sessions import sessions_expired_end

    _browsers, sids = _two_sessions_in_every_system(client_factory, officer_bien_hoa, systems)
    rows = list(AccountSession.objects.filter(account_id=officer_bien_hoa.pk).order_by("session_key"))
    assert len(rows) == 2
    stale = next(row for row in rows if (row.get_decoded() or {}).get("_oidc_sid") == sids[0])
    AccountSession.objects.filter(pk=stale.pk).update(last_seen_at=timezone.now() - timedelta(hours=1))
    assert sessions_expired_end() == 1
    assert _queued() == sorted([("Một cửa", sids[0]), ("Hộ tịch", sids[0])])
    assert AccountSession.objects.filter(account_id=officer_bien_hoa.pk).count() == 1
    event = SecurityEvent.objects.filter(kind=EventKind.LOGOUT, target=officer_bien_hoa).latest("id")
    assert event.details["ended_because"] == "idle_timeout"
    assert sessions_expired_end() == 0
    assert len(_queued()) == 2
