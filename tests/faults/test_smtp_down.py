"""SMTP down (the sink stopped, tests/smtp.py): the notices stay queued in the outbox, retried on their
own clock, and are sent once when the server is back (docs/faults.md). A real worker (tests/worker.py)."""
import pytest
from django.utils import timezone

from notifications.choices import DeliveryState
from notifications.models import Notice
from notifications.tasks import deliver_due, send_reminders
from tests.factories import UserFactory
from tests.notifications.helpers import changed_for


@pytest.mark.django_db(transaction=True)
def test_notices_wait_in_the_outbox_while_smtp_is_down_and_go_once_when_it_is_back(celery_worker, smtp_server, units):
    officers = [UserFactory(username=f"cb.thu{n}", unit=units["tan_phong"], password_changed_at=changed_for(days_left=7))
                for n in range(3)]
    smtp_server.stop()
    try:
        before = celery_worker.runs_of(send_reminders)
        celery_worker.send(send_reminders)
        celery_worker.wait_done(send_reminders, before + 1)
        celery_worker.wait_idle()  # the delivery job it handed the e-mails to has tried, and failed
        notices = Notice.objects.filter(recipient__in=officers)
        assert notices.count() == 3
        assert set(notices.values_list("email_state", "attempts")) == {(DeliveryState.READY, 1)}
        assert all(notice.last_error.startswith("ConnectionRefusedError") for notice in notices)
        # The sweep while the server is still down: one more attempt each, still queued, nothing lost.
        notices.update(next_attempt_at=timezone.now())  # the back-off is the row's; a test does not wait
        celery_worker.send(deliver_due)
        celery_worker.wait_idle()
        assert set(notices.values_list("email_state", "attempts")) == {(DeliveryState.READY, 2)}
    finally:
        smtp_server.start()
    notices.update(next_attempt_at=timezone.now())
    for _run in range(2):  # the minutely sweep, twice: the second finds nothing to send
        celery_worker.send(deliver_due)
        celery_worker.wait_idle()
    for officer in officers:
        assert len(smtp_server.wait_for(officer.email, 1)) == 1
    assert set(notices.values_list("email_state", flat=True)) == {DeliveryState.SENT}
