"""Writing security events. Every service that changes something that matters calls
`audit_event_record` inside its own transaction, so the change and its record commit together.

The client address, user agent and request id come from the audit context of the current request,
API call or job (portal.audit_context); the actor is a User or a named SystemActor, never None."""
from django.utils import timezone

from portal.actors import SystemActor
from portal.audit_context import current_audit_context

from .choices import EventKind
from .models import SecurityEvent


def audit_event_record(
    *,
    kind: EventKind,
    actor,
    target=None,
    unit=None,
    details: dict | None = None,
    target_username: str = "",
) -> SecurityEvent:
    if actor is None:
        raise ValueError("An audit event needs an actor: a User or a portal.actors.SystemActor.")
    if unit is None and target is not None:
        unit = target.unit
    person = None if isinstance(actor, SystemActor) else actor
    context = current_audit_context()
    return SecurityEvent.objects.create(
        occurred_at=timezone.now(),
        kind=kind,
        actor=person,
        actor_username=actor.username,
        target=target,
        target_username=target.username if target is not None else target_username,
        unit=unit,
        unit_code=unit.code if unit is not None else "",
        ip_address=context.ip_address,
        user_agent=context.user_agent,
        request_id=context.request_id,
        details=details or {},
    )


def audit_events_record(*, kind: EventKind, actor, entries: list[tuple]) -> int:
    """Many events of one kind by one actor in one INSERT (a job's per-row outcomes, e.g. a batch of
    deliveries): `entries` are (target, details) pairs; the same fields as audit_event_record."""
    if actor is None:
        raise ValueError("An audit event needs an actor: a User or a portal.actors.SystemActor.")
    person = None if isinstance(actor, SystemActor) else actor
    context = current_audit_context()
    now = timezone.now()
    rows = [SecurityEvent(occurred_at=now, kind=kind, actor=person, actor_username=actor.username, target=target,
                          target_username=target.username if target is not None else "",
                          unit=target.unit if target is not None else None,
                          unit_code=target.unit.code if target is not None and target.unit is not None else "",
                          ip_address=context.ip_address, user_agent=context.user_agent,
                          request_id=context.request_id, details=details or {})
            for target, details in entries]
    SecurityEvent.objects.bulk_create(rows)
    return len(rows)


def changes_between(old: dict, new: dict) -> dict:
    """The {"old": …, "new": …} pair of the fields whose values differ, for an event's details."""
    changed = [key for key in new if old.get(key) != new[key]]
    return {
        "old": {key: old.get(key) for key in changed},
        "new": {key: new[key] for key in changed},
    }
