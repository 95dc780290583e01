"""The IT Center closes a flagged lookup after reviewing it: once, with a note, audited; until then the
flag counts against the officer in the compliance rules."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.choices import EventKind
from audit.models import SecurityEvent
from compliance.selectors import account_compliance
from lookups.models import AnomalyFlag
from lookups.services import anomaly_flag_review
from policy.compliance import ComplianceReason
from portal.errors import DomainError, NotAllowed, PolicyViolation
from tests.helpers import login, run_concurrently

from .test_anomaly_pages import _flagged

pytestmark = pytest.mark.django_db


@pytest.fixture
def flag(officer_bien_hoa):
    """A lookup made at 22:00 yesterday (flagged outside office hours)."""
    moment = timezone.localtime().replace(hour=22, minute=0, second=0, microsecond=0) - timedelta(days=1)
    [flag, *_others] = _flagged(officer_bien_hoa, at=moment)
    return flag


def _url(flag):
    return reverse("lookups:anomaly", args=[flag.pk])


def test_an_it_admin_closes_a_flag_with_a_note_and_it_no_longer_counts(client, it_admin, officer_bien_hoa, flag):
    assert ComplianceReason.LOOKUP_ANOMALY in account_compliance(officer_bien_hoa, timezone.now())
    response = login(client, it_admin).post(_url(flag), {"note": "Đơn vị xác nhận hồ sơ làm ngoài giờ."})
    assert response.status_code == 302
    flag.refresh_from_db()
    assert (flag.reviewed_by, flag.review_note) == (it_admin, "Đơn vị xác nhận hồ sơ làm ngoài giờ.")
    event = SecurityEvent.objects.get(kind=EventKind.LOOKUP_ANOMALY_REVIEWED)
    assert (event.actor, event.target, event.details["note"]) == (it_admin, officer_bien_hoa, flag.review_note)
    assert ComplianceReason.LOOKUP_ANOMALY not in account_compliance(officer_bien_hoa, timezone.now())
    page = client.get(_url(flag)).content.decode()
    assert "Đã đóng lúc" in page and "anomaly-review-form" not in page


def test_a_review_needs_a_note_in_vietnamese_and_changes_nothing_without_one(client, it_admin, flag):
    response = login(client, it_admin).post(_url(flag), {"note": "   "})
    assert response.status_code == 400
    assert "Thông tin này là bắt buộc." in response.content.decode()
    with pytest.raises(PolicyViolation):
        anomaly_flag_review(actor=it_admin, flag=flag, note="bad\x00note")
    flag.refresh_from_db()
    assert flag.reviewed_at is None
    assert not SecurityEvent.objects.filter(kind=EventKind.LOOKUP_ANOMALY_REVIEWED).exists()


def test_inspectors_and_leaders_read_but_may_not_close(client, inspector, leader_bien_hoa, flag):
    assert login(client, inspector).post(_url(flag), {"note": "x"}).status_code == 403
    assert login(client, leader_bien_hoa).post(_url(flag), {"note": "x"}).status_code == 403
    with pytest.raises(NotAllowed):
        anomaly_flag_review(actor=inspector, flag=flag, note="x")
    flag.refresh_from_db()
    assert flag.reviewed_at is None


@pytest.mark.django_db(transaction=True)
def test_two_admins_closing_at_once_close_it_once(it_admin, units, officer_bien_hoa):
    from tests.factories import UserFactory

    moment = timezone.localtime().replace(hour=22, minute=0, second=0, microsecond=0) - timedelta(days=1)
    [flag, *_] = _flagged(officer_bien_hoa, at=moment)
    second = UserFactory(username="qt.hai", role=it_admin.role, unit=it_admin.unit)
    outcomes = run_concurrently(
        lambda: anomaly_flag_review(actor=it_admin, flag=AnomalyFlag.objects.get(pk=flag.pk), note="Một"),
        lambda: anomaly_flag_review(actor=second, flag=AnomalyFlag.objects.get(pk=flag.pk), note="Hai"))
    refused = [outcome for outcome in outcomes if isinstance(outcome, DomainError)]
    assert len(refused) == 1 and refused[0].code == "already_reviewed"
    assert SecurityEvent.objects.filter(kind=EventKind.LOOKUP_ANOMALY_REVIEWED).count() == 1


def test_the_list_filters_open_and_closed_flags(client, it_admin, flag, officer_bien_hoa):
    [other, *_] = _flagged(officer_bien_hoa, at=flag.decided_at + timedelta(minutes=5),
                           dossier="000.00.31.H19-210708-0033")
    anomaly_flag_review(actor=it_admin, flag=flag, note="Đã xác minh.")
    url = reverse("lookups:anomalies")
    login(client, it_admin)
    opened = [row.pk for row in client.get(url, {"state": "open"}).context["page"].object_list]
    closed = client.get(url, {"state": "closed"})
    assert opened == [other.pk]
    assert [row.pk for row in closed.context["page"].object_list] == [flag.pk]
    assert "Đã đóng sau khi xem xét" in closed.content.decode()
