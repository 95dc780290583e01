"""Who may do what. Scope (which objects) lives in accounts.scope; roles (which actions) here.

One place decides for people and for named system actors alike (portal.actors): the operator at the
server's shell, seeding and jobs act with the IT Center's authority — whoever runs them already holds
the database credentials — and are recorded as such."""
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from portal.errors import NotAllowed

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


def ensure_it_admin(actor, message=None) -> None:
    """Accounts, units and the policy are changed by the IT Center (letter point 2)."""
    if actor is None:
        raise TypeError("The actor is never None: pass a User or a portal.actors.SystemActor.")
    if is_system_actor(actor):
        return
    if not actor.is_active or actor.role != Role.IT_ADMIN:
        raise NotAllowed(message or _("Only IT Center administrators may do this."))


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
                .values("pk", "path", "name", "code", "contained_at"))


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


def account_access_refusal(account) -> str | None:
    """Why the account may not be used now (sign-in, sessions, lookups, connected systems), or None.
    "disabled" first (it is final), then "contained" (an incident response holds it, whatever the
    lockout says), then "locked" (failed sign-ins, for a while)."""
    if not account.is_active:
        return ACCESS_DISABLED
    if account_contained(account):
        return ACCESS_CONTAINED
    if _lockout_rule is not None and _lockout_rule(account):
        return ACCESS_LOCKED
    return None
