"""What the compliance pages read: the daily snapshots (every dashboard figure comes from them), the
live lists behind each figure (scoped by accounts.scope), and what the rules read of the other apps
(lookup anomalies, audit seals)."""
import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_celery_beat.models import PeriodicTask

from accounts.choices import Role, TurnoverState
from accounts.models import TurnoverRequest, Unit, User
from accounts.scope import accounts_visible_to, turnover_requests_visible_to, unit_is_visible_to, units_visible_to
from accounts.selectors import turnover_completion_times
from audit.choices import EventKind
from audit.models import SecurityEvent
from audit.selectors import seal_digests_latest
from federation.selectors import registry_readable_by, systems_coverage, systems_in_quarantine
from lookups.choices import Decision, QuotaWindow
from lookups.models import AnomalyFlag, LookupRecord
from policy.compliance import (
    LOOKUP_QUOTA_WINDOW,
    ComplianceReason,
    RuleInputs,
    accounts_with_rules,
    failure_conditions,
    reasons_annotations,
    score_zone,
)

from .models import ComplianceThresholds, MonthlyReport, UnitSnapshot

TREND_DAYS = 365
DAILY_DAYS = 30
REASON_FIELDS = list(ComplianceReason.values)  # UnitSnapshot has one column per reason


# ----- what the rules read of the other apps (lookup anomalies, audit seals) -----------------------------

def open_lookup_anomalies(now: datetime):
    """The lookups app's anomaly flags still open against their officer: raised by then and not yet
    closed by the IT Center's review (each with an `officer`)."""
    return AnomalyFlag.objects.filter(Q(reviewed_at__isnull=True) | Q(reviewed_at__gt=now), decided_at__lte=now)


def newest_seal_digest() -> str | None:
    """The newest seal of each sealed table as one line a report can print ("table #position chain; …"),
    None before the first seal: a rewrite of a whole chain is caught against the reports printed."""
    latest = seal_digests_latest()
    if not latest:
        return None
    return "; ".join(f"{table} #{seal['position']} {seal['chain']}" for table, seal in sorted(latest.items()))


def rule_inputs(now: datetime) -> RuleInputs:
    quota_refusals = LookupRecord.objects.filter(decision=Decision.REFUSE, reason__in=QuotaWindow.values,
                                                 decided_at__gt=now - LOOKUP_QUOTA_WINDOW, decided_at__lte=now)
    return RuleInputs(now=now, quota_refusals=quota_refusals, open_anomalies=open_lookup_anomalies(now))


def rules_not_judged(conditions: dict) -> list[str]:
    return [reason for reason in ComplianceReason.values if reason not in conditions]


# ----- thresholds and zones ------------------------------------------------------------------------------

def thresholds_current() -> ComplianceThresholds:
    return ComplianceThresholds.objects.filter(pk=ComplianceThresholds.SINGLETON_ID).first() or ComplianceThresholds(
        pk=ComplianceThresholds.SINGLETON_ID)


def zone_of(score, thresholds: ComplianceThresholds):
    return score_zone(score, good_from=thresholds.good_from, attention_from=thresholds.attention_from)


# ----- one account, and the accounts behind a figure (live, scoped) -----------------------------------

def account_compliance(account, now: datetime | None = None) -> list[str]:
    """The reasons one account does not comply now: the same conditions the snapshots count."""
    return [reason for reason, state in account_rules(account, now) if state == "fails"]


def account_rules(account, now: datetime | None = None) -> list[tuple[str, str]]:
    """[(reason, "fails" | "complies" | "not_judged")] for one account, in ComplianceReason's order; a
    disabled account is not judged at all (the score counts active accounts only)."""
    now = now or timezone.now()
    conditions = failure_conditions(rule_inputs(now))
    if not account.is_active:
        return [(reason, "not_judged") for reason in ComplianceReason.values]
    row = accounts_with_rules(User.objects.filter(pk=account.pk)).annotate(**reasons_annotations(conditions)).first()
    states = []
    for reason in ComplianceReason.values:
        if reason not in conditions:
            states.append((reason, "not_judged"))
        else:
            states.append((reason, "fails" if getattr(row, f"fails_{reason}") else "complies"))
    return states


def accounts_failing(user, unit: Unit, reason: str, now: datetime | None = None):
    """Active accounts of the unit's subtree (within the reader's scope) failing `reason` now; every
    non-complying account for reason "" (all reasons)."""
    now = now or timezone.now()
    conditions = failure_conditions(rule_inputs(now))
    accounts = accounts_with_rules(
        accounts_visible_to(user).filter(unit__path__startswith=unit.path, is_active=True)).select_related("unit")
    if reason:
        condition = conditions.get(reason)
        accounts = accounts.filter(condition) if condition is not None else accounts.none()
    else:
        failing = None
        for condition in conditions.values():
            failing = condition if failing is None else failing | condition
        accounts = accounts.filter(failing) if failing is not None else accounts.none()
    return accounts.annotate(**reasons_annotations(conditions)).order_by("unit__path", "username")


def account_history(account, *, reader=None, limit: int = 50):
    """One account's events (sign-ins, password changes, lockouts, …), newest first: its history. Each
    event carries `shown_actor` and `shown_ip`: for a reader who does not see everything, an actor
    outside the reader's units, or of the IT Center or the inspectorate, is named by role only and its
    address is not shown (the account's own actions, the reader's units' people and the portal's jobs
    are shown as recorded)."""
    events = list(SecurityEvent.objects.filter(target=account).order_by("-id")[:limit])
    masked = set()
    if reader is not None and not reader.sees_everything:
        actor_ids = {event.actor_id for event in events if event.actor_id and event.actor_id != account.pk}
        visible_units = set(units_visible_to(reader).values_list("pk", flat=True))
        actors = {actor.pk: actor for actor in User.objects.filter(pk__in=actor_ids).only("pk", "role", "unit_id")}
        masked = {pk for pk, actor in actors.items()
                  if actor.role in (Role.IT_ADMIN, Role.INSPECTOR) or actor.unit_id not in visible_units}
        labels = {Role.IT_ADMIN: Role.IT_ADMIN.label, Role.INSPECTOR: Role.INSPECTOR.label}
    for event in events:
        if event.actor_id in masked:
            role = actors[event.actor_id].role
            event.shown_actor = str(labels.get(role) or (_("A leader outside your units") if role == Role.UNIT_LEADER
                                                          else _("Someone outside your units")))
            event.shown_ip = None
        else:
            event.shown_actor, event.shown_ip = event.actor_username, event.ip_address
    return events


def own_sign_ins(account, *, limit: int = 10):
    """The officer's own last sign-ins with the address they came from (their home page)."""
    return SecurityEvent.objects.filter(target=account, kind=EventKind.LOGIN_SUCCESS).order_by("-id")[:limit]


# ----- the dashboards, from snapshots -------------------------------------------------------------------

def home_unit_for(user) -> Unit:
    """Where a reader's dashboard starts: a leader's own unit, the province (the tree's root) for
    it_admin and inspector."""
    if user.sees_everything:
        root = Unit.objects.filter(parent__isnull=True).order_by("path").first()
        if root is None:
            raise Http404
        return root
    return user.unit


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def parse_month(text: str) -> date | None:
    """"2026-03" → 1 March 2026; anything else (or a month not yet begun) → None (the latest figures)."""
    try:
        year, month = (int(part) for part in (text or "").split("-"))
        first = date(year, month, 1)
    except ValueError:
        return None
    if first > timezone.localdate() or year < 2000:
        return None
    return first


@dataclass
class Dashboard:
    unit: Unit
    snapshot: UnitSnapshot | None
    children: list
    trend: list  # [(day, score)]
    daily: list  # [UnitSnapshot] of the last DAILY_DAYS days (lookups, lockouts)
    thresholds: ComplianceThresholds
    month: date | None
    report: MonthlyReport | None = None  # the report kept for `month`, the evidence as it was then
    computed_now: bool = False  # no snapshot yet: the figures were computed for this page (_dashboard_now)

    @property
    def snapshot_stale(self) -> bool:
        """The latest figures are older than yesterday's: the daily job has not run (jobs' health)."""
        return (self.month is None and self.snapshot is not None
                and self.snapshot.day < timezone.localdate() - timedelta(days=1))

    @property
    def zone(self):
        return zone_of(self.snapshot.score if self.snapshot else None, self.thresholds)

    @property
    def reasons(self) -> list[tuple[str, str, int]]:
        if self.snapshot is None:
            return []
        return [(reason, label, getattr(self.snapshot, reason)) for reason, label in ComplianceReason.choices
                if reason not in self.snapshot.rules_not_judged]

    @property
    def not_judged(self) -> list[str]:
        if self.snapshot is None:
            return []
        return [ComplianceReason(reason).label for reason in self.snapshot.rules_not_judged]

    @property
    def monthly(self) -> list[tuple[date, float | None]]:
        """The trend's accessible table: each month's last day with figures."""
        months = {}
        for day, score in self.trend:
            months[(day.year, day.month)] = (day, score)
        return list(months.values())


def dashboard(user, unit: Unit, *, month: date | None = None) -> Dashboard:
    """A unit's dashboard at the end of `month` (its latest figures when None), from snapshots only:
    the same handful of queries for 10 units or 3,000. The caller has checked the unit's scope."""
    end = month_bounds(month)[1] if month else timezone.localdate()
    snapshot = UnitSnapshot.objects.filter(unit=unit, day__lte=end).order_by("-day").first()
    if snapshot is None:
        if month is None:
            return _dashboard_now(user, unit)
        return Dashboard(unit, None, [], [], [], thresholds_current(), month)
    children = UnitSnapshot.objects.filter(day=snapshot.day, depth=snapshot.depth + 1,
                                           unit_path__startswith=snapshot.unit_path)
    if not user.sees_everything:
        children = children.filter(unit_id__in=units_visible_to(user).values("pk"))
    rows = list(UnitSnapshot.objects.filter(unit=unit, day__gt=snapshot.day - timedelta(days=TREND_DAYS),
                                            day__lte=snapshot.day).order_by("day")
                .only("day", "accounts_total", "accounts_compliant", "lookups_allowed", "lookups_refused",
                      "lockouts"))
    thresholds = thresholds_current()
    ranked = sorted(children, key=lambda row: (row.score is None, row.score if row.score is not None else 0,
                                               row.unit_name))
    for row in ranked:
        row.zone = zone_of(row.score, thresholds)
    report = None
    if month is not None:
        report = reports_visible_to(user).filter(unit=unit, month=month).only("pk", "month").first()
    return Dashboard(unit, snapshot, ranked, [(row.day, row.score) for row in rows],
                     rows[-DAILY_DAYS:], thresholds, month, report)


def _dashboard_now(user, unit: Unit) -> Dashboard:
    """A unit with no snapshot yet (the portal's first day, a unit made today): today's figures
    computed now, as the daily job will write them tonight, so that nobody meets an empty page until
    then. Nothing is written: tonight's snapshot still says how the day ended."""
    from .services import snapshot_rows  # the job's own computation (services reads selectors)

    now = timezone.now()
    rows = [row for row in snapshot_rows(now) if row.unit_path.startswith(unit.path)]
    own = next((row for row in rows if row.unit_id == unit.pk), None)
    thresholds = thresholds_current()
    if own is None:  # a retired unit has no figures
        return Dashboard(unit, None, [], [], [], thresholds, None)
    visible = None if user.sees_everything else set(units_visible_to(user).values_list("pk", flat=True))
    children = [row for row in rows if row.depth == own.depth + 1 and (visible is None or row.unit_id in visible)]
    ranked = sorted(children, key=lambda row: (row.score is None, row.score if row.score is not None else 0,
                                               row.unit_name))
    for row in ranked:
        row.zone = zone_of(row.score, thresholds)
    return Dashboard(unit, own, ranked, [(own.day, own.score)], [own], thresholds, None, computed_now=True)


@dataclass(frozen=True)
class Action:
    count: int
    reason: str
    unit: UnitSnapshot

    @property
    def text_key(self) -> str:
        return self.reason


def helpful_actions(board: Dashboard, *, limit: int = 3) -> list[Action]:
    """The three actions that would help most: the largest counts of one reason (or of passwords that
    expire within the week) in one unit below — or in the unit itself when it has none below."""
    if board.snapshot is None:
        return []
    places = board.children or [board.snapshot]
    candidates = []
    for row in places:
        for reason in REASON_FIELDS + ["expiring_week"]:
            count = getattr(row, reason)
            if count:
                candidates.append(Action(count, reason, row))
    candidates.sort(key=lambda action: (-action.count, action.unit.unit_path, action.reason))
    return candidates[:limit]


def chart_data(board: Dashboard) -> dict:
    """The charts' data (the JSON endpoint), the same figures as the tables behind them."""
    return {
        "trend": [{"day": day.isoformat(), "score": score} for day, score in board.trend],
        "daily": [{"day": row.day.isoformat(), "lookups_allowed": row.lookups_allowed,
                   "lookups_refused": row.lookups_refused, "lockouts": row.lockouts} for row in board.daily],
        "thresholds": {"good_from": board.thresholds.good_from, "attention_from": board.thresholds.attention_from},
    }


AGE_BUCKETS = ((0, 2), (3, 7), (8, 30), (31, None))


def turnover_open_by_age(user, now: datetime | None = None) -> list[tuple[str, int]]:
    """Open turnover requests (submitted, accepted, or executed while a connected system has not
    confirmed yet) by days since submission, in one query."""
    now = now or timezone.now()
    requests = turnover_requests_visible_to(user).filter(
        state__in=(TurnoverState.SUBMITTED, TurnoverState.ACCEPTED, TurnoverState.EXECUTED)).order_by()
    counts = {}
    for low, high in AGE_BUCKETS:
        window = Q(submitted_at__lte=now - timedelta(days=low))
        if high is not None:
            window &= Q(submitted_at__gt=now - timedelta(days=high + 1))
        counts[f"b{low}"] = Count("pk", filter=window)
    figures = requests.aggregate(**counts, overdue=Count("pk", filter=Q(due_at__lt=now)))
    buckets = [((low, high), figures[f"b{low}"]) for low, high in AGE_BUCKETS]
    return buckets, figures["overdue"]


def turnover_completion_figures(unit: Unit, as_of: datetime) -> dict:
    """Letter point 2 for a unit's subtree as of a moment: the requests the IT Center had to finish that
    were not complete in every connected system within their service level, and the median letter →
    complete time of those complete by then (docs/federation.md, "Turnover measured to the end")."""
    requests = TurnoverRequest.objects.filter(unit__path__startswith=unit.path, submitted_at__lte=as_of)
    overdue = requests.filter(
        state__in=(TurnoverState.SUBMITTED, TurnoverState.ACCEPTED, TurnoverState.EXECUTED, TurnoverState.COMPLETE),
        due_at__lt=as_of).filter(Q(completed_at=None) | Q(completed_at__gt=as_of)).count()
    times = turnover_completion_times(requests.filter(completed_at__lte=as_of))
    return {"overdue": overdue, "complete": times["count"], "median": times["median"]}


def coverage_of(user, unit: Unit) -> list:
    """The systems that keep their own accounts, for the unit and each unit just below it that the
    reader sees (each row its subtree): accounts present where they should be, orphans found by the
    latest reconciliations, deliveries failing (federation.selectors.systems_coverage)."""
    below = units_visible_to(user).filter(parent=unit).values_list("pk", flat=True)
    rows = systems_coverage([unit.pk, *below])
    if not any(row.expected or row.orphans or row.failing for row in rows):
        return []
    return rows


def systems_quarantined_for(user) -> list:
    """The IT Center's home lists the targets in quarantine (the registry's readers only)."""
    return systems_in_quarantine() if registry_readable_by(user) else []


JOB_NAMES = {
    "compliance-daily-snapshot", "compliance-monthly-reports", "disable-dormant-accounts",
    "recertification-daily", "execute-due-turnover-requests",
}


def jobs_health():
    """The scheduled jobs with their last run (django-celery-beat's records), one query."""
    return list(PeriodicTask.objects.filter(name__in=JOB_NAMES).order_by("name")
                .only("name", "task", "last_run_at", "enabled"))


# ----- monthly reports ----------------------------------------------------------------------------------

def reports_visible_to(user):
    """Reports of the units in the reader's scope; the province's report for it_admin and inspector."""
    if user.sees_everything:
        return MonthlyReport.objects.all()
    if user.role == Role.UNIT_LEADER:
        return MonthlyReport.objects.filter(unit_id__in=units_visible_to(user).values("pk"))
    return MonthlyReport.objects.none()


def report_list(user, *, unit: Unit | None = None):
    reports = reports_visible_to(user).defer("html", "pdf", "xlsx", "figures")
    if unit is not None:
        reports = reports.filter(unit=unit)
    return reports.order_by("-month", "unit_path")


def unit_visible_or_404(user, unit: Unit) -> Unit:
    if not unit_is_visible_to(user, unit):
        raise Http404
    return unit


def day_range(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)
