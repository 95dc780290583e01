"""The outbox against a real Celery worker (tests/worker.py) and a real SMTP server (tests/smtp.py):
the right people get the right messages, once — also with the job run twice, a worker killed in the
middle of a run and restarted, and the SMTP server down (failed after the retries, shown to the IT
Center, resent)."""
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from accounts.choices import Role
from notifications.choices import DeliveryState, NoticeKind
from notifications.delivery import MAX_ATTEMPTS
from notifications.models import Notice
from notifications.reminders import reminders_send
from notifications.tasks import deliver, deliver_due, send_reminders
from tests.factories import UserFactory
from tests.helpers import login
from tests.smtp import body_text
from tests.worker import Worker

from .helpers import changed_for

pytestmark = pytest.mark.django_db(transaction=True)


def _officers(units, count, prefix, days_left=3):
    return [UserFactory(username=f"{prefix}{index}", unit=units["tan_phong"],
                        password_changed_at=changed_for(days_left=days_left)) for index in range(count)]


def test_the_daily_job_run_twice_sends_each_reminder_once(celery_worker, smtp_server, units):
    officers = _officers(units, 3, "cb.twice")
    not_due = UserFactory(username="cb.notdue", unit=units["tan_phong"], password_changed_at=changed_for(days_left=30))
    before = celery_worker.runs_of(send_reminders)
    celery_worker.send(send_reminders)
    celery_worker.send(send_reminders)
    celery_worker.wait_done(send_reminders, before + 2)
    for officer in officers:
        received = smtp_server.wait_for(officer.email, 1)
        assert len(received) == 1
        assert str(received[0]["Subject"]).strip() == "Mật khẩu của bạn sẽ hết hạn sau 3 ngày"
        assert f"<notice-{Notice.objects.get(recipient=officer).pk}@" in received[0]["Message-ID"]
    assert smtp_server.received_by(not_due.email) == []
    assert Notice.objects.filter(email_state=DeliveryState.SENT).count() == 3


def test_a_worker_killed_mid_run_then_restarted_sends_each_notice_exactly_once(celery_worker, smtp_server, units):
    officers = _officers(units, 12, "cb.killed")
    ids = reminders_send(dispatch=False).notice_ids
    assert len(ids) == 12
    smtp_server.delay = 0.3  # each message takes a while: the worker is killed inside one of them
    worker = Worker().start()
    begun = smtp_server.started
    try:
        worker.send(deliver, ids)
        smtp_server.wait_started(begun + 6)  # the sixth message is being received
        worker.process.kill()
        worker.process.wait(timeout=10)
    finally:
        smtp_server.delay = 0
        worker.stop()
    states = dict(Notice.objects.filter(pk__in=ids).values_list("email_state").annotate(n=Count("pk")).order_by())
    assert states == {DeliveryState.SENT: 5, DeliveryState.SENDING: 1, DeliveryState.READY: 6}
    # The restarted worker: the sweep (every minute) takes the dead worker's claim back once its lease
    # has passed, and sends what is left; the killed task, delivered again, finds nothing to send.
    Notice.objects.filter(email_state=DeliveryState.SENDING).update(claimed_at=timezone.now() - timedelta(hours=1))
    restarted = Worker().start()
    try:
        restarted.send(deliver_due)
        for officer in officers:
            smtp_server.wait_for(officer.email, 1)
        before = restarted.runs_of(deliver)
        restarted.send(deliver, ids)
        restarted.wait_done(deliver, before + 1)
    finally:
        restarted.stop()
    for officer in officers:
        assert len(smtp_server.received_by(officer.email)) == 1
    assert Notice.objects.filter(pk__in=ids, email_state=DeliveryState.SENT).count() == 12


def test_with_the_smtp_server_down_a_notice_fails_after_its_retries_and_is_resent(
        celery_worker, smtp_server, units, client):
    admin = UserFactory(username="qt.resend", unit=units["it_center"], role=Role.IT_ADMIN)
    officer = UserFactory(username="cb.smtpdown", unit=units["tan_phong"], password_changed_at=changed_for(days_left=1))
    smtp_server.stop()
    try:
        notice_id = reminders_send(dispatch=False).notice_ids[0]
        before = celery_worker.runs_of(deliver)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            # The back-off is the row's: the test moves the next attempt to now instead of waiting.
            Notice.objects.filter(pk=notice_id).update(next_attempt_at=timezone.now())
            celery_worker.send(deliver, [notice_id])
            celery_worker.wait_done(deliver, before + attempt)
            notice = Notice.objects.get(pk=notice_id)
            assert notice.attempts == attempt
        assert notice.email_state == DeliveryState.FAILED
        assert notice.last_error.startswith("ConnectionRefusedError")
    finally:
        smtp_server.start()
    assert smtp_server.received_by(officer.email) == []
    # Still shown in the officer's notifications, and to the IT Center as failed.
    assert Notice.objects.get(pk=notice_id).read_at is None
    page = login(client, admin).get("/notifications/failed/")
    assert page.status_code == 200
    assert "cb.smtpdown" in page.content.decode()
    response = client.post("/notifications/failed/", {"notice": [notice_id]})
    assert response.status_code == 302
    received = smtp_server.wait_for(officer.email, 1)
    assert len(received) == 1
    assert Notice.objects.get(pk=notice_id).email_state == DeliveryState.SENT
    # A second click on the page resends nothing.
    client.post("/notifications/failed/", {"notice": [notice_id]})
    assert len(smtp_server.wait_for(officer.email, 1)) == 1


def test_no_message_holds_the_one_time_password(celery_worker, smtp_server, units, it_admin):
    from accounts.services import account_create, account_password_reset

    account, first_password, _record = account_create(
        actor=it_admin, username="cb.moi", full_name="Ngô Văn Bình", unit=units["tan_phong"], role=Role.OFFICER,
        email="cb.moi@dongnai.gov.vn")
    second_password, record = account_password_reset(actor=it_admin, account=account)
    received = smtp_server.wait_for("cb.moi@dongnai.gov.vn", 2)
    assert len(received) == 2
    assert {str(message["Subject"]).strip() for message in received} == {
        "Tài khoản của bạn đã được tạo", "Trung tâm CNTT đã đặt lại mật khẩu của bạn"}
    for message in received:
        text = body_text(message)
        assert first_password not in text
        assert second_password not in text
    assert record.number in body_text(received[-1]) or record.number in body_text(received[0])
    assert Notice.objects.filter(recipient=account, kind=NoticeKind.ONE_TIME_PASSWORD_ISSUED).count() == 2


def test_a_failed_job_is_recorded_for_the_it_centers_alerts(celery_worker):
    from notifications.models import JobFailure

    before = celery_worker.runs_of(deliver)
    celery_worker.send(deliver, "không phải mã số")  # a malformed argument: the job raises
    celery_worker.wait_done(deliver, before + 1)
    [failure] = JobFailure.objects.filter(task_name="notifications.deliver")
    assert failure.error == "ValueError" and failure.alerted_at is None
