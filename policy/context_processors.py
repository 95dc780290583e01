from .middleware import idle_seconds_left
from .selectors import days_until_password_expiry


def password_expiry(request):
    """The banner that warns from the policy's warning days (14 by default) before expiry."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"password_expires_in_days": days_until_password_expiry(user)}


def session_idle(request):
    """The idle warning's countdown (static/js/idle.js): seconds left, and when to warn (a minute before)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"idle_seconds_left": idle_seconds_left(request.session, user), "idle_warning_seconds": 60}
