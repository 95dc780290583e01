"""The jobs' schedules and limits: one consistent way (CELERY_BEAT_SCHEDULE, copied by
django-celery-beat), every notifications job scheduled, and nothing that could outlive the broker's
visibility timeout (Celery on Redis would deliver it to a second worker: e-mails sent twice)."""
from django.conf import settings

from notifications import tasks
from notifications.delivery import RETRY_BACKOFF, SENDING_LEASE

JOBS = (tasks.deliver, tasks.deliver_due, tasks.send_reminders, tasks.send_digests, tasks.send_alerts,
        tasks.send_it_daily)


def test_every_periodic_job_is_in_the_beat_schedule_once():
    scheduled = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    for job in JOBS[1:]:
        assert scheduled.count(job.name) == 1
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"


def test_no_job_can_outlive_the_visibility_timeout():
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    for job in JOBS:
        assert job.time_limit is not None and job.soft_time_limit < job.time_limit < visibility


def test_retries_wait_in_rows_swept_every_minute_not_in_etas():
    sweep = settings.CELERY_BEAT_SCHEDULE["deliver-due-notices"]["schedule"]
    assert sweep.minute == set(range(60)) and sweep.hour == set(range(24))
    # The back-off may exceed the visibility timeout: it is a row's next_attempt_at, never an ETA.
    assert max(RETRY_BACKOFF).total_seconds() > 0 and SENDING_LEASE.total_seconds() < 3600
