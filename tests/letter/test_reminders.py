"""Letter point 1's reminders: before the due date at each threshold, then one overdue notice, then an
escalation to the leader above — each once, however often the job runs; a material version starts
afresh, a minor one does not; exempt and acknowledged officers get nothing."""
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from accounts.choices import Role
from audit.choices import EventKind
from audit.models import SecurityEvent
from letter.services import directive_acknowledge, directive_reminders_send, directive_version_publish
from letter.tasks import send_directive_reminders
from notifications.choices import NoticeKind
from notifications.messages import notice_message
from notifications.models import Notice
from tests.factories import UserFactory


def _at(directive, days_before_due):
    day = directive.due_date - timedelta(days=days_before_due)
    return timezone.make_aware(datetime.combine(day, time(7, 5)))


def _keys(recipient=None):
    notices = Notice.objects.filter(kind=NoticeKind.DIRECTIVE)
    if recipient is not None:
        notices = notices.filter(recipient=recipient)
    return sorted(key.split(":", 2)[2] for key in notices.values_list("source_key", flat=True))


def test_reminders_once_per_threshold(directive, officer_bien_hoa, leader_bien_hoa):
    assert directive_reminders_send(now=_at(directive, 10)) == {"reminders": 0, "overdue": 0, "escalations": 0}
    assert directive_reminders_send(now=_at(directive, 7)) == {"reminders": 2, "overdue": 0, "escalations": 0}
    assert directive_reminders_send(now=_at(directive, 7)) == {"reminders": 0, "overdue": 0, "escalations": 0}
    assert directive_reminders_send(now=_at(directive, 5)) == {"reminders": 0, "overdue": 0, "escalations": 0}
    assert directive_reminders_send(now=_at(directive, 3))["reminders"] == 2
    assert directive_reminders_send(now=_at(directive, 0))["reminders"] == 2
    assert _keys(officer_bien_hoa) == ["before:1", "before:3", "before:7"]
    assert SecurityEvent.objects.filter(kind=EventKind.DIRECTIVE_REMINDERS_SENT).count() == 3


def test_a_missed_run_catches_up_with_the_threshold_reached_only(directive, officer_bien_hoa):
    directive_reminders_send(now=_at(directive, 2))
    assert _keys(officer_bien_hoa) == ["before:3"]


def test_overdue_then_escalation_to_the_leader_above(directive, officer_bien_hoa, leader_bien_hoa, units):
    leader_province = UserFactory(username="ld.tinh", role=Role.UNIT_LEADER, unit=units["province"])
    directive_acknowledge(actor=leader_bien_hoa, directive=directive)
    assert directive_reminders_send(now=_at(directive, -1)) == {"reminders": 0, "overdue": 1, "escalations": 0}
    assert directive_reminders_send(now=_at(directive, -2)) == {"reminders": 0, "overdue": 0, "escalations": 0}
    assert directive_reminders_send(now=_at(directive, -3)) == {"reminders": 0, "overdue": 0, "escalations": 1}
    assert directive_reminders_send(now=_at(directive, -4)) == {"reminders": 0, "overdue": 0, "escalations": 0}
    # The officer of a Biên Hòa ward: their leader above is Biên Hòa's; the province's leader is not asked.
    escalation = Notice.objects.get(source_key__endswith=":escalation")
    assert escalation.recipient == leader_bien_hoa
    assert escalation.context["overdue_count"] == 1
    assert _keys(leader_province) == []
    message = notice_message(escalation, in_app=True)
    assert message.subject == "Cán bộ thuộc đơn vị của bạn chưa xác nhận văn bản 5722/TCTTKĐA"
    assert "1 cán bộ thuộc đơn vị của bạn chưa xác nhận văn bản 5722/TCTTKĐA" in message.text


def test_acknowledged_and_exempt_officers_get_nothing(directive, officer_bien_hoa, leader_bien_hoa):
    directive_acknowledge(actor=officer_bien_hoa, directive=directive)
    directive_reminders_send(now=_at(directive, 7))
    assert _keys(officer_bien_hoa) == []
    assert _keys(leader_bien_hoa) == ["before:7"]


def test_a_material_version_reminds_again_and_a_minor_one_does_not(directive, it_admin, officer_bien_hoa,
                                                                   pdf_upload):
    directive_reminders_send(now=_at(directive, 7))
    directive_version_publish(actor=it_admin, directive=directive, summary="Sửa chính tả", material=False,
                              change_note="Sửa chính tả", attachment=pdf_upload())
    directive_reminders_send(now=_at(directive, 7))
    assert Notice.objects.filter(recipient=officer_bien_hoa, kind=NoticeKind.DIRECTIVE).count() == 1
    directive_version_publish(actor=it_admin, directive=directive, summary="Bổ sung", material=True,
                              change_note="Bổ sung quy định", attachment=pdf_upload(), due_date=directive.due_date)
    directive_reminders_send(now=_at(directive, 7))
    assert Notice.objects.filter(recipient=officer_bien_hoa, kind=NoticeKind.DIRECTIVE).count() == 2


def test_the_job_runs_the_pass(directive, officer_bien_hoa, leader_bien_hoa, settings):
    # The job's "now" is the real one: put the due date 3 days ahead so the 3-day threshold is due.
    directive.due_date = timezone.localdate() + timedelta(days=3)
    directive.save(update_fields=["due_date"])
    assert send_directive_reminders.apply().get() == {"reminders": 2, "overdue": 0, "escalations": 0}
    assert send_directive_reminders.apply().get() == {"reminders": 0, "overdue": 0, "escalations": 0}
    message = notice_message(Notice.objects.get(recipient=officer_bien_hoa), in_app=True)
    assert message.subject == "Nhắc nhở: xác nhận văn bản 5722/TCTTKĐA"


def test_a_pass_costs_the_same_queries_for_2_or_40_officers(directive, officer_bien_hoa, leader_bien_hoa, units,
                                                             django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        directive_reminders_send(now=_at(directive, 7))
    for n in range(38):
        UserFactory(username=f"cb.them{n}", role=Role.OFFICER, unit=units["tan_phong"])
    with CaptureQueriesContext(connection) as many:
        assert directive_reminders_send(now=_at(directive, 3))["reminders"] == 40
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_the_job_on_a_real_worker_mails_each_officer_once(directive, officer_bien_hoa, leader_bien_hoa,
                                                         celery_worker, smtp_server):
    from tests.smtp import body_text

    directive.due_date = timezone.localdate() + timedelta(days=3)
    directive.save(update_fields=["due_date"])
    # The SMTP server lives for the whole session: count only what this test sends (other tests mail
    # the same fixture accounts).
    mailed_officer = len(smtp_server.received_by(officer_bien_hoa.email))
    mailed_leader = len(smtp_server.received_by(leader_bien_hoa.email))
    before = celery_worker.runs_of(send_directive_reminders)
    celery_worker.send(send_directive_reminders)
    celery_worker.send(send_directive_reminders)
    celery_worker.wait_done(send_directive_reminders, before + 2)
    [message] = smtp_server.wait_for(officer_bien_hoa.email, mailed_officer + 1)[mailed_officer:]
    assert str(message["Subject"]).strip() == "Nhắc nhở: xác nhận văn bản 5722/TCTTKĐA"
    assert "còn 3 ngày" in body_text(message)
    assert len(smtp_server.wait_for(leader_bien_hoa.email, mailed_leader + 1)) == mailed_leader + 1
    assert Notice.objects.filter(kind=NoticeKind.DIRECTIVE).count() == 2
