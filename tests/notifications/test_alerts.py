"""IT Center alerts: lockout bursts, turnover requests past their service level, failed jobs and failed
deliveries — each once, to every active IT admin — a source plugged in from another app, and the
daily report with its sections."""
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.choices import Role, TurnoverState
from accounts.models import TurnoverRequest
from audit.choices import EventKind
from audit.services import audit_event_record
from notifications import alerts
from notifications.alerts import DailySection, SelectorSource, alerts_send, it_daily_send, job_failure_record
from notifications.choices import DeliveryState, NoticeKind
from notifications.messages import notice_message
from notifications.models import JobFailure, Notice
from portal.actors import SystemActor
from tests.factories import UserFactory


@pytest.fixture
def admins(units, it_admin):
    second = UserFactory(username="qt.second", role=Role.IT_ADMIN, unit=units["it_center"])
    UserFactory(username="qt.disabled", role=Role.IT_ADMIN, unit=units["it_center"], is_active=False)
    return [it_admin, second]


def _alerts(source):
    return list(Notice.objects.filter(kind=NoticeKind.IT_ALERT, context__source=source).order_by("recipient_id"))


@pytest.mark.django_db
def test_a_burst_of_lockouts_is_alerted_once_to_every_active_admin(admins, settings):
    settings.NOTIFICATIONS_LOCKOUT_BURST = 3
    for index in range(3):
        audit_event_record(kind=EventKind.LOCKOUT, actor=SystemActor("anonymous"), target_username=f"cb.x{index}")
    alerts_send()
    alerts_send()
    notices = _alerts("lockout_burst")
    assert [notice.recipient_id for notice in notices] == sorted(admin.pk for admin in admins)
    message = notice_message(notices[0])
    assert message.subject == "Cảnh báo của Trung tâm CNTT: Nhiều tài khoản bị khóa liên tiếp"
    assert "cb.x2" in message.text


@pytest.mark.django_db
def test_fewer_lockouts_than_a_burst_alert_nobody(admins, settings):
    settings.NOTIFICATIONS_LOCKOUT_BURST = 3
    for index in range(2):
        audit_event_record(kind=EventKind.LOCKOUT, actor=SystemActor("anonymous"), target_username=f"cb.x{index}")
    assert alerts_send() == []


@pytest.mark.django_db
def test_a_turnover_request_past_its_service_level_is_alerted_once(admins, units, leader_bien_hoa):
    request = TurnoverRequest.objects.create(
        unit=units["bien_hoa"], unit_code=units["bien_hoa"].code, unit_name=units["bien_hoa"].name,
        issuing_unit_name=units["bien_hoa"].name, letter_number="45/UBND-VP", letter_date=timezone.localdate(),
        effective_date=timezone.localdate(), signer_name="Lê Minh Tuấn", signer_position="Chủ tịch",
        created_by=leader_bien_hoa, state=TurnoverState.SUBMITTED, due_at=timezone.now() - timedelta(hours=2))
    alerts_send()
    alerts_send()
    notices = _alerts("turnover_overdue")
    assert len(notices) == 2
    assert notices[0].source_key == f"alert:turnover_overdue:request:{request.pk}"
    assert "45/UBND-VP" in notice_message(notices[0]).text


@pytest.mark.django_db
def test_failed_jobs_are_alerted_once_and_marked(admins):
    job_failure_record(task_name="accounts.disable_dormant_accounts", task_id="t1", error=TimeoutError("x"))
    alerts_send()
    alerts_send()
    [first, _second] = _alerts("failed_jobs")
    assert "accounts.disable_dormant_accounts" in notice_message(first).text
    assert "TimeoutError" in notice_message(first).text
    assert JobFailure.objects.filter(alerted_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_failed_deliveries_are_alerted_once_but_not_the_alerts_own(admins, officer_bien_hoa):
    Notice.objects.create(recipient=officer_bien_hoa, kind=NoticeKind.ACCOUNT_LOCKED, source_key="event:1",
                          email_state=DeliveryState.FAILED, email_to=officer_bien_hoa.email)
    Notice.objects.create(recipient=admins[0], kind=NoticeKind.IT_ALERT, source_key="alert:x:1",
                          email_state=DeliveryState.FAILED, email_to=admins[0].email)
    alerts_send()
    alerts_send()
    notices = _alerts("failed_deliveries")
    assert len(notices) == 2
    assert "Tài khoản bị khóa: 1" in notice_message(notices[0]).text
    assert Notice.objects.filter(email_state=DeliveryState.FAILED, failure_alerted_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_a_source_from_another_app_plugs_in(admins):
    marked = []
    flags = ["flag-1", "flag-2"]
    source = SelectorSource(
        "anomalous_lookups", select=lambda: [flag for flag in flags if flag not in marked],
        describe=lambda records: (f"up-to:{records[-1]}", "Tra cứu bất thường", [f"Cờ {r}" for r in records]),
        mark=marked.extend)
    alerts_send(sources=[source])
    alerts_send(sources=[source])
    assert marked == ["flag-1", "flag-2"]
    [notice, _other] = _alerts("anomalous_lookups")
    assert "Cờ flag-2" in notice_message(notice).text


@pytest.mark.django_db
def test_the_daily_report_is_made_once_a_day_with_plugged_in_sections(admins, monkeypatch):
    monkeypatch.setattr(alerts, "DAILY_SECTIONS", alerts.DAILY_SECTIONS + [
        lambda now: DailySection(heading="Niêm phong nhật ký", lines=["Bản niêm phong mới nhất: ab12cd"])])
    assert len(it_daily_send()) == 2
    assert it_daily_send() == []
    report = Notice.objects.filter(kind=NoticeKind.IT_DAILY).first()
    message = notice_message(report)
    assert "Bản niêm phong mới nhất: ab12cd" in message.text
    assert message.subject.startswith("Báo cáo hằng ngày của Trung tâm CNTT")


@pytest.mark.django_db
def test_the_daily_report_publishes_the_newest_seal_of_each_sealed_table(admins):
    from audit.sealing import seals_run
    from audit.selectors import seal_digests_latest
    from tests.audit.seal_helpers import lookup_records, security_events

    security_events(3)
    lookup_records(2)
    seals_run()
    latest = seal_digests_latest()
    assert set(latest) == {"audit_securityevent", "lookups_lookuprecord"}
    it_daily_send()
    text = notice_message(Notice.objects.filter(kind=NoticeKind.IT_DAILY).first()).text
    assert "Niêm phong nhật ký" in text or "Audit seals" in text
    for seal in latest.values():
        assert seal["chain"] in text


@pytest.mark.django_db
def test_anomalous_lookups_are_alerted_once_after_the_anomaly_job_recorded_them(admins, officer_bien_hoa):
    from lookups.models import AnomalyFlag, LookupRecord

    now = timezone.now()
    record = LookupRecord.objects.create(officer=officer_bien_hoa, decision="allow", decided_at=now,
                                         citizen_id_masked="075*******34", unit_code_then="000.01.31.H19")
    waiting = AnomalyFlag.objects.create(lookup_id=record.pk, decided_at=now, kind="outside_office_hours",
                                         officer=officer_bien_hoa, officer_username=officer_bien_hoa.username,
                                         unit_code_then="000.01.31.H19")
    alerts_send()
    assert _alerts("anomalous_lookups") == []  # not yet recorded as a security event by the job
    AnomalyFlag.objects.filter(pk=waiting.pk).update(processed_at=now)
    alerts_send()
    alerts_send()
    notices = _alerts("anomalous_lookups")
    assert len(notices) == 2  # once to each active admin
    text = notice_message(notices[0]).text
    assert officer_bien_hoa.username in text and "Ngoài giờ hành chính" in text
    assert "075" not in text
    waiting.refresh_from_db()
    assert waiting.alerted_at is not None
