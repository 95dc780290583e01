"""The OpenID Connect endpoints' OpenAPI document (`GET /o/openapi.json`, federation.oidc_openapi) held
against what the real endpoints answer — each status documented for its path and method, its content
type, its body valid against the documented schema, its required headers present — through a whole
sign-in (code, tokens, userinfo, introspection, refresh, revocation, logout) and the refusals around it;
and the faults Schemathesis found, each pinned: a NUL in a parameter, an `id_token_hint` that is not a
JWT, introspection without credentials or with a method it does not serve, userinfo's refusal typed as
HTML."""
import base64
import json

import jsonschema_rs
import pytest
from django.test import Client

from ..helpers import login, oidc_authorize, oidc_code_from, oidc_system_register, oidc_token

ENDPOINTS = ("token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint", "revocation_endpoint",
             "introspection_endpoint")


@pytest.fixture
def document(db):
    response = Client().get("/o/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


@pytest.fixture
def system(units):
    return oidc_system_register(units["bien_hoa"])


def _basic(system, secret) -> str:
    return "Basic " + base64.b64encode(f"{system.application.client_id}:{secret}".encode()).decode()


def _conforms(document, path, method, response) -> None:
    """The answer is one the document gives for this operation: its status, its content type, its body
    and its required headers."""
    operation = document["paths"][path][method]
    assert str(response.status_code) in operation["responses"], (path, method, response.status_code)
    documented = operation["responses"][str(response.status_code)]
    for name, header in documented.get("headers", {}).items():
        assert not header["required"] or name in response, (path, method, name)
    content = documented.get("content")
    if not content:
        assert response.content == b"", (path, method)
        return
    media_type = response["Content-Type"].split(";")[0]
    assert media_type in content, (path, method, response["Content-Type"])
    schema = content[media_type].get("schema")
    if schema is not None:
        validator = jsonschema_rs.validator_for({**schema, "components": document["components"]})
        body = json.loads(response.content)
        assert validator.is_valid(body), (path, method, body)


def test_it_is_served_and_names_every_endpoint_discovery_announces(document, client):
    assert document["openapi"] == "3.1.0"
    discovery = client.get("/.well-known/openid-configuration").json()
    issuer = discovery["issuer"]
    assert document["servers"] == [{"url": issuer}]
    announced = {discovery[name].removeprefix(issuer) for name in ENDPOINTS}
    assert announced == {"/o/token/", "/o/userinfo/", "/o/jwks/", "/o/logout/", "/o/revoke_token/", "/o/introspect/"}
    assert announced | {"/.well-known/openid-configuration", "/o/.well-known/openid-configuration"} == \
        set(document["paths"])
    for path in ("/.well-known/openid-configuration", "/o/.well-known/openid-configuration", "/o/jwks/"):
        _conforms(document, path, "get", client.get(path))


def test_a_whole_sign_in_answers_as_the_document_says(document, system, officer_bien_hoa):
    system, secret = system
    browser = Client()
    login(browser, officer_bien_hoa)
    response, verifier = oidc_authorize(browser, system)
    code = oidc_code_from(response)["code"]
    answer = oidc_token(Client(), system, secret, grant_type="authorization_code", code=code,
                        redirect_uri=system.application.redirect_uris, code_verifier=verifier)
    assert answer.status_code == 200
    _conforms(document, "/o/token/", "post", answer)
    tokens = answer.json()
    bearer = f"Bearer {tokens['access_token']}"
    for method in ("get", "post"):
        userinfo = getattr(Client(), method)("/o/userinfo/", HTTP_AUTHORIZATION=bearer)
        assert userinfo.status_code == 200
        _conforms(document, "/o/userinfo/", method, userinfo)
    introspected = Client().post("/o/introspect/", {"token": tokens["access_token"]},
                                 HTTP_AUTHORIZATION=_basic(system, secret))
    assert introspected.json()["active"] is True
    _conforms(document, "/o/introspect/", "post", introspected)
    introspected = Client().get("/o/introspect/", {"token": tokens["access_token"]},
                                HTTP_AUTHORIZATION=_basic(system, secret))
    _conforms(document, "/o/introspect/", "get", introspected)
    refreshed = oidc_token(Client(), system, secret, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 200
    _conforms(document, "/o/token/", "post", refreshed)
    revoked = Client().post("/o/revoke_token/", {"token": refreshed.json()["access_token"]},
                            HTTP_AUTHORIZATION=_basic(system, secret))
    assert revoked.status_code == 200
    _conforms(document, "/o/revoke_token/", "post", revoked)
    logout = browser.get("/o/logout/", {"id_token_hint": tokens["id_token"]})
    assert logout.status_code == 302
    _conforms(document, "/o/logout/", "get", logout)


def test_every_refusal_answers_as_the_document_says(document, system, officer_bien_hoa):
    system, secret = system
    basic = _basic(system, secret)
    calls = [
        ("/o/token/", "post", {"grant_type": "authorization_code", "code": "x"}, basic, 400, "invalid_grant"),
        ("/o/token/", "post", {"grant_type": "password"}, basic, 400, "invalid_request"),
        ("/o/token/", "post", {"grant_type": "urn:x"}, basic, 400, "unsupported_grant_type"),
        ("/o/token/", "post", {"grant_type": "authorization_code", "code": "x"}, "Basic eDp5", 401, "invalid_client"),
        ("/o/token/", "post", {"grant_type": "refresh_token", "refresh_token": "x"}, basic, 400, "invalid_grant"),
        ("/o/revoke_token/", "post", {}, basic, 400, "invalid_request"),
        ("/o/revoke_token/", "post", {"token": "x"}, None, 401, "invalid_client"),
        ("/o/introspect/", "post", {}, basic, 400, "invalid_request"),
        ("/o/introspect/", "post", {"token": "x"}, None, 401, "invalid_client"),
        ("/o/introspect/", "get", {"token": "x"}, "Bearer x", 401, "invalid_client"),
        ("/o/userinfo/", "get", {}, None, 401, "invalid_token"),
        ("/o/userinfo/", "post", {}, "Bearer not-a-token", 401, "invalid_token"),
    ]
    for path, method, data, authorization, status, error in calls:
        headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
        response = getattr(Client(), method)(path, data, **headers)
        assert (response.status_code, response.json()["error"]) == (status, error), (path, method, data)
        _conforms(document, path, method, response)
    unknown = Client().post("/o/introspect/", {"token": "x"}, HTTP_AUTHORIZATION=basic)
    assert unknown.json() == {"active": False}
    _conforms(document, "/o/introspect/", "post", unknown)
    logout = Client().get("/o/logout/", {"id_token_hint": "not-a-jwt", "client_id": system.application.client_id})
    assert logout.status_code == 400
    _conforms(document, "/o/logout/", "get", logout)


@pytest.mark.parametrize(("path", "method", "data", "header"), [
    ("/o/token/", "post", {"grant_type": "authorization_code", "code": "a\x00b"}, "basic"),
    ("/o/revoke_token/", "post", {"token": "a\x00b"}, "basic"),
    ("/o/introspect/", "post", {"token": "a\x00b"}, "basic"),
    ("/o/introspect/", "get", {"token": "a\x00b"}, "basic"),
    ("/o/userinfo/", "get", {}, "Bearer a\x00b"),
    ("/o/token/", "post", {"grant_type\x00": "authorization_code"}, "basic"),
])
def test_a_nul_in_a_parameter_is_an_invalid_request_not_a_server_error(document, system, path, method, data, header):
    system, secret = system
    response = getattr(Client(), method)(path, data,
                                         HTTP_AUTHORIZATION=_basic(system, secret) if header == "basic" else header)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": "A parameter holds a NUL character."}
    assert response["Cache-Control"].startswith("no-store")
    _conforms(document, path, method, response)


@pytest.mark.parametrize("data", [{"id_token_hint": "not-a-jwt"}, {"id_token_hint": "a.b.c"},
                                  {"client_id": "a\x00b"}])
def test_logout_with_a_hint_that_is_not_a_jwt_or_a_nul_is_refused_not_a_server_error(document, data):
    response = Client().get("/o/logout/", data)
    assert response.status_code == 400
    assert response["Content-Type"] == "text/html; charset=utf-8"
    _conforms(document, "/o/logout/", "get", response)


def test_a_logout_not_posted_from_the_confirmation_page_is_the_documented_403(document):
    response = Client(enforce_csrf_checks=True).post("/o/logout/", {"allow": "1"})
    assert response.status_code == 403
    _conforms(document, "/o/logout/", "post", response)


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_introspection_answers_a_method_it_does_not_serve_with_405_and_allow(db, method):
    response = getattr(Client(), method)("/o/introspect/")
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST, HEAD, OPTIONS"


@pytest.mark.parametrize(("path", "allow"), [
    ("/o/logout/", "GET, POST, HEAD, OPTIONS"), ("/.well-known/openid-configuration", "GET, HEAD, OPTIONS"),
    ("/o/jwks/", "GET, HEAD, OPTIONS"), ("/o/openapi.json", "GET, HEAD")])
def test_a_method_not_served_is_405_with_allow_not_a_csrf_refusal(db, path, allow):
    response = Client(enforce_csrf_checks=True).put(path)
    assert response.status_code == 405
    assert response["Allow"] == allow


def test_userinfo_refusal_is_typed_json_with_its_challenge(document):
    response = Client().get("/o/userinfo/", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
