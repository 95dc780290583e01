"""Sending the outbox's e-mails: ready → sending → sent | failed, each step a conditional UPDATE
(healthchecks' sendalerts.py: only the process whose UPDATE changed the row goes on), so a job run
twice, two workers or a redelivered task never send a notice twice.

A failed attempt is not retried by Celery with a countdown (Redis redelivers a task whose ETA is past
the visibility timeout: the e-mail goes out twice) but by the row: `next_attempt_at` with a growing
back-off, picked up by the minutely sweep; after the last attempt the notice is failed, shown to the
IT Center and resendable. A worker killed while sending leaves a claim that the sweep takes back after
the lease; only a kill between the SMTP server's acceptance and the row's update can send one twice,
and both copies then carry the same Message-ID."""
import logging
import smtplib
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import ensure_it_admin
from audit.choices import EventKind
from audit.services import audit_event_record
from portal.errors import DomainError

from .choices import DeliveryState, NoticeKind
from .messages import notice_email
from .models import Notice
from .outbox import deliveries_dispatch_on_commit

logger = logging.getLogger(__name__)

# Wait before attempt 2, 3, 4, 5; the fifth failure is final. About 2 h 40 in all: an SMTP server down
# for a maintenance window does not fail a day's reminders, one down for good is seen the same morning.
RETRY_BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
MAX_ATTEMPTS = len(RETRY_BACKOFF) + 1
# A claim older than this is a dead worker's: the sweep makes the notice ready again.
SENDING_LEASE = timedelta(minutes=10)
SWEEP_LIMIT = 5000


@dataclass
class DeliveryResult:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)


def _due_q(now) -> Q:
    return Q(email_state=DeliveryState.READY) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def deliveries_send(notice_ids: list[int]) -> DeliveryResult:
    """Send the ready notices among `notice_ids` over one SMTP session. Each is claimed on its own right
    before its send (ready → sending, a conditional UPDATE: only the worker that changed the row sends)
    and marked right after, so a worker killed mid-chunk leaves at most one notice claimed — taken back
    by the sweep after the lease — and the chunk's others untouched for the next worker."""
    result = DeliveryResult()
    candidates = list(Notice.objects.filter(_due_q(timezone.now()), pk__in=list(notice_ids))
                      .select_related("recipient", "recipient__unit").order_by("id"))
    if not candidates:
        return result
    smtp = get_connection()
    try:
        smtp.open()  # one session for the chunk (send_messages would open and close one per message)
    except (smtplib.SMTPException, OSError):
        pass  # each message then tries on its own, and its failure is counted on its row
    try:
        for notice in candidates:
            claim = uuid.uuid4()
            now = timezone.now()
            claimed = Notice.objects.filter(_due_q(now), pk=notice.pk).update(
                email_state=DeliveryState.SENDING, claim=claim, claimed_at=now, attempts=F("attempts") + 1)
            if not claimed:
                continue  # another worker has it, or sent it already
            notice.attempts += 1
            _deliver_one(notice, claim, smtp, result)
    finally:
        try:
            smtp.close()
        except (smtplib.SMTPException, OSError):
            pass  # the session is gone already; every notice of it is marked
    return result


def _superseded(notice: Notice) -> bool:
    """An expiry reminder about a password changed since (or an account disabled) is not sent."""
    if notice.kind != NoticeKind.PASSWORD_EXPIRY:
        return False
    recipient = notice.recipient
    return (not recipient.is_active or recipient.password_change_reason != ""
            or recipient.password_changed_at != notice.password_version)


def _deliver_one(notice: Notice, claim, smtp, result: DeliveryResult) -> None:
    mine = Notice.objects.filter(pk=notice.pk, claim=claim, email_state=DeliveryState.SENDING)
    if _superseded(notice):
        if mine.update(email_state=DeliveryState.CANCELLED, claim=None):
            result.cancelled.append(notice.pk)
        return
    try:
        notice_email(notice, connection=smtp).send()
    except (smtplib.SMTPException, OSError) as error:
        _attempt_failed(mine, notice, error, result)
        try:
            smtp.close()  # a broken session is opened afresh for the next message
        except (smtplib.SMTPException, OSError):
            pass
        return
    if mine.update(email_state=DeliveryState.SENT, sent_at=timezone.now(), claim=None, last_error=""):
        result.sent.append(notice.pk)


def _attempt_failed(mine, notice: Notice, error: Exception, result: DeliveryResult) -> None:
    reason = f"{type(error).__name__}: {error}"[:200]
    if notice.attempts >= MAX_ATTEMPTS:
        if mine.update(email_state=DeliveryState.FAILED, claim=None, last_error=reason, next_attempt_at=None):
            result.failed.append(notice.pk)
            logger.warning("Notice %s failed after %d attempts: %s", notice.pk, notice.attempts, reason)
        return
    wait = RETRY_BACKOFF[notice.attempts - 1]
    if mine.update(email_state=DeliveryState.READY, claim=None, last_error=reason,
                   next_attempt_at=timezone.now() + wait):
        result.retrying.append(notice.pk)


def deliveries_due(now=None) -> list[int]:
    """The sweep (every minute): take back the claims of dead workers, then the ids of the notices due
    now — never sent yet (the broker was down at commit) or waiting for their next attempt."""
    now = now or timezone.now()
    Notice.objects.filter(email_state=DeliveryState.SENDING, claimed_at__lt=now - SENDING_LEASE).update(
        email_state=DeliveryState.READY, claim=None, next_attempt_at=None)
    return list(Notice.objects.filter(_due_q(now)).order_by("id").values_list("id", flat=True)[:SWEEP_LIMIT])


# ----- the IT Center: failed notices, resent -----------------------------------------------------------

def failed_notices_for(user):
    """Failed e-mails, newest first: the IT Center's to see and resend (it_admin only)."""
    ensure_it_admin(user)
    return Notice.objects.filter(email_state=DeliveryState.FAILED).select_related("recipient", "recipient__unit")


@transaction.atomic
def notices_resend(*, actor, notice_ids: list[int]) -> int:
    """Failed → ready again with a fresh count of attempts (one conditional UPDATE: a second click or a
    second admin resends nothing twice), audited per notice; sent after commit."""
    ensure_it_admin(actor, _("Only IT Center administrators may resend notices."))
    ids = list(Notice.objects.filter(pk__in=list(notice_ids), email_state=DeliveryState.FAILED)
               .select_for_update().values_list("pk", flat=True))
    if not ids:
        raise DomainError(_("These notices are no longer failed: they were resent already."), code="not_failed")
    Notice.objects.filter(pk__in=ids, email_state=DeliveryState.FAILED).update(
        email_state=DeliveryState.READY, attempts=0, next_attempt_at=None, claim=None, failure_alerted_at=None)
    for notice in Notice.objects.filter(pk__in=ids).select_related("recipient", "recipient__unit"):
        audit_event_record(kind=EventKind.NOTICE_RESENT, actor=actor, target=notice.recipient,
                           details={"notice": notice.pk, "notice_kind": notice.kind})
    deliveries_dispatch_on_commit(ids)
    return len(ids)
