"""The OpenAPI document of the OpenID Connect endpoints the portal serves (`GET /o/openapi.json`):
discovery, JWKS, token, revocation (RFC 7009), introspection (RFC 7662), userinfo and RP-initiated
logout. django-oauth-toolkit publishes none, so it is declared here, by hand, from what the endpoints
answer (federation.views_oidc; docs/federation.md) — tests/federation/test_oidc_openapi.py holds each
endpoint's real answers to it, and Schemathesis (tests/portal/test_schemathesis.py) walks it against
a running portal. The authorization endpoint is a browser's page (the portal's sign-in), not an API:
it is left out.
"""
from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
HTML = "text/html"

# RFC 6749 section 5.2, RFC 6750 section 3.1, RFC 7009 section 2.2.1: every `error` these endpoints answer.
OAUTH_ERRORS = ["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type",
                "invalid_scope", "unsupported_token_type", "invalid_token", "insufficient_scope", "access_denied"]


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: dict, headers: dict | None = None) -> dict:
    answer = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return answer


def _oauth_error(description: str, *, challenge: bool = False) -> dict:
    headers = {"WWW-Authenticate": {"description": "The scheme and the error (RFC 6750 section 3, RFC 7235).",
                                    "required": True, "schema": {"type": "string"}}} if challenge else None
    return _json(description, _ref("OAuthError"), headers)


_NO_STORE = {"Cache-Control": {"description": "Never cached (RFC 6749 section 5.1).", "required": True,
                               "schema": {"type": "string", "pattern": "no-store"}}}
_CLIENT = [{"clientSecretBasic": []}, {}]  # HTTP Basic, or client_id and client_secret in the form
_TOKEN_PARAMETER = {"type": "string", "minLength": 1, "description": "The token (access or refresh)."}


def _form(properties: dict, required: list) -> dict:
    return {"required": True, "content": {FORM: {"schema": {
        "type": "object", "properties": properties, "required": required}}}}


def _token_introspection(method: str) -> dict:
    operation = {
        "summary": "Token introspection (RFC 7662): is this token active now?",
        "description": "Answers from the account's state now: a token of an account disabled, locked or "
                       "contained, or of a disabled system, is inactive whatever its expiry.",
        "security": [{"clientSecretBasic": []}],
        "responses": {
            "200": _json("The token's state.", _ref("Introspection")),
            "400": _oauth_error("No token, or a parameter that cannot be read."),
            "401": _oauth_error("The caller is not a registered system.", challenge=True),
        },
    }
    if method == "get":
        operation["parameters"] = [{"name": "token", "in": "query", "required": True, "schema": _TOKEN_PARAMETER}]
    else:
        operation["requestBody"] = _form({"token": _TOKEN_PARAMETER, "token_type_hint": {
            "type": "string", "enum": ["access_token", "refresh_token"]}}, ["token"])
    return operation


def _userinfo() -> dict:
    return {
        "summary": "The signed-in officer's claims (OpenID Connect Core section 5.3).",
        "security": [{"accessToken": []}],
        "responses": {
            "200": _json("The claims.", _ref("UserInfo")),
            "400": _oauth_error("A parameter or the Authorization header cannot be read."),
            "401": _oauth_error("No access token, or one expired, revoked or of an account that may not sign "
                                "in now.", challenge=True),
            "403": _oauth_error("The token lacks the `openid` scope.", challenge=True),
        },
    }


def _logout(method: str) -> dict:
    parameters = {
        "id_token_hint": {"type": "string", "description": "An ID token the portal issued to the system."},
        "client_id": {"type": "string"},
        "post_logout_redirect_uri": {"type": "string", "description": "One the system registered."},
        "state": {"type": "string"},
        "ui_locales": {"type": "string"},
    }
    operation = {
        "summary": "RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): a browser's step.",
        "responses": {
            "200": {"description": "The page that asks the person to confirm.", "content": {HTML: {}}},
            "302": {"description": "Signed out; on to the system's (or the portal's) page.",
                    "headers": {"Location": {"required": True, "schema": {"type": "string"}}}},
            "400": {"description": "The hint, the system or the redirect URI is not valid.", "content": {HTML: {}}},
        },
    }
    if method == "get":
        operation["parameters"] = [{"name": name, "in": "query", "required": False, "schema": schema}
                                   for name, schema in parameters.items()]
    else:  # the confirmation page's form: the person's browser posts it with the page's CSRF token
        operation["requestBody"] = {"required": False, "content": {FORM: {"schema": {
            "type": "object", "properties": {**parameters, "allow": {"type": "string"}}}}}}
        operation["responses"]["403"] = {"description": "Not posted from the portal's confirmation page (no "
                                                        "valid CSRF token): the portal's page saying so.",
                                         "content": {HTML: {}}}
    return operation


def _discovery() -> dict:
    return {"get": {"summary": "OpenID Provider metadata (OpenID Connect Discovery 1.0)", "responses": {
        "200": _json("The provider's metadata.", _ref("ProviderMetadata"))}}}


def oidc_openapi_document() -> dict:
    issuer = settings.OAUTH2_PROVIDER["OIDC_ISS_ENDPOINT"]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Cổng an toàn tài khoản — OpenID Connect provider", "version": "1",
                 "description": "What the connected systems call: sign-in tokens, the officer's claims, token "
                                "revocation and introspection, logout, the signing keys."},
        "servers": [{"url": issuer}],
        "paths": {
            "/.well-known/openid-configuration": _discovery(),
            "/o/.well-known/openid-configuration": _discovery(),
            "/o/jwks/": {"get": {"summary": "The published signing keys (the active one and the retired ones "
                                            "whose tokens may still be valid).",
                                 "responses": {"200": _json("A JWK Set (RFC 7517).", _ref("JwkSet"))}}},
            "/o/token/": {"post": {
                "summary": "Exchange an authorization code (PKCE S256) or a refresh token for tokens.",
                "security": _CLIENT,
                "requestBody": _form({
                    "grant_type": {"type": "string", "enum": ["authorization_code", "refresh_token"]},
                    "code": {"type": "string"}, "redirect_uri": {"type": "string"},
                    "code_verifier": {"type": "string", "minLength": 43, "maxLength": 128,
                                      "pattern": "^[A-Za-z0-9._~-]+$"},
                    "refresh_token": {"type": "string"}, "scope": {"type": "string"},
                    "client_id": {"type": "string"}, "client_secret": {"type": "string"},
                }, ["grant_type"]),
                "responses": {
                    "200": _json("The tokens.", _ref("TokenResponse"), _NO_STORE),
                    "400": _oauth_error("The grant is not valid (RFC 6749 section 5.2)."),
                    "401": _oauth_error("The system's credentials are not valid.", challenge=True),
                },
            }},
            "/o/revoke_token/": {"post": {
                "summary": "Token revocation (RFC 7009).",
                "security": _CLIENT,
                "requestBody": _form({"token": _TOKEN_PARAMETER, "token_type_hint": {
                    "type": "string", "enum": ["access_token", "refresh_token"]},
                    "client_id": {"type": "string"}, "client_secret": {"type": "string"}}, ["token"]),
                "responses": {
                    "200": {"description": "Revoked, or not a token of this system (RFC 7009 section 2.2): no body."},
                    "400": _oauth_error("No token, or a parameter that cannot be read."),
                    "401": _oauth_error("The system's credentials are not valid.", challenge=True),
                },
            }},
            "/o/introspect/": {"get": _token_introspection("get"), "post": _token_introspection("post")},
            "/o/userinfo/": {"get": _userinfo(), "post": _userinfo()},
            "/o/logout/": {"get": _logout("get"), "post": _logout("post")},
        },
        "components": {
            "securitySchemes": {
                "clientSecretBasic": {"type": "http", "scheme": "basic",
                                      "description": "The system's client id and secret (client_secret_basic)."},
                "accessToken": {"type": "http", "scheme": "bearer", "description": "An access token of the portal."},
            },
            "schemas": _SCHEMAS,
        },
    }


_SCHEMAS = {
    "OAuthError": {"type": "object", "required": ["error"], "properties": {
        "error": {"type": "string", "enum": OAUTH_ERRORS}, "error_description": {"type": "string"},
        "error_uri": {"type": "string"}}},
    "TokenResponse": {"type": "object", "required": ["access_token", "token_type", "expires_in"], "properties": {
        "access_token": {"type": "string", "minLength": 1}, "token_type": {"type": "string", "const": "Bearer"},
        "expires_in": {"type": "integer", "minimum": 1}, "scope": {"type": "string"},
        "refresh_token": {"type": "string", "minLength": 1},
        "id_token": {"type": "string", "pattern": "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$"}}},
    "Introspection": {"type": "object", "required": ["active"], "properties": {
        "active": {"type": "boolean"}, "scope": {"type": "string"}, "client_id": {"type": "string"},
        "username": {"type": "string"}, "sub": {"type": "string"}, "token_type": {"type": "string"},
        "exp": {"type": "integer"}, "iat": {"type": "integer"}, "iss": {"type": "string"},
        "unit_code": {"type": "string"}, "role": {"type": "string"}}},
    "UserInfo": {"type": "object", "required": ["sub"], "properties": {
        "sub": {"type": "string", "minLength": 1}, "preferred_username": {"type": "string"},
        "name": {"type": "string"}, "email": {"type": "string"}, "unit_code": {"type": "string"},
        "unit_name": {"type": "string"}, "role": {"type": "string"}, "can_lookup": {"type": "boolean"},
        "auth_time": {"type": "integer"}}},
    "JwkSet": {"type": "object", "required": ["keys"], "properties": {"keys": {"type": "array", "items": {
        "type": "object", "required": ["kty", "kid", "use", "alg", "n", "e"], "properties": {
            "kty": {"const": "RSA"}, "kid": {"type": "string"}, "use": {"const": "sig"}, "alg": {"const": "RS256"},
            "n": {"type": "string"}, "e": {"type": "string"}}}}}},
    "ProviderMetadata": {"type": "object", "required": [
        "issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
        "response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported",
        "end_session_endpoint", "revocation_endpoint", "introspection_endpoint", "backchannel_logout_supported"],
        "properties": {
            "issuer": {"type": "string"}, "authorization_endpoint": {"type": "string"},
            "token_endpoint": {"type": "string"}, "userinfo_endpoint": {"type": "string"},
            "jwks_uri": {"type": "string"}, "end_session_endpoint": {"type": "string"},
            "revocation_endpoint": {"type": "string"}, "introspection_endpoint": {"type": "string"},
            "response_types_supported": {"type": "array", "items": {"type": "string"}},
            "subject_types_supported": {"type": "array", "items": {"type": "string"}},
            "id_token_signing_alg_values_supported": {"type": "array", "items": {"const": "RS256"}},
            "code_challenge_methods_supported": {"type": "array", "items": {"const": "S256"}},
            "claims_supported": {"type": "array", "items": {"type": "string"}},
            "backchannel_logout_supported": {"const": True},
            "backchannel_logout_session_supported": {"const": True}}},
}


@csrf_exempt  # read-only: another method is 405 with Allow, not the CSRF middleware's 403
@require_safe
def oidc_openapi_view(request):
    response = JsonResponse(oidc_openapi_document(), json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    return response
