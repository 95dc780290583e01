"""Hooks into Django's and django-axes' sign-in signals; each hands over to a service at once."""
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .choices import SignInFactor
from .services import sessions, signin
from .session_store import OIDC_SID_KEY


@receiver(user_logged_in)
def on_user_logged_in(sender, request, user, **kwargs):
    # The second step (accounts.views.signin) says which factor it checked before calling login().
    signin.login_record_success(account=user, second_factor=getattr(request, "signin_second_factor", ""))
    if request is not None and hasattr(request, "session"):
        sessions.session_describe(request.session)


@receiver(user_login_failed)
def on_user_login_failed(sender, credentials, request=None, **kwargs):
    # accounts.lockout's handler marks an attempt refused before its password was checked; the second
    # step marks a wrong code (the password was right).
    reason = getattr(request, "signin_refusal", None) or ""
    factor = getattr(request, "signin_factor", "") or ("" if reason else SignInFactor.PASSWORD)
    signin.login_record_failure(username=credentials.get("username", ""), reason=reason, factor=factor)


@receiver(user_locked_out)
def on_user_locked_out(sender, request, username=None, ip_address=None, **kwargs):
    # Sent once per lockout (accounts.lockout). The username as typed, for the event's masking rule,
    # rather than django-axes' counted form (a keyed hash for what cannot be a username).
    credentials = getattr(request, "axes_credentials", None) or {}
    signin.lockout_record(username=credentials.get("username") or username or "")


@receiver(user_logged_out)
def on_user_logged_out(sender, request, user, **kwargs):
    # A logout the portal made (policy.middleware) sets request.logout_reason before calling logout().
    if user is not None:
        session = getattr(request, "session", None)
        signin.logout_record(account=user, reason=getattr(request, "logout_reason", ""),
                             sid=session.get(OIDC_SID_KEY) if session is not None else None)
