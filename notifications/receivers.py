"""Hooks into Celery's signals; each hands over to a service at once."""
from celery.signals import task_failure

from .alerts import job_failure_record


@task_failure.connect
def on_task_failure(sender=None, task_id=None, exception=None, **kwargs):
    # Every job's failure (a time limit exceeded too) becomes an IT Center alert on the next pass.
    job_failure_record(task_name=getattr(sender, "name", str(sender)), task_id=task_id or "", error=exception)
