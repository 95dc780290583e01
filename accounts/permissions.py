"""Who may do what. Scope (which objects) lives in accounts.scope; rights (which actions) here.

One place decides for people and for named system actors alike (portal.actors): a person holds the
rights of their role, a system actor exactly the rights portal.actors names for it — the operator at
the server's shell and the demo set-up the IT Center's whole authority, each job what it needs, and
"anonymous" nothing."""
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from portal.actors import Right
from portal.errors import NotAllowed

from . import scope
from .choices import Role


def is_system_actor(actor) -> bool:
    return getattr(actor, "is_system", False)


def require_roles(*roles):
    """View decorator: log in first, then 403 for a role that may not open the page at all."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if request.user.role not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# The rights a person holds by role. An IT admin holds the IT Center's authority (which implies every
# right); leaders and officers act on their own scope, decided by the predicates of accounts.scope.
ROLE_RIGHTS = {
    Role.IT_ADMIN: frozenset({Right.ADMINISTER}),
}


def actor_rights(actor) -> frozenset:
    if actor is None:
        raise TypeError("The actor is never None: pass a User or a portal.actors.SystemActor.")
    if is_system_actor(actor):
        return actor.rights
    if not actor.is_active:
        return frozenset()
    return ROLE_RIGHTS.get(actor.role, frozenset())


def has_right(actor, right: Right) -> bool:
    """Does this person or system actor hold `right` (or the IT Center's authority, which implies it)?"""
    rights = actor_rights(actor)
    return right in rights or Right.ADMINISTER in rights


def ensure_right(actor, right: Right, message=None) -> None:
    if not has_right(actor, right):
        raise NotAllowed(message or _("Only IT Center administrators may do this."))


def ensure_it_admin(actor, message=None) -> None:
    """Accounts, units and the policy are changed by the IT Center (letter point 2): an active IT
    admin, or a system actor that holds the IT Center's authority (the shell, the demo set-up)."""
    ensure_right(actor, Right.ADMINISTER, message)


# ----- Who may do what to which object: one predicate per action, the rule written once. Services
# enforce them (ensure_may), pages read them to show a button; the scope itself (which units and
# accounts) comes from accounts.scope.

def _acts_as_it_center(actor) -> bool:
    return has_right(actor, Right.ADMINISTER)


def _is_leader_of(actor, unit) -> bool:
    """An active unit leader whose subtree holds `unit`."""
    return (not is_system_actor(actor) and actor.is_active and actor.role == Role.UNIT_LEADER
            and unit is not None and scope.unit_is_visible_to(actor, unit))


def may_file_turnover_for(actor, unit) -> bool:
    """Leaders file for their own subtree; an officer may draft for their own unit; the IT Center too."""
    if _acts_as_it_center(actor) or _is_leader_of(actor, unit):
        return True
    return (not is_system_actor(actor) and actor.is_active and actor.role == Role.OFFICER
            and unit is not None and unit.pk == actor.unit_id)


def may_submit_turnover_request(actor, turnover_request) -> bool:
    """Submitting or cancelling a request: a leader of its unit (or of a unit above it), or the IT Center."""
    return _acts_as_it_center(actor) or _is_leader_of(actor, turnover_request.unit)


def may_decide_turnover_request(actor) -> bool:
    """Returning or accepting a submitted request: the IT Center."""
    return _acts_as_it_center(actor)


def may_execute_turnover_request(actor) -> bool:
    return has_right(actor, Right.TURNOVER_EXECUTE)


def may_confirm_turnover_move(actor, new_unit) -> bool:
    """An officer's move into a unit is confirmed by a leader of the receiving unit, or the IT Center."""
    return _acts_as_it_center(actor) or _is_leader_of(actor, new_unit)


def may_grant_privileged_role(actor) -> bool:
    """Only the IT Center grants the IT admin and inspector roles."""
    return _acts_as_it_center(actor)


def may_reconcile_roster(actor) -> bool:
    """Unit leaders reconcile their unit's roster; the IT Center any."""
    return _acts_as_it_center(actor) or (not is_system_actor(actor) and actor.is_active
                                         and actor.role == Role.UNIT_LEADER)


def may_certify_accounts(actor) -> bool:
    """Recertification decisions: unit leaders (for the units below them) and the IT Center."""
    return may_reconcile_roster(actor)


def may_run_recertification(actor) -> bool:
    """Starting and closing campaigns."""
    return has_right(actor, Right.RECERTIFICATION_RUN)


def may_exempt_from_dormancy(actor) -> bool:
    return _acts_as_it_center(actor)


def ensure_may(allowed: bool, message) -> None:
    """A service's guard on one of the predicates above: NotAllowed with the service's message."""
    if not allowed:
        raise NotAllowed(message)


# ----- whether an account may be used at all ---------------------------------------------------------

ACCESS_DISABLED = "disabled"
ACCESS_LOCKED = "locked"
ACCESS_CONTAINED = "contained"

# The lockout rule lives with the sign-in flows (accounts.selectors.account_is_locked, layer 5, which
# reads the policy): this kernel module may not import it, so the accounts app registers it at start
# (accounts.apps). Until then (a bare script) an account counts as not locked.
_lockout_rule = None


def lockout_rule_register(rule) -> None:
    """Called once by accounts.apps.AccountsConfig.ready with `accounts.selectors.account_is_locked`."""
    global _lockout_rule
    _lockout_rule = rule


def units_contained() -> list[dict]:
    """The contained units (few: one indexed query on a partial index), as dicts with their id, path,
    name, code and since when; the middleware keeps them on the request for the page to reuse."""
    from .models import Unit

    return list(Unit.objects.filter(contained_at__isnull=False).order_by("path")
                .values("pk", "path", "name", "code", "contained_at", "contained_targets_deactivated"))


def unit_paths_contained() -> list[str]:
    return [unit["path"] for unit in units_contained()]


def account_contained(account, *, contained_paths: list[str] | None = None) -> bool:
    """Incident containment: the account itself, or its unit or any unit above it, is contained — so an
    account created in or moved into a contained subtree is contained too, with no copy to keep."""
    if account.contained_at is not None:
        return True
    paths = unit_paths_contained() if contained_paths is None else contained_paths
    if not paths:
        return False
    unit_path = account.unit.path
    return any(unit_path.startswith(path) for path in paths)


def account_deactivated_by_containment(account) -> bool:
    """Whether a containment holding the account chose to deactivate it in the connected systems that keep
    their own accounts (SCIM and manual targets): its own containment, or that of its unit or a unit
    above. Sessions and tokens end with every containment; this deactivation only when chosen."""
    if account.contained_at is not None and account.contained_targets_deactivated:
        return True
    unit_path = account.unit.path
    return any(unit["contained_targets_deactivated"] and unit_path.startswith(unit["path"])
               for unit in units_contained())


def account_access_refusal(account) -> str | None:
    """Why the account may not be used now (sign-in, sessions, lookups, connected systems), or None.
    "disabled" first (it is final), then "contained" (an incident response holds it, whatever the
    lockout says), then "locked" (failed sign-ins, for a while)."""
    if account is None or not account.is_active:
        return ACCESS_DISABLED
    if account_contained(account):
        return ACCESS_CONTAINED
    if _lockout_rule is not None and _lockout_rule(account):
        return ACCESS_LOCKED
    return None
