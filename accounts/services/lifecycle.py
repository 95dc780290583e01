"""The account lifecycle: create with a one-time password and a handover record, reset, disable,
enable, change, unlock — every step audited in the same transaction."""
from axes.utils import reset as axes_reset
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.choices import EventKind
from audit.models import SecurityEvent
from audit.services import audit_event_record, changes_between
from federation.choices import AccessEndReason
from federation.propagation import access_ended, account_changed
from notifications.choices import NoticeKind
from notifications.outbox import notice_enqueue
from policy.services import one_time_password_issue
from portal.actors import Right
from portal.errors import DomainError, NotAllowed, PolicyViolation
from portal.locks import LockKey

from ..choices import HandoverReason, PasswordChangeReason, Role
from ..documents import document_number_take
from ..models import AccountSession, AdminConfirmation, HandoverRecord, Unit, User, normalise_username
from ..permissions import ensure_it_admin, ensure_right, is_system_actor
from ._common import active_unit_locked, full_clean_or_refuse, insert_unique, name_or_refuse, plain_text_or_refuse

REASON_MAX_LENGTH = 300  # User.disabled_reason
# Changes that can take an IT admin away (demotion, disabling) take this transaction-scoped lock first,
# so two admins demoting or disabling each other at once are judged one after the other.
IT_ADMINS_LOCK_KEY = LockKey.IT_ADMINS


def it_admins_lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IT_ADMINS_LOCK_KEY])


def _handover_record_issue(*, actor, account: User, reason: str) -> HandoverRecord:
    now = timezone.now()
    record = HandoverRecord.objects.create(
        number=f"pending-{account.pk}-{now.timestamp()}",
        account=account, reason=reason, unit=account.unit, unit_name=account.unit.name,
        unit_code=account.unit.code, officer_name=account.full_name, username=account.username,
        # A system actor (the server's command line) has no account; the record names it in the
        # reader's language from issued_by_name "system:<name>".
        issued_by=None if is_system_actor(actor) else actor,
        issued_by_name=actor.username if is_system_actor(actor) else actor.full_name, issued_at=now,
    )
    # One numbering scheme for every record (accounts/documents.py): "0004/BB-TTCNTT".
    record.number = document_number_take("BB", year=timezone.localtime(now).year)
    record.save(update_fields=["number"])
    return record


@transaction.atomic
def account_create(*, actor, username: str, full_name: str, unit: Unit, role: str, email: str = "",
                   phone: str = "", can_lookup: bool = False):
    """Letter point 2: the IT Center creates the account; the officer gets a one-time password,
    shown once and handed over with a signed record. Returns (account, one_time_password, record)."""
    ensure_right(actor, Right.ACCOUNTS_CHANGE)
    unit = active_unit_locked(unit, _("Accounts can only be created in an active unit."))
    username = normalise_username(username)
    full_name = name_or_refuse(full_name, field="full_name")
    if User.objects.filter(username=username).exists():
        raise DomainError(_("An account with this username already exists."))
    account = User(username=username, full_name=full_name, email=email, phone=phone, unit=unit, role=role,
                   can_lookup=can_lookup)
    password = one_time_password_issue(account)
    full_clean_or_refuse(account, exclude=["password"])
    # Four eyes on the keys: an IT admin created by a person waits, disabled, for a second IT admin.
    awaiting = role == Role.IT_ADMIN and not is_system_actor(actor)
    if awaiting:
        account.is_active = False
        account.disabled_reason = _("Awaiting a second IT administrator's confirmation")
        account.disabled_at = timezone.now()
    insert_unique(account, _("An account with this username already exists."))
    if awaiting:
        AdminConfirmation.objects.create(account=account, requested_by=actor)
    record = _handover_record_issue(actor=actor, account=account, reason=HandoverReason.CREATED)
    details = {"new": {"role": role, "unit": unit.code, "can_lookup": can_lookup}, "handover_record": record.number}
    if awaiting:
        details["awaiting_confirmation"] = True
    event = audit_event_record(kind=EventKind.ACCOUNT_CREATED, actor=actor, target=account, details=details)
    _one_time_password_told(actor=actor, account=account, record=record, event=event, reason="created")
    # Connected systems that keep their own accounts (SCIM targets of the unit's subtree) get it too.
    account_changed(account=account, reason="created")
    return account, password, record


def _one_time_password_told(*, actor, account: User, record: HandoverRecord, event, reason: str) -> None:
    """The holder learns that a one-time password was issued (never the password: it is handed over in
    person with the record), so an unexpected reset is noticed."""
    notice_enqueue(recipient=account, kind=NoticeKind.ONE_TIME_PASSWORD_ISSUED, source_key=f"event:{event.pk}",
                   deadline=account.one_time_password_expires_at,
                   context={"reason": reason, "handover_record": record.number, "issued_by": actor.full_name})


@transaction.atomic
def account_password_reset(*, actor, account: User, reason: str = ""):
    """A new one-time password (the old password stops working at once, and with it every session,
    whose hash Django derives from the password). Returns (one_time_password, record). A reason, when
    given (a bulk reset), goes into the audit record."""
    ensure_it_admin(actor)
    account = User.objects.select_for_update().get(pk=account.pk)
    if not account.is_active:
        raise DomainError(_("Enable the account before resetting its password."))
    password = one_time_password_issue(account)
    account.save(update_fields=["password", "password_change_reason", "one_time_password_expires_at",
                                "password_set_by_self"])
    record = _handover_record_issue(actor=actor, account=account, reason=HandoverReason.RESET)
    # Django would refuse the old sessions at their next request (the password's hash changed); the rows
    # go now, so that the account's session list is true at once.
    ended = sessions_end_for(account)
    details = {"handover_record": record.number, "sessions_ended": ended}
    if reason:
        details["reason"] = reason
    event = audit_event_record(kind=EventKind.PASSWORD_RESET, actor=actor, target=account, details=details)
    _one_time_password_told(actor=actor, account=account, record=record, event=event, reason="reset")
    return password, record


def sessions_end_for(account: User) -> int:
    """End every session of the account for good: the rows go, so no later re-enabling (and no
    request in flight, whose save then fails) brings one back. Returns how many ended."""
    ended, _ = AccountSession.objects.filter(account_id=account.pk).delete()
    # The chokepoint of connected systems: every caller (disabling by any path, password reset, role
    # change, second-factor reset, an admin ending sessions, containment) ends the account's access
    # there too, in this transaction: tokens revoked, a logout token queued per system and session.
    access_ended(account=account, reason=AccessEndReason.SESSIONS_ENDED if account.is_active
                 else AccessEndReason.ACCOUNT_DISABLED)
    return ended


@transaction.atomic
def account_disable(*, actor, account: User, reason: str) -> User:
    """Letter point 2: a departed officer's account stops working at once, everywhere: the account
    is disabled, every session of it ends for good, its pending one-time password is void (and with
    the account, its lookup right: the lookup decision refuses inactive officers). A second call is
    a no-op."""
    ensure_right(actor, Right.ACCOUNTS_CHANGE)
    if actor.pk == account.pk:
        raise NotAllowed(_("You cannot disable your own account."))
    reason = plain_text_or_refuse(reason, field="reason", max_length=REASON_MAX_LENGTH)
    if not reason:
        raise PolicyViolation(_("Give the reason for disabling the account."), field="reason", code="reason_missing")
    it_admins_lock()
    account = User.objects.select_for_update().get(pk=account.pk)
    if not account.is_active:
        return account
    if account.role == Role.IT_ADMIN:
        ensure_a_signed_in_it_admin_remains(account)
    account_disable_locked(actor=actor, account=account, reason=reason)
    return account


def account_disable_locked(*, actor, account: User, reason: str, details: dict | None = None) -> None:
    """The disabling itself, on an active account row the caller has locked (select_for_update) and
    judged: shared by the web page, the command line, turnover requests and the dormant-account job."""
    voided = account.has_one_time_password and not account.one_time_password_expired()
    account.is_active = False
    account.disabled_reason = reason
    account.disabled_at = timezone.now()
    update_fields = ["is_active", "disabled_reason", "disabled_at"]
    if account.has_one_time_password:
        # A one-time password handed out before the disabling must not work after a re-enabling.
        account.one_time_password_expires_at = account.disabled_at
        update_fields.append("one_time_password_expires_at")
    account.save(update_fields=update_fields)
    ended = sessions_end_for(account)
    recorded = {"reason": reason, "sessions_ended": ended, **(details or {})}
    if voided:
        # The account page says so after a re-enabling: the password handed over no longer works.
        recorded["one_time_password_voided"] = True
    audit_event_record(kind=EventKind.ACCOUNT_DISABLED, actor=actor, target=account, details=recorded)


@transaction.atomic
def account_enable(*, actor, account: User) -> User:
    """Enable a disabled account. A new IT admin account waiting for its confirmation is enabled only
    by a second IT admin, and that enabling is the confirmation."""
    ensure_it_admin(actor)
    account = User.objects.select_for_update().get(pk=account.pk)
    if account.is_active:
        return account
    active_unit_locked(account.unit, _("Move the account to an active unit before enabling it."))
    waiting = AdminConfirmation.objects.select_for_update().filter(account=account, confirmed_at__isnull=True).first()
    if waiting is not None:
        if not is_system_actor(actor) and actor.pk == waiting.requested_by_id:
            raise NotAllowed(_("A second IT administrator must confirm the IT administrator account you created."))
        waiting.confirmed_by = None if is_system_actor(actor) else actor
        waiting.confirmed_at = timezone.now()
        waiting.save(update_fields=["confirmed_by", "confirmed_at"])
    old_reason = account.disabled_reason
    account.is_active = True
    account.disabled_reason = ""
    account.disabled_at = None
    account.enabled_at = timezone.now()
    account.save(update_fields=["is_active", "disabled_reason", "disabled_at", "enabled_at"])
    details = {"old": {"disabled_reason": old_reason}}
    if waiting is not None:
        details["confirmed_it_admin_creation"] = True
    audit_event_record(kind=EventKind.ACCOUNT_ENABLED, actor=actor, target=account, details=details)
    account_changed(account=account, reason="enabled")
    return account


def ensure_a_signed_in_it_admin_remains(account: User) -> None:
    """Demoting or disabling an IT admin (one's own role included) must leave another active IT admin
    who has actually signed in — a login event names them. An admin account created for the purpose
    but never used may have lost its one-time password or never passed its first login; the portal
    would be left without anyone able to act. Called under it_admins_lock."""
    others = User.objects.filter(role=Role.IT_ADMIN, is_active=True).exclude(pk=account.pk)
    if not others.exists():
        raise DomainError(_("The portal needs at least one active IT Center administrator."), code="last_it_admin")
    signed_in = SecurityEvent.objects.filter(kind=EventKind.LOGIN_SUCCESS, target__in=others.values("pk"))
    if not signed_in.exists():
        raise DomainError(_(
            "No other active IT Center administrator has signed in yet. Ask one of them to sign in first, so "
            "that the portal is never left without an administrator who can act."), code="last_signed_in_it_admin")


def _recordable(values: dict) -> dict:
    """Values as an audit event stores them: a unit by its agency code."""
    recorded = {}
    for name, value in values.items():
        recorded[name] = value.code if isinstance(value, Unit) else value
    return recorded


@transaction.atomic
def account_update(*, actor, account: User, values: dict) -> User:
    """Change an account's details, role or unit; role and unit changes are their own events."""
    ensure_right(actor, Right.ACCOUNTS_CHANGE)
    values = dict(values)
    if "full_name" in values:
        values["full_name"] = name_or_refuse(values["full_name"], field="full_name")
    it_admins_lock()
    account = User.objects.select_for_update().get(pk=account.pk)
    fields = ("full_name", "email", "phone", "role", "unit", "can_lookup")
    old = {name: getattr(account, name) for name in fields}
    for name in fields:
        if name in values:
            setattr(account, name, values[name])
    if "unit" in values and values["unit"].pk != old["unit"].pk:
        account.unit = active_unit_locked(values["unit"], _("Accounts can only be moved to an active unit."))
    if old["role"] == Role.IT_ADMIN and account.role != Role.IT_ADMIN and account.is_active:
        ensure_a_signed_in_it_admin_remains(account)
    if account.role == Role.IT_ADMIN and old["role"] != Role.IT_ADMIN and not account.password_change_reason:
        # IT admins hold stricter rules (12 characters, 10 remembered passwords): a promoted account
        # chooses a password under them at its next request.
        account.password_change_reason = PasswordChangeReason.FORCED
        account.save(update_fields=["password_change_reason"])
    full_clean_or_refuse(account, exclude=["password"])
    account.save(update_fields=list(fields))
    changes = changes_between(_recordable(old), _recordable({name: getattr(account, name) for name in fields}))
    if "role" in changes["new"]:
        # A privilege change: the account's sessions end, and its next sign-in (with the second factor
        # the new role may need) opens a new session under a new key.
        ended = sessions_end_for(account)
        details = {"old": {"role": old["role"]}, "new": {"role": account.role}}
        if ended:
            details["sessions_ended"] = ended
        if account.role == Role.IT_ADMIN and account.is_active and not is_system_actor(actor):
            # Four eyes on the keys, as for a new IT admin (account_create): a promotion waits, the
            # account disabled, until a second IT admin enables it.
            account.is_active = False
            account.disabled_reason = _("Awaiting a second IT administrator's confirmation")
            account.disabled_at = timezone.now()
            account.save(update_fields=["is_active", "disabled_reason", "disabled_at"])
            AdminConfirmation.objects.update_or_create(account=account, defaults={
                "requested_by": actor, "confirmed_by": None, "confirmed_at": None})
            details["awaiting_confirmation"] = True
        audit_event_record(kind=EventKind.ROLE_CHANGED, actor=actor, target=account, details=details)
    if "unit" in changes["new"]:
        audit_event_record(kind=EventKind.UNIT_CHANGED, actor=actor, target=account,
                           details={"old": {"unit": old["unit"].code}, "new": {"unit": account.unit.code}})
    other = {key: value for key, value in changes["new"].items() if key not in ("role", "unit")}
    if other:
        audit_event_record(kind=EventKind.ACCOUNT_UPDATED, actor=actor, target=account,
                           details={"old": {k: changes["old"][k] for k in other}, "new": other})
    if set(changes["new"]) & {"full_name", "email", "role", "unit", "can_lookup"}:
        account_changed(account=account, reason="updated")
    return account


@transaction.atomic
def account_unlock(*, actor, account: User, reason: str = "") -> int:
    """Clear django-axes' failure counter for the username; audited even when nothing was locked,
    so the record shows who looked at the account's lockout. The operator's break-glass from the
    server's shell (`manage.py unlock_account`) gives its reason."""
    ensure_it_admin(actor)
    cleared = axes_reset(username=account.username)
    details = {"attempts_cleared": cleared}
    if reason:
        details["reason"] = reason
    audit_event_record(kind=EventKind.UNLOCK, actor=actor, target=account, details=details)
    return cleared


