"""Celery jobs of the audit app (beat: portal.settings CELERY_BEAT_SCHEDULE): call a service, nothing else.

Sealing is idempotent by construction: each table's chain is extended under its advisory lock from the
last seal stored, so a doubled or redelivered run finds nothing left to seal."""
from celery import shared_task

from portal.actors import SystemActor
from portal.audit_context import audit_context

from .partitions import partitions_ahead
from .sealing import seals_run
from .verification import chain_verify


@shared_task(name="audit.seal", time_limit=10 * 60, soft_time_limit=9 * 60)
def seal() -> dict:
    """Every minute: seal what has settled since the last run (docs/architecture.md: lag ≤ 5 minutes)."""
    with audit_context():
        return {table: len(seals) for table, seals in seals_run().items()}


@shared_task(name="audit.verify", time_limit=60 * 60, soft_time_limit=55 * 60)
def verify() -> bool:
    """Daily: verify every chain; the inspector's page shows the result."""
    with audit_context():
        return chain_verify(actor_username=SystemActor("seal_job").username).ok


@shared_task(name="audit.partitions_ahead", time_limit=10 * 60, soft_time_limit=9 * 60)
def create_partitions_ahead() -> dict:
    """Daily: this month's and the next months' partitions of the partitioned tables exist."""
    with audit_context():
        return partitions_ahead()
