"""What the accounts app does: units and the account lifecycle. Every flow is written once here and
called by the views, the management commands and (later) the API and Celery tasks."""
import re

from axes.utils import reset as axes_reset
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.choices import EventKind
from audit.services import audit_event_record, changes_between
from policy.services import one_time_password_issue
from portal.errors import DomainError, NotAllowed

from .choices import HandoverReason, PasswordChangeReason, Role, UnitState
from .models import USERNAME_PATTERN, HandoverRecord, Unit, User, normalise_username, unit_path_below
from .permissions import ensure_it_admin


def _insert_unique(instance, message) -> None:
    """Insert a row whose uniqueness the form checked; a concurrent twin that won the race since then
    is the same clear refusal, not a server error."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise DomainError(message) from error


# ----- units ---------------------------------------------------------------------------------------

# Any change to the tree's shape (create, move, merge, retire) takes this transaction-scoped lock, so two
# concurrent changes never compute paths from each other's half-written state.
TREE_LOCK_KEY = 0x756E6974  # "unit"


def _tree_lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TREE_LOCK_KEY])
    # SQLite (the single-machine trial) serialises every write transaction anyway.


def _active_unit_locked(unit: Unit, message) -> Unit:
    """Re-read the unit under a row lock and refuse if it is no longer active: a merge or retirement
    committed since the form was shown must win over an account or unit created in it."""
    locked = Unit.objects.select_for_update().get(pk=unit.pk)
    if not locked.is_active:
        raise DomainError(message)
    return locked

@transaction.atomic
def unit_create(*, actor, code: str, name: str, kind: str, parent: Unit | None, request=None) -> Unit:
    ensure_it_admin(actor)
    _tree_lock()
    if parent is not None:
        parent = _active_unit_locked(parent, _("A unit cannot be created under a merged or retired unit."))
    unit = Unit(code=code, name=name, kind=kind, parent=parent)
    unit.full_clean()
    _insert_unique(unit, _("A unit with this agency code already exists."))
    unit.path = unit_path_below(parent.path if parent else None, unit.pk)
    unit.save(update_fields=["path"])
    audit_event_record(kind=EventKind.UNIT_CREATED, actor=actor, unit=unit, request=request,
                       details={"new": {"code": code, "name": name, "kind": kind,
                                        "parent": parent.code if parent else None}})
    return unit


@transaction.atomic
def unit_rename(*, actor, unit: Unit, name: str, request=None) -> Unit:
    ensure_it_admin(actor)
    unit = _active_unit_locked(unit, _("A merged or retired unit keeps the name it had."))
    old_name = unit.name
    if name == old_name:
        return unit
    unit.name = name
    unit.full_clean()
    unit.save(update_fields=["name"])
    audit_event_record(kind=EventKind.UNIT_RENAMED, actor=actor, unit=unit, request=request,
                       details={"old": {"name": old_name}, "new": {"name": name}})
    return unit


def _subtree_repath(unit: Unit, new_path: str) -> None:
    """Rewrite the path prefix of the unit and everything below it in one statement."""
    old_path = unit.path
    Unit.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1))
    )
    unit.path = new_path


@transaction.atomic
def unit_move(*, actor, unit: Unit, new_parent: Unit, request=None) -> Unit:
    ensure_it_admin(actor)
    _tree_lock()
    unit = _active_unit_locked(unit, _("Only an active unit can be moved."))
    new_parent = _active_unit_locked(new_parent, _("A unit cannot be moved under a merged or retired unit."))
    if new_parent.path.startswith(unit.path):
        raise DomainError(_("A unit cannot be moved below itself."))
    if unit.parent_id == new_parent.pk:
        return unit
    old_parent = unit.parent
    unit.parent = new_parent
    unit.save(update_fields=["parent"])
    _subtree_repath(unit, unit_path_below(new_parent.path, unit.pk))
    audit_event_record(kind=EventKind.UNIT_MOVED, actor=actor, unit=unit, request=request,
                       details={"old": {"parent": old_parent.code if old_parent else None},
                                "new": {"parent": new_parent.code}})
    return unit


@transaction.atomic
def unit_merge(*, actor, unit: Unit, into: Unit, request=None) -> Unit:
    """The 2025 reform merged units: the accounts and the sub-units move to the receiving unit, and
    the merged unit stays (state "merged") so that history keeps pointing at it as it was."""
    ensure_it_admin(actor)
    _tree_lock()
    unit = _active_unit_locked(unit, _("Only an active unit can be merged."))
    into = _active_unit_locked(into, _("Choose an active unit outside the merged unit's own subtree."))
    if into.path.startswith(unit.path):
        raise DomainError(_("Choose an active unit outside the merged unit's own subtree."))
    moved_usernames = _accounts_move_on_merge(actor=actor, unit=unit, into=into, request=request)
    for child in Unit.objects.filter(parent=unit):
        child.parent = into
        child.save(update_fields=["parent"])
        _subtree_repath(child, unit_path_below(into.path, child.pk))
    unit.state = UnitState.MERGED
    unit.merged_into = into
    unit.state_changed_at = timezone.now()
    unit.save(update_fields=["state", "merged_into", "state_changed_at"])
    audit_event_record(kind=EventKind.UNIT_MERGED, actor=actor, unit=unit, request=request,
                       details={"new": {"merged_into": into.code}, "accounts_moved": moved_usernames})
    return unit


def _accounts_move_on_merge(*, actor, unit: Unit, into: Unit, request) -> list[str]:
    """Each account of the merged unit moves to the receiving unit, recorded one by one. A leader of
    the merged unit becomes an officer: leading a district must not turn into leading the province
    it was merged into; the IT Center names the new unit's leaders explicitly."""
    moved = []
    for account in User.objects.select_for_update().filter(unit=unit).order_by("pk"):
        old_role = account.role
        account.unit = into
        if account.role == Role.UNIT_LEADER:
            account.role = Role.OFFICER
        account.save(update_fields=["unit", "role"])
        audit_event_record(kind=EventKind.UNIT_CHANGED, actor=actor, target=account, request=request,
                           details={"old": {"unit": unit.code}, "new": {"unit": into.code},
                                    "reason": "unit_merged"})
        if account.role != old_role:
            audit_event_record(kind=EventKind.ROLE_CHANGED, actor=actor, target=account, request=request,
                               details={"old": {"role": old_role}, "new": {"role": account.role},
                                        "reason": "unit_merged"})
        moved.append(account.username)
    return moved


@transaction.atomic
def unit_retire(*, actor, unit: Unit, request=None) -> Unit:
    ensure_it_admin(actor)
    _tree_lock()
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    if not unit.is_active:
        return unit
    if User.objects.filter(unit=unit, is_active=True).exists():
        raise DomainError(_("Disable or move the unit's active accounts before retiring it."))
    if Unit.objects.filter(parent=unit, state=UnitState.ACTIVE).exists():
        raise DomainError(_("Merge, move or retire the unit's active sub-units first."))
    unit.state = UnitState.RETIRED
    unit.state_changed_at = timezone.now()
    unit.save(update_fields=["state", "state_changed_at"])
    audit_event_record(kind=EventKind.UNIT_RETIRED, actor=actor, unit=unit, request=request)
    return unit


# ----- accounts ------------------------------------------------------------------------------------

def _handover_record_issue(*, actor, account: User, reason: str) -> HandoverRecord:
    now = timezone.now()
    record = HandoverRecord.objects.create(
        number=f"pending-{account.pk}-{now.timestamp()}",
        account=account, reason=reason, unit=account.unit, unit_name=account.unit.name,
        unit_code=account.unit.code, officer_name=account.full_name, username=account.username,
        # Empty when issued at the server's command line; the record prints that in the reader's language.
        issued_by=actor, issued_by_name=actor.full_name if actor else "", issued_at=now,
    )
    record.number = f"BB-{timezone.localtime(now):%Y}-{record.pk:06d}"
    record.save(update_fields=["number"])
    return record


@transaction.atomic
def account_create(*, actor, username: str, full_name: str, unit: Unit, role: str, email: str = "",
                   phone: str = "", can_lookup: bool = False, request=None):
    """Letter point 2: the IT Center creates the account; the officer gets a one-time password,
    shown once and handed over with a signed record. Returns (account, one_time_password, record)."""
    ensure_it_admin(actor)
    unit = _active_unit_locked(unit, _("Accounts can only be created in an active unit."))
    username = normalise_username(username)
    if User.objects.filter(username=username).exists():
        raise DomainError(_("An account with this username already exists."))
    account = User(username=username, full_name=full_name, email=email, phone=phone, unit=unit, role=role,
                   can_lookup=can_lookup)
    password = one_time_password_issue(account)
    account.full_clean(exclude=["password"])
    _insert_unique(account, _("An account with this username already exists."))
    record = _handover_record_issue(actor=actor, account=account, reason=HandoverReason.CREATED)
    audit_event_record(kind=EventKind.ACCOUNT_CREATED, actor=actor, target=account, request=request,
                       details={"new": {"role": role, "unit": unit.code, "can_lookup": can_lookup},
                                "handover_record": record.number})
    return account, password, record


@transaction.atomic
def account_password_reset(*, actor, account: User, request=None):
    """A new one-time password (the old password stops working at once, and with it every session,
    whose hash Django derives from the password). Returns (one_time_password, record)."""
    ensure_it_admin(actor)
    account = User.objects.select_for_update().get(pk=account.pk)
    if not account.is_active:
        raise DomainError(_("Enable the account before resetting its password."))
    password = one_time_password_issue(account)
    account.save(update_fields=["password", "password_change_reason", "one_time_password_expires_at"])
    record = _handover_record_issue(actor=actor, account=account, reason=HandoverReason.RESET)
    audit_event_record(kind=EventKind.PASSWORD_RESET, actor=actor, target=account, request=request,
                       details={"handover_record": record.number})
    return password, record


@transaction.atomic
def account_disable(*, actor, account: User, reason: str, request=None) -> User:
    """Letter point 2: a departed officer's account stops working at once. Django's ModelBackend
    refuses inactive users when it loads a session, so every open session ends at its next request."""
    ensure_it_admin(actor)
    if actor is not None and actor.pk == account.pk:
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
    audit_event_record(kind=EventKind.ACCOUNT_DISABLED, actor=actor, target=account, request=request,
                       details={"reason": reason})
    return account


@transaction.atomic
def account_enable(*, actor, account: User, request=None) -> User:
    ensure_it_admin(actor)
    account = User.objects.select_for_update().get(pk=account.pk)
    if account.is_active:
        return account
    _active_unit_locked(account.unit, _("Move the account to an active unit before enabling it."))
    old_reason = account.disabled_reason
    account.is_active = True
    account.disabled_reason = ""
    account.disabled_at = None
    account.save(update_fields=["is_active", "disabled_reason", "disabled_at"])
    audit_event_record(kind=EventKind.ACCOUNT_ENABLED, actor=actor, target=account, request=request,
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
def account_update(*, actor, account: User, values: dict, request=None) -> User:
    """Change an account's details, role or unit; role and unit changes are their own events."""
    ensure_it_admin(actor)
    account = User.objects.select_for_update().get(pk=account.pk)
    fields = ("full_name", "email", "phone", "role", "unit", "can_lookup")
    old = {name: getattr(account, name) for name in fields}
    for name in fields:
        if name in values:
            setattr(account, name, values[name])
    if "unit" in values and values["unit"].pk != old["unit"].pk:
        account.unit = _active_unit_locked(values["unit"], _("Accounts can only be moved to an active unit."))
    if old["role"] == Role.IT_ADMIN and account.role != Role.IT_ADMIN and _is_last_it_admin(account):
        raise DomainError(_("The portal needs at least one active IT Center administrator."))
    if account.role == Role.IT_ADMIN and old["role"] != Role.IT_ADMIN and not account.password_change_reason:
        # IT admins hold stricter rules (12 characters, 10 remembered passwords): a promoted account
        # chooses a password under them at its next request.
        account.password_change_reason = PasswordChangeReason.FORCED
        account.save(update_fields=["password_change_reason"])
    account.full_clean(exclude=["password"])
    account.save(update_fields=list(fields))
    changes = changes_between(_recordable(old), _recordable({name: getattr(account, name) for name in fields}))
    if "role" in changes["new"]:
        audit_event_record(kind=EventKind.ROLE_CHANGED, actor=actor, target=account, request=request,
                           details={"old": {"role": old["role"]}, "new": {"role": account.role}})
    if "unit" in changes["new"]:
        audit_event_record(kind=EventKind.UNIT_CHANGED, actor=actor, target=account, request=request,
                           details={"old": {"unit": old["unit"].code}, "new": {"unit": account.unit.code}})
    other = {key: value for key, value in changes["new"].items() if key not in ("role", "unit")}
    if other:
        audit_event_record(kind=EventKind.ACCOUNT_UPDATED, actor=actor, target=account, request=request,
                           details={"old": {k: changes["old"][k] for k in other}, "new": other})
    return account


@transaction.atomic
def account_unlock(*, actor, account: User, request=None) -> int:
    """Clear django-axes' failure counter for the username; audited even when nothing was locked,
    so the record shows who looked at the account's lockout."""
    ensure_it_admin(actor)
    cleared = axes_reset(username=account.username)
    audit_event_record(kind=EventKind.UNLOCK, actor=actor, target=account, request=request,
                       details={"attempts_cleared": cleared})
    return cleared


# ----- login events (handed over from Django's and django-axes' signals) -----------------------------

@transaction.atomic
def login_record_success(*, account: User, request=None) -> None:
    """Audit the login; a first login with a one-time password marks its handover record received."""
    audit_event_record(kind=EventKind.LOGIN_SUCCESS, actor=account, target=account, request=request)
    if account.password_change_reason == PasswordChangeReason.ONE_TIME:
        now = timezone.now()
        # Lock the pending records: two first logins at once must not both claim them.
        pending = HandoverRecord.objects.select_for_update().filter(account=account, received_at__isnull=True)
        numbers = list(pending.values_list("number", flat=True))
        if numbers:
            HandoverRecord.objects.filter(number__in=numbers).update(received_at=now)
            audit_event_record(kind=EventKind.HANDOVER_RECEIVED, actor=account, target=account, request=request,
                               details={"handover_records": numbers})


def login_record_refused(*, account: User, reason: str, request=None) -> None:
    """The password was right but the login is refused by a rule (an expired one-time password)."""
    audit_event_record(kind=EventKind.LOGIN_FAILURE, target=account, request=request, details={"reason": reason})


def _username_as_recorded(username: str) -> str:
    """What the event keeps of a username typed at the login. Something that cannot be a username is
    often a password typed into the wrong field: keep only enough of it to see the pattern."""
    username = normalise_username(username)
    if _USERNAME_SHAPE.match(username):
        return username
    return f"{username[:2]}…[{len(username)}]" if username else ""


_USERNAME_SHAPE = re.compile(USERNAME_PATTERN)


def login_record_failure(*, username: str, request=None) -> None:
    account = User.objects.filter(username=normalise_username(username)).select_related("unit").first()
    audit_event_record(kind=EventKind.LOGIN_FAILURE, target=account, target_username=_username_as_recorded(username),
                       request=request)


def lockout_record(*, username: str, request=None) -> None:
    account = User.objects.filter(username=normalise_username(username)).select_related("unit").first()
    audit_event_record(kind=EventKind.LOCKOUT, target=account, target_username=_username_as_recorded(username),
                       request=request)


def logout_record(*, account: User, request=None) -> None:
    audit_event_record(kind=EventKind.LOGOUT, actor=account, target=account, request=request)
