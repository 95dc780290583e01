"""The incident record: reported by anyone signed in, triaged and handled by the IT Center, with an
append-only timeline and evidence files; every change audited in the same transaction."""
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import Unit, User
from accounts.services._common import plain_text_or_refuse
from audit.choices import EventKind
from audit.services import audit_event_record
from portal.errors import DomainError, NotAllowed, PolicyViolation

from ..choices import NEXT_STATES, IncidentCategory, IncidentState, Severity, TimelineKind
from ..deadlines import incident_deadlines
from ..evidence import evidence_check, evidence_write
from ..models import DeadlineMet, Evidence, Incident
from ._common import (
    TEXT_MAX_LENGTH,
    actor_name,
    ensure_incident_handler,
    ensure_open,
    ensure_signed_in_person_or_system,
    timeline_add,
)

LONG_TEXT_MAX_LENGTH = 20_000
SYSTEMS_MAX = 30


def _text(value, *, field, max_length=TEXT_MAX_LENGTH, required=False, message=None) -> str:
    text = plain_text_or_refuse(value or "", field=field, max_length=max_length)
    if required and not text:
        raise PolicyViolation(message or _("This field is required."), field=field, code=f"{field}_missing")
    return text


def _long_text(value, *, field) -> str:
    text = (value or "").strip()
    if len(text) > LONG_TEXT_MAX_LENGTH:
        raise PolicyViolation(_("This text has at most %(limit)d characters.") % {"limit": LONG_TEXT_MAX_LENGTH},
                              field=field, code="too_long")
    if "\x00" in text:
        raise PolicyViolation(_("This text holds a character that cannot be stored."), field=field, code="invalid")
    return text


def _systems(values) -> list[str]:
    systems = []
    for value in values or []:
        name = plain_text_or_refuse(value, field="systems", max_length=100)
        if name and name not in systems:
            systems.append(name)
    if len(systems) > SYSTEMS_MAX:
        raise PolicyViolation(_("Name at most %(count)d systems.") % {"count": SYSTEMS_MAX}, field="systems",
                              code="too_many_systems")
    return systems


def _times_checked(discovered_at, occurred_at, now) -> None:
    if discovered_at is None:
        raise PolicyViolation(_("Give when the incident was discovered."), field="discovered_at",
                              code="discovered_missing")
    if discovered_at > now:
        raise PolicyViolation(_("The discovery cannot be in the future."), field="discovered_at",
                              code="discovered_in_future")
    if occurred_at is not None and occurred_at > discovered_at:
        raise PolicyViolation(_("An incident cannot occur after it was discovered."), field="occurred_at",
                              code="occurred_after_discovery")


def _number_assign(incident: Incident) -> None:
    incident.number = f"SC-{timezone.localtime(incident.created_at):%Y}-{incident.pk:05d}"
    incident.save(update_fields=["number"])


@transaction.atomic
def incident_report(*, actor, title: str, category: str, discovered_at, description: str = "", occurred_at=None,
                    units=(), systems=(), personal_data_involved: bool = False, personal_data_categories: str = "",
                    citizens_affected: int | None = None, source_key: str = "") -> Incident:
    """Anyone signed in reports a suspected incident; the IT Center triages it."""
    ensure_signed_in_person_or_system(actor)
    now = timezone.now()
    title = _text(title, field="title", max_length=200, required=True,
                  message=_("Give the incident a short title."))
    if category not in IncidentCategory.values:
        raise PolicyViolation(_("Choose a category from the list."), field="category", code="category_invalid")
    _times_checked(discovered_at, occurred_at, now)
    if citizens_affected is not None and citizens_affected < 0:
        raise PolicyViolation(_("Give a number of citizens of 0 or more."), field="citizens_affected",
                              code="citizens_invalid")
    incident = Incident(
        number=f"p-{uuid.uuid4().hex[:16]}", title=title, description=_long_text(description, field="description"),
        category=category, discovered_at=discovered_at, occurred_at=occurred_at, systems=_systems(systems),
        personal_data_involved=bool(personal_data_involved),
        personal_data_categories=_text(personal_data_categories, field="personal_data_categories"),
        citizens_affected=citizens_affected, reporter=None if getattr(actor, "is_system", False) else actor,
        reporter_name=actor_name(actor), reporter_unit=getattr(actor, "unit", None), source_key=source_key,
        created_at=now)
    try:
        with transaction.atomic():
            incident.save()
    except IntegrityError as error:
        raise DomainError(_("An incident was already opened from this."), code="incident_exists") from error
    _number_assign(incident)
    incident.units.set(list(units))
    timeline_add(incident=incident, actor=actor, kind=TimelineKind.REPORTED, text=title,
                 details={"source": source_key} if source_key else None)
    audit_event_record(kind=EventKind.INCIDENT_REPORTED, actor=actor, unit=getattr(actor, "unit", None),
                       details={"incident": incident.number, "category": category})
    return incident


@transaction.atomic
def incident_triage(*, actor, incident: Incident, severity: str, category: str, handler: User | None,
                    note: str = "") -> Incident:
    ensure_incident_handler(actor)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.state != IncidentState.REPORTED:
        raise DomainError(_("This incident was triaged already."), code="already_triaged")
    if severity not in Severity.values:
        raise PolicyViolation(_("Choose a severity from the list."), field="severity", code="severity_invalid")
    if category not in IncidentCategory.values:
        raise PolicyViolation(_("Choose a category from the list."), field="category", code="category_invalid")
    if handler is not None and (handler.role != Role.IT_ADMIN or not handler.is_active):
        raise PolicyViolation(_("The handler is an active IT Center administrator."), field="handler",
                              code="handler_invalid")
    note = _text(note, field="note")
    incident.severity, incident.category, incident.handler = severity, category, handler
    incident.state = IncidentState.TRIAGED
    incident.save(update_fields=["severity", "category", "handler", "state"])
    text = _("Triaged: severity %(severity)s, handled by %(handler)s.") % {
        "severity": incident.get_severity_display(), "handler": handler.full_name if handler else "—"}
    timeline_add(incident=incident, actor=actor, kind=TimelineKind.STATE, text=f"{text} {note}".strip(),
                 details={"state": IncidentState.TRIAGED})
    audit_event_record(kind=EventKind.INCIDENT_STATE_CHANGED, actor=actor, unit=None,
                       details={"incident": incident.number, "state": IncidentState.TRIAGED, "severity": severity,
                                "handler": handler.username if handler else ""})
    return incident


def incident_state_set_locked(*, actor, incident: Incident, state: str, note: str = "") -> None:
    """Move a locked incident row to the next stage (shared by the page and by containment)."""
    if state not in NEXT_STATES.get(incident.state, ()):
        raise DomainError(_("An incident at stage “%(current)s” cannot move to “%(next)s”.") % {
            "current": incident.get_state_display(), "next": IncidentState(state).label}
            if state in IncidentState.values else _("Choose a stage from the list."), code="state_invalid")
    now = timezone.now()
    incident.state = state
    fields = ["state"]
    if state == IncidentState.RESOLVED:
        incident.response_ended_at = now
        fields.append("response_ended_at")
    if state == IncidentState.CLOSED:
        incident.closed_at = now
        fields.append("closed_at")
    incident.save(update_fields=fields)
    text = _("Stage: %(state)s.") % {"state": incident.get_state_display()}
    timeline_add(incident=incident, actor=actor, kind=TimelineKind.STATE, text=f"{text} {note}".strip(),
                 details={"state": state})
    audit_event_record(kind=EventKind.INCIDENT_STATE_CHANGED, actor=actor,
                       details={"incident": incident.number, "state": state})


@transaction.atomic
def incident_state_change(*, actor, incident: Incident, state: str, note: str = "") -> Incident:
    ensure_incident_handler(actor)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    note = _text(note, field="note")
    if state == IncidentState.CLOSED and not incident.lessons_learned.strip():
        raise PolicyViolation(_("Write the lessons learned before closing the incident."), field="lessons_learned",
                              code="lessons_missing")
    incident_state_set_locked(actor=actor, incident=incident, state=state, note=note)
    return incident


UPDATABLE = ("title", "description", "occurred_at", "systems", "personal_data_involved", "personal_data_categories",
             "citizens_affected", "actions_taken", "lessons_learned", "severity", "category", "handler")


@transaction.atomic
def incident_update(*, actor, incident: Incident, values: dict, units=None) -> Incident:
    """The IT Center completes the record: what happened, systems, personal data, actions, lessons."""
    ensure_incident_handler(actor)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    ensure_open(incident)
    clean = {}
    for name, value in values.items():
        if name not in UPDATABLE:
            continue
        if name in ("description", "actions_taken", "lessons_learned"):
            value = _long_text(value, field=name)
        elif name == "title":
            value = _text(value, field="title", max_length=200, required=True)
        elif name == "personal_data_categories":
            value = _text(value, field=name)
        elif name == "systems":
            value = _systems(value)
        elif name == "occurred_at" and value is not None and value > incident.discovered_at:
            raise PolicyViolation(_("An incident cannot occur after it was discovered."), field="occurred_at",
                                  code="occurred_after_discovery")
        elif name == "severity" and value not in Severity.values:
            raise PolicyViolation(_("Choose a severity from the list."), field="severity", code="severity_invalid")
        elif name == "category" and value not in IncidentCategory.values:
            raise PolicyViolation(_("Choose a category from the list."), field="category", code="category_invalid")
        clean[name] = value
    changed = [name for name, value in clean.items() if getattr(incident, name) != value]
    for name in changed:
        setattr(incident, name, clean[name])
    if changed:
        incident.save(update_fields=changed)
    units_changed = False
    if units is not None:
        new_ids = sorted(unit.pk for unit in units)
        if new_ids != sorted(incident.units.values_list("pk", flat=True)):
            incident.units.set(list(units))
            units_changed = True
            changed.append("units")
    if changed:
        labels = ", ".join(str(Incident._meta.get_field(name).verbose_name) for name in changed)
        timeline_add(incident=incident, actor=actor, kind=TimelineKind.UPDATED,
                     text=_("Record changed: %(fields)s.") % {"fields": labels}, details={"fields": changed})
        audit_event_record(kind=EventKind.INCIDENT_UPDATED, actor=actor,
                           details={"incident": incident.number, "fields": changed,
                                    **({"units": [u.code for u in units]} if units_changed else {})})
    return incident


@transaction.atomic
def incident_note_add(*, actor, incident: Incident, text: str):
    ensure_incident_handler(actor)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    ensure_open(incident)
    text = _long_text(text, field="text")
    if not text:
        raise PolicyViolation(_("Write the note."), field="text", code="note_missing")
    entry = timeline_add(incident=incident, actor=actor, kind=TimelineKind.NOTE, text=text)
    audit_event_record(kind=EventKind.INCIDENT_NOTE_ADDED, actor=actor, details={"incident": incident.number})
    return entry


def incident_evidence_add(*, actor, incident: Incident, uploaded, description: str = "") -> Evidence:
    """Check the file by its content, then record it (the file is written only after the checks, and
    under its digest: a refused upload leaves nothing behind)."""
    ensure_incident_handler(actor)
    description = _text(description, field="description")
    checked = evidence_check(uploaded)
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        ensure_open(incident)
        if incident.evidence.filter(sha256=checked.sha256).exists():
            raise PolicyViolation(_("This file is already in the incident's evidence."), field="file",
                                  code="evidence_duplicate")
        evidence = Evidence.objects.create(
            incident=incident, sha256=checked.sha256, size=checked.size, name=checked.name,
            file_type=checked.file_type, description=description,
            added_by=None if getattr(actor, "is_system", False) else actor, added_by_name=actor_name(actor))
        evidence_write(checked)
        timeline_add(incident=incident, actor=actor, kind=TimelineKind.EVIDENCE,
                     text=_("Evidence added: %(name)s (SHA-256 %(sha256)s).") % {"name": checked.name,
                                                                                "sha256": checked.sha256},
                     details={"evidence": evidence.pk})
        audit_event_record(kind=EventKind.INCIDENT_EVIDENCE_ADDED, actor=actor,
                           details={"incident": incident.number, "file": checked.name, "sha256": checked.sha256})
    return evidence


@transaction.atomic
def incident_deadline_met(*, actor, incident: Incident, code: str, note: str = "") -> DeadlineMet:
    """An obligation done (the report sent to the authority): its reminders stop."""
    ensure_incident_handler(actor)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    deadline = next((d for d in incident_deadlines(incident) if d.code == code), None)
    if deadline is None:
        raise PolicyViolation(_("This incident has no such deadline."), code="deadline_unknown")
    if deadline.met_at is not None:
        raise DomainError(_("This obligation was recorded as done already."), code="deadline_already_met")
    note = _text(note, field="note")
    met = DeadlineMet.objects.create(incident=incident, code=code, met_by=actor if not getattr(actor, "is_system", False)
                                     else None, met_by_name=actor_name(actor), note=note)
    timeline_add(incident=incident, actor=actor, kind=TimelineKind.DEADLINE,
                 text=_("Done: %(obligation)s. %(note)s") % {"obligation": deadline.label, "note": note},
                 details={"obligation": code})
    audit_event_record(kind=EventKind.INCIDENT_UPDATED, actor=actor,
                       details={"incident": incident.number, "obligation": code})
    return met


# ----- opening an incident in one step from what the portal saw -----------------------------------------

def _open_once(*, actor, source_key: str, **fields) -> tuple[Incident, bool]:
    """The incident opened from this source, made now or found (the same button pressed twice)."""
    ensure_incident_handler(actor)
    existing = Incident.objects.filter(source_key=source_key).first()
    if existing is not None:
        return existing, False
    try:
        return incident_report(actor=actor, source_key=source_key, **fields), True
    except DomainError as error:
        if error.code != "incident_exists":
            raise
        return Incident.objects.get(source_key=source_key), False


def incident_open_from_anomaly(*, actor, flag) -> tuple[Incident, bool]:
    unit = Unit.objects.filter(pk=flag.unit_id_then).first() if flag.unit_id_then else None
    return _open_once(
        actor=actor, source_key=f"anomaly_flag:{flag.pk}",
        title=_("Flagged lookup by %(officer)s: %(kind)s") % {"officer": flag.officer_username,
                                                              "kind": flag.get_kind_display()},
        category=IncidentCategory.CITIZEN_DATA_MISUSE, discovered_at=timezone.now(), occurred_at=flag.decided_at,
        description=_("Opened from the flagged lookup #%(id)s of %(officer)s (unit %(unit)s).") % {
            "id": flag.pk, "officer": flag.officer_username, "unit": flag.unit_code_then},
        units=[unit] if unit else [], personal_data_involved=True)


def incident_open_from_lockout(*, actor, event) -> tuple[Incident, bool]:
    return _open_once(
        actor=actor, source_key=f"lockout:{event.pk}",
        title=_("Lockouts after failed sign-ins: %(username)s") % {"username": event.target_username},
        category=IncidentCategory.PASSWORD_LEAK, discovered_at=timezone.now(), occurred_at=event.occurred_at,
        description=_("Opened from the lockout recorded at %(when)s (address %(ip)s).") % {
            "when": timezone.localtime(event.occurred_at).strftime("%d/%m/%Y %H:%M"), "ip": event.ip_address or "—"},
        units=[event.unit] if event.unit_id else [])


def incident_open_from_seal_verification(*, actor, verification) -> tuple[Incident, bool]:
    if verification.ok:
        raise NotAllowed(_("This verification found the log intact: there is no incident to open."),
                         code="verification_ok")
    return _open_once(
        actor=actor, source_key=f"seal_verification:{verification.pk}",
        title=_("Log seal verification failed"), category=IncidentCategory.MALWARE, discovered_at=timezone.now(),
        occurred_at=None, description=verification.first_problem[:LONG_TEXT_MAX_LENGTH])
