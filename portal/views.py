from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from kombu.exceptions import OperationalError

from accounts.choices import Role
from policy.selectors import policy_for


@login_required
def home_view(request):
    """Each role lands where its work is."""
    if request.user.role in (Role.IT_ADMIN, Role.INSPECTOR, Role.UNIT_LEADER):
        return redirect("accounts:list")
    # The officer's own rotation period from the policy (IT admins have a shorter one), not a fixed "90".
    return render(request, "home.html", {"max_age_days": policy_for(request.user).max_age.days})


def _database_up() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def _redis_up() -> bool | None:
    if not settings.REDIS_URL:
        return None
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping())
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
    """DESIGN.md: the state of the database, Redis and the Celery broker; 200 only when all are up.
    A part that this deployment does not use (embedded default) is reported as "unused"."""
    parts = {"database": _database_up(), "redis": _redis_up(), "broker": _broker_up()}
    body = {name: ("unused" if up is None else "up" if up else "down") for name, up in parts.items()}
    healthy = all(up is not False for up in parts.values())
    return JsonResponse({"status": "ok" if healthy else "fail", **body}, status=200 if healthy else 503)


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)
