"""`manage.py trial_jobs`: what `make run` sends to its worker at every start (portal/trial.py), so that a
trial shows within minutes what production shows after its first night and first Monday.

Beat keeps production's schedule (CELERY_BEAT_SCHEDULE: seals, anomaly flags and deliveries every
minute, alerts every five); the daily and weekly jobs are sent once now as if their hour had come, and
the months of the sample population's history that have ended get their monthly reports. Every job is
idempotent (reminders by their unique key, digests once per leader and ISO week, the daily report
once a day, a report once per unit and month), so a second start sends nothing twice."""
from datetime import date, timedelta

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from compliance.models import UnitSnapshot

# The jobs of the day and of the week, by their Celery names (CELERY_BEAT_SCHEDULE).
DAILY_JOBS = (
    "notifications.send_reminders",
    "notifications.send_it_daily",
    "notifications.send_digests",
    "notifications.send_alerts",
    "accounts.recertification_daily",
)
REPORT_MONTHS_MAX = 3  # the sample population's history is a quarter


def months_ended_with_snapshots(today: date) -> list[date]:
    """The first days of the months before this one that have snapshots (at most REPORT_MONTHS_MAX)."""
    first = UnitSnapshot.objects.order_by("day").values_list("day", flat=True).first()
    months = []
    month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    while first is not None and month >= first.replace(day=1) and len(months) < REPORT_MONTHS_MAX:
        months.append(month)
        month = (month - timedelta(days=1)).replace(day=1)
    return sorted(months)


class Command(BaseCommand):
    help = ("Trial machines (DEBUG=1) only: send the daily and weekly jobs to the worker now, and the monthly "
            "reports of the months that have ended since the sample data begins. A job already done does nothing.")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("trial_jobs is for trial machines (DEBUG=1) only: production keeps its schedule.")
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError("trial_jobs sends to a worker: set REDIS_URL (make run starts one).")
        for name in DAILY_JOBS:
            current_app.send_task(name)
        months = months_ended_with_snapshots(timezone.localdate())
        for month in months:
            current_app.send_task("compliance.monthly_reports", kwargs={"month": month.isoformat()})
        self.stdout.write(f"Jobs sent: {len(DAILY_JOBS)}; monthly reports asked for: "
                          f"{', '.join(month.strftime('%m/%Y') for month in months) or 'none'}")
