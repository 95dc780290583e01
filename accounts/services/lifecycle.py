"""The account lifecycle: create with a one-time password and a handover record, reset, disable,
enable, change, unlock — every step audited in the same transaction."""
from axes.utils import reset as axes_reset
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.choices import EventKind
from audit.services import audit_event_record, changes_between
from policy.services import one_time_password_issue
from portal.errors import DomainError, NotAllowed

from ..choices import HandoverReason, PasswordChangeReason, Role
from ..models import HandoverRecord, Unit, User, normalise_username
from ..permissions import ensure_it_admin, is_system_actor
from ._common import active_unit_locked, full_clean_or_refuse, insert_unique

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
    record.number = f"BB-{timezone.localtime(now):%Y}-{record.pk:06d}"
    record.save(update_fields=["number"])
    return record


@transaction.atomic
def account_create(*, actor, username: str, full_name: str, unit: Unit, role: str, email: str = "",
                   phone: str = "", can_lookup: bool = False):
    """Letter point 2: the IT Center creates the account; the officer gets a one-time password,
    shown once and handed over with a signed record. Returns (account, one_time_password, record)."""
    ensure_it_admin(actor)
    unit = active_unit_locked(unit, _("Accounts can only be created in an active unit."))
    username = normalise_username(username)
    if User.objects.filter(username=username).exists():
        raise DomainError(_("An account with this username already exists."))
    account = User(username=username, full_name=full_name, email=email, phone=phone, unit=unit, role=role,
                   can_lookup=can_lookup)
    password = one_time_password_issue(account)
    full_clean_or_refuse(account, exclude=["password"])
    insert_unique(account, _("An account with this username already exists."))
    record = _handover_record_issue(actor=actor, account=account, reason=HandoverReason.CREATED)
    audit_event_record(kind=EventKind.ACCOUNT_CREATED, actor=actor, target=account,
                       details={"new": {"role": role, "unit": unit.code, "can_lookup": can_lookup},
                                "handover_record": record.number})
    return account, password, record


@transaction.atomic
def account_password_reset(*, actor, account: User):
    """A new one-time password (the old password stops working at once, and with it every session,
    whose hash Django derives from the password). Returns (one_time_password, record)."""
    ensure_it_admin(actor)
    account = User.objects.select_for_update().get(pk=account.pk)
    if not account.is_active:
        raise DomainError(_("Enable the account before resetting its password."))
    password = one_time_password_issue(account)
    account.save(update_fields=["password", "password_change_reason", "one_time_password_expires_at"])
    record = _handover_record_issue(actor=actor, account=account, reason=HandoverReason.RESET)
    audit_event_record(kind=EventKind.PASSWORD_RESET, actor=actor, target=account,
                       details={"handover_record": record.number})
    return password, record


@transaction.atomic
def account_disable(*, actor, account: User, reason: str) -> User:
    """Letter point 2: a departed officer's account stops working at once. Django's ModelBackend
    refuses inactive users when it loads a session, so every open session ends at its next request."""
    ensure_it_admin(actor)
    if actor.pk == account.pk:
        raise NotAllowed(_("You cannot disable your own account."))
    account = User.objects.select_for_update().get(pk=account.pk)
    if not account.is_active:
        return account
    account.is_active = False
    account.disabled_reason = reason
    account.disabled_at = timezone.now()
    update_fields = ["is_active", "disabled_reason", "disabled_at"]
    if account.has_one_time_password:
        # A one-time password handed out before the disabling must not work after a re-enabling.
        account.one_time_password_expires_at = account.disabled_at
        update_fields.append("one_time_password_expires_at")
    account.save(update_fields=update_fields)
    audit_event_record(kind=EventKind.ACCOUNT_DISABLED, actor=actor, target=account,
                       details={"reason": reason})
    return account


@transaction.atomic
def account_enable(*, actor, account: User) -> User:
    ensure_it_admin(actor)
    account = User.objects.select_for_update().get(pk=account.pk)
    if account.is_active:
        return account
    active_unit_locked(account.unit, _("Move the account to an active unit before enabling it."))
    old_reason = account.disabled_reason
    account.is_active = True
    account.disabled_reason = ""
    account.disabled_at = None
    account.save(update_fields=["is_active", "disabled_reason", "disabled_at"])
    audit_event_record(kind=EventKind.ACCOUNT_ENABLED, actor=actor, target=account,
                       details={"old": {"disabled_reason": old_reason}})
    return account


def _is_last_it_admin(account: User) -> bool:
    return not User.objects.filter(role=Role.IT_ADMIN, is_active=True).exclude(pk=account.pk).exists()


def _recordable(values: dict) -> dict:
    """Values as an audit event stores them: a unit by its agency code."""
    recorded = {}
    for name, value in values.items():
        recorded[name] = value.code if isinstance(value, Unit) else value
    return recorded


@transaction.atomic
def account_update(*, actor, account: User, values: dict) -> User:
    """Change an account's details, role or unit; role and unit changes are their own events."""
    ensure_it_admin(actor)
    account = User.objects.select_for_update().get(pk=account.pk)
    fields = ("full_name", "email", "phone", "role", "unit", "can_lookup")
    old = {name: getattr(account, name) for name in fields}
    for name in fields:
        if name in values:
            setattr(account, name, values[name])
    if "unit" in values and values["unit"].pk != old["unit"].pk:
        account.unit = active_unit_locked(values["unit"], _("Accounts can only be moved to an active unit."))
    if old["role"] == Role.IT_ADMIN and account.role != Role.IT_ADMIN and _is_last_it_admin(account):
        raise DomainError(_("The portal needs at least one active IT Center administrator."))
    if account.role == Role.IT_ADMIN and old["role"] != Role.IT_ADMIN and not account.password_change_reason:
        # IT admins hold stricter rules (12 characters, 10 remembered passwords): a promoted account
        # chooses a password under them at its next request.
        account.password_change_reason = PasswordChangeReason.FORCED
        account.save(update_fields=["password_change_reason"])
    full_clean_or_refuse(account, exclude=["password"])
    account.save(update_fields=list(fields))
    changes = changes_between(_recordable(old), _recordable({name: getattr(account, name) for name in fields}))
    if "role" in changes["new"]:
        audit_event_record(kind=EventKind.ROLE_CHANGED, actor=actor, target=account,
                           details={"old": {"role": old["role"]}, "new": {"role": account.role}})
    if "unit" in changes["new"]:
        audit_event_record(kind=EventKind.UNIT_CHANGED, actor=actor, target=account,
                           details={"old": {"unit": old["unit"].code}, "new": {"unit": account.unit.code}})
    other = {key: value for key, value in changes["new"].items() if key not in ("role", "unit")}
    if other:
        audit_event_record(kind=EventKind.ACCOUNT_UPDATED, actor=actor, target=account,
                           details={"old": {k: changes["old"][k] for k in other}, "new": other})
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


