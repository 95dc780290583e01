"""The event list at volume: pages by key (no OFFSET, no COUNT(*)), date bounds as instants, exact
usernames — every filter an index serves."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit import views
from audit.choices import EventKind
from audit.models import SecurityEvent
from audit.selectors import security_events_visible_to
from audit.services import audit_event_record
from tests.helpers import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(it_admin, officer_bien_hoa):
    return [audit_event_record(kind=EventKind.ACCOUNT_UPDATED, actor=it_admin, target=officer_bien_hoa).pk
            for _ in range(5)]


def _ids(response):
    return [event.pk for event in response.context["page"]]


def test_it_pages_by_key_without_counting(client, inspector, events, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    login(client, inspector)  # itself an event
    newest_first = list(SecurityEvent.objects.order_by("-id").values_list("pk", flat=True))
    assert len(newest_first) == 6
    url = reverse("audit:events")
    with CaptureQueriesContext(connection) as queries:
        first = client.get(url)
    assert _ids(first) == newest_first[:2]
    listing = [query["sql"].upper() for query in queries if "NOTIFICATIONS_" not in query["sql"].upper()]  # the bell counts unread notices
    assert not any("COUNT(" in sql or "OFFSET" in sql for sql in listing)
    second = client.get(url, {"after": first.context["page"].next_key})
    third = client.get(url, {"after": second.context["page"].next_key})
    assert (_ids(second), _ids(third)) == (newest_first[2:4], newest_first[4:])
    assert not third.context["page"].has_next and third.context["page"].has_previous
    back = client.get(url, {"before": second.context["page"].previous_key})
    assert _ids(back) == _ids(first) and not back.context["page"].has_previous
    assert f"after={first.context['page'].next_key}" in first.content.decode()


def test_a_key_it_cannot_read_gives_the_first_page(client, inspector, events):
    login(client, inspector)
    response = client.get(reverse("audit:events"), {"after": "'; DROP TABLE x"})
    assert response.status_code == 200
    assert _ids(response) == list(SecurityEvent.objects.order_by("-id").values_list("pk", flat=True))


def test_its_filters_are_sargable(inspector, events):
    today = timezone.localdate()
    events_today = security_events_visible_to(inspector, date_from=today, date_to=today, username="cb.tanphong")
    sql = str(events_today.query).upper()
    assert "::DATE" not in sql and "AT TIME ZONE" not in sql and "LIKE" not in sql
    assert [event.pk for event in events_today] == events[::-1]
    assert list(security_events_visible_to(inspector, date_from=today + timedelta(days=1))) == []
    assert list(security_events_visible_to(inspector, username="cb.tan")) == []  # exact, not a substring


def test_a_unit_filter_means_the_unit_and_the_units_below_it_unless_asked_otherwise(client, inspector, events, units):
    login(client, inspector)
    url = reverse("audit:events")
    below = client.get(url, {"unit_code": units["bien_hoa"].code})
    assert sorted(_ids(below)) == sorted(events)
    assert _ids(client.get(url, {"unit_code": units["bien_hoa"].code, "unit_exact": "on"})) == []
    assert sorted(_ids(client.get(url, {"unit_code": units["tan_phong"].code, "unit_exact": "on"}))) == sorted(events)
    exported = client.get("/compliance/export/events.csv", {"unit_code": units["bien_hoa"].code})
    assert len(exported.content.decode("utf-8-sig").splitlines()) == 1 + len(events)
