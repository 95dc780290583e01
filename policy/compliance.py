"""Compliance rules: pure functions and query expressions that say, for an account, what complies.
(The password-expiry rule lives beside them in policy.selectors.)

Dormancy (DESIGN.md): an active account without a sign-in for the policy's days (45) is dormant. The
clock starts at the latest of its last sign-in, its creation and its re-enabling — an account that
never signed in is counted from its creation (Keycloak's login-driven workflows never see those), and
one enabled again yesterday is not dormant because of a login years ago. An exempted service account
(a current DormancyExemption) is not dormant.
"""
from datetime import datetime, timedelta

from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce, Greatest

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
