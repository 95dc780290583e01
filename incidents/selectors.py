"""What the incidents app reads for others, already limited to the reader's scope: it_admin and
inspector see every incident, a unit leader those concerning or reported in their subtree, an officer
the reports they made. (The rule follows accounts.scope; it lives here because accounts may not import
this app's models.)"""
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.choices import Role
from accounts.models import Unit, User
from accounts.permissions import units_contained

from .choices import IncidentState, RuleKind
from .deadlines import incident_deadlines, rule_set_in_force
from .models import Containment, DeadlineRule, DeadlineRuleSet, Incident


def incidents_visible_to(user):
    incidents = Incident.objects.all()
    if user.sees_everything:
        return incidents
    if user.role == Role.UNIT_LEADER:
        path = user.unit.path
        concerned = Incident.units.through.objects.filter(incident_id=OuterRef("pk"), unit__path__startswith=path)
        return incidents.filter(Q(Exists(concerned)) | Q(reporter_unit__path__startswith=path))
    return incidents.filter(reporter=user)


def incident_list(user, *, state: str = "", category: str = ""):
    incidents = incidents_visible_to(user).select_related("handler", "reporter_unit")
    if state:
        incidents = incidents.filter(state=state)
    if category:
        incidents = incidents.filter(category=category)
    return incidents.prefetch_related(Prefetch("units", queryset=Unit.objects.only("pk", "code", "name", "path")))


def incident_get_visible(user, pk) -> Incident:
    return get_object_or_404(incidents_visible_to(user).select_related("handler", "reporter", "reporter_unit"), pk=pk)


def incident_containments(incident: Incident):
    return incident.containments.select_related("account", "unit").order_by("started_at", "id")


def containment_open_of_account(account: User) -> Containment | None:
    return Containment.objects.filter(account=account, lifted_at__isnull=True).select_related("incident").first()


def containment_open_of_unit(unit: Unit) -> Containment | None:
    return Containment.objects.filter(unit=unit, lifted_at__isnull=True).select_related("incident").first()


def units_contained_holding(unit: Unit):
    """The contained units that hold this unit (itself or a unit above it)."""
    ancestors = [segment for segment in unit.path.strip("/").split("/") if segment]
    return Unit.objects.filter(pk__in=[int(segment) for segment in ancestors], contained_at__isnull=False)


def units_contained_for_reader(user, unit: Unit | None = None, *, contained: list[dict] | None = None):
    """The contained units a dashboard shows: inside the reader's scope (below `unit` when given) or
    above it (a containment holding the reader's own unit). `contained`: the request's list
    (accounts.middleware), else read here; dicts with pk, path, name, code, contained_at."""
    if contained is None:
        contained = units_contained()
    if unit is None:
        if user.sees_everything:
            return contained
        unit = user.unit
    return [candidate for candidate in contained
            if candidate["path"].startswith(unit.path) or unit.path.startswith(candidate["path"])]


def units_contained_holding_account(account, *, contained: list[dict] | None = None) -> list[dict]:
    """The contained units that hold the account's unit (itself or a unit above it)."""
    if contained is None:
        contained = units_contained()
    return [candidate for candidate in contained if account.unit.path.startswith(candidate["path"])]


def incident_deadlines_of(incident: Incident):
    return incident_deadlines(incident)


def rule_sets():
    return DeadlineRuleSet.objects.prefetch_related("rules").order_by("-effective_from", "-number")


def rule_set_current():
    return rule_set_in_force(timezone.now())


def open_incidents_with_rules():
    """For the reminder job: every incident not closed, with its units, deadline rules and the
    obligations done, in a constant number of queries (the rule sets are few; each incident picks its own)."""
    incidents = list(Incident.objects.exclude(state=IncidentState.CLOSED).select_related("handler")
                     .prefetch_related("deadlines_met"))
    sets = list(DeadlineRuleSet.objects.prefetch_related(
        Prefetch("rules", queryset=DeadlineRule.objects.filter(kind=RuleKind.DEADLINE).select_related("rule_set"))))
    result = []
    for incident in incidents:
        rule_set = rule_set_in_force(incident.discovered_at, rule_sets=sets)
        if rule_set is None:
            continue
        met = {item.code: item.met_at for item in incident.deadlines_met.all()}
        result.append((incident, incident_deadlines(incident, rules=list(rule_set.rules.all()), met=met)))
    return result
