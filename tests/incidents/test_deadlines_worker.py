"""The incident deadline job on the real Celery worker (tests/worker.py) sending to the real SMTP server
(tests/smtp.py): reminders before a deadline and escalations after it reach the right people once — also
when the job runs twice at once on two workers, and across a change of the rules. Each test has its own
recipients (the SMTP server lives for the whole session)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.choices import Role
from incidents.choices import IncidentCategory
from incidents.deadlines import incident_deadlines
from incidents.models import DeadlineRule, DeadlineRuleSet
from incidents.services.records import incident_report
from incidents.tasks import send_deadline_notices
from notifications.choices import DeliveryState
from notifications.models import Notice
from tests.factories import UserFactory
from tests.smtp import body_text
from tests.worker import Worker

from .helpers import deadline_rules_seeded

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rules_v1(db):
    return deadline_rules_seeded()


def _people(units, suffix):
    admin = UserFactory(username=f"qt.hanchot{suffix}", role=Role.IT_ADMIN, unit=units["it_center"])
    inspector = UserFactory(username=f"tt.hanchot{suffix}", role=Role.INSPECTOR, unit=units["inspectorate"])
    return admin, inspector


def _subjects(smtp_server, address) -> list[str]:
    return sorted(str(message["Subject"]).strip() for message in smtp_server.received_by(address))


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M")


def _title(incident, deadline, phrase) -> str:
    """The notice's title as the job words it in Vietnamese (notifications/incident_deadlines.py)."""
    return f"Cảnh báo của Trung tâm CNTT: Sự cố {incident.number}: “{deadline.label}” {phrase} {_when(deadline.due_at)}"


def _run(workers) -> None:
    """The job sent to every worker at once; until each has finished its run."""
    before = [worker.runs_of(send_deadline_notices) for worker in workers]
    for worker in workers:
        worker.send(send_deadline_notices)
    for worker, done in zip(workers, before):
        worker.wait_done(send_deadline_notices, done + 1)


def test_two_workers_at_once_send_each_reminder_and_escalation_once(rules_v1, celery_worker, smtp_server, units,
                                                                     officer_bien_hoa):
    admin, inspector = _people(units, "1")
    # Discovered 4 days ago: the 5-day initial report is due in a day (reminded 48 hours ahead), the
    # 72-hour notification to A05 has passed (escalated).
    incident = incident_report(actor=officer_bien_hoa, title="Lộ danh sách công dân phường Tân Phong",
                               category=IncidentCategory.PERSONAL_DATA_BREACH,
                               discovered_at=timezone.now() - timedelta(days=4))
    due = {deadline.code: deadline for deadline in incident_deadlines(incident)}
    second = Worker().start()
    try:
        _run([celery_worker, second])
        _run([celery_worker, second])  # the beat's next pass: nothing new
    finally:
        second.stop()

    admin_mail = smtp_server.wait_for(admin.email, 2)
    inspector_mail = smtp_server.wait_for(inspector.email, 1)
    assert (len(admin_mail), len(inspector_mail)) == (2, 1)
    remind = _title(incident, due["initial_report"], "hạn chót")
    overdue = _title(incident, due["breach_notification_a05"], "đã quá hạn từ")
    assert _subjects(smtp_server, admin.email) == sorted([remind, overdue])
    assert _subjects(smtp_server, inspector.email) == [overdue]
    assert due["breach_notification_a05"].legal_basis in body_text(inspector_mail[0])
    assert sorted(Notice.objects.values_list("source_key", flat=True)) == sorted([
        f"incident:{incident.pk}:initial_report:remind", f"incident:{incident.pk}:breach_notification_a05:overdue",
        f"incident:{incident.pk}:breach_notification_a05:overdue"])
    assert Notice.objects.exclude(email_state=DeliveryState.SENT).count() == 0


def test_a_change_of_the_rules_escalates_once_and_never_reminds_again(rules_v1, celery_worker, smtp_server, units,
                                                                      officer_bien_hoa):
    admin, inspector = _people(units, "2")
    incident = incident_report(actor=officer_bien_hoa, title="Lộ mật khẩu tài khoản một cửa",
                               category=IncidentCategory.PASSWORD_LEAK,
                               discovered_at=timezone.now() - timedelta(days=4, hours=1))
    _run([celery_worker])
    smtp_server.wait_for(admin.email, 1)
    assert [key for key in Notice.objects.values_list("source_key", flat=True)] == [
        f"incident:{incident.pk}:initial_report:remind"]

    # The IT Center corrects the rules from the same day on: 3 days instead of 5 — now overdue.
    v2 = DeadlineRuleSet.objects.create(number=2, title="Sửa đổi thời hạn báo cáo ban đầu",
                                        effective_from=rules_v1.effective_from, created_by_name="test")
    for rule in rules_v1.rules.all():
        DeadlineRule.objects.create(rule_set=v2, code=rule.code, label=rule.label, legal_basis=rule.legal_basis,
                                    authority=rule.authority, kind=rule.kind, applies_to=rule.applies_to,
                                    starts_from=rule.starts_from, period_unit=rule.period_unit,
                                    remind_hours_before=rule.remind_hours_before,
                                    amount=3 if rule.code == "initial_report" else rule.amount)
    due = next(d for d in incident_deadlines(incident) if d.code == "initial_report")
    assert (due.rule_set_number, due.due_at) == (2, incident.discovered_at + timedelta(days=3))
    _run([celery_worker])
    _run([celery_worker])

    admin_mail = smtp_server.wait_for(admin.email, 2)
    inspector_mail = smtp_server.wait_for(inspector.email, 1)
    assert (len(admin_mail), len(inspector_mail)) == (2, 1)
    v1_due = incident.discovered_at + timedelta(days=5)
    reminded = f"Cảnh báo của Trung tâm CNTT: Sự cố {incident.number}: “{due.label}” hạn chót {_when(v1_due)}"
    assert _subjects(smtp_server, admin.email) == sorted([reminded, _title(incident, due, "đã quá hạn từ")])
    assert _subjects(smtp_server, inspector.email) == [_title(incident, due, "đã quá hạn từ")]
    assert sorted(Notice.objects.values_list("source_key", flat=True)) == sorted([
        f"incident:{incident.pk}:initial_report:remind", f"incident:{incident.pk}:initial_report:overdue",
        f"incident:{incident.pk}:initial_report:overdue"])
    assert Notice.objects.exclude(email_state=DeliveryState.SENT).count() == 0
