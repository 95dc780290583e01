"""The session engine (SESSION_ENGINE = "accounts.session_store"): Django's database sessions, each row
tagged with its account (accounts.models.AccountSession) so that `sessions_end_for` finds them all."""
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

# django.contrib.auth keeps the signed-in account's id under this key of the session data.
AUTH_USER_KEY = "_auth_user_id"


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
        return session
