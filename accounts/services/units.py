"""Units: the province's tree, its changes (create, rename, move, merge, retire), each audited."""
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.choices import EventKind
from audit.services import audit_event_record
from portal.errors import DomainError, PolicyViolation

from ..choices import Role, UnitState
from ..models import Unit, User, unit_path_below
from ..permissions import ensure_it_admin
from ._common import active_unit_locked, full_clean_or_refuse, insert_unique, name_or_refuse

# Any change to the tree's shape (create, move, merge, retire) takes this transaction-scoped lock, so two
# concurrent changes never compute paths from each other's half-written state.
TREE_LOCK_KEY = 0x756E6974  # "unit"


def _tree_lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TREE_LOCK_KEY])
    # SQLite (the single-machine trial) serialises every write transaction anyway.



@transaction.atomic
def unit_create(*, actor, code: str, name: str, kind: str, parent: Unit | None) -> Unit:
    ensure_it_admin(actor)
    code = (code or "").strip().upper()
    name = name_or_refuse(name, field="name")
    duplicate = _("A unit with this agency code already exists.")
    _tree_lock()
    if parent is not None:
        parent = active_unit_locked(parent, _("A unit cannot be created under a merged or retired unit."))
    # Checked under the tree lock, with the form's own words (Django's unique check would say it
    # differently); insert_unique is the last word should a writer without the lock get there first.
    if Unit.objects.filter(code=code).exists():
        raise PolicyViolation(duplicate, field="code", code="duplicate")
    unit = Unit(code=code, name=name, kind=kind, parent=parent)
    full_clean_or_refuse(unit, validate_unique=False)
    insert_unique(unit, duplicate)
    unit.path = unit_path_below(parent.path if parent else None, unit.pk)
    unit.save(update_fields=["path"])
    audit_event_record(kind=EventKind.UNIT_CREATED, actor=actor, unit=unit,
                       details={"new": {"code": code, "name": name, "kind": kind,
                                        "parent": parent.code if parent else None}})
    return unit


@transaction.atomic
def unit_rename(*, actor, unit: Unit, name: str) -> Unit:
    ensure_it_admin(actor)
    name = name_or_refuse(name, field="name")
    unit = active_unit_locked(unit, _("A merged or retired unit keeps the name it had."))
    old_name = unit.name
    if name == old_name:
        return unit
    unit.name = name
    full_clean_or_refuse(unit)
    unit.save(update_fields=["name"])
    audit_event_record(kind=EventKind.UNIT_RENAMED, actor=actor, unit=unit,
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
def unit_move(*, actor, unit: Unit, new_parent: Unit) -> Unit:
    ensure_it_admin(actor)
    _tree_lock()
    unit = active_unit_locked(unit, _("Only an active unit can be moved."))
    new_parent = active_unit_locked(new_parent, _("A unit cannot be moved under a merged or retired unit."))
    if new_parent.path.startswith(unit.path):
        raise DomainError(_("A unit cannot be moved below itself."))
    if unit.parent_id == new_parent.pk:
        return unit
    old_parent = unit.parent
    unit.parent = new_parent
    unit.save(update_fields=["parent"])
    _subtree_repath(unit, unit_path_below(new_parent.path, unit.pk))
    audit_event_record(kind=EventKind.UNIT_MOVED, actor=actor, unit=unit,
                       details={"old": {"parent": old_parent.code if old_parent else None},
                                "new": {"parent": new_parent.code}})
    return unit


@transaction.atomic
def unit_merge(*, actor, unit: Unit, into: Unit) -> Unit:
    """The 2025 reform merged units: the accounts and the sub-units move to the receiving unit, and
    the merged unit stays (state "merged") so that history keeps pointing at it as it was."""
    ensure_it_admin(actor)
    _tree_lock()
    unit = active_unit_locked(unit, _("Only an active unit can be merged."))
    into = active_unit_locked(into, _("Choose an active unit outside the merged unit's own subtree."))
    if into.path.startswith(unit.path):
        raise DomainError(_("Choose an active unit outside the merged unit's own subtree."))
    moved_usernames = _accounts_move_on_merge(actor=actor, unit=unit, into=into)
    for child in Unit.objects.filter(parent=unit):
        child.parent = into
        child.save(update_fields=["parent"])
        _subtree_repath(child, unit_path_below(into.path, child.pk))
    unit.state = UnitState.MERGED
    unit.merged_into = into
    unit.state_changed_at = timezone.now()
    unit.save(update_fields=["state", "merged_into", "state_changed_at"])
    audit_event_record(kind=EventKind.UNIT_MERGED, actor=actor, unit=unit,
                       details={"new": {"merged_into": into.code}, "accounts_moved": moved_usernames})
    return unit


def _accounts_move_on_merge(*, actor, unit: Unit, into: Unit) -> list[str]:
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
        audit_event_record(kind=EventKind.UNIT_CHANGED, actor=actor, target=account,
                           details={"old": {"unit": unit.code}, "new": {"unit": into.code},
                                    "reason": "unit_merged"})
        if account.role != old_role:
            audit_event_record(kind=EventKind.ROLE_CHANGED, actor=actor, target=account,
                               details={"old": {"role": old_role}, "new": {"role": account.role},
                                        "reason": "unit_merged"})
        moved.append(account.username)
    return moved


@transaction.atomic
def unit_retire(*, actor, unit: Unit) -> Unit:
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
    audit_event_record(kind=EventKind.UNIT_RETIRED, actor=actor, unit=unit)
    return unit


