"""Reading the password policy and an account's password state."""
import contextvars
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone
from redis.exceptions import RedisError

from accounts.choices import PasswordChangeReason, Role
from portal.audit_context import current_audit_context

from .models import PasswordHistory, PasswordPolicy

logger = logging.getLogger(__name__)

POLICY_CACHE_KEY = "password_policy:v1"
POLICY_CACHE_SECONDS = 60


# One read per request, API call or job: the policy is consulted several times a request (middleware,
# django-axes' callables, the lookup decision), and each cache read is a Redis round trip plus unpickling.
# Keyed by the audit context's request id, so a new request (or a test outside any) reads afresh.
_request_memo: contextvars.ContextVar[tuple[str, PasswordPolicy] | None] = contextvars.ContextVar(
    "policy_request_memo", default=None)


def current_policy() -> PasswordPolicy:
    """The policy record, cached briefly (it is read on every request) and read once per request;
    services clear the cache on change. A database without the row (a freshly flushed test database)
    falls back to the defaults. With Redis down the record is read from the database: logins must not
    depend on the cache."""
    request_id = current_audit_context().request_id
    memo = _request_memo.get()
    if request_id and memo is not None and memo[0] == request_id:
        return memo[1]
    policy = _current_policy_uncached()
    if request_id:
        _request_memo.set((request_id, policy))
    return policy


def _current_policy_uncached() -> PasswordPolicy:
    try:
        policy = cache.get(POLICY_CACHE_KEY)
    except (RedisError, OSError):
        logger.warning("Cache unavailable; reading the password policy from the database", exc_info=True)
        return _policy_from_database()
    if policy is None:
        policy = _policy_from_database()
        try:
            cache.set(POLICY_CACHE_KEY, policy, POLICY_CACHE_SECONDS)
        except (RedisError, OSError):
            logger.warning("Cache unavailable; the password policy is not cached", exc_info=True)
    return policy


def policy_remember(policy: PasswordPolicy) -> None:
    """Use `policy` — read from the database by the caller's own statement, as the lookup decision reads
    it with the officer — as the current policy for the rest of this request, as current_policy would
    have remembered it. Outside a request (no request id) it changes nothing."""
    request_id = current_audit_context().request_id
    if request_id:
        _request_memo.set((request_id, policy))


def policy_cache_clear() -> None:
    _request_memo.set(None)
    try:
        cache.delete(POLICY_CACHE_KEY)
    except (RedisError, OSError):
        # Redis down: nothing cached can be read either (current_policy falls back to the database),
        # and the entry expires by itself within POLICY_CACHE_SECONDS.
        logger.warning("Cache unavailable; the cached password policy will expire by itself", exc_info=True)


def _policy_from_database() -> PasswordPolicy:
    return PasswordPolicy.objects.filter(id=PasswordPolicy.SINGLETON_ID).first() or PasswordPolicy.from_defaults()


@dataclass(frozen=True)
class EffectivePolicy:
    """The thresholds that apply to one account: IT admins hold the keys, so theirs are stricter."""

    min_length: int
    min_zxcvbn_score: int
    history_count: int
    min_age: timedelta
    max_age: timedelta
    expiry_warning: timedelta
    session_idle_minutes: int


def policy_for(user) -> EffectivePolicy:
    policy = current_policy()
    is_admin = user is not None and getattr(user, "role", None) == Role.IT_ADMIN
    return EffectivePolicy(
        min_length=policy.min_length_admin if is_admin else policy.min_length,
        min_zxcvbn_score=policy.min_zxcvbn_score,
        history_count=policy.history_count_admin if is_admin else policy.history_count,
        min_age=timedelta(hours=policy.min_age_hours),
        max_age=timedelta(days=policy.max_age_days_admin if is_admin else policy.max_age_days),
        expiry_warning=timedelta(days=policy.expiry_warning_days),
        session_idle_minutes=policy.session_idle_minutes_admin if is_admin else policy.session_idle_minutes,
    )


# docs/architecture.md "Policy defaults": IT admins and inspectors use TOTP, whatever the policy record says.
SECOND_FACTOR_ALWAYS = frozenset({Role.IT_ADMIN, Role.INSPECTOR})


def second_factor_required(user) -> bool:
    """Whether the account signs in with a second factor (TOTP) after its password."""
    role = getattr(user, "role", None)
    if role in SECOND_FACTOR_ALWAYS:
        return True
    policy = current_policy()
    if role in (policy.second_factor_roles or []):
        return True
    return bool(policy.second_factor_lookup and getattr(user, "can_lookup", False))


def password_expires_at(user) -> datetime | None:
    if user.password_changed_at is None:
        return None
    return user.password_changed_at + policy_for(user).max_age


def password_change_allowed_from(user, now=None) -> datetime | None:
    """When the owner may change the password again, while the minimum age holds; else None.

    The minimum age exists so that the history cannot be cycled through (change five times in a row,
    back to the old password): only a password the officer chose starts it. One the IT Center or the
    operator set (one-time, reset, seeded) does not, nor does it hold back a required change."""
    if user is None or user.pk is None or not user.password_set_by_self or user.password_change_reason:
        return None
    if user.password_changed_at is None:
        return None
    allowed_from = user.password_changed_at + policy_for(user).min_age
    return allowed_from if allowed_from > (now or timezone.now()) else None


def password_change_reason(user, now=None) -> str:
    """Why the account must change its password before anything else, or "" when it need not."""
    if user.password_change_reason:
        return user.password_change_reason
    expires_at = password_expires_at(user)
    # Letter point 3: change at least once every 3 months. An account without a change date has a
    # password nobody chose under this policy: it must change too.
    if expires_at is None or expires_at <= (now or timezone.now()):
        return PasswordChangeReason.EXPIRED
    return ""


def _expiry_cutoffs(now):
    """Accounts whose password was changed at or before these moments have expired."""
    policy = current_policy()
    return now - timedelta(days=policy.max_age_days_admin), now - timedelta(days=policy.max_age_days)


def password_expired_q(now) -> Q:
    """The database form of `password_change_reason(...) == EXPIRED` for accounts without another
    stored reason (those are "must change" for that reason: one-time, forced)."""
    admin_cutoff, officer_cutoff = _expiry_cutoffs(now)
    return Q(password_change_reason=PasswordChangeReason.NONE) & (
        Q(password_changed_at__isnull=True)
        | Q(role=Role.IT_ADMIN, password_changed_at__lte=admin_cutoff)
        | (~Q(role=Role.IT_ADMIN) & Q(password_changed_at__lte=officer_cutoff))
    )


def password_expiring_q(now) -> Q:
    """Within the warning window before expiry (the banner's window)."""
    admin_cutoff, officer_cutoff = _expiry_cutoffs(now)
    warning = timedelta(days=current_policy().expiry_warning_days)
    return Q(password_change_reason=PasswordChangeReason.NONE) & (
        Q(role=Role.IT_ADMIN, password_changed_at__gt=admin_cutoff, password_changed_at__lte=admin_cutoff + warning)
        | (~Q(role=Role.IT_ADMIN) & Q(password_changed_at__gt=officer_cutoff,
                                      password_changed_at__lte=officer_cutoff + warning))
    )


def _expires_within_q(now, within: timedelta) -> Q:
    """Passwords that expire at or before `now + within` (the expiry rule of password_expired_q, moved)."""
    admin_cutoff, officer_cutoff = _expiry_cutoffs(now)
    return (Q(role=Role.IT_ADMIN, password_changed_at__lte=admin_cutoff + within)
            | (~Q(role=Role.IT_ADMIN) & Q(password_changed_at__lte=officer_cutoff + within)))


def password_reminder_due_q(now, reminder_days: list[int]) -> Q:
    """Accounts owed an expiry reminder now: an own password (no stored reason to change) that expires
    within the largest threshold, or has expired. Set-based: compared against cutoffs computed here, so
    the database does no date arithmetic per row."""
    largest = max(reminder_days, default=0)
    return (Q(is_active=True, password_change_reason=PasswordChangeReason.NONE, password_changed_at__isnull=False)
            & _expires_within_q(now, timedelta(days=largest)))


def password_reminder_threshold(now, reminder_days: list[int]) -> Case:
    """For each account, the smallest threshold its password has reached: 0 once it has expired, else
    the smallest `d` of `reminder_days` with expiry within `d` days (20 hours left reaches 1). NULL when
    none is reached. A day skipped lands on the threshold reached by now, never on one passed over."""
    whens = [When(_expires_within_q(now, timedelta(0)), then=Value(0))]
    for days in sorted(reminder_days):
        whens.append(When(_expires_within_q(now, timedelta(days=days)), then=Value(days)))
    return Case(*whens, default=None, output_field=IntegerField())


def days_until_password_expiry(user, now=None) -> int | None:
    """Whole days left when inside the warning window (the banner shows them), else None."""
    expires_at = password_expires_at(user)
    if expires_at is None:
        return None
    now = now or timezone.now()
    left = expires_at - now
    if left <= timedelta(0) or left > policy_for(user).expiry_warning:
        return None
    # Started days count: 20 hours left is "1 day", never "0 days".
    return math.ceil(left.total_seconds() / 86400)


def recent_password_hashes(user, count: int) -> list[str]:
    return list(PasswordHistory.objects.filter(account=user).values_list("password_hash", flat=True)[:count])
