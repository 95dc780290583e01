"""The session engine (SESSION_ENGINE = "accounts.session_store"): Django's database sessions, each row
tagged with its account (accounts.models.AccountSession) so that `sessions_end_for` finds them all, and
with what the "your sessions" page shows (browser, address, started, last seen), copied from the
session's own data at every save: the store writes the whole row each time."""
from datetime import datetime, timezone

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils.crypto import salted_hmac

# django.contrib.auth keeps the signed-in account's id under this key of the session data.
AUTH_USER_KEY = "_auth_user_id"
# Written by policy.middleware.SessionIdleTimeoutMiddleware (Unix seconds).
LAST_ACTIVITY_KEY = "_last_activity"
STARTED_KEY = "_session_started"
# Written at the sign-in (accounts.views.signin): the browser and the address it signed in from.
USER_AGENT_KEY = "_session_user_agent"
IP_ADDRESS_KEY = "_session_ip"
# Set when the second factor was checked at this session's sign-in (policy.middleware refuses a session
# of an account that needs one without it).
SECOND_FACTOR_KEY = "_second_factor"
# The session's `sid` in the connected systems (OpenID Connect), set when it first signs in to one
# (federation.views_oidc); kept across the key changes of a session (sign-in, password change).
OIDC_SID_KEY = "_oidc_sid"


def session_handle(session_key: str) -> str:
    """How a page names a session: never its key, which is the cookie that opens it."""
    return salted_hmac("accounts.session_handle", session_key, algorithm="sha256").hexdigest()[:32]


def _moment(seconds):
    try:
        return datetime.fromtimestamp(int(seconds), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


class SessionStore(DatabaseSessionStore):
    @classmethod
    def get_model_class(cls):
        from .models import AccountSession

        return AccountSession

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        try:
            session.account_id = int(data.get(AUTH_USER_KEY))
        except (TypeError, ValueError):
            session.account_id = None
        session.user_agent = str(data.get(USER_AGENT_KEY) or "")[:255]
        session.ip_address = data.get(IP_ADDRESS_KEY) or None
        session.started_at = _moment(data.get(STARTED_KEY))
        session.last_seen_at = _moment(data.get(LAST_ACTIVITY_KEY)) or session.started_at
        return session
