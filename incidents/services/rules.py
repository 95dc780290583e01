"""The deadline rules the IT Center keeps: a new version (copied from the one in force, with the day
it takes effect), and the rules of a version not yet in force. A version in force is never edited:
incidents already judged by it keep their deadlines; a change of the law is a new version."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import ensure_it_admin
from accounts.services._common import plain_text_or_refuse
from audit.choices import EventKind
from audit.services import audit_event_record
from portal.errors import DomainError, PolicyViolation

from ..choices import PeriodUnit, RuleApplies, RuleKind, RuleStartsFrom
from ..models import DeadlineRule, DeadlineRuleSet
from ._common import actor_name


def _editable(rule_set: DeadlineRuleSet) -> None:
    if rule_set.effective_from <= timezone.localdate():
        raise DomainError(_("This version is in force: make a new version instead of changing it."),
                          code="rule_set_in_force")


@transaction.atomic
def rule_set_create(*, actor, title: str, effective_from, note: str = "") -> DeadlineRuleSet:
    ensure_it_admin(actor)
    title = plain_text_or_refuse(title, field="title", max_length=200)
    if not title:
        raise PolicyViolation(_("Give the version a title (the law or decision it follows)."), field="title",
                              code="title_missing")
    if effective_from is None or effective_from <= timezone.localdate():
        raise PolicyViolation(_("A new version takes effect from a future day."), field="effective_from",
                              code="effective_not_future")
    latest = DeadlineRuleSet.objects.select_for_update().order_by("-number").first()
    rule_set = DeadlineRuleSet.objects.create(number=(latest.number + 1) if latest else 1, title=title,
                                              effective_from=effective_from, note=(note or "").strip(),
                                              created_by_name=actor_name(actor))
    if latest is not None:
        for rule in latest.rules.all():
            rule.pk = None
            rule.rule_set = rule_set
            rule.save()
    audit_event_record(kind=EventKind.DEADLINE_RULES_CHANGED, actor=actor,
                       details={"rule_set": rule_set.number, "effective_date": effective_from.isoformat()})
    return rule_set


RULE_FIELDS = ("code", "label", "legal_basis", "authority", "kind", "applies_to", "starts_from", "amount",
               "period_unit", "remind_hours_before")


@transaction.atomic
def rule_save(*, actor, rule_set: DeadlineRuleSet, values: dict, rule: DeadlineRule | None = None) -> DeadlineRule:
    ensure_it_admin(actor)
    rule_set = DeadlineRuleSet.objects.select_for_update().get(pk=rule_set.pk)
    _editable(rule_set)
    for name in ("label", "legal_basis", "authority"):
        values[name] = plain_text_or_refuse(values.get(name, ""), field=name, max_length=300)
    if not values["legal_basis"]:
        raise PolicyViolation(_("Cite the legal basis of the rule."), field="legal_basis", code="legal_basis_missing")
    checks = (("kind", RuleKind), ("applies_to", RuleApplies), ("starts_from", RuleStartsFrom),
              ("period_unit", PeriodUnit))
    for name, choices in checks:
        if values.get(name) not in choices.values:
            raise PolicyViolation(_("Choose a value from the list."), field=name, code=f"{name}_invalid")
    if not values.get("amount") or values["amount"] < 1:
        raise PolicyViolation(_("The period is at least 1."), field="amount", code="amount_invalid")
    if rule is None:
        if rule_set.rules.filter(code=values["code"]).exists():
            raise PolicyViolation(_("This version has a rule with this code already."), field="code",
                                  code="code_taken")
        rule = DeadlineRule(rule_set=rule_set)
    for name in RULE_FIELDS:
        if name in values and not (name == "code" and rule.pk):
            setattr(rule, name, values[name])
    rule.save()
    audit_event_record(kind=EventKind.DEADLINE_RULES_CHANGED, actor=actor,
                       details={"rule_set": rule_set.number, "obligation": rule.code})
    return rule
