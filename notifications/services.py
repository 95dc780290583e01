"""What a person does with their notices: mark them read, choose how optional notices reach them."""
from django.db import transaction
from django.utils import timezone

from .models import Notice, NotificationPreference


def notice_mark_read(*, actor, notice_ids: list[int] | None = None) -> int:
    """Mark the actor's own notices read (all of them when `notice_ids` is None); another person's
    notice is never touched, whatever id is sent."""
    notices = Notice.objects.filter(recipient_id=actor.pk, read_at__isnull=True)
    if notice_ids is not None:
        notices = notices.filter(pk__in=list(notice_ids))
    return notices.update(read_at=timezone.now())


@transaction.atomic
def notification_preference_set(*, actor, optional_by_email: bool) -> NotificationPreference:
    preference, _created = NotificationPreference.objects.update_or_create(
        account_id=actor.pk, defaults={"optional_by_email": optional_by_email, "updated_at": timezone.now()})
    return preference
