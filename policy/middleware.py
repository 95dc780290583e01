"""Requests of an account that must change its password, and idle sessions."""
from urllib.parse import urlencode

from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from .selectors import password_change_reason, policy_for

# What an account that must change its password may still reach.
ALLOWED_URL_NAMES = ("password_change", "logout", "set_language", "healthz")


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
            logout(request)
            return redirect(f"{reverse('login')}?one_time_expired=1")
        if user.is_authenticated and password_change_reason(user):
            path = request.path_info
            if path not in self.allowed_paths() and not path.startswith("/static/"):
                return redirect("password_change")
        return self.get_response(request)


class SessionIdleTimeoutMiddleware:
    """Sessions end after the policy's idle minutes (fewer for IT admins)."""

    SESSION_KEY = "_last_activity"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            now = int(timezone.now().timestamp())
            idle_seconds = policy_for(user).session_idle_minutes * 60
            last = request.session.get(self.SESSION_KEY)
            if last is not None and now - last > idle_seconds:
                logout(request)
                return redirect(f"{reverse('login')}?{urlencode({'idle': 1, 'next': request.get_full_path()})}")
            # Write at most once a minute: the timeout is in minutes, the session store stays quiet.
            if last is None or now - last >= 60:
                request.session[self.SESSION_KEY] = now
        return self.get_response(request)
