"""What the accounts app reads for others, always within the reader's scope (accounts.scope)."""
from datetime import datetime, time, timedelta

from axes.models import AccessAttempt
from django.db.models import BooleanField, ExpressionWrapper, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.models import SecurityEvent
from policy.compliance import request_overdue_q
from policy.selectors import current_policy, password_expired_q, password_expiring_q

from .choices import AccountState, PasswordChangeReason, TurnoverState
from .models import HandoverRecord, Holiday
from .scope import accounts_visible_to, turnover_requests_visible_to, units_visible_to
from .search import search_key, search_term


def _recent_failures(now):
    """django-axes' failure counts by username within the cool-off window (a small table)."""
    window_start = now - timedelta(minutes=current_policy().lockout_minutes)
    return (
        AccessAttempt.objects.filter(attempt_time__gte=window_start)
        .order_by()
        .values("username")
        .annotate(total=Sum("failures_since_start"))
    )


def _is_locked(now):
    """Per listed account (a page of rows): has it reached the lockout threshold in the window?"""
    failures = _recent_failures(now).filter(username=OuterRef("username")).values("total")
    reached = Q(lockout_failures__gte=current_policy().lockout_threshold)
    return Coalesce(Subquery(failures, output_field=IntegerField()), 0), ExpressionWrapper(reached, BooleanField())


def locked_usernames(now):
    """Usernames locked now, for filtering: computed from the attempts, not per account."""
    return _recent_failures(now).filter(total__gte=current_policy().lockout_threshold).values("username")


def account_is_locked(account, now=None) -> bool:
    return locked_usernames(now or timezone.now()).filter(username=account.username).exists()


def account_list(user, *, search="", unit_id=None, role="", state="", now=None):
    """The account list of the admin pages, scoped, filtered, with the figures each row shows."""
    now = now or timezone.now()
    failures, locked = _is_locked(now)
    accounts = accounts_visible_to(user).select_related("unit").annotate(lockout_failures=failures, is_locked=locked)
    if search:
        accounts = accounts.annotate(search_text=search_key("username", "full_name", "email", "phone")).filter(
            search_text__contains=search_term(search))
    if unit_id:
        unit = units_visible_to(user).filter(pk=unit_id).first()
        accounts = accounts.filter(unit__path__startswith=unit.path) if unit else accounts.none()
    if role:
        accounts = accounts.filter(role=role)
    if state == AccountState.ACTIVE:
        accounts = accounts.filter(is_active=True)
    elif state == AccountState.DISABLED:
        accounts = accounts.filter(is_active=False)
    elif state == AccountState.MUST_CHANGE:
        accounts = accounts.filter(is_active=True).exclude(password_change_reason=PasswordChangeReason.NONE)
    elif state == AccountState.EXPIRING:
        accounts = accounts.filter(password_expiring_q(now), is_active=True)
    elif state == AccountState.EXPIRED:
        accounts = accounts.filter(password_expired_q(now), is_active=True)
    elif state == AccountState.LOCKED:
        accounts = accounts.filter(username__in=locked_usernames(now))
    return accounts.order_by("unit__path", "username")


def unit_tree(user):
    """Units in scope in tree order (the materialised path sorts parents before children)."""
    return units_visible_to(user).select_related("parent", "merged_into").order_by("path")


def handover_records_for(account):
    return HandoverRecord.objects.filter(account=account).select_related("issued_by")



# ----- turnover requests (letter point 2) ------------------------------------------------------------

def letter_to_execution(request):
    """From the start of the letter's day to the execution: how long the officers' rights outlived
    the letter that took them away (None while not executed)."""
    if request.executed_at is None:
        return None
    start = timezone.make_aware(datetime.combine(request.letter_date, time.min))
    return request.executed_at - start


def turnover_request_list(user, *, state="", now=None):
    """The turnover requests the user may read, newest first, each with `overdue` (the IT Center has
    not finished it within its service level) computed in the same query."""
    now = now or timezone.now()
    requests = turnover_requests_visible_to(user).select_related("unit").annotate(
        overdue=ExpressionWrapper(request_overdue_q(now), output_field=BooleanField()))
    if state:
        requests = requests.filter(state=state)
    return requests.order_by("-created_at", "-id")


def turnover_execution_times(requests) -> dict:
    """Median and worst letter→execution time over the executed requests of a (scoped) queryset, in
    one query. The pk is selected too: a leader's queryset is DISTINCT, and two requests with the same
    dates must both count."""
    rows = requests.filter(state=TurnoverState.EXECUTED).order_by().values_list("pk", "letter_date", "executed_at")
    durations = sorted(
        executed_at - timezone.make_aware(datetime.combine(letter_date, time.min)) for _pk, letter_date, executed_at in rows)
    if not durations:
        return {"count": 0, "median": None, "worst": None}
    middle = len(durations) // 2
    median = durations[middle] if len(durations) % 2 else (durations[middle - 1] + durations[middle]) / 2
    return {"count": len(durations), "median": median, "worst": durations[-1]}


def turnover_request_lines(request):
    return request.lines.select_related("account", "new_unit").order_by("id")


def turnover_request_history(request):
    """The request's state history: every audit event that names it (its transitions and the
    accounts its execution changed), oldest first."""
    return SecurityEvent.objects.filter(details__turnover_request=request.pk).order_by("id")


def holidays_list(*, year=None):
    holidays = Holiday.objects.all()
    if year:
        holidays = holidays.filter(date__year=year)
    return holidays.order_by("date")
