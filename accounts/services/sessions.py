"""Sessions as their owner and the IT Center see them: each person ends any of their own sessions, an
IT admin ends every session of an account, a password change ends the other sessions. Ending a session
deletes its row (accounts.models.AccountSession): the browser holding it is signed out at its next
request, and nothing brings it back."""
from django.db import transaction
from django.utils.translation import gettext as _

from audit.choices import EventKind
from audit.services import audit_event_record
from federation.choices import AccessEndReason
from federation.propagation import access_ended, session_sid
from portal.audit_context import current_audit_context
from portal.errors import DomainError

from ..models import AccountSession, User
from ..permissions import ensure_it_admin
from ..session_store import IP_ADDRESS_KEY, USER_AGENT_KEY, session_handle
from .lifecycle import sessions_end_for


@transaction.atomic
def session_end(*, actor: User, handle: str) -> AccountSession:
    """The owner ends one of their sessions (another browser, a computer left signed in)."""
    for session in AccountSession.objects.select_for_update().filter(account_id=actor.pk):
        if session_handle(session.session_key) == handle:
            sid = session_sid(session)
            session.delete()
            if sid:
                access_ended(account=actor, reason=AccessEndReason.SESSION_ENDED, sids=[sid])
            audit_event_record(kind=EventKind.SESSION_ENDED, actor=actor, target=actor,
                               details={"device": session.user_agent[:120],
                                        "ip_address": session.ip_address or ""})
            return session
    raise DomainError(_("This session has already ended."), code="session_not_found")


@transaction.atomic
def account_sessions_end(*, actor, account: User) -> int:
    """An IT admin signs an account out everywhere (a suspected stolen session); returns how many ended."""
    ensure_it_admin(actor)
    ended = sessions_end_for(account)
    audit_event_record(kind=EventKind.SESSIONS_ENDED, actor=actor, target=account, details={"sessions_ended": ended})
    return ended


@transaction.atomic
def sessions_end_others(*, account: User, keep_session_key: str | None) -> int:
    """After a password change: every other session of the account ends (Django would refuse them at
    their next request anyway, by the password's hash; the rows go now, so the list is true) — and with
    them, in the connected systems, every session but this one's (each its own logout token)."""
    kept = AccountSession.objects.filter(account_id=account.pk, session_key=keep_session_key or "").first()
    ended, _details = AccountSession.objects.filter(account_id=account.pk).exclude(
        session_key=keep_session_key or "").delete()
    access_ended(account=account, reason=AccessEndReason.OTHER_SESSIONS_ENDED,
                 keep_sid=session_sid(kept) if kept is not None else None)
    return ended


def session_describe(session) -> None:
    """At the sign-in: the browser and the address the session's list will show (the audit context)."""
    context = current_audit_context()
    session[USER_AGENT_KEY] = context.user_agent
    session[IP_ADDRESS_KEY] = context.ip_address
