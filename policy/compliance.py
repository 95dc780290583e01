"""Compliance rules: pure functions and query expressions that say, for an account, what complies.
(The password-expiry rule lives beside them in policy.selectors.)

Dormancy (DESIGN.md): an active account without a sign-in for the policy's days (45) is dormant. The
clock starts at the latest of its last sign-in, its creation and its re-enabling — an account that
never signed in is counted from its creation (Keycloak's login-driven workflows never see those), and
one enabled again yesterday is not dormant because of a login years ago. An exempted service account
(a current DormancyExemption) is not dormant.
"""
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.models import DormancyExemption

from .selectors import current_policy


def dormancy_window(now: datetime) -> datetime:
    """Accounts whose last activity is at or before this moment are dormant."""
    return now - timedelta(days=current_policy().dormant_days)


def last_activity_expression():
    """The moment the dormancy clock of an account starts (see the module docstring)."""
    created = F("created_at")
    return Greatest(Coalesce(F("last_login"), created), Coalesce(F("enabled_at"), created), created)


def exempt_from_dormancy_q(now: datetime) -> Q:
    current = DormancyExemption.objects.filter(account=OuterRef("pk"), expires_at__gt=now, revoked_at__isnull=True)
    return Q(Exists(current))


def dormant_q(now: datetime) -> Q:
    """For `User.objects.alias(last_activity=last_activity_expression()).filter(dormant_q(now))`."""
    return Q(is_active=True, last_activity__lte=dormancy_window(now)) & ~exempt_from_dormancy_q(now)


def account_last_activity(account) -> datetime:
    candidates = [account.created_at, account.last_login, account.enabled_at]
    return max(moment for moment in candidates if moment is not None)


def account_is_dormant(account, now: datetime) -> bool:
    """The same rule for one account already loaded (re-checked under its row lock)."""
    if not account.is_active or account_last_activity(account) > dormancy_window(now):
        return False
    return not DormancyExemption.objects.filter(account=account, expires_at__gt=now, revoked_at__isnull=True).exists()


# ----- service level of turnover requests ------------------------------------------------------------

def is_working_day(day: date, holidays: set[date]) -> bool:
    """Monday to Friday, except the public holidays the IT Center keeps."""
    return day.weekday() < 5 and day not in holidays


def service_deadline(start: datetime, working_days: int, holidays: set[date]) -> datetime:
    """`working_days` working days after `start` (same time of day); a start on a weekend or holiday
    counts from the beginning of the next working day. Friday 16:00 + 1 → Monday 16:00."""
    local = timezone.localtime(start)
    day = local.date()
    if not is_working_day(day, holidays):
        while not is_working_day(day, holidays):
            day += timedelta(days=1)
        local = timezone.make_aware(datetime.combine(day, time.min), local.tzinfo)
    for _ in range(working_days):
        day += timedelta(days=1)
        while not is_working_day(day, holidays):
            day += timedelta(days=1)
    return datetime.combine(day, local.timetz())


def request_overdue_q(now: datetime) -> Q:
    """Turnover requests the IT Center has not finished within their service level."""
    return Q(state__in=("submitted", "accepted"), due_at__lt=now)
