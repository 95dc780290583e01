"""Containment reaches the connected systems: containing a unit revokes its officers' tokens and sends a
signed logout token to every system they signed in to (per session, and one for "all sessions"); a
system that does not answer never stops the other steps — its delivery is retried and shown on the
account page; an officer of another district is left signed in there."""
import pytest
from django.test import Client
from django.utils import timezone

from federation.choices import DeliveryState
from federation.models import Delivery
from federation.propagation import deliveries_send
from incidents.services.containment import unit_contain
from tests.helpers import (
    LogoutReceiver,
    login,
    oidc_authorize,
    oidc_code_from,
    oidc_system_register,
    oidc_token,
    oidc_verify,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    server = LogoutReceiver().start()
    yield server
    server.stop()


def _signed_in_to(system, secret, officer):
    """The officer's browser signed in to the portal, then to the system (code + PKCE); its `sid`."""
    browser = login(Client(), officer)
    response, verifier = oidc_authorize(browser, system)
    code = oidc_code_from(response)["code"]
    answer = oidc_token(browser, system, secret, grant_type="authorization_code", code=code,
                        redirect_uri=system.application.redirect_uris, code_verifier=verifier)
    assert answer.status_code == 200, answer.content
    return browser, browser.session["_oidc_sid"], answer.json()


def test_containing_a_unit_signs_its_officer_out_of_the_connected_system(units, it_admin, officer_bien_hoa,
                                                                          officer_long_khanh, receiver):
    system, secret = oidc_system_register(units["province"], backchannel_logout_uri=receiver.url)
    _browser, sid, tokens = _signed_in_to(system, secret, officer_bien_hoa)
    _other, _other_sid, _other_tokens = _signed_in_to(system, secret, officer_long_khanh)

    result = unit_contain(actor=it_admin, unit=units["bien_hoa"], reason="Lộ mật khẩu tại phường Tân Phong")

    assert [step["outcome"] for step in result.steps][:4] == ["done", "done", "done", "done"]
    queued = Delivery.objects.filter(account=officer_bien_hoa)
    assert sorted(row.payload.get("sid", "") for row in queued) == sorted(["", sid])
    assert Delivery.objects.filter(account=officer_long_khanh).count() == 0
    assert deliveries_send(list(queued.values_list("pk", flat=True))) == {"delivered": 2, "retrying": 0, "failed": 0}
    received = [oidc_verify(Client(), token, audience=system.application.client_id)
                for token in receiver.wait_for(2)]
    assert sorted(claims.get("sid", "") for claims in received) == sorted(["", sid])
    signed_in_as = oidc_verify(Client(), tokens["id_token"], audience=system.application.client_id)["sub"]
    assert {claims["sub"] for claims in received} == {signed_in_as}
    assert all("nonce" not in claims for claims in received)
    # The refresh token the system held is dead at once.
    refreshed = oidc_token(Client(), system, secret, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 400


def test_a_system_down_during_containment_is_retried_and_shown(units, it_admin, officer_bien_hoa, receiver,
                                                                admin_client):
    system, secret = oidc_system_register(units["province"], backchannel_logout_uri=receiver.url)
    _signed_in_to(system, secret, officer_bien_hoa)
    receiver.status = 503

    result = unit_contain(actor=it_admin, unit=units["bien_hoa"], reason="Lộ mật khẩu tại phường Tân Phong")

    # Every step of the containment is done although the system does not answer.
    assert [step["outcome"] for step in result.steps][:4] == ["done", "done", "done", "done"]
    ids = list(Delivery.objects.filter(account=officer_bien_hoa).values_list("pk", flat=True))
    before = timezone.now()
    assert deliveries_send(ids) == {"delivered": 0, "retrying": 2, "failed": 0}
    rows = Delivery.objects.filter(pk__in=ids)
    assert {(row.state, row.attempts, row.last_error) for row in rows} == {(DeliveryState.READY, 1, "HTTP 503")}
    assert all(row.next_at > before for row in rows)
    page = admin_client.get(f"/admin/accounts/{officer_bien_hoa.pk}/").content.decode()
    assert "Đã đăng xuất khỏi 0/1 hệ thống" in page
    # Back up: the retry delivers.
    receiver.status = 200
    rows.update(next_at=timezone.now())
    assert deliveries_send(ids) == {"delivered": 2, "retrying": 0, "failed": 0}
    assert len(receiver.wait_for(2)) == 2
