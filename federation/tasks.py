"""The delivery job: ids in, the propagation's claim-send-settle out (a second run sends nothing twice)."""
from celery import shared_task

from accounts.models import User
from portal.actors import SystemActor
from portal.audit_context import audit_context

from .choices import SystemKind
from .models import ConnectedSystem
from .propagation import DELIVERY_CHUNK, deliveries_due, deliveries_send
from .reconcile import system_reconcile
from .targets import systems_quarantine_expire

RECONCILE_JOB = SystemActor("reconcile_job")
QUARANTINE_JOB = SystemActor("quarantine_job")


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


@shared_task(name="federation.reconcile_system", time_limit=30 * 60, soft_time_limit=25 * 60)
def reconcile_system(system_id: int, requested_by_id: int | None = None) -> int | None:
    """On demand (the system page's "Reconcile now"): one target, in the name of the IT admin who asked
    (who must still hold the right when it runs), else of the reconciliation job. Returns the report's id."""
    system = ConnectedSystem.objects.select_related("unit").filter(pk=system_id, kind=SystemKind.SCIM).first()
    if system is None:
        return None
    actor = RECONCILE_JOB
    if requested_by_id is not None:
        actor = User.objects.filter(pk=requested_by_id).first()
        if actor is None:
            return None
    with audit_context():
        return system_reconcile(actor=actor, system=system).pk


@shared_task(name="federation.quarantine_expire", time_limit=10 * 60, soft_time_limit=9 * 60)
def quarantine_expire() -> list[str]:
    """Daily (01:10): stop the deliveries of the SCIM targets quarantined for four weeks."""
    with audit_context():
        return systems_quarantine_expire(actor=QUARANTINE_JOB)
