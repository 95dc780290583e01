"""The append-only security event table and its page."""
import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from audit.choices import EventKind
from audit.models import SecurityEvent
from audit.services import audit_event_record
from tests.helpers import login


@pytest.fixture
def event(db, it_admin, officer_bien_hoa):
    return audit_event_record(kind=EventKind.ACCOUNT_DISABLED, actor=it_admin, target=officer_bien_hoa,
                              details={"reason": "Nghỉ việc"})


def test_it_refuses_to_update_an_event_in_postgresql(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        SecurityEvent.objects.filter(pk=event.pk).update(details={"reason": "sửa lại"})
    event.refresh_from_db()
    assert event.details == {"reason": "Nghỉ việc"}


def test_it_refuses_to_delete_an_event_in_postgresql(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        SecurityEvent.objects.filter(pk=event.pk).delete()
    assert SecurityEvent.objects.filter(pk=event.pk).exists()


def test_it_refuses_to_truncate_the_events_in_postgresql(event):
    from django.db import connection

    from tests.helpers import AUDIT_TRUNCATE_TRIGGER

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE audit_securityevent ENABLE TRIGGER {AUDIT_TRUNCATE_TRIGGER}")
            cursor.execute("TRUNCATE audit_securityevent")
    assert SecurityEvent.objects.filter(pk=event.pk).exists()


def test_it_snapshots_who_whom_and_the_unit(event, it_admin, officer_bien_hoa):
    assert event.actor_username == it_admin.username
    assert event.target_username == officer_bien_hoa.username
    assert event.unit_code == officer_bien_hoa.unit.code


def test_it_lists_and_filters_events_for_inspectors(client, inspector, event, it_admin):
    audit_event_record(kind=EventKind.POLICY_CHANGED, actor=it_admin, unit=it_admin.unit)
    login(client, inspector)
    page = client.get(reverse("audit:events"), {"kind": EventKind.ACCOUNT_DISABLED}).content.decode()
    assert "Nghỉ việc" in page
    response = client.get(reverse("audit:events"), {"kind": EventKind.POLICY_CHANGED})
    assert list(response.context["page"]) == [SecurityEvent.objects.get(kind=EventKind.POLICY_CHANGED)]


def test_it_filters_by_dates_typed_as_dd_mm_yyyy(client, inspector, event):
    login(client, inspector)
    today = event.occurred_at.astimezone().strftime("%d/%m/%Y")
    response = client.get(reverse("audit:events"), {"date_from": today, "date_to": today})
    assert response.context["form"].is_valid()
    assert event in list(response.context["page"])
    response = client.get(reverse("audit:events"), {"date_from": "31/12/2999"})
    assert list(response.context["page"]) == []


def test_it_explains_a_malformed_date_and_shows_nothing(client, inspector, event):
    login(client, inspector)
    response = client.get(reverse("audit:events"), {"date_from": "2024-13-45"})
    assert not response.context["form"].is_valid()
    assert list(response.context["page"]) == []
    assert "Nhập một ngày hợp lệ" in response.content.decode()


def test_it_refuses_the_event_page_to_leaders(client, leader_bien_hoa):
    login(client, leader_bien_hoa)
    assert client.get(reverse("audit:events")).status_code == 403


def test_it_shows_details_as_translated_lines(client, inspector, it_admin, officer_bien_hoa):
    audit_event_record(kind=EventKind.ROLE_CHANGED, actor=it_admin, target=officer_bien_hoa,
                       details={"old": {"role": "officer"}, "new": {"role": "unit_leader"}})
    login(client, inspector)
    page = client.get(reverse("audit:events")).content.decode()
    assert "Vai trò:</span> Cán bộ → Lãnh đạo đơn vị" in page
    assert "{&#x27;old&#x27;" not in page


def test_it_shows_recorded_dates_as_dd_mm_yyyy():
    from django.utils import translation

    from audit.templatetags.audit_details import event_details

    with translation.override("vi"):
        lines = {str(label): value for label, value in event_details(
            {"new": {"expires_at": "2027-01-15T17:00:00+00:00"}, "basis_date": "2025-06-12",
             "reason": "2025-06-12 is not a date field"})}
    assert lines == {"Hiệu lực đến": "16/01/2027 00:00", "Ngày ban hành quyết định": "12/06/2025",
                     "Lý do": "2025-06-12 is not a date field"}


def test_it_shows_a_single_changed_value_without_failing():
    from django.utils import translation

    from audit.templatetags.audit_details import event_details

    with translation.override("vi"):
        lines = {str(label): value for label, value in event_details(
            {"window": "officer_minute", "unit": "", "role": "officer", "old": 10, "new": 20})}
    assert lines["Giá trị"] == "10 → 20"
    assert lines["Khung hạn mức"] == "Số lượt tra cứu của một cán bộ mỗi phút"
