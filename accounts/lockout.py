"""django-axes, as the portal runs it: the threshold and cool-off from the editable policy, the username
as it is counted (never a password typed into the wrong field), and a database handler that keeps no
form body, asks the lockout rule of accounts.selectors, and announces one lockout once."""
import re
from datetime import timedelta

from axes.conf import settings as axes_settings
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt, AccessFailureLog
from axes.signals import user_locked_out
from django.db import router, transaction
from django.db.models import F
from django.utils.crypto import salted_hmac

from policy.selectors import current_policy

from .models import USERNAME_PATTERN, normalise_username
from .selectors import address_blocked_until, lockout_ends_at

_USERNAME_SHAPE = re.compile(USERNAME_PATTERN)
# The purge migration (accounts 0004) computes the same keyed hash for the rows stored before it.
_COUNTED_KEY_SALT = "accounts.lockout.username_as_counted"


def failure_limit(request, credentials) -> int:
    return current_policy().lockout_threshold


def cool_off(request=None) -> timedelta:
    return timedelta(minutes=current_policy().lockout_minutes)


def username_as_counted(request, credentials) -> str | None:
    """AXES_USERNAME_CALLABLE: the value django-axes stores and counts in its `username` column.
    A username-shaped value is kept as the account's username (the IT admins read it, unlock it).
    Anything else is often a password typed into the username field: it is kept only as a keyed hash,
    so the same typed value is still counted (and locked) as one username, but no table holds it."""
    if credentials is not None:
        typed = credentials.get(axes_settings.AXES_USERNAME_FORM_FIELD)
    else:
        typed = getattr(request, "POST", {}).get(axes_settings.AXES_USERNAME_FORM_FIELD)
    if typed is None:
        return None
    return counted_username(typed)


def counted_username(typed: str) -> str:
    username = normalise_username(typed)
    if not username or _USERNAME_SHAPE.match(username):
        return username
    return "#" + salted_hmac(_COUNTED_KEY_SALT, username, algorithm="sha256").hexdigest()[:40]


class SigninLockoutHandler(AxesDatabaseHandler):
    """AXES_HANDLER. django-axes' database handler with three changes:
    - the lockout rule is accounts.selectors' (IT admins are delayed, not locked; a source address that
      fails too often is refused first), so the login and the admin pages never disagree;
    - a failure is recorded without the form body: django-axes would keep the whole POST (on the
      password-change page: the current and the new password) in `post_data`;
    - `user_locked_out` is sent once, by the failure that reaches the threshold, not again by every
      attempt refused during the lockout (those are recorded by accounts.receivers as refused)."""

    def is_locked(self, request, credentials=None) -> bool:
        username = get_client_username(request, credentials)
        blocked_until = address_blocked_until(getattr(request, "axes_ip_address", None))
        if blocked_until is not None:
            request.signin_refusal = "address_blocked"
            return True
        if username and lockout_ends_at(username) is not None:
            request.signin_refusal = "locked"
            return True
        return False

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is None:
            return
        if getattr(request, "signin_refusal", None) or request.axes_locked_out:
            # Refused before the password was checked: not counted (a lockout is not extended by the
            # attempts it refuses), only shown the lockout page.
            request.axes_locked_out = True
            request.axes_credentials = credentials
            return
        if self.is_whitelisted(request, credentials):
            return
        self.clean_expired_user_attempts(request, credentials)
        username = get_client_username(request, credentials)
        if not username:
            return
        with transaction.atomic(using=router.db_for_write(AccessAttempt)):
            attempt, created = AccessAttempt.objects.select_for_update().get_or_create(
                username=username, ip_address=request.axes_ip_address, user_agent=request.axes_user_agent,
                defaults={
                    # Never the form body, nor the query string: nothing a person typed is kept here.
                    "get_data": "", "post_data": "",
                    "http_accept": request.axes_http_accept, "path_info": request.axes_path_info,
                    "failures_since_start": 1, "attempt_time": request.axes_attempt_time,
                },
            )
            if not created:
                AccessAttempt.objects.filter(pk=attempt.pk).update(
                    failures_since_start=F("failures_since_start") + 1, attempt_time=request.axes_attempt_time,
                    http_accept=request.axes_http_accept, path_info=request.axes_path_info)
        failures = self.get_failures(request, credentials)
        request.axes_failures_since_start = failures
        limit = get_failure_limit(request, credentials)
        if failures == limit:
            # One lockout, one event: the failure that reaches the threshold announces it.
            user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)
        if failures >= limit:
            request.axes_locked_out = True
            request.axes_credentials = credentials
        if axes_settings.AXES_ENABLE_ACCESS_FAILURE_LOG:
            AccessFailureLog.objects.create(
                username=username, ip_address=request.axes_ip_address, user_agent=request.axes_user_agent,
                http_accept=request.axes_http_accept, path_info=request.axes_path_info,
                attempt_time=request.axes_attempt_time, locked_out=request.axes_locked_out)
            self.remove_out_of_limit_failure_logs(username=username)
