"""What the notifications app reads for others: a person's own notices (nobody reads another's)."""
from .models import Notice, NotificationPreference


def notices_for(user):
    return Notice.objects.filter(recipient=user).select_related("recipient", "recipient__unit")


def unread_count(user) -> int:
    """The bell's number: one indexed count (the partial index of unread notices)."""
    return Notice.objects.filter(recipient=user, read_at__isnull=True).count()


def notice_get_own(user, pk) -> Notice:
    """The reader's own notice, or Notice.DoesNotExist (a view answers 404, also for a guessed id)."""
    return notices_for(user).get(pk=pk)


def preference_for(user) -> NotificationPreference:
    return NotificationPreference.objects.filter(account=user).first() or NotificationPreference(account=user)
