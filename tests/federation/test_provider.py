"""The OpenID Connect provider, as a conformance suite would check it where it can here: discovery,
code flow with PKCE S256, redirect URIs matched exactly, state and nonce round trip, a code used twice,
ID token claims and signature (joserfc against the JWKS), and the refusals judged at each request."""
import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from accounts.services.lifecycle import account_disable
from audit.choices import EventKind
from audit.models import SecurityEvent
from federation.models import SystemSignIn
from portal.actors import COMMAND_LINE

from ..helpers import login, oidc_authorize, oidc_code_from, oidc_system_register, oidc_token, oidc_verify

ISSUER = settings.OAUTH2_PROVIDER["OIDC_ISS_ENDPOINT"]


@pytest.fixture
def system(units):
    return oidc_system_register(units["bien_hoa"])


def _signed_in(client, system, officer):
    """Through the portal to the system: authorize, exchange the code; returns (tokens, code params)."""
    system, secret = system
    login(client, officer)
    response, verifier = oidc_authorize(client, system)
    params = oidc_code_from(response)
    answer = oidc_token(client, system, secret, grant_type="authorization_code", code=params["code"],
                        redirect_uri=system.application.redirect_uris, code_verifier=verifier)
    assert answer.status_code == 200, answer.content
    return answer.json(), params, verifier


def test_discovery_says_what_the_portal_does(client):
    data = client.get("/.well-known/openid-configuration").json()
    assert data["issuer"] == ISSUER
    assert data["response_types_supported"] == ["code"]
    assert data["code_challenge_methods_supported"] == ["S256"]
    assert data["id_token_signing_alg_values_supported"] == ["RS256"]
    assert data["backchannel_logout_supported"] is True
    assert data["backchannel_logout_session_supported"] is True
    assert data["end_session_endpoint"] == f"{ISSUER}/o/logout/"
    assert data["introspection_endpoint"] == f"{ISSUER}/o/introspect/"
    assert data["revocation_endpoint"] == f"{ISSUER}/o/revoke_token/"
    assert {"unit_code", "role", "can_lookup", "amr", "sid", "preferred_username"} <= set(data["claims_supported"])


def test_it_signs_an_officer_in_with_state_nonce_and_a_signed_id_token(client, system, officer_bien_hoa):
    tokens, params, _verifier = _signed_in(client, system, officer_bien_hoa)
    assert params["state"] == "af0ifjsldkj"
    assert params["iss"] == ISSUER
    claims = oidc_verify(client, tokens["id_token"], audience=system[0].application.client_id)
    assert claims["iss"] == ISSUER
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["sub"] == str(officer_bien_hoa.pk)
    assert claims["preferred_username"] == "cb.tanphong"
    assert claims["name"] == "Phạm Thị Hương"
    assert claims["unit_code"] == "000.01.31.H19"
    assert claims["role"] == "officer"
    assert claims["can_lookup"] is True
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["sid"] == client.session["_oidc_sid"]
    assert claims["header"]["kid"] == client.get("/o/jwks/").json()["keys"][0]["kid"]
    assert tokens["expires_in"] == 300
    assert SecurityEvent.objects.filter(kind=EventKind.SYSTEM_SIGN_IN, target=officer_bien_hoa).count() == 1


def test_userinfo_answers_the_claims(client, system, officer_bien_hoa):
    tokens, _params, _verifier = _signed_in(client, system, officer_bien_hoa)
    answer = client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert answer.status_code == 200
    assert answer.json()["unit_code"] == "000.01.31.H19"
    assert "sid" not in answer.json()


def test_it_requires_pkce(client, system, officer_bien_hoa):
    login(client, officer_bien_hoa)
    response, _verifier = oidc_authorize(client, system[0], code_challenge=None, code_challenge_method=None)
    assert oidc_code_from(response)["error"] == "invalid_request"
    assert SystemSignIn.objects.count() == 0


def test_it_refuses_plain_pkce(client, system, officer_bien_hoa):
    login(client, officer_bien_hoa)
    response, _verifier = oidc_authorize(client, system[0], code_challenge="x" * 43, code_challenge_method="plain")
    assert oidc_code_from(response)["error"] == "invalid_request"
    assert SystemSignIn.objects.count() == 0


def test_it_refuses_the_implicit_flow(client, system, officer_bien_hoa):
    login(client, officer_bien_hoa)
    response, _verifier = oidc_authorize(client, system[0], response_type="id_token token")
    assert oidc_code_from(response)["error"] == "unauthorized_client"


def test_a_wrong_verifier_gets_no_token(client, system, officer_bien_hoa):
    login(client, officer_bien_hoa)
    response, _verifier = oidc_authorize(client, system[0])
    answer = oidc_token(client, system[0], system[1], grant_type="authorization_code",
                        code=oidc_code_from(response)["code"], redirect_uri=system[0].application.redirect_uris,
                        code_verifier="w" * 48)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_redirect_uris_match_exactly(client, system, officer_bien_hoa):
    login(client, officer_bien_hoa)
    response, _verifier = oidc_authorize(client, system[0], redirect_uri="https://motcua.example.vn/callback/")
    assert response.status_code == 400
    response, _verifier = oidc_authorize(client, system[0], redirect_uri="https://motcua.example.vn/callback?x=1")
    assert response.status_code == 400


def test_a_code_used_twice_is_refused_and_its_tokens_revoked(client, system, officer_bien_hoa):
    tokens, params, verifier = _signed_in(client, system, officer_bien_hoa)
    again = oidc_token(client, system[0], system[1], grant_type="authorization_code", code=params["code"],
                       redirect_uri=system[0].application.redirect_uris, code_verifier=verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code == 401
    refreshed = oidc_token(client, system[0], system[1], grant_type="refresh_token",
                           refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 400


def test_refresh_rotates_and_keeps_the_session_claims(client, system, officer_bien_hoa):
    tokens, _params, _verifier = _signed_in(client, system, officer_bien_hoa)
    refreshed = oidc_token(client, system[0], system[1], grant_type="refresh_token",
                           refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] != tokens["refresh_token"]
    claims = oidc_verify(client, refreshed.json()["id_token"], audience=system[0].application.client_id)
    assert claims["sid"] == client.session["_oidc_sid"]
    replay = oidc_token(client, system[0], system[1], grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert replay.status_code == 400


def test_another_districts_officer_is_refused(client, system, officer_long_khanh):
    login(client, officer_long_khanh)
    response, _verifier = oidc_authorize(client, system[0])
    assert response.status_code == 403
    assert SystemSignIn.objects.count() == 0
    event = SecurityEvent.objects.get(kind=EventKind.SYSTEM_SIGN_IN_REFUSED)
    assert event.details["refused_because"] == "out_of_scope"


def _introspect(client, system, token):
    import base64

    credentials = base64.b64encode(f"{system[0].application.client_id}:{system[1]}".encode()).decode()
    return client.post("/o/introspect/", {"token": token}, HTTP_AUTHORIZATION=f"Basic {credentials}").json()


def test_introspection_userinfo_and_refresh_refuse_a_disabled_account_at_once(client, system, officer_bien_hoa):
    tokens, _params, _verifier = _signed_in(client, system, officer_bien_hoa)
    assert _introspect(client, system, tokens["access_token"])["active"] is True
    # Disabled behind the tokens' back (a raw UPDATE: no revocation ran) — the state is read now.
    type(officer_bien_hoa).objects.filter(pk=officer_bien_hoa.pk).update(is_active=False)
    assert _introspect(client, system, tokens["access_token"]) == {"active": False}
    assert client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code == 401
    refreshed = oidc_token(client, system[0], system[1], grant_type="refresh_token",
                           refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 400


def test_introspection_userinfo_and_refresh_refuse_a_locked_account_at_once(client, system, officer_bien_hoa):
    tokens, _params, _verifier = _signed_in(client, system, officer_bien_hoa)
    AccessAttempt.objects.create(username=officer_bien_hoa.username, ip_address="10.0.0.1", user_agent="x",
                                 failures_since_start=5, attempt_time=timezone.now(), get_data="", post_data="")
    assert _introspect(client, system, tokens["access_token"]) == {"active": False}
    assert client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code == 401
    assert oidc_token(client, system[0], system[1], grant_type="refresh_token",
                      refresh_token=tokens["refresh_token"]).status_code == 400
    refused = SecurityEvent.objects.filter(kind=EventKind.SYSTEM_SIGN_IN_REFUSED).values_list("details", flat=True)
    assert sorted(details["step"] for details in refused) == ["introspection", "refresh", "userinfo"]
    assert {details["refused_because"] for details in refused} == {"locked"}


def test_disabling_revokes_every_token(client, system, officer_bien_hoa, it_admin):
    tokens, _params, _verifier = _signed_in(client, system, officer_bien_hoa)
    assert AccessToken.objects.filter(user=officer_bien_hoa).count() == 1
    account_disable(actor=COMMAND_LINE, account=officer_bien_hoa, reason="Nghỉ hưu")
    assert AccessToken.objects.filter(user=officer_bien_hoa).count() == 0
    assert RefreshToken.objects.filter(user=officer_bien_hoa, revoked=None).count() == 0
    assert _introspect(client, system, tokens["access_token"]) == {"active": False}


def test_a_code_is_refused_when_the_account_was_locked_after_it_was_issued(client, system, officer_bien_hoa):
    login(client, officer_bien_hoa)
    response, verifier = oidc_authorize(client, system[0])
    code = oidc_code_from(response)["code"]
    AccessAttempt.objects.create(username=officer_bien_hoa.username, ip_address="10.0.0.1", user_agent="x",
                                 failures_since_start=5, attempt_time=timezone.now(), get_data="", post_data="")
    answer = oidc_token(client, system[0], system[1], grant_type="authorization_code", code=code,
                        redirect_uri=system[0].application.redirect_uris, code_verifier=verifier)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    event = SecurityEvent.objects.get(kind=EventKind.SYSTEM_SIGN_IN_REFUSED)
    assert (event.details["refused_because"], event.details["step"]) == ("locked", "token")


def test_a_locked_account_is_refused_at_authorize(client, system, officer_bien_hoa):
    login(client, officer_bien_hoa)
    AccessAttempt.objects.create(username=officer_bien_hoa.username, ip_address="10.0.0.1", user_agent="x",
                                 failures_since_start=5, attempt_time=timezone.now(), get_data="", post_data="")
    response, _verifier = oidc_authorize(client, system[0])
    assert response.status_code == 403
    assert "Tài khoản của bạn đang bị khóa" in response.content.decode()
    assert SystemSignIn.objects.count() == 0
