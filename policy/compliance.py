"""Compliance rules: pure functions and query expressions that say, for an account and for a unit, what
complies. (The password-expiry rule lives beside them in policy.selectors.) The compliance app counts
these per unit every day; the rules themselves are here, once, for every reader.

Dormancy (docs/architecture.md): an active account without a sign-in for the policy's days (45) is dormant. The
clock starts at the latest of its last sign-in, its creation and its re-enabling — an account that
never signed in is counted from its creation (Keycloak's login-driven workflows never see those), and
one enabled again yesterday is not dormant because of a login years ago. An exempted service account
(a current DormancyExemption) is not dormant.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.db import models
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, F, OuterRef, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import PasswordChangeReason, RecertificationDecision, Role, TurnoverState
from accounts.models import DormancyExemption, RecertificationCampaign, RecertificationItem, TurnoverLine

from .selectors import SECOND_FACTOR_ALWAYS, current_policy, password_expired_q


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
    for _day in range(working_days):  # not `_`: that is gettext in this module
        day += timedelta(days=1)
        while not is_working_day(day, holidays):
            day += timedelta(days=1)
    return datetime.combine(day, local.timetz())


def request_overdue_q(now: datetime) -> Q:
    """Turnover requests not complete within their service level: not executed yet, or executed while a
    connected system has not confirmed (letter → complete is what letter point 2 measures,
    docs/federation.md "Turnover measured to the end")."""
    return Q(state__in=("submitted", "accepted", "executed"), due_at__lt=now)


# ----- what complies: one rule per reason -------------------------------------------------------------

class ComplianceReason(models.TextChoices):
    """Why an active account does not comply, in the order a leader acts on them (the first ones are
    the letter's own points)."""

    PASSWORD_EXPIRED = "password_expired", _("Password older than its maximum age")
    ONE_TIME_UNUSED = "one_time_unused", _("One-time password left unused past its validity")
    DORMANT = "dormant", _("Unused for longer than the dormancy period")
    UNCERTIFIED = "uncertified", _("Not certified in the current recertification campaign")
    TURNOVER_OVERDUE = "turnover_overdue", _("Turnover request not sent by the unit although its effective date has passed")
    LOOKUP_QUOTA = "lookup_quota", _("Lookups refused for going over a quota")
    LOOKUP_ANOMALY = "lookup_anomaly", _("Open anomaly in the account's lookups")
    SECOND_FACTOR = "second_factor", _("No second factor although the role requires one")


# A lookup refused for a quota within this window marks the account (letter point 5: lookups within
# the per-minute and per-day limits); a month is what a monthly report looks back over.
LOOKUP_QUOTA_WINDOW = timedelta(days=30)

def roles_requiring_second_factor() -> tuple:
    """The roles that sign in with TOTP: it_admin and inspector always, plus those the policy lists
    (policy.selectors.second_factor_required is the same rule for one account)."""
    return tuple(sorted(set(SECOND_FACTOR_ALWAYS) | set(current_policy().second_factor_roles or [])))


def second_factor_needed_q() -> Q:
    """Accounts whose sign-in needs a second factor, as a query (the policy may add officers with the
    lookup right)."""
    needed = Q(role__in=roles_requiring_second_factor())
    if current_policy().second_factor_lookup:
        needed |= Q(can_lookup=True)
    return needed


def password_too_old_q(now: datetime) -> Q:
    """Letter point 3: a password older than its maximum age (or never changed), also when the
    sign-in has already stored "expired" as the reason to change it."""
    return Q(password_change_reason=PasswordChangeReason.EXPIRED) | password_expired_q(now)


def password_expiring_within_q(now: datetime, days: int) -> Q:
    """Passwords still valid now that pass their maximum age within `days` (the dashboard's "expire
    this week" action), for IT admins with their own shorter maximum age."""
    policy = current_policy()
    soon = timedelta(days=days)
    admin_cutoff = now - timedelta(days=policy.max_age_days_admin)
    officer_cutoff = now - timedelta(days=policy.max_age_days)
    return Q(password_change_reason=PasswordChangeReason.NONE) & (
        Q(role=Role.IT_ADMIN, password_changed_at__gt=admin_cutoff, password_changed_at__lte=admin_cutoff + soon)
        | (~Q(role=Role.IT_ADMIN) & Q(password_changed_at__gt=officer_cutoff,
                                      password_changed_at__lte=officer_cutoff + soon))
    )


def one_time_password_unused_q(now: datetime) -> Q:
    """Letter point 3: a one-time password must be changed at first sign-in and expires unused."""
    return Q(password_change_reason=PasswordChangeReason.ONE_TIME, one_time_password_expires_at__lte=now)


def current_campaign(now: datetime) -> RecertificationCampaign | None:
    """The campaign accounts are judged by: the latest one started (open or closed) until the next starts."""
    return RecertificationCampaign.objects.filter(started_at__lte=now).order_by("-started_at", "-id").first()


def uncertified_q(campaign: RecertificationCampaign | None, now: datetime) -> Q | None:
    """An account left uncertified once the campaign's deadline has passed (before it, a pending item is
    work in progress, not a failure). None when there is nothing to judge."""
    if campaign is None or campaign.deadline > now:
        return None
    pending = RecertificationItem.objects.filter(campaign=campaign, account=OuterRef("pk"),
                                                 decision=RecertificationDecision.PENDING)
    return Q(Exists(pending))


def turnover_overdue_q(now: datetime) -> Q:
    """An account named on a turnover request that waits on its unit past the request's effective date
    (a draft not sent, or a request returned and not sent again): the officer left, the account still
    works, and it is the unit's to act. A request waiting at the IT Center past its service level is the
    IT Center's lateness (request_overdue_q, on the province's dashboard), not held against the unit."""
    lines = TurnoverLine.objects.filter(account=OuterRef("pk"), executed_at__isnull=True,
                                        request__state__in=(TurnoverState.DRAFT, TurnoverState.RETURNED),
                                        request__effective_date__lt=timezone.localdate(now))
    return Q(Exists(lines))


def lookups_over_quota_q(quota_refusals) -> Q | None:
    """`quota_refusals`: the lookup records refused for a quota within LOOKUP_QUOTA_WINDOW (the lookups
    app owns that table, above this layer; its reader hands them in). Each has an `officer`."""
    if quota_refusals is None:
        return None
    return Q(Exists(quota_refusals.filter(officer=OuterRef("pk"))))


def lookup_anomalies_open_q(open_anomalies) -> Q | None:
    """`open_anomalies`: the lookups app's open anomaly flags, each with an `officer`; None while the
    anomaly rules are not deployed (then no account fails this rule, and reports say so)."""
    if open_anomalies is None:
        return None
    return Q(Exists(open_anomalies.filter(officer=OuterRef("pk"))))


def second_factor_missing_q() -> Q | None:
    """A role that needs a second factor (roles_requiring_second_factor) without a confirmed TOTP
    device (django-otp's TOTPDevice). None where django-otp's TOTP plugin is not installed."""
    if not apps.is_installed("django_otp.plugins.otp_totp"):
        return None
    from django_otp.plugins.otp_totp.models import TOTPDevice

    devices = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return second_factor_needed_q() & ~Q(Exists(devices))


@dataclass(frozen=True)
class RuleInputs:
    """What the rules need from above this layer, handed in by their reader (compliance.selectors)."""

    now: datetime
    quota_refusals: object = None
    open_anomalies: object = None


def failure_conditions(inputs: RuleInputs) -> dict[str, Q]:
    """{reason: condition on an account that fails it}, for `accounts_with_rules(User.objects…)`.
    A rule with nothing to judge (no campaign past its deadline, anomalies not deployed) is left out."""
    now = inputs.now
    conditions = {
        ComplianceReason.PASSWORD_EXPIRED: password_too_old_q(now),
        ComplianceReason.ONE_TIME_UNUSED: one_time_password_unused_q(now),
        ComplianceReason.DORMANT: dormant_q(now),
        ComplianceReason.UNCERTIFIED: uncertified_q(current_campaign(now), now),
        ComplianceReason.TURNOVER_OVERDUE: turnover_overdue_q(now),
        ComplianceReason.LOOKUP_QUOTA: lookups_over_quota_q(inputs.quota_refusals),
        ComplianceReason.LOOKUP_ANOMALY: lookup_anomalies_open_q(inputs.open_anomalies),
        ComplianceReason.SECOND_FACTOR: second_factor_missing_q(),
    }
    return {str(reason): condition for reason, condition in conditions.items() if condition is not None}


def accounts_with_rules(accounts):
    """The alias every condition above may use (the dormancy clock)."""
    return accounts.alias(last_activity=last_activity_expression())


def any_failure_q(conditions: dict[str, Q]) -> Q | None:
    combined = None
    for condition in conditions.values():
        combined = condition if combined is None else combined | condition
    return combined


def reasons_annotations(conditions: dict[str, Q]) -> dict:
    """`fails_<reason>` booleans per account row (the filtered account list, one account's page)."""
    return {f"fails_{reason}": ExpressionWrapper(condition, output_field=BooleanField())
            for reason, condition in conditions.items()}


def unit_counts_annotations(conditions: dict[str, Q]) -> dict:
    """Per unit (`.values("unit_id").annotate(**…)` over active accounts): accounts, how many comply,
    and how many fail each reason — one grouped query, whatever the number of units."""
    failing = any_failure_q(conditions)
    counts = {"total": Count("pk"), "compliant": Count("pk", filter=~failing) if failing else Count("pk")}
    for reason, condition in conditions.items():
        counts[reason] = Count("pk", filter=condition)
    return counts


def account_reasons(row) -> list[str]:
    """The reasons an annotated account row (reasons_annotations) fails, in ComplianceReason's order."""
    return [reason for reason in ComplianceReason.values if getattr(row, f"fails_{reason}", False)]


# ----- a unit's score, its zone, and the roll-up into the units above -----------------------------------

@dataclass
class UnitFigures:
    """Active accounts, how many comply, and how many fail each reason (an account failing two reasons
    counts once in `compliant` and once under each reason)."""

    total: int = 0
    compliant: int = 0
    reasons: dict = field(default_factory=dict)

    @property
    def score(self) -> float | None:
        """The share of accounts that comply, in percent; None for a unit without accounts."""
        if not self.total:
            return None
        return round(100 * self.compliant / self.total, 1)

    def add(self, other: "UnitFigures") -> None:
        self.total += other.total
        self.compliant += other.compliant
        for reason, count in other.reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + count


def path_ancestors(path: str) -> list[str]:
    """"/00000001/00000007/" → ["/00000001/", "/00000001/00000007/"] (the unit itself last)."""
    segments = [segment for segment in path.split("/") if segment]
    return ["/" + "/".join(segments[:depth]) + "/" for depth in range(1, len(segments) + 1)]


def rollup(own: dict[str, UnitFigures], paths: list[str]) -> dict[str, UnitFigures]:
    """Each unit's figures with those of every unit below it, by materialised path: `own` holds the
    figures of each unit's own accounts (keyed by path), `paths` every unit to report."""
    totals = {path: UnitFigures() for path in paths}
    for path, figures in own.items():
        for ancestor in path_ancestors(path):
            if ancestor in totals:
                totals[ancestor].add(figures)
    return totals


class Zone(models.TextChoices):
    GOOD = "good", _("Good")
    ATTENTION = "attention", _("Needs attention")
    BAD = "bad", _("Bad")


def score_zone(score: float | None, *, good_from: int, attention_from: int) -> str | None:
    """The zone of a score with the IT Center's thresholds (good ≥ good_from, bad < attention_from)."""
    if score is None:
        return None
    if score >= good_from:
        return Zone.GOOD
    if score >= attention_from:
        return Zone.ATTENTION
    return Zone.BAD
