"""The portal as an OpenID Connect provider: django-oauth-toolkit's validator, extended (not forked).

What it adds to django-oauth-toolkit (docs/federation.md):
- the portal's claims (unit code, role, lookup right), `amr` (RFC 8176) and `sid` of the portal session,
  `auth_time` of that session's sign-in;
- ID tokens signed with the portal's rotating key (federation.keys), its `kid` in the header;
- one refusal rule for every step: an account that is disabled, locked or contained
  (accounts.permissions.account_access_refusal), a system that is disabled, or an officer outside the
  system's unit subtree gets no code, no token, no refresh, no userinfo — judged at each request;
- a code used twice revokes what the first use gave (RFC 6749 §4.1.2);
- only the authorization code flow with PKCE S256 (the response types and grants of the application
  are code/refresh; "plain" and implicit are refused by the RFC 9700 settings)."""
import hashlib
import json
from collections import OrderedDict
from datetime import datetime
from datetime import timezone as datetime_timezone

from django.db import transaction
from django.utils import timezone
from jwcrypto import jwt
from oauth2_provider.oauth2_validators import OAuth2Validator

from accounts.permissions import account_access_refusal
from accounts.scope import account_within_unit
from audit.choices import EventKind
from audit.services import audit_event_record

from .keys import signing_key_active, signing_key_set
from .models import ConnectedSystem, SystemSignIn
from .propagation import DELIVERY_JOB, _tokens_revoke

PORTAL_CLAIMS = ("preferred_username", "name", "email", "unit_code", "unit_name", "role", "can_lookup")
# Claims every ID token carries besides the scoped ones (OpenID Connect Core §2, RFC 8176, Back-Channel
# Logout §2.1); discovery lists them with the scoped ones.
SESSION_CLAIMS = ("sid", "amr", "auth_time")


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def system_refusal(system: ConnectedSystem | None, account) -> str | None:
    """Why this account may not sign in to this system now, or None: the account's state first
    (disabled, locked, contained), then the system's, then the unit subtree."""
    refusal = account_access_refusal(account)
    if refusal:
        return refusal
    if system is None or not system.is_active:
        return "system_disabled"
    if not account_within_unit(account, system.unit):
        return "out_of_scope"
    return None


def sign_in_refusal_record(*, system, account, refusal: str, step: str) -> None:
    audit_event_record(kind=EventKind.SYSTEM_SIGN_IN_REFUSED, actor=DELIVERY_JOB if account is None else account,
                       target=account, details={"system": system.name if system else "",
                                                "refused_because": refusal, "step": step})


def _system_of(client) -> ConnectedSystem | None:
    if client is None:
        return None
    return ConnectedSystem.objects.filter(application_id=client.pk).select_related("unit").first()


class PortalOAuth2Validator(OAuth2Validator):
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "unit_code": "profile", "unit_name": "profile", "role": "profile", "can_lookup": "profile",
        "sid": "openid", "amr": "openid",
    }

    # --- the registered, active system only -------------------------------------------------------
    def _load_application(self, client_id, request):
        client = super()._load_application(client_id, request)
        if client is None:
            return None
        system = _system_of(client)
        if system is None or not system.is_active:
            request.client = None
            return None
        request.connected_system = system
        return client

    def validate_response_type(self, client_id, response_type, client, request, *args, **kwargs):
        # Only the authorization code flow (no implicit, no hybrid).
        return response_type == "code" and super().validate_response_type(
            client_id, response_type, client, request, *args, **kwargs)

    # --- the authorization code: the session it came from ------------------------------------------
    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        super().save_authorization_code(client_id, code, request, *args, **kwargs)
        system = getattr(request, "connected_system", None) or _system_of(request.client)
        SystemSignIn.objects.create(
            system=system, account=request.user, sid=request.portal_sid, code_hash=code_hash(code["code"]),
            amr=list(request.portal_amr), auth_time=request.portal_auth_time, created_at=timezone.now())

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        valid = super().validate_code(client_id, code, client, request, *args, **kwargs)
        sign_in = SystemSignIn.objects.filter(code_hash=code_hash(code)).select_related("system").first()
        if not valid:
            if sign_in is not None and sign_in.token_family is not None:
                self._code_replayed(sign_in)
            return False
        if sign_in is None:
            return False
        refusal = system_refusal(sign_in.system, request.user)
        if refusal:
            sign_in_refusal_record(system=sign_in.system, account=request.user, refusal=refusal, step="token")
            return False
        request.portal_sign_in = sign_in
        request.portal_sid, request.portal_amr, request.portal_auth_time = (
            sign_in.sid, sign_in.amr, sign_in.auth_time)
        return True

    def _code_replayed(self, sign_in: SystemSignIn) -> None:
        """A code presented again after its exchange: someone else may hold it. What it gave is revoked
        (RFC 6749 §4.1.2), and the refusal recorded."""
        with transaction.atomic():
            revoked = _tokens_revoke(sign_in.account, everything=False, families=[sign_in.token_family])
            audit_event_record(kind=EventKind.SYSTEM_TOKENS_REVOKED, actor=DELIVERY_JOB, target=sign_in.account,
                               details={"system": sign_in.system.name, "tokens_revoked": revoked,
                                        "ended_because": "code_reused"})

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        refresh = super()._create_refresh_token(request, refresh_token_code, access_token, previous_refresh_token)
        sign_in = getattr(request, "portal_sign_in", None)
        if sign_in is not None and previous_refresh_token is None:
            SystemSignIn.objects.filter(pk=sign_in.pk).update(token_family=refresh.token_family)
            ConnectedSystem.objects.filter(pk=sign_in.system_id).update(last_sign_in_at=timezone.now())
            audit_event_record(kind=EventKind.SYSTEM_SIGN_IN, actor=request.user, target=request.user,
                               details={"system": sign_in.system.name, "amr": " ".join(sign_in.amr)})
        return refresh

    # --- refresh: the account's state now ---------------------------------------------------------
    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        family = request.refresh_token_instance.token_family
        sign_in = SystemSignIn.objects.filter(token_family=family).select_related("system").first()
        system = sign_in.system if sign_in else _system_of(client)
        refusal = system_refusal(system, request.user)
        if refusal is None and (sign_in is None or sign_in.ended_at is not None):
            refusal = "session_ended"
        if refusal:
            sign_in_refusal_record(system=system, account=request.user, refusal=refusal, step="refresh")
            return False
        request.portal_sign_in = sign_in
        request.portal_sid, request.portal_amr, request.portal_auth_time = (
            sign_in.sid, sign_in.amr, sign_in.auth_time)
        return True

    # --- userinfo (and any resource the portal protects with these tokens) ------------------------
    def validate_bearer_token(self, token, scopes, request):
        if not super().validate_bearer_token(token, scopes, request):
            return False
        refusal = system_refusal(_system_of(request.client), request.user)
        if refusal:
            request.oauth2_error = OrderedDict([("error", "invalid_token"),
                                                ("error_description", "The account may not sign in now.")])
            sign_in_refusal_record(system=_system_of(request.client), account=request.user, refusal=refusal,
                                   step="userinfo")
            return False
        return True

    # --- claims ------------------------------------------------------------------------------------
    def get_additional_claims(self, request):
        account = request.user
        claims = {
            "preferred_username": account.username, "name": account.full_name, "email": account.email,
            "unit_code": account.unit.code, "unit_name": account.unit.name, "role": account.role,
            "can_lookup": bool(account.can_lookup),
        }
        if getattr(request, "portal_sid", None):
            claims["sid"] = request.portal_sid
            claims["amr"] = list(request.portal_amr)
        return claims

    def get_discovery_claims(self, request):
        return ["sub", *PORTAL_CLAIMS, *SESSION_CLAIMS, "iss", "aud", "exp", "iat", "nonce"]

    def get_userinfo_claims(self, request):
        claims = super().get_userinfo_claims(request)
        for name in ("sid", "amr"):
            claims.pop(name, None)
        return claims

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expiration_time = super().get_id_token_dictionary(token, token_handler, request)
        auth_time = getattr(request, "portal_auth_time", None)
        if auth_time is not None:
            claims["auth_time"] = int(auth_time.timestamp())
        return claims, expiration_time

    # --- signing with the portal's key ---------------------------------------------------------------
    def finalize_id_token(self, id_token, token, token_handler, request):
        claims, expiration_time = self.get_id_token_dictionary(token, token_handler, request)
        id_token.update(**claims)
        if "nonce" not in id_token and request.nonce:
            id_token["nonce"] = request.nonce
        kid, key = signing_key_active()
        signed = jwt.JWT(header=json.dumps({"typ": "JWT", "alg": "RS256", "kid": kid}),
                         claims=json.dumps(id_token, default=str))
        signed.make_signed_token(key)
        id_token_row = self._save_id_token(id_token["jti"], request, expiration_time)
        request.access_token = id_token_row
        request.id_token = id_token_row
        return signed.serialize()

    def _get_key_for_token(self, token):
        return signing_key_set()


def sign_in_moment(session) -> datetime:
    """When the portal session signed in (its start, kept by policy.middleware), for `auth_time`."""
    started = session.get("_session_started")
    if started:
        return datetime.fromtimestamp(int(started), tz=datetime_timezone.utc)
    return timezone.now()
