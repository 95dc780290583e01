"""Celery jobs of the incidents app: the deadline reminders and escalations (notifications layer)."""
from celery import shared_task

from notifications.incident_deadlines import incident_deadline_notices_send
from portal.audit_context import audit_context


@shared_task(name="incidents.send_deadline_notices", time_limit=10 * 60, soft_time_limit=9 * 60)
def send_deadline_notices() -> int:
    """Every 15 minutes: reminders before each incident deadline and an escalation after it, each once
    (the notice's unique key claims it: a second run or a second worker sends nothing twice)."""
    with audit_context():
        return len(incident_deadline_notices_send())
