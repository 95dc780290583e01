"""Writing security events. Every service that changes something that matters calls
`audit_event_record` inside its own transaction, so the change and its record commit together."""
from django.utils import timezone

from portal.client_ip import client_ip

from .choices import EventKind
from .models import SecurityEvent


def audit_event_record(
    *,
    kind: EventKind,
    actor=None,
    target=None,
    unit=None,
    request=None,
    details: dict | None = None,
    target_username: str = "",
) -> SecurityEvent:
    if unit is None and target is not None:
        unit = target.unit
    ip_address = client_ip(request) if request is not None else None
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:255] if request is not None else ""
    return SecurityEvent.objects.create(
        occurred_at=timezone.now(),
        kind=kind,
        actor=actor,
        actor_username=actor.username if actor is not None else "",
        target=target,
        target_username=target.username if target is not None else target_username,
        unit=unit,
        unit_code=unit.code if unit is not None else "",
        ip_address=ip_address,
        user_agent=user_agent,
        details=details or {},
    )


def changes_between(old: dict, new: dict) -> dict:
    """The {"old": …, "new": …} pair of the fields whose values differ, for an event's details."""
    changed = [key for key in new if old.get(key) != new[key]]
    return {
        "old": {key: old.get(key) for key in changed},
        "new": {key: new[key] for key in changed},
    }
