"""Celery jobs of the lookups app: call a service, nothing else."""
from celery import shared_task

from portal.actors import SystemActor
from portal.audit_context import audit_context

from .quotas import quota_counters_prune
from .services import anomaly_flags_process


@shared_task(name="lookups.process_anomaly_flags", time_limit=10 * 60, soft_time_limit=9 * 60)
def process_anomaly_flags() -> int:
    """Every minute (beat: portal.settings CELERY_BEAT_SCHEDULE): one security event per anomaly flag
    the lookup decisions wrote. Idempotent: each batch is claimed by a conditional update."""
    with audit_context():
        return anomaly_flags_process(actor=SystemActor("anomaly_job"))


@shared_task(name="lookups.prune_quota_counters", time_limit=10 * 60, soft_time_limit=9 * 60)
def prune_quota_counters() -> int:
    """Daily (beat): delete the quota counters of subjects not counted for two days (officers who left,
    units merged) — the only rows lookups_quotacounter could otherwise keep. Idempotent."""
    return quota_counters_prune()
