"""Celery jobs of the accounts app: load what they need, call a service, nothing else."""
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from portal.actors import SystemActor
from portal.audit_context import audit_context

from .services.dormancy import dormant_accounts_disable
from .services.recertification import recertification_daily
from .services.reconciliation import roster_import_run, roster_import_time_out, roster_imports_resume
from .services.sessions import sessions_expired_end
from .services.turnover import turnover_due_execute
from .services.turnover_completion import TURNOVER_COMPLETION_JOB, turnover_completion_sweep


@shared_task(name="accounts.disable_dormant_accounts", time_limit=30 * 60, soft_time_limit=25 * 60)
def disable_dormant_accounts() -> int:
    """The daily dormant-account pass (beat: portal.settings CELERY_BEAT_SCHEDULE). Idempotent: each
    account is judged and disabled under its row lock, so a redelivered or doubled run does nothing twice."""
    with audit_context():
        return len(dormant_accounts_disable(actor=SystemActor("dormant_job")))


@shared_task(name="accounts.execute_due_turnover_requests", time_limit=30 * 60, soft_time_limit=25 * 60)
def execute_due_turnover_requests() -> int:
    """The daily pass over accepted turnover requests whose effective date has come. Idempotent: each
    request is claimed (accepted → executed) by a conditional update before any line runs."""
    with audit_context():
        return len(turnover_due_execute(actor=SystemActor("turnover_job")))


@shared_task(name="accounts.complete_turnover_requests", time_limit=5 * 60, soft_time_limit=4 * 60)
def complete_turnover_requests() -> int:
    """Every five minutes: confirmations the connected systems gave are marked, and executed requests
    with nothing left to confirm become complete. Idempotent: each mark and each completion is a
    conditional update, so a doubled run changes nothing more."""
    with audit_context():
        return len(turnover_completion_sweep(actor=TURNOVER_COMPLETION_JOB)["completed"])


@shared_task(name="accounts.reconcile_roster", time_limit=5 * 60, soft_time_limit=4 * 60)
def reconcile_roster(import_id: int) -> None:
    """Reconcile a large uploaded roster; claimed pending → running, so a redelivery does nothing twice.
    A time limit (20,000 rows take well under a minute): a file that holds the worker longer is refused."""
    with audit_context():
        try:
            roster_import_run(import_id=import_id)
        except SoftTimeLimitExceeded:
            roster_import_time_out(import_id=import_id)


@shared_task(name="accounts.recertification_daily", time_limit=30 * 60, soft_time_limit=25 * 60)
def recertification_daily_task() -> dict:
    """Start a campaign when due, remind leaders with items left, escalate, close — each step claimed."""
    with audit_context():
        return recertification_daily(actor=SystemActor("recertification_job"))


@shared_task(name="accounts.roster_imports_resume", bind=True, time_limit=60, soft_time_limit=50)
def roster_imports_resume_task(self) -> int:
    """Every minute (beat): roster imports a killed worker left behind go to the next worker, on the
    queue this sweep came from (a live worker's)."""
    return len(roster_imports_resume(queue=(self.request.delivery_info or {}).get("routing_key")))


@shared_task(name="accounts.sessions_expired_end", time_limit=120, soft_time_limit=100)
def sessions_expired_end_task() -> int:
    """Every minute (beat): sessions past their idle or lifetime limit end here and in the connected
    systems, even when their browser never comes back. Idempotent: each session is claimed by deleting
    its row."""
    with audit_context():
        return sessions_expired_end()
