"""Leases of the background jobs that claim a row (an export, a roster import): the rule of the
outbox's sending claim (notifications.delivery), written once for any model with `state`, `claim`,
`claimed_at` and `attempts` (docs/conventions.md, "Celery").

A worker claims the row with a conditional UPDATE (pending → running, or running whose lease ran out →
running again under a new claim): only the process whose UPDATE changed the row goes on. While it
works it renews the lease (each progress step), and every later write is conditional on its claim, so
a worker that lost its claim — it stalled past the lease and another took over — changes nothing. A
worker killed in the middle leaves its claim to run out; the minutely sweep (`jobs_to_resume`) hands
the job to the next worker. After MAX_ATTEMPTS claims the job is failed rather than retried for ever
(a file that kills its worker each time must not loop)."""
import uuid
from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone

PENDING, RUNNING, FAILED = "pending", "running", "failed"
# A claim not renewed for this long belongs to a dead (or stalled) worker. The jobs renew it at every
# progress step, seconds apart, so a live job never comes near it.
JOB_LEASE = timedelta(minutes=5)
# A pending job never claimed this long after it was queued lost its message (the broker was down at
# commit): the sweep queues it again.
PENDING_GRACE = timedelta(minutes=10)
MAX_ATTEMPTS = 3


def job_claim(model, pk, *, now=None, lease: timedelta = JOB_LEASE):
    """Claim the job: its claim token, or None when another worker holds it or it is finished."""
    now = now or timezone.now()
    token = uuid.uuid4()
    claimable = Q(state=PENDING) | Q(state=RUNNING, claimed_at__lt=now - lease)
    if not model.objects.filter(claimable, pk=pk).update(state=RUNNING, claim=token, claimed_at=now,
                                                          attempts=F("attempts") + 1):
        return None
    if model.objects.filter(pk=pk, claim=token, attempts__gt=MAX_ATTEMPTS).update(
            state=FAILED, claim=None, finished_at=now):
        return None
    return token


def job_renew(model, pk, token, **values) -> bool:
    """Renew the lease (with the job's progress in `values`); False when the claim was lost."""
    return bool(model.objects.filter(pk=pk, claim=token, state=RUNNING).update(claimed_at=timezone.now(), **values))


def job_finish(model, pk, token, **values) -> bool:
    """The job's last write (its result and state), only by the claim's holder; the claim ends."""
    return bool(model.objects.filter(pk=pk, claim=token, state=RUNNING).update(claim=None, **values))


def jobs_to_resume(model, *, queued_field: str, now=None, lease: timedelta = JOB_LEASE) -> list:
    """Ids of the jobs the next worker should take: running with a lease run out, or pending long after
    they were queued (their message was lost)."""
    now = now or timezone.now()
    stalled = Q(state=RUNNING, claimed_at__lt=now - lease)
    lost = Q(state=PENDING, **{f"{queued_field}__lt": now - PENDING_GRACE})
    return list(model.objects.filter(stalled | lost).order_by("pk").values_list("pk", flat=True)[:100])


class LeaseLost(Exception):
    """Raised inside a job whose renewal found its claim gone: stop, and write nothing more."""
