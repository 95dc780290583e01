"""Requests of an account that must change its password, and sessions that ran out (idle, too long)."""
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from accounts.session_store import LAST_ACTIVITY_KEY, SECOND_FACTOR_KEY, STARTED_KEY
from audit.choices import SessionEndReason

from .selectors import password_change_reason, policy_for, second_factor_required

# What an account that must change its password may still reach.
ALLOWED_URL_NAMES = ("password_change", "logout", "set_language", "healthz", "session_keepalive")


def end_session(request, reason: SessionEndReason) -> None:
    """Log out a session the portal ends by itself; the LOGOUT event (accounts.receivers, on Django's
    user_logged_out) records why."""
    request.logout_reason = reason
    logout(request)


class PasswordChangeRequiredMiddleware:
    """Letter point 3: the default password is changed at first login, and every password at least
    every 3 months. Until then the account can do nothing but change it (or log out)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._allowed_paths = None

    def allowed_paths(self):
        if self._allowed_paths is None:
            self._allowed_paths = {reverse(name) for name in ALLOWED_URL_NAMES}
        return self._allowed_paths

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.one_time_password_expired():
            # Letter point 3: an unchanged default password stops working after its validity, also
            # for a session opened with it before it expired.
            end_session(request, SessionEndReason.ONE_TIME_PASSWORD_EXPIRED)
            return redirect(f"{reverse('login')}?one_time_expired=1")
        if user.is_authenticated and password_change_reason(user):
            path = request.path_info
            if path not in self.allowed_paths() and not path.startswith("/static/"):
                return redirect("password_change")
        return self.get_response(request)


class SecondFactorRequiredMiddleware:
    """No page opens for an account that needs a second factor unless this session passed it at its
    sign-in (accounts.views.signin sets the mark after the code). A session opened before the account
    needed one (a role change, the policy adding a role, sessions from before this rule) ends here:
    its next sign-in asks for the code, or enrols the app."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not request.session.get(SECOND_FACTOR_KEY) and second_factor_required(user):
            end_session(request, SessionEndReason.SECOND_FACTOR_MISSING)
            return redirect(f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


def idle_seconds_left(session, user, now: int | None = None) -> int:
    """Seconds until the session ends for want of activity (what the idle warning counts down)."""
    now = int(timezone.now().timestamp()) if now is None else now
    last = session.get(LAST_ACTIVITY_KEY) or now
    return max(0, last + policy_for(user).session_idle_minutes * 60 - now)


class SessionIdleTimeoutMiddleware:
    """Sessions end after the policy's idle minutes (fewer for IT admins), and at the latest a fixed
    number of hours after the login however active they are (SESSION_ABSOLUTE_HOURS, fewer for IT
    admins): a stolen session cookie, or a computer left signed in and kept busy, stops working."""

    SESSION_KEY = LAST_ACTIVITY_KEY
    STARTED_KEY = STARTED_KEY

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        now = int(timezone.now().timestamp())
        if user.is_authenticated:
            reason = self._ended_because(request.session, user, now)
            if reason is not None:
                query = {"idle" if reason == SessionEndReason.IDLE_TIMEOUT else "lifetime": 1,
                         "next": request.get_full_path()}
                end_session(request, reason)
                return redirect(f"{reverse('login')}?{urlencode(query)}")
            # Write at most once a minute: the timeout is in minutes, the session store stays quiet.
            last = request.session.get(self.SESSION_KEY)
            if last is None or now - last >= 60:
                request.session[self.SESSION_KEY] = now
        response = self.get_response(request)
        # The lifetime counts from the login (this request, for the login itself); a session that
        # predates this rule starts counting at its next request.
        if request.user.is_authenticated and self.STARTED_KEY not in request.session:
            request.session[self.STARTED_KEY] = now
        return response

    def _ended_because(self, session, user, now: int) -> SessionEndReason | None:
        """The deadline that passed first, or None while the session may go on."""
        deadlines = []
        last = session.get(self.SESSION_KEY)
        if last is not None:
            deadlines.append((last + policy_for(user).session_idle_minutes * 60, SessionEndReason.IDLE_TIMEOUT))
        started = session.get(self.STARTED_KEY)
        if started is not None:
            is_admin = user.role == Role.IT_ADMIN
            hours = settings.SESSION_ABSOLUTE_HOURS_ADMIN if is_admin else settings.SESSION_ABSOLUTE_HOURS
            deadlines.append((started + hours * 3600, SessionEndReason.SESSION_LIFETIME))
        passed = [(deadline, reason) for deadline, reason in deadlines if now > deadline]
        return min(passed)[1] if passed else None
