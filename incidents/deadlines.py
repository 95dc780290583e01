"""Deadlines of an incident, computed from the rules in force (incidents.models.DeadlineRuleSet): the
latest version effective on the day the incident was discovered. Pure functions of the record and the
rules; nothing about a deadline is written here."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from .choices import PeriodUnit, RuleApplies, RuleKind, RuleStartsFrom
from .models import DeadlineRule, DeadlineRuleSet, Incident


@dataclass(frozen=True)
class Deadline:
    code: str
    label: str
    legal_basis: str
    authority: str
    kind: str
    starts_from: str
    due_at: datetime | None  # None while its starting point has not happened (the response goes on)
    remind_at: datetime | None
    met_at: datetime | None
    rule_set_number: int

    def state(self, now) -> str:
        """met, waiting (not started), retention, open, due_soon, overdue"""
        if self.met_at is not None:
            return "met"
        if self.due_at is None:
            return "waiting"
        if self.kind == RuleKind.RETENTION:
            return "retention"
        if now >= self.due_at:
            return "overdue"
        if self.remind_at is not None and now >= self.remind_at:
            return "due_soon"
        return "open"


def rule_set_in_force(at: datetime, rule_sets=None) -> DeadlineRuleSet | None:
    day = timezone.localdate(at)
    if rule_sets is not None:
        candidates = [rule_set for rule_set in rule_sets if rule_set.effective_from <= day]
        return max(candidates, key=lambda r: (r.effective_from, r.number), default=None)
    return DeadlineRuleSet.objects.filter(effective_from__lte=day).order_by("-effective_from", "-number").first()


def period_after(start: datetime, amount: int, unit: str) -> datetime:
    if unit == PeriodUnit.HOURS:
        return start + timedelta(hours=amount)
    if unit == PeriodUnit.DAYS:
        return start + timedelta(days=amount)
    local = timezone.localtime(start)
    try:
        return local.replace(year=local.year + amount)
    except ValueError:  # 29 February in a year that has none: the day after 28 February
        return local.replace(year=local.year + amount, month=3, day=1)


def _start_of(incident: Incident, starts_from: str) -> datetime | None:
    if starts_from == RuleStartsFrom.DISCOVERED:
        return incident.discovered_at
    if starts_from == RuleStartsFrom.RESPONSE_ENDED:
        return incident.response_ended_at
    return incident.closed_at


def rule_applies(rule: DeadlineRule, incident: Incident) -> bool:
    return rule.applies_to == RuleApplies.ALL or incident.involves_personal_data


def incident_deadlines(incident: Incident, *, rule_set: DeadlineRuleSet | None = None, rules=None,
                       met: dict | None = None) -> list[Deadline]:
    """The incident's deadlines. `rules` and `met` (code → time) may be given already fetched (a job
    over many incidents); otherwise they are read here."""
    if rules is None:
        rule_set = rule_set or rule_set_in_force(incident.discovered_at)
        if rule_set is None:
            return []
        rules = list(rule_set.rules.all())
    if met is None:
        met = dict(incident.deadlines_met.values_list("code", "met_at"))
    deadlines = []
    for rule in rules:
        if not rule_applies(rule, incident):
            continue
        start = _start_of(incident, rule.starts_from)
        due = period_after(start, rule.amount, rule.period_unit) if start is not None else None
        remind = due - timedelta(hours=rule.remind_hours_before) if due is not None else None
        deadlines.append(Deadline(
            code=rule.code, label=rule.label, legal_basis=rule.legal_basis, authority=rule.authority, kind=rule.kind,
            starts_from=rule.starts_from, due_at=due, remind_at=remind, met_at=met.get(rule.code),
            rule_set_number=rule.rule_set.number))
    return deadlines
