"""Sign-in events, handed over from Django's and django-axes' signals (accounts.receivers) and from
the sign-in views. The client address comes from the audit context of the request."""
import re
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.choices import EventKind, SessionEndReason
from audit.models import SecurityEvent
from audit.services import audit_event_record
from federation.choices import AccessEndReason
from federation.propagation import access_ended
from notifications.choices import NoticeKind
from notifications.outbox import notice_enqueue
from policy.selectors import current_policy
from portal.actors import SystemActor
from portal.audit_context import current_audit_context
from portal.locks import LockClass

from ..choices import PasswordChangeReason, SignInFactor
from ..models import USERNAME_PATTERN, HandoverRecord, RecoveryCode, User, normalise_username

# Who acts when nobody has signed in yet: the person at the login form, unknown until the password is right.
ANONYMOUS = SystemActor("anonymous")
# Who ends a session that ran out (idle, lifetime, an expired one-time password): nobody asked for it.
THE_PORTAL = SystemActor("system")

# pg_advisory_xact_lock(classid, objid): the class keeps these apart from the portal's other advisory
# locks (portal.locks).
_ATTEMPT_LOCK_CLASS = LockClass.SIGN_IN_ATTEMPT


@contextmanager
def attempt_serialised(*, username: str):
    """One sign-in attempt per username at a time, from "is it locked?" through the password check to
    counting the failure: otherwise parallel requests (several gunicorn workers, 0.2 s of Argon2 each)
    all pass the check before any failure is counted, and test more passwords than the threshold.
    `username` is the one django-axes counts (accounts.lockout.counted_username). The lock is the
    transaction's: released at commit or rollback, whatever happens in between."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_ATTEMPT_LOCK_CLASS, username])
        yield

def _address_is_new(account: User, address) -> bool:
    """A sign-in from an address none of the account's earlier sign-ins came from (never for the first
    sign-in: there is nothing to compare with)."""
    if not address or not settings.NOTIFICATIONS_NEW_SIGNIN_ADDRESS:
        return False
    earlier = SecurityEvent.objects.filter(kind=EventKind.LOGIN_SUCCESS, target=account)
    return earlier.exists() and not earlier.filter(ip_address=address).exists()


@transaction.atomic
def login_record_success(*, account: User, second_factor: str = "") -> None:
    """Audit the login (`second_factor`: the SignInFactor of the second step, when there was one); a
    first login with a one-time password marks its handover record received; a sign-in from an address
    not seen before is told to the account's holder."""
    details = None
    if second_factor:
        details = {"second_factor": second_factor}
        if second_factor == SignInFactor.RECOVERY_CODE:
            details["recovery_codes_left"] = RecoveryCode.objects.filter(account=account, used_at__isnull=True).count()
    address = current_audit_context().ip_address
    new_address = _address_is_new(account, address)
    event = audit_event_record(kind=EventKind.LOGIN_SUCCESS, actor=account, target=account, details=details)
    if new_address:
        notice_enqueue(recipient=account, kind=NoticeKind.NEW_SIGNIN_ADDRESS, source_key=f"event:{event.pk}",
                       context={"address": address})
    if account.password_change_reason == PasswordChangeReason.ONE_TIME:
        now = timezone.now()
        # Lock the pending records: two first logins at once must not both claim them.
        pending = HandoverRecord.objects.select_for_update().filter(account=account, received_at__isnull=True)
        numbers = list(pending.values_list("number", flat=True))
        if numbers:
            HandoverRecord.objects.filter(number__in=numbers).update(received_at=now)
            audit_event_record(kind=EventKind.HANDOVER_RECEIVED, actor=account, target=account,
                               details={"handover_records": numbers})


def login_record_refused(*, account: User, reason: str) -> None:
    """The password was right but the login is refused by a rule (an expired one-time password)."""
    audit_event_record(kind=EventKind.LOGIN_FAILURE, actor=ANONYMOUS, target=account, details={"reason": reason})


def _username_as_recorded(username: str) -> str:
    """What the event keeps of a username typed at the login. Something that cannot be a username is
    often a password typed into the wrong field: keep only enough of it to see the pattern."""
    username = normalise_username(username)
    if _USERNAME_SHAPE.match(username):
        return username
    return f"{username[:2]}…[{len(username)}]" if username else ""


_USERNAME_SHAPE = re.compile(USERNAME_PATTERN)


def login_record_failure(*, username: str, reason: str = "", factor: str = "") -> None:
    """A failed attempt. `reason` says why it was refused without checking the password: "locked" (the
    username's lockout), "address_blocked" (the source address's block), "malformed" (no account can
    have such a username); empty for a wrong password. `factor` names the second step's factor when
    that is what failed (a wrong or reused code): the password was right."""
    username = normalise_username(username)
    account = None
    if _USERNAME_SHAPE.match(username):
        account = User.objects.filter(username=username).select_related("unit").first()
    details = {}
    if reason:
        details["reason"] = reason
    if factor:
        details["factor"] = factor
    audit_event_record(kind=EventKind.LOGIN_FAILURE, actor=ANONYMOUS, target=account,
                       target_username=_username_as_recorded(username), details=details or None)


@transaction.atomic
def lockout_record(*, username: str) -> None:
    """The lockout's event and, for an existing account, its holder's notice (in the same transaction)."""
    account = User.objects.filter(username=normalise_username(username)).select_related("unit").first()
    event = audit_event_record(kind=EventKind.LOCKOUT, actor=ANONYMOUS, target=account,
                               target_username=_username_as_recorded(username))
    if account is not None:
        notice_enqueue(recipient=account, kind=NoticeKind.ACCOUNT_LOCKED, source_key=f"event:{event.pk}",
                       context={"address": event.ip_address, "minutes": current_policy().lockout_minutes})


@transaction.atomic
def logout_record(*, account: User, reason: str = "", sid: str | None = None) -> None:
    """A logout the person asked for, or one the portal made (`reason`: a SessionEndReason code; the
    portal is then the actor, the account only its target: idle or absolute limit reached). The
    session's sign-ins to connected systems (`sid`) end with it: a logout token to each."""
    if sid:
        access_ended(account=account, reason=AccessEndReason.SIGNED_OUT if not reason
                     else AccessEndReason.SESSION_ENDED, sids=[sid])
    if not reason:
        audit_event_record(kind=EventKind.LOGOUT, actor=account, target=account)
        return
    audit_event_record(kind=EventKind.LOGOUT, actor=THE_PORTAL, target=account,
                       details={"ended_because": SessionEndReason(reason).value})
