from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import is_valid_path
from django.views.decorators.cache import never_cache
from kombu.exceptions import OperationalError

from accounts.choices import Role
from accounts.services.signin import ANONYMOUS
from audit.choices import AccessRefusal, EventKind
from audit.services import audit_event_record
from compliance import views as compliance_views
from compliance.selectors import own_sign_ins
from letter.selectors import directives_to_acknowledge
from policy.selectors import password_expires_at, policy_for


@login_required
def home_view(request):
    """Each role lands where its work is (docs/architecture.md): a leader on the compliance dashboard of their
    subtree, it_admin and inspector on the province's, an officer on their own account."""
    if request.user.role in (Role.IT_ADMIN, Role.INSPECTOR, Role.UNIT_LEADER):
        return compliance_views.home_view(request)
    # The officer's own rotation period from the policy (IT admins have a shorter one), not a fixed "90".
    # Notifications join this page with the notifications app.
    return render(request, "home.html", {"max_age_days": policy_for(request.user).max_age.days,
                                         "expires_at": password_expires_at(request.user),
                                         "sign_ins": own_sign_ins(request.user),
                                         # Letter point 1: the directives the officer still has to acknowledge.
                                         "directives_waiting": directives_to_acknowledge(request.user)})


def _database_up() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def _redis_up(url: str) -> bool | None:
    if not url:
        return None
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping())
    except (redis.RedisError, OSError):
        return False


def _broker_up() -> bool | None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    from portal.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except (OperationalError, OSError):
        return False


@never_cache
def healthz_view(request):
    """docs/architecture.md: the state of the database, Redis and the Celery broker; 200 only when all are up.
    A part that this deployment does not use (embedded default) is reported as "unused"."""
    parts = {"database": _database_up(), "redis": _redis_up(settings.REDIS_URL), "broker": _broker_up()}
    # The quota counters' own Redis, when production gives them one (QUOTA_REDIS_URL): lookups go on
    # counting in PostgreSQL without it, but the IT Center must see that they do.
    if settings.QUOTA_REDIS_URL and settings.QUOTA_REDIS_URL != settings.REDIS_URL:
        parts["quota_redis"] = _redis_up(settings.QUOTA_REDIS_URL)
    body = {name: ("unused" if up is None else "up" if up else "down") for name, up in parts.items()}
    healthy = all(up is not False for up in parts.values())
    return JsonResponse({"status": "ok" if healthy else "fail", **body}, status=200 if healthy else 503)


# Refused requests (403, 404, CSRF): the portal's pages, and one ACCESS_DENIED event each. Django calls
# these for DEBUG=0; portal.middleware.PortalErrorPagesMiddleware calls the 404 one under DEBUG=1 too.
MAX_RECORDED_PATH = 300  # bots send long paths; the event keeps enough to see what was asked

def _access_refused_record(request, *, status: int, because: AccessRefusal) -> None:
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    if because == AccessRefusal.NOT_FOUND and not signed_in:
        return  # anonymous 404s are bots probing addresses: noise that would bury the real events
    if because == AccessRefusal.NOT_FOUND and request.path_info.startswith(settings.STATIC_URL):
        return  # a stylesheet an old cached page still names: nothing was refused
    actor = user if signed_in else ANONYMOUS
    audit_event_record(kind=EventKind.ACCESS_DENIED, actor=actor, unit=actor.unit,
                       details={"path": request.path[:MAX_RECORDED_PATH], "status": status,
                                "refused_because": because.value})


def _redirects_with_slash(request) -> bool:
    """CommonMiddleware turns this 404 into a redirect to the address with a slash (its
    should_redirect_with_slash rule): nothing was refused."""
    path, urlconf = request.path_info, getattr(request, "urlconf", None)
    return (settings.APPEND_SLASH and not path.endswith("/") and not is_valid_path(path, urlconf)
            and bool(is_valid_path(f"{path}/", urlconf)))


def not_found_view(request, exception=None):
    if not _redirects_with_slash(request):
        _access_refused_record(request, status=404, because=AccessRefusal.NOT_FOUND)
    return render(request, "404.html", status=404)


def permission_denied_view(request, exception=None):
    _access_refused_record(request, status=403, because=AccessRefusal.ROLE)
    return render(request, "403.html", status=403)


def csrf_failure(request, reason=""):
    _access_refused_record(request, status=403, because=AccessRefusal.CSRF)
    return render(request, "403_csrf.html", status=403)


@login_required
def help_view(request):
    """A short guide per role and a glossary of the compliance rules, linked from every page (the
    header's "Help"); the reader's own role comes first."""
    from compliance.views import RULE_NAMES
    from policy.compliance import ComplianceReason
    from policy.selectors import current_policy

    roles = [Role.UNIT_LEADER, Role.OFFICER, Role.IT_ADMIN, Role.INSPECTOR]
    if request.user.role in roles:
        roles.remove(request.user.role)
        roles.insert(0, request.user.role)
    rules = [(RULE_NAMES.get(code, label), label, code) for code, label in ComplianceReason.choices]
    return render(request, "help.html", {"roles": [(role, Role(role).label) for role in roles], "rules": rules,
                                         "policy": current_policy(), "section": "help"})
