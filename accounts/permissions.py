"""Who may do what. Scope (which objects) lives in accounts.scope; roles (which actions) here.

One place decides for people and for named system actors alike (portal.actors): the operator at the
server's shell, seeding and jobs act with the IT Center's authority — whoever runs them already holds
the database credentials — and are recorded as such."""
from collections.abc import Callable
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


# Rules of account_access_refusal that need more than the account row (the lockout is django-axes'
# counts under the editable policy, a layer above this kernel): registered at start-up by the app that
# owns them (accounts.apps registers "locked"), so every caller asks one predicate.
_ACCESS_REFUSAL_RULES: list[tuple[str, Callable]] = []


def access_refusal_rule_register(code: str, rule: Callable) -> None:
    if all(existing != code for existing, _rule in _ACCESS_REFUSAL_RULES):
        _ACCESS_REFUSAL_RULES.append((code, rule))


def account_access_refusal(account) -> str | None:
    """Why this account may not use the portal or any connected system now — "disabled", "locked",
    "contained" — or None. Asked by the sign-in of connected systems (authorize, token, refresh,
    userinfo, introspection) at every request, so a change takes effect within one request."""
    if account is None or not account.is_active:
        return "disabled"
    for code, rule in _ACCESS_REFUSAL_RULES:
        if rule(account):
            return code
    return None
