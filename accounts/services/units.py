"""Units: the province's tree, its changes (create, rename, move, merge, retire), each audited.

A change of an existing unit carries its legal basis: the decision or resolution that ordered it (its
number and symbol, its date) and the date it takes effect — kept on the unit and in the audit event."""
import re
from datetime import date

from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.choices import EventKind
from audit.services import audit_event_record
from portal.errors import DomainError, PolicyViolation
from portal.locks import LockKey

from ..choices import Role, UnitState
from ..models import Unit, User, decision_number_validator, unit_contents_digest, unit_path_below
from ..permissions import ensure_it_admin
from ._common import active_unit_locked, full_clean_or_refuse, insert_unique, name_or_refuse

# Any change to the tree's shape (create, move, merge, retire) takes this transaction-scoped lock, so two
# concurrent changes never compute paths from each other's half-written state.
TREE_LOCK_KEY = LockKey.UNIT_TREE


def _tree_lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TREE_LOCK_KEY])


def _legal_basis_or_refuse(basis_number, basis_date, effective_date) -> dict:
    """The decision's number and symbol (NFC, upper case: "1234/qđ-ubnd" is "1234/QĐ-UBND"), its date
    (not in the future) and the effective date (not before the decision), refused field by field
    whoever calls — the form checks the same, but a command or a script must not slip past."""
    number = name_or_refuse(basis_number or "", field="basis_number").upper()
    if not number:
        raise PolicyViolation(_("Give the number and symbol of the decision."), field="basis_number",
                              code="basis_missing")
    if len(number) > 40 or not re.match(decision_number_validator.regex, number):
        raise PolicyViolation(decision_number_validator.message, field="basis_number", code="basis_invalid")
    if not isinstance(basis_date, date):
        raise PolicyViolation(_("Give the date of the decision."), field="basis_date", code="basis_missing")
    if basis_date > timezone.localdate():
        raise PolicyViolation(_("The decision's date cannot be in the future."), field="basis_date",
                              code="basis_date_future")
    if not isinstance(effective_date, date):
        raise PolicyViolation(_("Give the effective date."), field="effective_date", code="basis_missing")
    if effective_date < basis_date:
        raise PolicyViolation(_("The effective date cannot be before the decision's date."),
                              field="effective_date", code="effective_before_decision")
    return {"basis_number": number, "basis_date": basis_date, "effective_date": effective_date}


def _basis_set(unit: Unit, basis: dict) -> list[str]:
    """Keep the basis on the unit; the fields to save."""
    unit.change_basis = basis["basis_number"]
    unit.change_basis_date = basis["basis_date"]
    unit.change_effective_date = basis["effective_date"]
    return ["change_basis", "change_basis_date", "change_effective_date"]


def _basis_details(basis: dict) -> dict:
    """The basis as the audit event keeps it (dates in ISO form, as JSON carries them)."""
    return {"basis_number": basis["basis_number"], "basis_date": basis["basis_date"].isoformat(),
            "effective_date": basis["effective_date"].isoformat()}


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
def unit_rename(*, actor, unit: Unit, name: str, basis_number: str = "", basis_date: date | None = None,
                effective_date: date | None = None) -> Unit:
    ensure_it_admin(actor)
    name = name_or_refuse(name, field="name")
    basis = _legal_basis_or_refuse(basis_number, basis_date, effective_date)
    unit = active_unit_locked(unit, _("A merged or retired unit keeps the name it had."))
    old_name = unit.name
    if name == old_name:
        return unit
    unit.name = name
    fields = ["name", *_basis_set(unit, basis)]
    full_clean_or_refuse(unit)
    unit.save(update_fields=fields)
    audit_event_record(kind=EventKind.UNIT_RENAMED, actor=actor, unit=unit,
                       details={"old": {"name": old_name}, "new": {"name": name}, **_basis_details(basis)})
    return unit


def _subtree_repath(unit: Unit, new_path: str) -> None:
    """Rewrite the path prefix of the unit and everything below it in one statement."""
    old_path = unit.path
    Unit.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1))
    )
    unit.path = new_path


@transaction.atomic
def unit_move(*, actor, unit: Unit, new_parent: Unit, basis_number: str = "", basis_date: date | None = None,
              effective_date: date | None = None) -> Unit:
    ensure_it_admin(actor)
    basis = _legal_basis_or_refuse(basis_number, basis_date, effective_date)
    _tree_lock()
    unit = active_unit_locked(unit, _("Only an active unit can be moved."))
    new_parent = active_unit_locked(new_parent, _("A unit cannot be moved under a merged or retired unit."))
    if new_parent.path.startswith(unit.path):
        raise DomainError(_("A unit cannot be moved below itself."))
    if unit.parent_id == new_parent.pk:
        return unit
    old_parent = unit.parent
    unit.parent = new_parent
    unit.save(update_fields=["parent", *_basis_set(unit, basis)])
    _subtree_repath(unit, unit_path_below(new_parent.path, unit.pk))
    audit_event_record(kind=EventKind.UNIT_MOVED, actor=actor, unit=unit,
                       details={"old": {"parent": old_parent.code if old_parent else None},
                                "new": {"parent": new_parent.code}, **_basis_details(basis)})
    return unit


@transaction.atomic
def unit_merge(*, actor, unit: Unit, into: Unit, basis_number: str = "", basis_date: date | None = None,
               effective_date: date | None = None, expected_accounts: int | None = None,
               expected_sub_units: int | None = None, expected_digest: str = "") -> Unit:
    """The 2025 reform merged units: the accounts and the sub-units move to the receiving unit, and
    the merged unit stays (state "merged") so that history keeps pointing at it as it was.

    `expected_accounts`, `expected_sub_units` and `expected_digest` (accounts.models.unit_contents_digest)
    describe the preview the person confirmed:
    when the unit has changed since (an account created or moved in meanwhile), the merge is refused
    (code "stale_preview") rather than moving what nobody saw. They are compared under the locks that
    account and unit changes take (the unit's row, the tree lock), so nothing slips in between."""
    ensure_it_admin(actor)
    basis = _legal_basis_or_refuse(basis_number, basis_date, effective_date)
    _tree_lock()
    unit = active_unit_locked(unit, _("Only an active unit can be merged."))
    into = active_unit_locked(into, _("Choose an active unit outside the merged unit's own subtree."))
    if into.path.startswith(unit.path):
        raise DomainError(_("Choose an active unit outside the merged unit's own subtree."))
    # Locked before they are counted: an account moved out meanwhile waits, or is not counted.
    accounts = list(User.objects.select_for_update().filter(unit=unit).order_by("pk"))
    children = list(Unit.objects.filter(parent=unit).order_by("path"))
    counts_changed = (expected_accounts, expected_sub_units) != (None, None) and \
        (len(accounts), len(children)) != (expected_accounts, expected_sub_units)
    contents_changed = bool(expected_digest) and expected_digest != unit_contents_digest(
        [account.pk for account in accounts], [child.pk for child in children])
    if counts_changed or contents_changed:
        raise DomainError(_("The unit has changed since the preview: check the new preview and confirm again."),
                          code="stale_preview")
    moved_usernames = _accounts_move_on_merge(actor=actor, accounts=accounts, unit=unit, into=into)
    for child in children:
        child.parent = into
        child.save(update_fields=["parent"])
        _subtree_repath(child, unit_path_below(into.path, child.pk))
    unit.state = UnitState.MERGED
    unit.merged_into = into
    unit.state_changed_at = timezone.now()
    unit.save(update_fields=["state", "merged_into", "state_changed_at", *_basis_set(unit, basis)])
    audit_event_record(kind=EventKind.UNIT_MERGED, actor=actor, unit=unit,
                       details={"new": {"merged_into": into.code}, "accounts_moved": moved_usernames,
                                **_basis_details(basis)})
    return unit


def _accounts_move_on_merge(*, actor, accounts: list[User], unit: Unit, into: Unit) -> list[str]:
    """Each account of the merged unit moves to the receiving unit, recorded one by one. A leader of
    the merged unit becomes an officer: leading a district must not turn into leading the province
    it was merged into; the IT Center names the new unit's leaders explicitly."""
    moved = []
    for account in accounts:
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
def unit_retire(*, actor, unit: Unit, basis_number: str = "", basis_date: date | None = None,
                effective_date: date | None = None) -> Unit:
    ensure_it_admin(actor)
    basis = _legal_basis_or_refuse(basis_number, basis_date, effective_date)
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
    unit.save(update_fields=["state", "state_changed_at", *_basis_set(unit, basis)])
    audit_event_record(kind=EventKind.UNIT_RETIRED, actor=actor, unit=unit, details=_basis_details(basis))
    return unit


