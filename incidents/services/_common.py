"""Pieces the incidents services share: who may act, and the timeline."""
from django.utils.translation import gettext as _

from accounts.permissions import ensure_it_admin, is_system_actor
from portal.errors import NotAllowed

from ..choices import IncidentState
from ..models import Incident, TimelineEntry

TEXT_MAX_LENGTH = 300


def ensure_signed_in_person_or_system(actor) -> None:
    """Any signed-in account may report a suspected incident (officers too)."""
    if actor is None:
        raise TypeError("The actor is never None: pass a User or a portal.actors.SystemActor.")
    if is_system_actor(actor):
        return
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise NotAllowed(_("Sign in to report an incident."), code="not_signed_in")


def ensure_incident_handler(actor) -> None:
    ensure_it_admin(actor, _("Only IT Center administrators handle incidents."))


def ensure_open(incident: Incident) -> None:
    if incident.state == IncidentState.CLOSED:
        raise NotAllowed(_("This incident is closed: its record no longer changes."), code="incident_closed")


def actor_name(actor) -> str:
    return actor.full_name or actor.username


def timeline_add(*, incident: Incident, actor, kind: str, text: str, details: dict | None = None) -> TimelineEntry:
    return TimelineEntry.objects.create(
        incident=incident, kind=kind, actor=None if is_system_actor(actor) else actor, actor_name=actor_name(actor),
        text=text, details=details or {})
