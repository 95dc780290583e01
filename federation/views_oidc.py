"""The OpenID Connect endpoints: django-oauth-toolkit's views, extended (federation.oidc has the rules)."""
import calendar
import hashlib
import json
import secrets

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from oauth2_provider.compat import login_not_required
from oauth2_provider.exceptions import InvalidIDTokenError, InvalidRequestFatalError
from oauth2_provider.models import get_access_token_model
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import (
    AuthorizationView,
    ConnectDiscoveryInfoView,
    IntrospectTokenView,
    RevokeTokenView,
    RPInitiatedLogoutView,
    TokenView,
    UserInfoView,
)
from oauth2_provider.views.mixins import OIDCOnlyMixin

from accounts.session_store import OIDC_SID_KEY, SECOND_FACTOR_KEY
from federation.keys import public_jwks
from federation.models import ConnectedSystem
from federation.oidc import sign_in_moment, sign_in_refusal_record, system_refusal


def _holds_nul(request) -> bool:
    """Does a parameter or the Authorization header hold a NUL? PostgreSQL refuses one in any text it
    compares, so a client's NUL would end as a 500 in django-oauth-toolkit's lookups."""
    values = [request.META.get("HTTP_AUTHORIZATION", "")]
    for data in (request.GET, request.POST):
        for key, items in data.lists():
            values += [key, *items]
    return any("\x00" in value for value in values)


def _invalid_request() -> JsonResponse:
    """RFC 6749 section 5.2's answer to a request it cannot read, never cached."""
    response = JsonResponse({"error": "invalid_request",
                             "error_description": "A parameter holds a NUL character."}, status=400)
    response["Cache-Control"] = "no-store"
    return response


class NulRefused:
    """A request with a NUL anywhere the view reads is refused as `invalid_request` (400), before
    django-oauth-toolkit looks anything up."""

    def dispatch(self, request, *args, **kwargs):
        if request.method.lower() in self.http_method_names and _holds_nul(request):
            return self.nul_refused()
        return super().dispatch(request, *args, **kwargs)

    def nul_refused(self):
        return _invalid_request()


def _called_by_systems(view_class):
    """What django-oauth-toolkit's decorators give its own dispatch (a subclass's dispatch loses them):
    a system calls with its credentials, not a browser's session, so no CSRF check and no sign-in page."""
    view_class = method_decorator(csrf_exempt, name="dispatch")(view_class)
    return method_decorator(login_not_required, name="dispatch")(view_class)


@_called_by_systems
class PortalTokenView(NulRefused, TokenView):
    pass


@_called_by_systems
class PortalRevokeTokenView(NulRefused, RevokeTokenView):
    pass


@_called_by_systems
class PortalUserInfoView(NulRefused, UserInfoView):
    """Its refusals (401 `invalid_token`, RFC 6750) are JSON and say so: oauthlib gives the body
    without a Content-Type, which Django would call text/html."""

    def _create_userinfo_response(self, request):
        response = super()._create_userinfo_response(request)
        if response.status_code != 200 and response.content.startswith(b"{"):
            response["Content-Type"] = "application/json"
        return response


@method_decorator(login_not_required, name="dispatch")
@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(csrf_protect, name="post")
class PortalLogoutView(NulRefused, RPInitiatedLogoutView):
    """RP-initiated logout; an `id_token_hint` that is not a JWT at all is the same refusal as one that
    is invalid (jwcrypto raises a ValueError that django-oauth-toolkit does not catch: a 500). GET and
    POST only: Django's FormView also takes PUT as a POST, which no logout request is. The CSRF check is
    on POST (the confirmation form), not on dispatch, so that another method is 405 with Allow rather
    than the middleware's 403."""

    http_method_names = ["get", "post", "head", "options"]

    def validate_logout_request_user(self, id_token_hint, client_id):
        try:
            return super().validate_logout_request_user(id_token_hint, client_id)
        except ValueError:
            raise InvalidIDTokenError() from None

    def nul_refused(self):
        return self.error_response(InvalidRequestFatalError("A parameter holds a NUL character."))


def session_sid(session) -> str:
    """The portal session's `sid`, made when it first signs in to a system (random, not derived from the
    session key, which changes at a password change while the session goes on)."""
    sid = session.get(OIDC_SID_KEY)
    if not sid:
        sid = secrets.token_urlsafe(24)
        session[OIDC_SID_KEY] = sid
    return sid


class PortalAuthorizationView(AuthorizationView):
    """The portal's own sign-in is the systems' sign-in (login_required: the login page with its policy,
    lockout, forced changes and second factor). Registered systems get no consent page
    (Application.skip_authorization). Refused here: an account the system may not sign in."""

    def get(self, request, *args, **kwargs):
        system = ConnectedSystem.objects.filter(application__client_id=request.GET.get("client_id", ""),
                                                is_active=True).select_related("unit").first()
        if system is not None:
            refusal = system_refusal(system, request.user)
            if refusal:
                sign_in_refusal_record(system=system, account=request.user, refusal=refusal, step="authorize")
                return render(request, "federation/sign_in_refused.html",
                              {"system": system, "refusal": refusal}, status=403)
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        # No consent form is ever shown: nothing to post.
        return self.http_method_not_allowed(request, *args, **kwargs)

    def create_authorization_response(self, request, scopes, credentials, allow):
        session = request.session
        credentials = {**credentials, "portal_sid": session_sid(session),
                       "portal_amr": ["pwd", "otp", "mfa"] if session.get(SECOND_FACTOR_KEY) else ["pwd"],
                       "portal_auth_time": sign_in_moment(session)}
        return super().create_authorization_response(request, scopes, credentials, allow)


@method_decorator(csrf_exempt, name="dispatch")
class PortalDiscoveryView(ConnectDiscoveryInfoView):
    """django-oauth-toolkit's discovery document, true to what the portal does. Read-only, so no CSRF
    check: a method it does not serve is 405 with Allow, not the CSRF middleware's 403."""

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data.update({
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "revocation_endpoint": self._get_endpoint_url(request, "revoke-token", required=True),
            "introspection_endpoint": self._get_endpoint_url(request, "introspect", required=True),
            "backchannel_logout_supported": True,
            "backchannel_logout_session_supported": True,
            "frontchannel_logout_supported": False,
            "claims_parameter_supported": False,
            "request_parameter_supported": False,
            "ui_locales_supported": ["vi", "en"],
        })
        answer = JsonResponse(data)
        answer["Access-Control-Allow-Origin"] = "*"
        return answer


@method_decorator(login_not_required, name="dispatch")
@method_decorator(csrf_exempt, name="dispatch")
class PortalJwksView(OIDCOnlyMixin, View):
    """Every published key: the active one and the retired ones whose tokens may still be valid. Read-only:
    no CSRF check (another method is 405 with Allow)."""

    def get(self, request, *args, **kwargs):
        response = JsonResponse(public_jwks())
        response["Access-Control-Allow-Origin"] = "*"
        response["Cache-Control"] = "public, max-age=300"
        return response


@method_decorator(never_cache, name="dispatch")
@_called_by_systems
class PortalIntrospectView(NulRefused, IntrospectTokenView):
    """RFC 7662 from the account's state NOW: a token of an account that is disabled, locked or
    contained, or of a disabled system, is inactive whatever its expiry (django-oauth-toolkit answers
    `active: true` for any unexpired token). A method it does not serve is 405 (with Allow) before the
    caller's credentials are asked for; a caller without them is 401 `invalid_client` (RFC 7662 section
    2.3 and RFC 6749 section 5.2), not django-oauth-toolkit's empty 403."""

    def dispatch(self, request, *args, **kwargs):
        if not hasattr(self, request.method.lower()) or request.method.lower() not in self.http_method_names:
            return self.http_method_not_allowed(request, *args, **kwargs)
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code == 403 and not response.content:
            response = JsonResponse({"error": "invalid_client", "error_description": (
                "Authenticate as a registered system (HTTP Basic with its client id and secret).")}, status=401)
            response["WWW-Authenticate"] = 'Basic realm="introspection"'
        return response

    def get_token_response(self, token_value=None):
        if token_value is None:
            return JsonResponse({"error": "invalid_request", "error_description": "Token parameter is missing."},
                                status=400)
        checksum = hashlib.sha256(token_value.encode("utf-8")).hexdigest()
        token = (get_access_token_model().objects.select_related("user", "user__unit", "application")
                 .filter(token_checksum=checksum).first())
        if token is None or not token.is_valid() or token.user is None:
            return JsonResponse({"active": False})
        system = ConnectedSystem.objects.filter(application_id=token.application_id).select_related("unit").first()
        refusal = system_refusal(system, token.user)
        if refusal:
            sign_in_refusal_record(system=system, account=token.user, refusal=refusal, step="introspection")
            return JsonResponse({"active": False})
        return JsonResponse({
            "active": True, "scope": token.scope, "client_id": token.application.client_id,
            "username": token.user.username, "sub": str(token.user.pk), "token_type": "Bearer",
            "exp": int(calendar.timegm(token.expires.timetuple())),
            "iat": int(calendar.timegm(token.created.timetuple())),
            "iss": oauth2_settings.OIDC_ISS_ENDPOINT, "unit_code": token.user.unit.code, "role": token.user.role,
        })
