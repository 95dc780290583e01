"""Deadlines computed from the configured rules (the version in force on the day of discovery),
reminders before and escalation after, each once — also across a change of the rules."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from incidents.choices import IncidentCategory, IncidentState
from incidents.deadlines import incident_deadlines
from incidents.models import DeadlineRule, DeadlineRuleSet
from incidents.services.records import incident_deadline_met, incident_report, incident_state_change, incident_triage
from incidents.services.rules import rule_save, rule_set_create
from notifications.incident_deadlines import incident_deadline_notices_send
from notifications.models import Notice
from portal.errors import DomainError, PolicyViolation

from .helpers import deadline_rules_seeded

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def rules_v1(db):
    return deadline_rules_seeded()


def _breach(actor, discovered_at, **extra):
    return incident_report(actor=actor, title="Lộ danh sách công dân", category=IncidentCategory.PERSONAL_DATA_BREACH,
                           discovered_at=discovered_at, **extra)


def _due(incident):
    return {deadline.code: deadline.due_at for deadline in incident_deadlines(incident)}


def test_deadlines_come_from_the_seeded_rules(rules_v1, officer_bien_hoa):
    incident = _breach(officer_bien_hoa, datetime(2026, 3, 10, 9, 0, tzinfo=HCM))
    assert _due(incident) == {
        "initial_report": datetime(2026, 3, 15, 9, 0, tzinfo=HCM),
        "final_report": None,  # counted from the end of the response
        "breach_notification_a05": datetime(2026, 3, 13, 9, 0, tzinfo=HCM),
        "breach_record_retention": None,  # counted from the closing
    }
    legal = {deadline.code: deadline.legal_basis for deadline in incident_deadlines(incident)}
    assert "91/2025/QH15" in legal["breach_notification_a05"]
    assert "20/2017/TT-BTTTT" in legal["initial_report"]


def test_a_malware_incident_without_personal_data_has_no_breach_deadline(rules_v1, officer_bien_hoa):
    incident = incident_report(actor=officer_bien_hoa, title="Mã độc", category=IncidentCategory.MALWARE,
                               discovered_at=datetime(2026, 3, 10, 9, 0, tzinfo=HCM))
    assert sorted(_due(incident)) == ["final_report", "initial_report"]


def test_the_final_report_counts_from_the_end_of_the_response(rules_v1, it_admin, officer_bien_hoa):
    incident = _breach(officer_bien_hoa, timezone.now() - timedelta(days=2))
    incident_triage(actor=it_admin, incident=incident, severity="high", category=incident.category, handler=it_admin)
    incident = incident_state_change(actor=it_admin, incident=incident, state=IncidentState.RESOLVED)
    assert _due(incident)["final_report"] == incident.response_ended_at + timedelta(days=5)


def test_a_new_version_applies_to_incidents_discovered_from_its_day(rules_v1, officer_bien_hoa):
    v2 = DeadlineRuleSet.objects.create(number=2, title="Luật An ninh mạng 2025", effective_from=datetime(2026, 7, 1).date(),
                                        created_by_name="test")
    for rule in rules_v1.rules.all():
        DeadlineRule.objects.create(rule_set=v2, code=rule.code, label=rule.label, legal_basis="Luật An ninh mạng",
                                    authority=rule.authority, kind=rule.kind, applies_to=rule.applies_to,
                                    starts_from=rule.starts_from, period_unit=rule.period_unit,
                                    amount=3 if rule.code == "initial_report" else rule.amount)
    before = _breach(officer_bien_hoa, datetime(2026, 6, 30, 23, 0, tzinfo=HCM))
    after = _breach(officer_bien_hoa, datetime(2026, 7, 1, 8, 0, tzinfo=HCM))
    assert _due(before)["initial_report"] == datetime(2026, 7, 5, 23, 0, tzinfo=HCM)
    assert _due(after)["initial_report"] == datetime(2026, 7, 4, 8, 0, tzinfo=HCM)


def test_reminders_before_and_escalation_after_each_once(rules_v1, it_admin, inspector, officer_bien_hoa):
    discovered = timezone.now() - timedelta(days=10)
    incident = _breach(officer_bien_hoa, discovered)
    breach_due = discovered + timedelta(hours=72)
    # 23 hours before the 72-hour notification: its reminder (24 h before), to the IT admin.
    made = incident_deadline_notices_send(now=breach_due - timedelta(hours=23))
    assert len(made) == 1
    notice = Notice.objects.get(pk=made[0])
    assert (notice.recipient, notice.source_key) == (it_admin, f"incident:{incident.pk}:breach_notification_a05:remind")
    assert incident_deadline_notices_send(now=breach_due - timedelta(hours=22)) == []
    # After it: the escalation, to the IT admin and the inspector, once.
    made = incident_deadline_notices_send(now=breach_due + timedelta(minutes=1))
    # (the 5-day report is reminded 48 hours ahead: from this same moment)
    assert sorted((n.recipient.username, n.source_key) for n in Notice.objects.filter(pk__in=made)) == [
        ("qt.admin", f"incident:{incident.pk}:breach_notification_a05:overdue"),
        ("qt.admin", f"incident:{incident.pk}:initial_report:remind"),
        ("tt.inspector", f"incident:{incident.pk}:breach_notification_a05:overdue")]
    assert incident_deadline_notices_send(now=breach_due + timedelta(minutes=2)) == []


def test_reminders_stay_once_across_a_change_of_the_rules(rules_v1, it_admin, officer_bien_hoa):
    discovered = timezone.now() - timedelta(days=10)
    incident = incident_report(actor=officer_bien_hoa, title="Lộ mật khẩu", category=IncidentCategory.PASSWORD_LEAK,
                               discovered_at=discovered)
    v1_due = discovered + timedelta(days=5)
    assert len(incident_deadline_notices_send(now=v1_due - timedelta(hours=1))) == 1
    # The IT Center corrects the rules from the same day on (a new version): 4 days instead of 5.
    v2 = DeadlineRuleSet.objects.create(number=2, title="Sửa đổi", effective_from=rules_v1.effective_from,
                                        created_by_name="test")
    rule = rules_v1.rules.get(code="initial_report")
    DeadlineRule.objects.create(rule_set=v2, code=rule.code, label=rule.label, legal_basis=rule.legal_basis,
                                kind=rule.kind, applies_to=rule.applies_to, starts_from=rule.starts_from, amount=4,
                                period_unit="days", remind_hours_before=48)
    assert _due(incident)["initial_report"] == discovered + timedelta(days=4)
    # The obligation was reminded already: not again under the new version; its escalation once.
    assert incident_deadline_notices_send(now=discovered + timedelta(days=4) - timedelta(hours=1)) == []
    assert len(incident_deadline_notices_send(now=discovered + timedelta(days=4, minutes=1))) == 1
    assert incident_deadline_notices_send(now=discovered + timedelta(days=6)) == []


def test_a_met_obligation_is_not_reminded(rules_v1, it_admin, officer_bien_hoa):
    discovered = timezone.now() - timedelta(days=10)
    incident = incident_report(actor=officer_bien_hoa, title="Lộ mật khẩu", category=IncidentCategory.PASSWORD_LEAK,
                               discovered_at=discovered)
    incident_deadline_met(actor=it_admin, incident=incident, code="initial_report", note="Công văn 12/TTCNTT")
    assert incident_deadline_notices_send(now=discovered + timedelta(days=6)) == []
    with pytest.raises(DomainError) as again:
        incident_deadline_met(actor=it_admin, incident=incident, code="initial_report")
    assert again.value.code == "deadline_already_met"


def test_a_closed_incident_is_not_reminded(rules_v1, it_admin, officer_bien_hoa):
    discovered = timezone.now() - timedelta(days=10)
    incident = incident_report(actor=officer_bien_hoa, title="Lộ mật khẩu", category=IncidentCategory.PASSWORD_LEAK,
                               discovered_at=discovered)
    incident_triage(actor=it_admin, incident=incident, severity="low", category=incident.category, handler=None)
    incident_state_change(actor=it_admin, incident=incident, state=IncidentState.RESOLVED)
    incident.refresh_from_db()
    incident.lessons_learned = "Đổi mật khẩu định kỳ"
    incident.save(update_fields=["lessons_learned"])
    incident_state_change(actor=it_admin, incident=incident, state=IncidentState.CLOSED)
    assert incident_deadline_notices_send(now=discovered + timedelta(days=30)) == []


def test_the_rules_are_edited_only_as_a_future_version(rules_v1, it_admin):
    with pytest.raises(PolicyViolation) as past:
        rule_set_create(actor=it_admin, title="Sai", effective_from=timezone.localdate())
    assert past.value.code == "effective_not_future"
    values = {"code": "initial_report", "label": "x", "legal_basis": "y", "authority": "", "kind": "deadline",
              "applies_to": "all", "starts_from": "discovered", "amount": 3, "period_unit": "days",
              "remind_hours_before": 24}
    with pytest.raises(DomainError) as in_force:
        rule_save(actor=it_admin, rule_set=rules_v1, values=dict(values), rule=rules_v1.rules.get(code="initial_report"))
    assert in_force.value.code == "rule_set_in_force"
    v2 = rule_set_create(actor=it_admin, title="Luật mới", effective_from=timezone.localdate() + timedelta(days=30))
    assert sorted(v2.rules.values_list("code", flat=True)) == sorted(rules_v1.rules.values_list("code", flat=True))
    with pytest.raises(PolicyViolation) as no_basis:
        rule_save(actor=it_admin, rule_set=v2, values={**values, "legal_basis": " "},
                  rule=v2.rules.get(code="initial_report"))
    assert no_basis.value.code == "legal_basis_missing"
    rule_save(actor=it_admin, rule_set=v2, values=dict(values), rule=v2.rules.get(code="initial_report"))
    assert v2.rules.get(code="initial_report").amount == 3
    assert rules_v1.rules.get(code="initial_report").amount == 5


def test_the_job_sends_each_notice_once(rules_v1, it_admin, officer_bien_hoa):
    """The Celery task's body, run twice in a row (the beat's schedule, or a redelivery)."""
    from incidents.tasks import send_deadline_notices

    incident_report(actor=officer_bien_hoa, title="Lộ mật khẩu", category=IncidentCategory.PASSWORD_LEAK,
                    discovered_at=timezone.now() - timedelta(days=6))
    assert send_deadline_notices() == 1  # the 5-day report is overdue: the escalation to the IT admin
    assert send_deadline_notices() == 0
    assert Notice.objects.get().source_key.endswith(":initial_report:overdue")
