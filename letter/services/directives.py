"""Directives and their acknowledgements (letter point 1: re-disseminate letter 5722/TCTTKĐA to every
officer). The IT Center publishes a directive to an audience of units (with the units below them) and
roles, with a due date; each officer acknowledges the version in force, or their leader records it on
their behalf with a note; each unit's leader states the measures the unit took. A new version marked
material asks everyone again; a minor one (a typo fixed) keeps every acknowledgement.

Reminders follow ServiceNow's policy-acknowledgement campaigns: before the due date at fixed thresholds,
then an overdue notice, then an escalation to the leader above — each once (the outbox's unique key
names the version and the threshold), so a job run twice or a worker killed sends nothing twice."""
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.attachments import attachment_store
from accounts.choices import Role
from accounts.models import User
from accounts.permissions import ensure_it_admin
from accounts.scope import accounts_visible_to
from audit.choices import EventKind
from audit.services import audit_event_record
from notifications.choices import NoticeKind
from notifications.outbox import NoticeSpec, notices_enqueue
from portal.actors import SystemActor
from portal.errors import NotAllowed, PolicyViolation

from .. import selectors
from ..choices import AcknowledgementMethod
from ..models import Acknowledgement, Directive, DirectiveVersion, UnitMeasure

# Days before the due date at which the audience is reminded; then one overdue notice the day after it;
# then, ESCALATE_AFTER_DAYS later, the leader above those still overdue.
REMINDER_DAYS = (7, 3, 1)
ESCALATE_AFTER_DAYS = 3
# Directives overdue longer than this are no longer chased by the job (the dashboards still count them).
CHASE_FOR_DAYS = 90
REMINDER_JOB = SystemActor("reminder_job")


def _refuse(message, field=None, code="directive_invalid"):
    raise PolicyViolation(message, code=code, field=field)


def _check_audience(units, roles):
    if not units:
        _refuse(_("Choose at least one unit of the audience."), "audience_units")
    if not roles or any(role not in Role.values for role in roles):
        _refuse(_("Choose at least one role of the audience."), "audience_roles")


@transaction.atomic
def directive_publish(*, actor, number: str, issued_on, issuer: str, signer: str, title: str, summary: str,
                      audience_units, audience_roles, due_date, attachment) -> Directive:
    ensure_it_admin(actor, _("Only the IT Center publishes directives."))
    _check_audience(audience_units, audience_roles)
    if due_date < issued_on:
        _refuse(_("The due date cannot be before the directive's date."), "due_date")
    if Directive.objects.filter(number=number, issued_on=issued_on).exists():
        _refuse(_("A directive %(number)s of %(date)s is already published; publish a new version of it instead.")
                % {"number": number, "date": issued_on.strftime("%d/%m/%Y")}, "number", "directive_exists")
    stored = attachment_store(attachment)
    directive = Directive.objects.create(number=number, issued_on=issued_on, issuer=issuer, signer=signer,
                                         title=title, audience_roles=list(audience_roles), due_date=due_date,
                                         created_by=None if getattr(actor, "is_system", False) else actor)
    directive.audience_units.set(audience_units)
    version = DirectiveVersion.objects.create(
        directive=directive, number=1, material=True, summary=summary, attachment_sha256=stored.sha256,
        attachment_name=stored.name, attachment_size=stored.size,
        published_by=None if getattr(actor, "is_system", False) else actor)
    audit_event_record(kind=EventKind.DIRECTIVE_PUBLISHED, actor=actor, unit=None, details={
        "directive": f"{number} ({issued_on:%d/%m/%Y})", "version": version.number,
        "due_date": due_date.strftime("%d/%m/%Y")})
    return directive


@transaction.atomic
def directive_version_publish(*, actor, directive: Directive, summary: str, material: bool, change_note: str,
                              attachment, due_date=None) -> DirectiveVersion:
    """A new text. Material: everyone acknowledges again, by the new due date. Minor: no one is asked."""
    ensure_it_admin(actor, _("Only the IT Center publishes directives."))
    directive = Directive.objects.select_for_update().get(pk=directive.pk)
    if not change_note.strip():
        _refuse(_("Say what changed in this version."), "change_note")
    if material:
        if due_date is None:
            _refuse(_("A material change needs a new due date: everyone acknowledges again."), "due_date")
        if due_date < timezone.localdate():
            _refuse(_("The new due date cannot be in the past."), "due_date")
    stored = attachment_store(attachment)
    number = (directive.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    version = DirectiveVersion.objects.create(
        directive=directive, number=number, material=material, summary=summary, change_note=change_note.strip(),
        attachment_sha256=stored.sha256, attachment_name=stored.name, attachment_size=stored.size,
        published_by=None if getattr(actor, "is_system", False) else actor)
    if material:
        directive.due_date = due_date
        directive.save(update_fields=["due_date"])
    audit_event_record(kind=EventKind.DIRECTIVE_VERSION_PUBLISHED, actor=actor, details={
        "directive": directive.number, "version": number, "material": material, "note": change_note.strip()[:200],
        "due_date": directive.due_date.strftime("%d/%m/%Y")})
    return version


def _acknowledge(*, actor, directive: Directive, account: User, method: str, note: str = "") -> Acknowledgement:
    version = selectors.current_version(directive)
    required = selectors.required_version(directive)
    existing = Acknowledgement.objects.filter(account=account, version__directive=directive,
                                              version__number__gte=required.number).first()
    if existing is not None:
        return existing  # idempotent: a second click, or the leader after the officer, changes nothing
    try:
        with transaction.atomic():
            ack = Acknowledgement.objects.create(version=version, account=account, method=method, note=note,
                                                 recorded_by=actor if method == AcknowledgementMethod.ON_BEHALF else None)
    except IntegrityError:
        return Acknowledgement.objects.get(version=version, account=account)
    audit_event_record(kind=EventKind.DIRECTIVE_ACKNOWLEDGED, actor=actor, target=account, details={
        "directive": directive.number, "version": version.number, "method": method,
        **({"note": note[:200]} if note else {})})
    return ack


@transaction.atomic
def directive_acknowledge(*, actor, directive: Directive) -> Acknowledgement:
    """The officer has read the version in force."""
    if not selectors.in_audience(actor, directive):
        raise NotAllowed(_("This directive is not addressed to you."))
    return _acknowledge(actor=actor, directive=directive, account=actor, method=AcknowledgementMethod.PORTAL)


@transaction.atomic
def directive_acknowledge_on_behalf(*, actor, directive: Directive, account: User, note: str) -> Acknowledgement:
    """A leader records that an officer of their subtree was briefed (someone who cannot sign in, a
    briefing held in a meeting), with a note saying how; the row says who recorded it."""
    if actor.role != Role.UNIT_LEADER:
        raise NotAllowed(_("Only a unit leader records an acknowledgement on an officer's behalf."))
    if account.pk == actor.pk:
        raise NotAllowed(_("Acknowledge your own copy with the button above."))
    if not accounts_visible_to(actor).filter(pk=account.pk).exists():
        raise NotAllowed(_("This officer is not in your units."))
    if not selectors.in_audience(account, directive):
        raise NotAllowed(_("This directive is not addressed to this officer."))
    note = (note or "").strip()
    if not note:
        _refuse(_("Say how the officer was briefed (a meeting, a signed list…)."), "note")
    return _acknowledge(actor=actor, directive=directive, account=account, method=AcknowledgementMethod.ON_BEHALF,
                        note=note[:300])


@transaction.atomic
def unit_measure_state(*, actor, directive: Directive, statement: str) -> UnitMeasure:
    """A leader states what their unit did about the directive (a second statement replaces the first)."""
    if actor.role != Role.UNIT_LEADER:
        raise NotAllowed(_("Only a unit leader states the measures of the unit."))
    if not any(actor.unit.path.startswith(unit.path) for unit in directive.audience_units.all()):
        raise NotAllowed(_("This directive is not addressed to your unit."))
    statement = (statement or "").strip()
    if len(statement) < 10:
        _refuse(_("Describe the measures taken (at least a sentence)."), "statement")
    measure, _created = UnitMeasure.objects.update_or_create(
        directive=directive, unit=actor.unit,
        defaults={"statement": statement[:4000], "stated_by": actor, "stated_at": timezone.now()})
    audit_event_record(kind=EventKind.DIRECTIVE_MEASURES_STATED, actor=actor, unit=actor.unit,
                       details={"directive": directive.number})
    return measure


# ----- reminders, overdue notices, escalations -----------------------------------------------------------

def _stage(days_left: int) -> str | None:
    """The notice owed now: "before:T" (the smallest threshold reached), "overdue", or None."""
    if days_left < 0:
        return "overdue"
    reached = [days for days in REMINDER_DAYS if days_left <= days]
    return f"before:{min(reached)}" if reached else None


def _leader_above(account, leaders_by_unit: dict, units_by_path: dict):
    """The nearest active leaders above the account: of its own unit for an officer, of the unit above
    for a leader; climbing until a unit has one."""
    paths = selectors.path_and_ancestors(account.unit.path)
    if account.role == Role.UNIT_LEADER:
        paths = paths[:-1]
    for path in reversed(paths):
        unit_id = units_by_path.get(path)
        leaders = [leader for leader in leaders_by_unit.get(unit_id, []) if leader.pk != account.pk]
        if leaders:
            return leaders
    return []


def directive_reminders_send(*, actor=REMINDER_JOB, now=None) -> dict:
    """One pass over the directives being chased: the notices owed now, each made once."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    made = {"reminders": 0, "overdue": 0, "escalations": 0}
    directives = Directive.objects.filter(due_date__gte=today - timedelta(days=CHASE_FOR_DAYS),
                                          due_date__lte=today + timedelta(days=max(REMINDER_DAYS)))
    for directive in directives:
        with transaction.atomic():
            counts = _directive_notices(directive, now, today)
            if any(counts.values()):
                audit_event_record(kind=EventKind.DIRECTIVE_REMINDERS_SENT, actor=actor,
                                   details={"directive": directive.number, **counts})
        for key, value in counts.items():
            made[key] += value
    return made


def _directive_notices(directive: Directive, now, today) -> dict:
    required = selectors.required_version(directive)
    days_left = (directive.due_date - today).days
    stage = _stage(days_left)
    counts = {"reminders": 0, "overdue": 0, "escalations": 0}
    if required is None or stage is None:
        return counts
    waiting = list(selectors.audience_accounts(directive, now=now).filter(accepted=False, exempt=False)
                   .select_related("unit"))
    if not waiting:
        return counts
    deadline = timezone.make_aware(datetime.combine(directive.due_date, time(23, 59)))
    link = settings.PORTAL_URL.rstrip("/") + reverse("letter:directive", args=[directive.pk])
    base = {"directive_number": directive.number, "directive_title": directive.title, "directive_url": link}
    specs = [NoticeSpec(recipient=account, kind=NoticeKind.DIRECTIVE,
                        source_key=f"directive:{required.pk}:{stage}",
                        context={**base, "stage": stage.split(":")[0], "days_left": max(days_left, 0)},
                        deadline=deadline) for account in waiting]
    made = notices_enqueue(specs)
    counts["overdue" if stage == "overdue" else "reminders"] = len(made)
    if days_left <= -ESCALATE_AFTER_DAYS:
        counts["escalations"] = _escalate(directive, required, waiting, base, deadline)
    return counts


def _escalate(directive, required, waiting, base, deadline) -> int:
    leaders = User.objects.filter(role=Role.UNIT_LEADER, is_active=True).select_related("unit")
    leaders_by_unit, units_by_path = {}, {}
    for leader in leaders:
        leaders_by_unit.setdefault(leader.unit_id, []).append(leader)
        units_by_path[leader.unit.path] = leader.unit_id
    overdue_below = {}
    for account in waiting:
        for leader in _leader_above(account, leaders_by_unit, units_by_path):
            overdue_below.setdefault(leader, []).append(account)
    specs = [NoticeSpec(recipient=leader, kind=NoticeKind.DIRECTIVE, source_key=f"directive:{required.pk}:escalation",
                        context={**base, "stage": "escalation", "overdue_count": len(accounts),
                                 "overdue_names": [account.full_name for account in accounts[:20]]},
                        deadline=deadline)
             for leader, accounts in overdue_below.items()]
    return len(notices_enqueue(specs))
