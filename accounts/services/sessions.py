"""Sessions as their owner and the IT Center see them: each person ends any of their own sessions, an
IT admin ends every session of an account, a password change ends the other sessions. Ending a session
deletes its row (accounts.models.AccountSession): the browser holding it is signed out at its next
request, and nothing brings it back."""
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
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


def _session_deadline(session: AccountSession, account: User):
    """When the session runs out, and why: the policy's idle minutes after it was last seen, or the fixed
    lifetime after it started (the same limits as policy.middleware, which ends it at its next request)."""
    from django.conf import settings

    from audit.choices import SessionEndReason
    from policy.selectors import policy_for

    from ..choices import Role

    deadlines = []
    if session.last_seen_at is not None:
        idle = timedelta(minutes=policy_for(account).session_idle_minutes)
        deadlines.append((session.last_seen_at + idle, SessionEndReason.IDLE_TIMEOUT))
    if session.started_at is not None:
        hours = settings.SESSION_ABSOLUTE_HOURS_ADMIN if account.role == Role.IT_ADMIN else settings.SESSION_ABSOLUTE_HOURS
        deadlines.append((session.started_at + timedelta(hours=hours), SessionEndReason.SESSION_LIFETIME))
    return min(deadlines) if deadlines else None


def sessions_expired_end(*, now=None, batch: int = 500) -> int:
    """Sessions that ran out while their browser stayed away (idle or lifetime limit) end here and in the
    connected systems they signed in to, within a minute of their deadline, whether or not the browser
    ever comes back (Keycloak sends nothing when a session expires centrally, keycloak#39604). Each
    session is claimed by deleting its row, so a second sweep, or the browser's own next request, ends
    it once. Returns how many ended."""
    from .signin import logout_record

    now = now or timezone.now()
    from django.conf import settings

    from policy.selectors import current_policy

    # The shortest limits any account has bound the candidates; each is then judged by its own policy.
    policy = current_policy()
    shortest_idle = timedelta(minutes=min(policy.session_idle_minutes, policy.session_idle_minutes_admin))
    shortest_life = timedelta(hours=min(settings.SESSION_ABSOLUTE_HOURS, settings.SESSION_ABSOLUTE_HOURS_ADMIN))
    candidates = (AccountSession.objects.filter(account_id__isnull=False)
                  .filter(Q(last_seen_at__lt=now - shortest_idle) | Q(started_at__lt=now - shortest_life))
                  .order_by("last_seen_at").values_list("session_key", "account_id")[:batch * 4])
    accounts = {account.pk: account for account in User.objects.filter(
        pk__in={account_id for _key, account_id in candidates}).select_related("unit")}
    ended = 0
    for session_key, account_id in candidates:
        account = accounts.get(account_id)
        if account is None or ended >= batch:
            continue
        with transaction.atomic():
            session = AccountSession.objects.select_for_update(skip_locked=True).filter(
                session_key=session_key).first()
            if session is None:
                continue
            deadline = _session_deadline(session, account)
            if deadline is None or deadline[0] > now:
                continue
            sid = session_sid(session)
            session.delete()
            logout_record(account=account, reason=deadline[1], sid=sid)
            ended += 1
    return ended
