"""What the letter's pages, jobs and the compliance points read: scoped by accounts.scope (an object
outside the reader's subtree does not exist for them: 404), each list a constant number of queries."""
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.choices import Role
from accounts.models import DormancyExemption, Unit, User
from accounts.scope import accounts_visible_to, units_visible_to

from .choices import AcknowledgementState, FixState
from .models import Acknowledgement, Directive, DirectiveVersion, Endpoint, Inspection, RequiredFix, UnitMeasure

# Letter point 4 (CIS Controls v8 10.2: signatures updated automatically): a machine counts against its
# unit when nobody checked it for 90 days, its signatures are older than 7 days, or it is unmanaged.
UNCHECKED_AFTER_DAYS = 90
SIGNATURES_STALE_AFTER_DAYS = 7


# ----- directives (point 1) -----------------------------------------------------------------------------

def service_account_q(now=None) -> Q:
    """Service accounts are exempt from acknowledging (ServiceNow's and Moodle's users complain of
    service logins blocked by mandatory acceptance). The portal marks a service account the way the
    dormant-account rule does: by a current dormancy exemption granted by the IT Center."""
    now = now or timezone.now()
    return Q(service_account_exists(now))


def service_account_exists(now) -> Exists:
    return Exists(DormancyExemption.objects.filter(account=OuterRef("pk"), revoked_at__isnull=True,
                                                   expires_at__gt=now))


def audience_q(directive: Directive, prefix: str = "") -> Q:
    """Active accounts of the audience: in one of its units or below, in one of its roles."""
    paths = list(directive.audience_units.values_list("path", flat=True))
    units = Q(pk__in=[])
    for path in paths:
        units |= Q(**{f"{prefix}unit__path__startswith": path})
    return units & Q(**{f"{prefix}is_active": True, f"{prefix}role__in": directive.audience_roles})


def required_version(directive: Directive) -> DirectiveVersion | None:
    """The version everyone must have acknowledged: the newest material one (a minor version after it
    asks no one again)."""
    return directive.versions.filter(material=True).order_by("-number").first()


def current_version(directive: Directive) -> DirectiveVersion | None:
    return directive.versions.order_by("-number").first()


def accepted_exists(directive: Directive, required: DirectiveVersion, as_of=None) -> Exists:
    acknowledgements = Acknowledgement.objects.filter(account=OuterRef("pk"), version__directive=directive,
                                                      version__number__gte=required.number)
    if as_of is not None:
        acknowledgements = acknowledgements.filter(acknowledged_at__lte=as_of)
    return Exists(acknowledgements)


def audience_accounts(directive: Directive, *, reader=None, now=None, as_of=None):
    """The audience (within the reader's scope), each account annotated `accepted` and `exempt`;
    `as_of` counts only the acknowledgements made by then (a past month's evidence)."""
    now = now or timezone.now()
    required = required_version(directive)
    accounts = User.objects.filter(audience_q(directive))
    if reader is not None:
        accounts = accounts.filter(pk__in=accounts_visible_to(reader).values("pk"))
    return accounts.annotate(accepted=accepted_exists(directive, required, as_of), exempt=service_account_exists(now))


def state_of(account, directive: Directive, today: date) -> str:
    if account.exempt:
        return AcknowledgementState.EXEMPT
    if account.accepted:
        return AcknowledgementState.ACCEPTED
    return AcknowledgementState.OVERDUE if today > directive.due_date else AcknowledgementState.PENDING


def directive_counts(directive: Directive, *, reader=None, unit: Unit | None = None, now=None, as_of=None) -> dict:
    """Accepted / pending / overdue / exempt, in one query (for the reader's scope, or a unit's subtree),
    now or as of a past moment."""
    now = now or timezone.now()
    today = timezone.localdate(as_of or now)
    accounts = audience_accounts(directive, reader=reader, now=now, as_of=as_of)
    if unit is not None:
        accounts = accounts.filter(unit__path__startswith=unit.path)
    figures = accounts.aggregate(
        n_total=Count("pk"), n_exempt=Count("pk", filter=Q(exempt=True)),
        n_accepted=Count("pk", filter=Q(exempt=False, accepted=True)),
        waiting=Count("pk", filter=Q(exempt=False, accepted=False)))
    overdue = today > directive.due_date
    return {"total": figures["n_total"], "accepted": figures["n_accepted"], "exempt": figures["n_exempt"],
            "pending": 0 if overdue else figures["waiting"], "overdue": figures["waiting"] if overdue else 0}


def path_and_ancestors(path: str) -> list[str]:
    """"/1/7/9/" → ["/1/", "/1/7/", "/1/7/9/"]: the unit and every unit above it."""
    parts = [part for part in path.split("/") if part]
    return ["/" + "/".join(parts[:depth]) + "/" for depth in range(1, len(parts) + 1)]


def directives_visible_to(user):
    """it_admin and inspector: all. A leader: those whose audience reaches into their subtree. An
    officer: those whose audience they are in."""
    directives = Directive.objects.all()
    if user.sees_everything:
        return directives
    above = path_and_ancestors(user.unit.path)
    if user.role == Role.UNIT_LEADER:
        return directives.filter(Q(audience_units__path__startswith=user.unit.path)
                                 | Q(audience_units__path__in=above)).distinct()
    return directives.filter(audience_roles__contains=[user.role], audience_units__path__in=above).distinct()


def directives_reaching(unit: Unit):
    """The directives whose audience includes the unit or some unit below it."""
    return Directive.objects.filter(Q(audience_units__path__startswith=unit.path)
                                    | Q(audience_units__path__in=path_and_ancestors(unit.path))).distinct()


def _in_audience(user, directive) -> bool:
    return User.objects.filter(audience_q(directive), pk=user.pk).exists()


def directive_get_visible(user, pk) -> Directive:
    return get_object_or_404(directives_visible_to(user), pk=pk)


def in_audience(user, directive: Directive) -> bool:
    return _in_audience(user, directive)


def directives_to_acknowledge(user, now=None) -> list[tuple[Directive, DirectiveVersion]]:
    """The directives the person still has to acknowledge (their home page shows them)."""
    now = now or timezone.now()
    if User.objects.filter(service_account_q(now), pk=user.pk).exists():
        return []
    waiting = []
    mine = Directive.objects.filter(audience_roles__contains=[user.role],
                                    audience_units__path__in=path_and_ancestors(user.unit.path)).distinct()
    for directive in mine:
        required = required_version(directive)
        if required and not Acknowledgement.objects.filter(account=user, version__directive=directive,
                                                           version__number__gte=required.number).exists():
            waiting.append((directive, current_version(directive)))
    return waiting


def acknowledgements_by_account(directive: Directive, account_ids) -> dict:
    """The newest acknowledgement of each account (of any version of the directive), one query."""
    newest = {}
    for ack in (Acknowledgement.objects.filter(version__directive=directive, account_id__in=account_ids)
                .select_related("version", "recorded_by").order_by("account_id", "-version__number")):
        newest.setdefault(ack.account_id, ack)
    return newest


def measures_visible(user, directive: Directive):
    measures = UnitMeasure.objects.filter(directive=directive).select_related("unit", "stated_by").order_by("unit__path")
    return measures.filter(unit__in=units_visible_to(user))


# ----- endpoints (point 4) ------------------------------------------------------------------------------

def endpoints_visible_to(user):
    """The IT Center and inspectors: every computer; a leader: their subtree's; an officer: none."""
    if user.sees_everything:
        return Endpoint.objects.all()
    if user.role == Role.UNIT_LEADER:
        return Endpoint.objects.filter(unit__path__startswith=user.unit.path)
    return Endpoint.objects.none()


def endpoint_get_visible(user, pk) -> Endpoint:
    return get_object_or_404(endpoints_visible_to(user).select_related("unit"), pk=pk)


def endpoint_cutoffs(today: date) -> tuple[date, date]:
    return today - timedelta(days=UNCHECKED_AFTER_DAYS), today - timedelta(days=SIGNATURES_STALE_AFTER_DAYS)


def endpoint_problem_qs(today: date) -> dict[str, Q]:
    checked_cutoff, signature_cutoff = endpoint_cutoffs(today)
    return {
        "unchecked": Q(last_checked__isnull=True) | Q(last_checked__lt=checked_cutoff),
        "stale_signatures": Q(signature_date__isnull=True) | Q(signature_date__lt=signature_cutoff),
        "unmanaged": Q(centrally_managed=False),
        "not_sharing": Q(monitoring_agent=False) | Q(monitoring_sharing=False),
    }


def endpoints_annotated(endpoints, today: date):
    problems = endpoint_problem_qs(today)
    annotated = endpoints.annotate(**{f"is_{name}": Q(condition) for name, condition in problems.items()})
    return annotated.annotate(counts_against=Q(problems["unchecked"] | problems["stale_signatures"]
                                               | problems["unmanaged"]))


def endpoint_figures(endpoints, today: date) -> dict:
    """Total, and the machines that count against the unit, reason by reason (one query)."""
    problems = endpoint_problem_qs(today)
    against = problems["unchecked"] | problems["stale_signatures"] | problems["unmanaged"]
    return endpoints.aggregate(total=Count("pk"), against=Count("pk", filter=against),
                               **{name: Count("pk", filter=condition) for name, condition in problems.items()})


# ----- inspections (point 5) ----------------------------------------------------------------------------

def inspections_visible_to(user):
    if user.sees_everything:
        return Inspection.objects.all()
    if user.role == Role.UNIT_LEADER:
        return Inspection.objects.filter(unit__path__startswith=user.unit.path)
    return Inspection.objects.none()


def inspection_get_visible(user, pk) -> Inspection:
    return get_object_or_404(inspections_visible_to(user).select_related("unit", "created_by"), pk=pk)


def fix_get_visible(user, pk) -> RequiredFix:
    return get_object_or_404(RequiredFix.objects.filter(finding__inspection__in=inspections_visible_to(user))
                             .select_related("finding__inspection__unit"), pk=pk)


def fixes_overdue(units, today: date):
    """Fixes still open (not closed by the inspector) past their deadline, in these units."""
    return RequiredFix.objects.filter(finding__inspection__unit__in=units, deadline__lt=today).exclude(
        state=FixState.CLOSED)


@dataclass
class InspectionRow:
    inspection: Inspection
    fixes_open: int
    fixes_overdue: int


def inspection_rows(user, today: date) -> list[InspectionRow]:
    inspections = (inspections_visible_to(user).select_related("unit")
                   .annotate(fixes_open=Count("findings__fixes", filter=~Q(findings__fixes__state=FixState.CLOSED)),
                             fixes_overdue=Count("findings__fixes", filter=~Q(findings__fixes__state=FixState.CLOSED)
                                                 & Q(findings__fixes__deadline__lt=today))))
    return [InspectionRow(inspection, inspection.fixes_open, inspection.fixes_overdue) for inspection in inspections]


def unit_path_q(unit: Unit, field: str = "unit") -> Q:
    return Q(**{f"{field}__path__startswith": unit.path})

