"""Celery jobs of the letter app: each calls a service under an audit context, nothing else. Schedule:
portal.settings CELERY_BEAT_SCHEDULE."""
from celery import shared_task

from portal.audit_context import audit_context

from .services import directive_reminders_send


@shared_task(name="letter.send_directive_reminders", time_limit=15 * 60, soft_time_limit=14 * 60)
def send_directive_reminders() -> dict:
    """Daily: reminders before a directive's due date, overdue notices, escalations — each once."""
    with audit_context():
        return directive_reminders_send()
