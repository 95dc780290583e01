"""Celery jobs of the notifications app: each calls a service under an audit context, nothing else.
Schedules: portal.settings CELERY_BEAT_SCHEDULE (django-celery-beat copies them into its tables, where
the IT Center can change the times). Time limits stay far below the broker's visibility timeout (1 h):
a task still running then would be delivered to a second worker."""
from celery import shared_task

from portal.audit_context import audit_context

from .alerts import alerts_send, it_daily_send
from .delivery import deliveries_due, deliveries_send
from .digests import digests_send
from .outbox import DELIVERY_CHUNK, deliveries_dispatch
from .reminders import reminders_send


@shared_task(name="notifications.deliver", time_limit=15 * 60, soft_time_limit=14 * 60)
def deliver(notice_ids: list[int]) -> dict:
    """Send the e-mails of a chunk of notices; each is claimed first, so a redelivery sends nothing twice."""
    with audit_context():
        result = deliveries_send(notice_ids)
    return {"sent": len(result.sent), "retrying": len(result.retrying), "failed": len(result.failed),
            "cancelled": len(result.cancelled)}


@shared_task(name="notifications.deliver_due", time_limit=5 * 60, soft_time_limit=4 * 60)
def deliver_due() -> int:
    """Every minute: claims of dead workers taken back, retries due and notices never handed over, sent."""
    with audit_context():
        ids = deliveries_due()
        deliveries_dispatch([ids[start:start + DELIVERY_CHUNK] for start in range(0, len(ids), DELIVERY_CHUNK)])
    return len(ids)


@shared_task(name="notifications.send_reminders", time_limit=30 * 60, soft_time_limit=25 * 60)
def send_reminders() -> int:
    """The daily password expiry reminder pass (idempotent: each notice's key is unique)."""
    with audit_context():
        return len(reminders_send().notice_ids)


@shared_task(name="notifications.send_digests", time_limit=30 * 60, soft_time_limit=25 * 60)
def send_digests() -> int:
    """The leaders' weekly digest, once per leader and ISO week."""
    with audit_context():
        return len(digests_send())


@shared_task(name="notifications.send_alerts", time_limit=5 * 60, soft_time_limit=4 * 60)
def send_alerts() -> int:
    """Every five minutes: the IT Center's alerts, each once."""
    with audit_context():
        return len(alerts_send())


@shared_task(name="notifications.send_it_daily", time_limit=10 * 60, soft_time_limit=9 * 60)
def send_it_daily() -> int:
    """The IT Center's daily report, once a day."""
    with audit_context():
        return len(it_daily_send())
