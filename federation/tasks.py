"""The delivery job: ids in, the propagation's claim-send-settle out (a second run sends nothing twice)."""
from celery import shared_task

from portal.actors import SystemActor
from portal.audit_context import audit_context

from .choices import SystemKind
from .models import ConnectedSystem
from .propagation import DELIVERY_CHUNK, deliveries_due, deliveries_send
from .reconcile import system_reconcile

RECONCILE_JOB = SystemActor("reconcile_job")


@shared_task(name="federation.deliver", time_limit=10 * 60, soft_time_limit=9 * 60)
def deliver(delivery_ids: list[int]) -> dict:
    with audit_context():
        return deliveries_send(delivery_ids)


@shared_task(name="federation.deliver_due", time_limit=10 * 60, soft_time_limit=9 * 60)
def deliver_due() -> dict:
    """Every minute: retries that are due and claims whose lease ran out (a killed worker's)."""
    totals = {"delivered": 0, "retrying": 0, "failed": 0}
    with audit_context():
        ids = deliveries_due()
        for start in range(0, len(ids), DELIVERY_CHUNK):
            for key, value in deliveries_send(ids[start:start + DELIVERY_CHUNK]).items():
                totals[key] += value
    return totals


@shared_task(name="federation.reconcile_all", time_limit=60 * 60, soft_time_limit=55 * 60)
def reconcile_all() -> dict:
    """Nightly: reconcile every active SCIM target (a quarantined one too: the report says it could not be read)."""
    reports = {}
    with audit_context():
        for system in ConnectedSystem.objects.filter(kind=SystemKind.SCIM, is_active=True).select_related("unit"):
            reports[system.name] = system_reconcile(actor=RECONCILE_JOB, system=system).pk
    return reports
