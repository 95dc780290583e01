"""Unit leaders' weekly digest of their subtree (accounts.scope: a leader sees their unit and every unit
below it): passwords expiring soon and expired, accounts locked, dormant, one-time passwords never
used, turnover requests pending — with a link to the dashboard. A unit still not compliant a grace
period after a password of it expired is escalated to the nearest leader above it.

Set-based: the figures of every unit come from one grouped query per source (accounts, lockouts,
requests) and are summed up the unit tree in memory (each unit adds to its ancestors' paths), so the
pass is a constant number of queries for 300 or 3,000 units; one notice per leader and ISO week."""
from collections import Counter, defaultdict
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from accounts.choices import PasswordChangeReason, Role, TurnoverState
from accounts.models import TurnoverRequest, Unit, User
from accounts.selectors import locked_usernames
from policy.compliance import dormant_q, last_activity_expression
from policy.selectors import current_policy, password_expired_q, password_expiring_q

from .choices import NoticeKind
from .outbox import NoticeSpec, notices_enqueue

FIGURES = ("expiring", "expired", "locked", "dormant", "one_time_unused", "requests_pending")
PENDING_STATES = (TurnoverState.SUBMITTED, TurnoverState.ACCEPTED, TurnoverState.RETURNED)


def _ancestor_paths(path: str) -> list[str]:
    """"/00000001/00000007/" → ["/00000001/", "/00000001/00000007/"] (the unit itself last)."""
    ends = [index for index, char in enumerate(path) if char == "/" and index > 0]
    return [path[:end + 1] for end in ends]


def unit_figures(now) -> tuple[dict[int, Counter], dict[int, int]]:
    """Per unit id: its own figures, and how many of its active accounts expired more than the grace
    period ago (the escalation rule)."""
    grace = timedelta(days=settings.NOTIFICATIONS_ESCALATION_GRACE_DAYS)
    figures: dict[int, Counter] = defaultdict(Counter)
    stale: dict[int, int] = {}
    rows = (User.objects.filter(is_active=True).alias(last_activity=last_activity_expression())
            .values("unit_id").order_by()
            .annotate(expiring=Count("pk", filter=password_expiring_q(now)),
                      expired=Count("pk", filter=password_expired_q(now)),
                      dormant=Count("pk", filter=dormant_q(now)),
                      one_time_unused=Count("pk", filter=Q(password_change_reason=PasswordChangeReason.ONE_TIME)),
                      stale=Count("pk", filter=password_expired_q(now - grace))))
    for row in rows:
        unit_id = row.pop("unit_id")
        stale_accounts = row.pop("stale")  # the escalation rule's count, not a figure of the digest
        if stale_accounts:
            stale[unit_id] = stale_accounts
        figures[unit_id].update(row)
    locked = locked_usernames(now)
    if locked:
        for row in User.objects.filter(username__in=locked).values("unit_id").order_by().annotate(n=Count("pk")):
            figures[row["unit_id"]]["locked"] += row["n"]
    for row in (TurnoverRequest.objects.filter(state__in=PENDING_STATES).values("unit_id").order_by()
                .annotate(n=Count("pk"))):
        figures[row["unit_id"]]["requests_pending"] += row["n"]
    return figures, stale


def digests_send(*, now=None) -> list[int]:
    """One digest per active leader for the ISO week of `now` (a second run this week makes none)."""
    now = now or timezone.now()
    year, week, _weekday = timezone.localdate(now).isocalendar()
    week_label = f"{year}-W{week:02d}"  # the notice's key; people read the week's days (week_text)
    monday = timezone.localdate(now) - timedelta(days=_weekday - 1)
    week_text = f"{monday:%d/%m/%Y} – {monday + timedelta(days=6):%d/%m/%Y}"
    leaders = list(User.objects.filter(role=Role.UNIT_LEADER, is_active=True).select_related("unit"))
    if not leaders:
        return []
    figures, stale = unit_figures(now)
    units = {pk: (path, name, code) for pk, path, name, code in Unit.objects.values_list("pk", "path", "name", "code")}
    totals: dict[str, Counter] = defaultdict(Counter)
    for unit_id, counter in figures.items():
        for path in _ancestor_paths(units[unit_id][0]):
            totals[path].update(counter)
    escalated = _escalations(stale, units, {leader.unit.path for leader in leaders})
    warning_days = current_policy().expiry_warning_days
    specs = []
    for leader in leaders:
        path = leader.unit.path
        specs.append(NoticeSpec(
            recipient=leader, kind=NoticeKind.LEADER_DIGEST, source_key=f"week:{week_label}",
            context={"week": week_label, "week_text": week_text, "unit_name": leader.unit.name, "unit_code": leader.unit.code,
                     "figures": {name: totals[path].get(name, 0) for name in FIGURES},
                     "escalated": escalated.get(path, []), "warning_days": warning_days,
                     "grace_days": settings.NOTIFICATIONS_ESCALATION_GRACE_DAYS}))
    return notices_enqueue(specs)


def _escalations(stale: dict[int, int], units: dict, leader_paths: set[str]) -> dict[str, list[dict]]:
    """{leader unit path: [units escalated to it]}: a stale unit goes to the nearest unit above it that
    has a leader (its own leaders are the ones who did not act)."""
    escalated: dict[str, list[dict]] = defaultdict(list)
    for unit_id, accounts in stale.items():
        path, name, code = units[unit_id]
        for above in reversed(_ancestor_paths(path)[:-1]):
            if above in leader_paths:
                escalated[above].append({"name": name, "code": code, "accounts": accounts})
                break
    for entries in escalated.values():
        entries.sort(key=lambda entry: entry["code"])
    return escalated
