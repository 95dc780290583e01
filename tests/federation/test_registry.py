"""The connected-systems registry: the command, the page (it_admin manages, inspectors read), a secret
shown once and rotatable, disabling a system, lookup API clients on the same page; signing-key rotation
keeps the retired key published; RP-initiated logout ends the portal session and tells the systems."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from oauth2_provider.models import Application

from audit.choices import EventKind
from audit.models import SecurityEvent
from federation.models import ConnectedSystem, Delivery
from lookups.models import ApiClient

from ..helpers import login, oidc_authorize, oidc_code_from, oidc_system_register, oidc_token, oidc_verify


def test_connect_system_prints_the_client_id_and_the_secret_once(units):
    out = StringIO()
    call_command("connect_system", "Một cửa Biên Hòa", "--unit", "000.00.31.H19", "--kind", "oidc",
                 "--redirect-uri", "https://motcua.example.vn/cb", "--redirect-uri", "https://motcua.example.vn/cb2",
                 "--backchannel-logout-uri", "https://motcua.example.vn/bcl", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    client_id = lines[0].removeprefix("client_id: ")
    secret = lines[1].removeprefix("client_secret: ")
    application = Application.objects.get(client_id=client_id)
    assert application.redirect_uris == "https://motcua.example.vn/cb https://motcua.example.vn/cb2"
    assert secret not in application.client_secret  # stored hashed
    assert application.client_secret.startswith("client_secret_sha256$")
    system = ConnectedSystem.objects.get(application=application)
    assert (system.unit.code, system.backchannel_logout_uri) == ("000.00.31.H19", "https://motcua.example.vn/bcl")
    assert SecurityEvent.objects.filter(kind=EventKind.SYSTEM_REGISTERED).count() == 1


@pytest.mark.parametrize("arguments, message", [
    (["--unit", "999.99.99.H19", "--redirect-uri", "https://a.example.vn/cb"], "No unit"),
    (["--unit", "000.00.31.H19"], "chuyển hướng"),
    (["--unit", "000.00.31.H19", "--redirect-uri", "ftp://a.example.vn/cb"], "https://"),
    (["--unit", "000.00.31.H19", "--redirect-uri", "https://a.example.vn/cb#x"], "https://"),
])
def test_connect_system_refuses_bad_input_and_changes_nothing(units, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("connect_system", "Hệ thống", *arguments, stdout=StringIO())
    assert ConnectedSystem.objects.count() == 0
    assert Application.objects.count() == 0


def test_the_registry_page_registers_a_system_and_shows_its_secret_once(admin_client, units):
    page = admin_client.post("/admin/systems/", {
        "name": "Một cửa", "unit": units["bien_hoa"].pk, "redirect_uris": "https://motcua.example.vn/cb\n",
        "backchannel_logout_uri": "https://motcua.example.vn/bcl", "contact": "VNPT Đồng Nai"})
    assert page.status_code == 200
    system = ConnectedSystem.objects.get()
    assert system.application.client_id in page.content.decode()
    listing = admin_client.get("/admin/systems/").content.decode()
    assert "Một cửa" in listing
    assert page.context["secret"] not in listing


def test_the_registry_page_refuses_a_bad_redirect_uri(admin_client, units):
    page = admin_client.post("/admin/systems/", {"name": "Một cửa", "unit": units["bien_hoa"].pk,
                                                 "redirect_uris": "javascript:alert(1)"})
    assert page.status_code == 400
    assert ConnectedSystem.objects.count() == 0


def test_inspectors_read_the_registry_but_change_nothing(client, inspector, units):
    system, _secret = oidc_system_register(units["bien_hoa"])
    login(client, inspector)
    assert client.get("/admin/systems/").status_code == 200
    assert client.get(f"/admin/systems/{system.pk}/").status_code == 200
    assert client.post(f"/admin/systems/{system.pk}/secret/").status_code == 403
    assert client.post(f"/admin/systems/{system.pk}/state/").status_code == 403
    assert client.post("/admin/systems/api-clients/", {"name": "x", "unit": units["bien_hoa"].pk}).status_code == 403


def test_officers_and_leaders_do_not_see_the_registry(client, leader_bien_hoa):
    login(client, leader_bien_hoa)
    assert client.get("/admin/systems/").status_code == 403


def test_a_rotated_secret_replaces_the_old_one(admin_client, units, officer_bien_hoa):
    client = Client()
    system, old_secret = oidc_system_register(units["bien_hoa"])
    page = admin_client.post(f"/admin/systems/{system.pk}/secret/")
    new_secret = page.context["secret"]
    login(client, officer_bien_hoa)
    response, verifier = oidc_authorize(client, system)
    code = oidc_code_from(response)["code"]
    refused = oidc_token(client, system, old_secret, grant_type="authorization_code", code=code,
                         redirect_uri=system.application.redirect_uris, code_verifier=verifier)
    assert refused.status_code == 401
    accepted = oidc_token(client, system, new_secret, grant_type="authorization_code", code=code,
                          redirect_uri=system.application.redirect_uris, code_verifier=verifier)
    assert accepted.status_code == 200


def test_a_disabled_system_signs_nobody_in_and_its_tokens_stop(admin_client, units, officer_bien_hoa):
    client = Client()
    system, secret = oidc_system_register(units["bien_hoa"])
    login(client, officer_bien_hoa)
    response, verifier = oidc_authorize(client, system)
    tokens = oidc_token(client, system, secret, grant_type="authorization_code", code=oidc_code_from(response)["code"],
                        redirect_uri=system.application.redirect_uris, code_verifier=verifier).json()
    admin_client.post(f"/admin/systems/{system.pk}/state/", {"action": "disable"})
    assert client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code == 401
    response, _verifier = oidc_authorize(client, system)
    assert response.status_code == 400


def test_lookup_api_clients_are_managed_on_the_same_page(admin_client, units):
    page = admin_client.post("/admin/systems/api-clients/", {"name": "Một cửa tra cứu", "unit": units["bien_hoa"].pk})
    assert page.status_code == 200
    client = ApiClient.objects.get()
    assert page.context["secret"].startswith(client.token_prefix)
    assert "Một cửa tra cứu" in admin_client.get("/admin/systems/").content.decode()
    admin_client.post(f"/admin/systems/api-clients/{client.pk}/revoke/")
    client.refresh_from_db()
    assert client.is_active is False


def test_a_rotated_signing_key_stays_published_and_old_tokens_verify(client, units, officer_bien_hoa):
    system, secret = oidc_system_register(units["bien_hoa"])
    login(client, officer_bien_hoa)
    response, verifier = oidc_authorize(client, system)
    tokens = oidc_token(client, system, secret, grant_type="authorization_code", code=oidc_code_from(response)["code"],
                        redirect_uri=system.application.redirect_uris, code_verifier=verifier).json()
    old_kid = client.get("/o/jwks/").json()["keys"][0]["kid"]
    out = StringIO()
    call_command("rotate_signing_key", stdout=out)
    new_kid = out.getvalue().strip().removeprefix("kid: ")
    kids = [key["kid"] for key in client.get("/o/jwks/").json()["keys"]]
    assert kids == [new_kid, old_kid]
    assert oidc_verify(client, tokens["id_token"], audience=system.application.client_id)["header"]["kid"] == old_kid
    response, verifier = oidc_authorize(client, system)
    fresh = oidc_token(client, system, secret, grant_type="authorization_code", code=oidc_code_from(response)["code"],
                       redirect_uri=system.application.redirect_uris, code_verifier=verifier).json()
    assert oidc_verify(client, fresh["id_token"], audience=system.application.client_id)["header"]["kid"] == new_kid


def test_rp_initiated_logout_ends_the_portal_session_and_tells_the_systems(client, units, officer_bien_hoa):
    system, secret = oidc_system_register(units["bien_hoa"], backchannel_logout_uri="https://motcua.example.vn/bcl")
    login(client, officer_bien_hoa)
    response, verifier = oidc_authorize(client, system)
    tokens = oidc_token(client, system, secret, grant_type="authorization_code", code=oidc_code_from(response)["code"],
                        redirect_uri=system.application.redirect_uris, code_verifier=verifier).json()
    sid = client.session["_oidc_sid"]
    answer = client.get("/o/logout/", {"id_token_hint": tokens["id_token"],
                                       "post_logout_redirect_uri": "https://motcua.example.vn/callback",
                                       "state": "bye"})
    assert answer.status_code == 302
    assert answer.url == "https://motcua.example.vn/callback?state=bye"
    assert "_auth_user_id" not in client.session
    assert list(Delivery.objects.values_list("payload", flat=True)) == [{"sub": str(officer_bien_hoa.pk), "sid": sid}]
