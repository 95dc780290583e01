"""The delivery job in-process (Django's test outbox): claims, retries as rows with a growing back-off,
failure after the last attempt, the sweep, and reminders made stale by a new password."""
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.choices import DeliveryState, NoticeKind
from notifications.delivery import MAX_ATTEMPTS, RETRY_BACKOFF, SENDING_LEASE, deliveries_due, deliveries_send
from notifications.models import Notice
from notifications.outbox import notice_enqueue
from notifications.reminders import reminders_send


@pytest.fixture
def broken_smtp(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens


@pytest.mark.django_db
def test_it_sends_once_whatever_the_number_of_runs(officer_bien_hoa, mailoutbox):
    notice_id = notice_enqueue(recipient=officer_bien_hoa, kind=NoticeKind.ACCOUNT_LOCKED, source_key="event:1",
                               context={"minutes": 15})
    assert deliveries_send([notice_id]).sent == [notice_id]
    assert deliveries_send([notice_id]).sent == []
    assert len(mailoutbox) == 1
    notice = Notice.objects.get(pk=notice_id)
    assert (notice.email_state, notice.attempts, notice.claim) == (DeliveryState.SENT, 1, None)


@pytest.mark.django_db
def test_a_failure_is_retried_with_a_growing_back_off_then_fails(officer_bien_hoa, broken_smtp):
    notice_id = notice_enqueue(recipient=officer_bien_hoa, kind=NoticeKind.ACCOUNT_LOCKED, source_key="event:1",
                               context={"minutes": 15})
    for attempt in range(1, MAX_ATTEMPTS):
        before = timezone.now()
        assert deliveries_send([notice_id]).retrying == [notice_id]
        notice = Notice.objects.get(pk=notice_id)
        assert notice.email_state == DeliveryState.READY and notice.attempts == attempt
        assert before + RETRY_BACKOFF[attempt - 1] <= notice.next_attempt_at <= timezone.now() + RETRY_BACKOFF[attempt - 1]
        assert deliveries_send([notice_id]).retrying == []  # not due yet: nothing is attempted early
        assert deliveries_due() == []
        Notice.objects.filter(pk=notice_id).update(next_attempt_at=timezone.now())
        assert deliveries_due() == [notice_id]
    assert deliveries_send([notice_id]).failed == [notice_id]
    notice = Notice.objects.get(pk=notice_id)
    assert (notice.email_state, notice.attempts) == (DeliveryState.FAILED, MAX_ATTEMPTS)
    assert notice.last_error.startswith("ConnectionRefusedError")
    assert deliveries_due() == []


@pytest.mark.django_db
def test_the_sweep_takes_back_a_dead_workers_claim_after_the_lease(officer_bien_hoa):
    notice_id = notice_enqueue(recipient=officer_bien_hoa, kind=NoticeKind.ACCOUNT_LOCKED, source_key="event:1",
                               context={"minutes": 15})
    Notice.objects.filter(pk=notice_id).update(email_state=DeliveryState.SENDING,
                                               claimed_at=timezone.now() - SENDING_LEASE + timedelta(minutes=1))
    assert deliveries_due() == []
    Notice.objects.filter(pk=notice_id).update(claimed_at=timezone.now() - SENDING_LEASE - timedelta(minutes=1))
    assert deliveries_due() == [notice_id]
    assert Notice.objects.get(pk=notice_id).email_state == DeliveryState.READY


@pytest.mark.django_db
def test_a_reminder_about_a_changed_password_is_not_sent(officer_due_in_7, mailoutbox):
    [notice_id] = reminders_send(dispatch=False).notice_ids
    officer_due_in_7.password_changed_at = timezone.now()
    officer_due_in_7.save(update_fields=["password_changed_at"])
    assert deliveries_send([notice_id]).cancelled == [notice_id]
    assert mailoutbox == []
    assert Notice.objects.get(pk=notice_id).email_state == DeliveryState.CANCELLED
