"""Celery jobs of the compliance app: call a service under an audit context, nothing else."""
from datetime import date

from celery import shared_task

from portal.actors import SystemActor
from portal.audit_context import audit_context

from . import services


@shared_task(name="compliance.snapshot_daily", time_limit=30 * 60, soft_time_limit=25 * 60)
def snapshot_daily() -> int:
    """Today's per-unit snapshot (beat: CELERY_BEAT_SCHEDULE). Idempotent: unique per unit and day."""
    with audit_context():
        return services.snapshot_take(actor=SystemActor("compliance_job"))


@shared_task(name="compliance.monthly_reports", time_limit=60 * 60, soft_time_limit=55 * 60)
def monthly_reports(month: str | None = None) -> int:
    """On the 1st: last month's report of every unit and of the province, each made once (unique).
    `month` (YYYY-MM-DD, its first day) makes an earlier month's instead: the trial's first start."""
    chosen = date.fromisoformat(month) if month else None
    with audit_context():
        return services.monthly_reports_generate(actor=SystemActor("compliance_job"), month=chosen)


@shared_task(name="compliance.export_run", time_limit=30 * 60, soft_time_limit=25 * 60)
def export_run(job_id: int) -> None:
    """A large export; claimed pending → running, so a redelivery does nothing twice."""
    with audit_context():
        services.export_job_run(job_id=job_id)


@shared_task(name="compliance.exports_resume", bind=True, time_limit=60, soft_time_limit=50)
def exports_resume(self) -> int:
    """Every minute (beat): exports a killed worker left behind go to the next worker, on the queue this
    sweep came from (a live worker's)."""
    return len(services.export_jobs_resume(queue=(self.request.delivery_info or {}).get("routing_key")))
