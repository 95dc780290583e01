"""Who may do what. Scope (which objects) lives in accounts.selectors; roles (which actions) here."""
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from portal.errors import NotAllowed

from .choices import Role


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


def ensure_it_admin(actor) -> None:
    """Accounts and units are created, changed and removed by the IT Center (letter point 2).

    `None` is the operator at the server's command line (manage.py create_account, seed_demo), who
    holds the database credentials anyway; web requests always pass the logged-in user."""
    if actor is None:
        return
    if not actor.is_active or actor.role != Role.IT_ADMIN:
        raise NotAllowed(_("Only IT Center administrators may do this."))
