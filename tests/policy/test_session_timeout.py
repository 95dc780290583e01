"""Sessions end after the policy's idle minutes (15 for officers, 5 for IT admins), and at the latest
12 hours after the login (8 for IT admins) however active they are; each such end is a LOGOUT event
that says why, in the reader's language."""
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.choices import EventKind
from audit.models import SecurityEvent
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import login

LAST_ACTIVITY = "_last_activity"
STARTED = "_session_started"


def _idle(client, seconds):
    session = client.session
    session[LAST_ACTIVITY] = int(time.time()) - seconds
    session.save()


def _started(client, seconds_ago):
    """A session opened `seconds_ago`, active a moment ago."""
    session = client.session
    session[STARTED] = int(time.time()) - seconds_ago
    session[LAST_ACTIVITY] = int(time.time()) - 30
    session.save()


def _logouts():
    return list(SecurityEvent.objects.filter(kind=EventKind.LOGOUT))


def test_it_keeps_an_officer_session_within_fifteen_idle_minutes(client, officer_bien_hoa):
    login(client, officer_bien_hoa)
    client.get(reverse("home"))
    _idle(client, 14 * 60)
    assert client.get(reverse("home")).status_code == 200


def test_it_ends_an_officer_session_after_fifteen_idle_minutes(client, officer_bien_hoa):
    login(client, officer_bien_hoa)
    client.get(reverse("home"))
    _idle(client, 16 * 60)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and "idle=1" in response.url
    assert "_auth_user_id" not in client.session


def test_it_ends_an_it_admin_session_after_five_idle_minutes(client, it_admin):
    login(client, it_admin)
    client.get(reverse("accounts:list"))
    _idle(client, 6 * 60)
    response = client.get(reverse("accounts:list"))
    assert response.status_code == 302 and "idle=1" in response.url


def test_it_keeps_an_active_officer_session_eleven_hours_after_login(client, officer_bien_hoa):
    login(client, officer_bien_hoa)
    client.get(reverse("home"))
    _started(client, 11 * 3600 + 59 * 60)
    assert client.get(reverse("home")).status_code == 200


def test_it_ends_an_active_officer_session_twelve_hours_after_login(client, officer_bien_hoa):
    login(client, officer_bien_hoa)
    client.get(reverse("home"))
    _started(client, 12 * 3600 + 60)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(f"{reverse('login')}?lifetime=1")
    assert "_auth_user_id" not in client.session


def test_it_ends_an_active_it_admin_session_eight_hours_after_login(client, it_admin):
    login(client, it_admin)
    client.get(reverse("accounts:list"))
    _started(client, 7 * 3600 + 59 * 60)
    assert client.get(reverse("accounts:list")).status_code == 200
    _started(client, 8 * 3600 + 60)
    response = client.get(reverse("accounts:list"))
    assert response.status_code == 302 and "lifetime=1" in response.url
    assert "_auth_user_id" not in client.session


def test_it_reads_the_lifetime_from_the_settings(client, officer_bien_hoa, settings):
    settings.SESSION_ABSOLUTE_HOURS = 2
    login(client, officer_bien_hoa)
    client.get(reverse("home"))
    _started(client, 2 * 3600 + 60)
    assert "lifetime=1" in client.get(reverse("home")).url


def test_it_counts_the_lifetime_from_the_login_itself(client, officer_bien_hoa):
    before = int(time.time())
    response = client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert before <= client.session[STARTED] <= int(time.time())


def test_it_has_the_mandated_lifetimes_by_default(settings):
    assert (settings.SESSION_ABSOLUTE_HOURS, settings.SESSION_ABSOLUTE_HOURS_ADMIN) == (12, 8)


def test_it_records_an_idle_logout_with_its_reason(client, officer_bien_hoa):
    login(client, officer_bien_hoa)
    client.get(reverse("home"))
    _idle(client, 16 * 60)
    client.get(reverse("home"))
    [event] = _logouts()
    assert event.target_id == officer_bien_hoa.pk
    assert event.actor_username == "system:system" and event.actor_id is None
    assert event.details == {"ended_because": "idle_timeout"}


def test_it_records_a_lifetime_logout_with_its_reason(client, officer_bien_hoa):
    login(client, officer_bien_hoa)
    client.get(reverse("home"))
    _started(client, 12 * 3600 + 60)
    client.get(reverse("home"))
    [event] = _logouts()
    assert event.target_id == officer_bien_hoa.pk
    assert event.details == {"ended_because": "session_lifetime"}


def test_it_names_the_deadline_that_came_first(client, officer_bien_hoa):
    """Idle for 20 minutes at 12 h 10 min: the lifetime ran out (at 12 h) before the idle time (at 12 h 5)."""
    login(client, officer_bien_hoa)
    client.get(reverse("home"))
    session = client.session
    session[STARTED] = int(time.time()) - (12 * 3600 + 10 * 60)
    session[LAST_ACTIVITY] = int(time.time()) - 20 * 60
    session.save()
    assert "lifetime=1" in client.get(reverse("home")).url
    assert [event.details for event in _logouts()] == [{"ended_because": "session_lifetime"}]


def test_it_records_the_logout_of_an_expired_one_time_password_with_its_reason(client, officer_bien_hoa):
    officer_bien_hoa.password_change_reason = "one_time"
    officer_bien_hoa.one_time_password_expires_at = timezone.now() - timedelta(minutes=1)
    officer_bien_hoa.save(update_fields=["password_change_reason", "one_time_password_expires_at"])
    login(client, officer_bien_hoa)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and "one_time_expired=1" in response.url
    [event] = _logouts()
    assert event.target_id == officer_bien_hoa.pk
    assert event.details == {"ended_because": "one_time_password_expired"}


def test_it_records_a_logout_by_the_officer_without_a_reason(client, officer_bien_hoa):
    login(client, officer_bien_hoa)
    client.post(reverse("logout"))
    [event] = _logouts()
    assert event.actor_id == officer_bien_hoa.pk and event.details == {}


@pytest.mark.parametrize("reason,vietnamese", [
    ("idle_timeout", "Không hoạt động quá thời gian cho phép"),
    ("session_lifetime", "Hết thời hạn tối đa của phiên"),
    ("one_time_password_expired", "Mật khẩu dùng một lần đã hết hạn"),
])
def test_it_shows_the_reason_in_the_readers_language(client, it_admin, officer_bien_hoa, reason, vietnamese):
    from accounts.services.signin import logout_record

    logout_record(account=officer_bien_hoa, reason=reason)
    login(client, it_admin)
    page = client.get(reverse("audit:events")).content.decode()
    assert "Lý do kết thúc phiên" in page and vietnamese in page
    assert reason not in page


def test_it_tells_the_officer_why_the_session_ended(client, db):
    idle = client.get(f"{reverse('login')}?idle=1").content.decode()
    lifetime = client.get(f"{reverse('login')}?lifetime=1").content.decode()
    assert "không hoạt động" in idle
    assert "thời hạn tối đa" in lifetime and "không hoạt động" not in lifetime
