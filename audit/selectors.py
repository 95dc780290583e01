from django.db.models import Q

from accounts.scope import units_visible_to

from .models import SecurityEvent


def security_events_of_account(account, *, limit=20):
    """The latest events about one account, for its page (the caller has already checked scope)."""
    return SecurityEvent.objects.filter(target=account).order_by("-id")[:limit]


def security_events_visible_to(user, *, kind="", username="", unit_code="", date_from=None, date_to=None):
    """Events the user may read (it_admin and inspector: all; a leader: their subtree), filtered."""
    events = SecurityEvent.objects.all()
    if not user.sees_everything:
        events = events.filter(unit__in=units_visible_to(user))
    if kind:
        events = events.filter(kind=kind)
    if username:
        events = events.filter(Q(target_username__icontains=username) | Q(actor_username__icontains=username))
    if unit_code:
        events = events.filter(unit_code=unit_code)
    if date_from:
        events = events.filter(occurred_at__date__gte=date_from)
    if date_to:
        events = events.filter(occurred_at__date__lte=date_to)
    return events.order_by("-id")
