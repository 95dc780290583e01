"""Sessions: each person sees where they are signed in (browser, address, started, last seen) and ends
any; ending a session in one client signs the other out; an IT admin ends all of an account's sessions;
a password change ends the other sessions; a role change (a privilege change) ends them too; the idle
warning's countdown and "stay signed in"."""
import re

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountSession
from accounts.services import account_update
from accounts.session_store import AUTH_USER_KEY, LAST_ACTIVITY_KEY
from audit.choices import EventKind
from audit.models import SecurityEvent
from tests.helpers import sign_in

FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_ON_ANDROID = ("Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) "
                     "Chrome/131.0.0.0 Mobile Safari/537.36")
NEW_PASSWORD = "Song-Dong-Nai-Xanh-Mat-48!"


def _browser(user_agent, address):
    return Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)


def _two_browsers(user, password):
    office = _browser(FIREFOX_ON_WINDOWS, "10.1.2.3")
    phone = _browser(CHROME_ON_ANDROID, "10.9.8.7")
    assert sign_in(office, user, password).status_code == 302
    assert sign_in(phone, user, password).status_code == 302
    return office, phone


def _handles(page: str) -> list[str]:
    return re.findall(r'name="session" value="([0-9a-f]{32})"', page)


def test_it_lists_the_accounts_sessions_with_browser_address_and_times(officer_bien_hoa, password):
    office, _phone = _two_browsers(officer_bien_hoa, password)
    page = office.get(reverse("sessions")).content.decode()
    assert "Firefox · Windows" in page and "Chrome · Android" in page
    assert "10.1.2.3" in page and "10.9.8.7" in page
    assert timezone.localtime().strftime("%d/%m/%Y") in page
    assert len(_handles(page)) == 2
    # A session is named by a handle, never by its key (the cookie itself).
    for session in AccountSession.objects.filter(account_id=officer_bien_hoa.pk):
        assert session.session_key not in page
        assert session.user_agent in (FIREFOX_ON_WINDOWS, CHROME_ON_ANDROID)
        assert session.started_at is not None and session.last_seen_at is not None


def test_ending_a_session_in_one_client_signs_the_other_out(officer_bien_hoa, password):
    office, phone = _two_browsers(officer_bien_hoa, password)
    page = office.get(reverse("sessions")).content.decode()
    phone_row = page[page.index("Chrome · Android"):]
    handle = _handles(phone_row)[0]
    response = office.post(reverse("session_end"), {"session": handle})
    assert response.status_code == 302 and response.url == reverse("sessions")
    response = phone.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert office.get(reverse("home")).status_code == 200
    event = SecurityEvent.objects.get(kind=EventKind.SESSION_ENDED, target=officer_bien_hoa)
    assert event.details == {"device": CHROME_ON_ANDROID[:120], "ip_address": "10.9.8.7"}


def test_nobody_ends_anothers_session_by_its_handle(officer_bien_hoa, officer_long_khanh, password):
    _office, phone = _two_browsers(officer_bien_hoa, password)
    victim_handles = _handles(phone.get(reverse("sessions")).content.decode())
    intruder = Client()
    sign_in(intruder, officer_long_khanh, password)
    for handle in victim_handles:
        intruder.post(reverse("session_end"), {"session": handle})
    assert AccountSession.objects.filter(account_id=officer_bien_hoa.pk).count() == 2
    assert phone.get(reverse("home")).status_code == 200
    assert SecurityEvent.objects.filter(kind=EventKind.SESSION_ENDED).count() == 0


def test_ending_ones_current_session_signs_out(officer_bien_hoa, password):
    office, _phone = _two_browsers(officer_bien_hoa, password)
    page = office.get(reverse("sessions")).content.decode()
    current = page[page.index("Firefox · Windows"):]
    response = office.post(reverse("session_end"), {"session": _handles(current)[0]})
    assert response.url == reverse("login")
    assert AUTH_USER_KEY not in office.session


def test_an_it_admin_ends_every_session_of_an_account(admin_client, officer_bien_hoa, password):
    office, phone = _two_browsers(officer_bien_hoa, password)
    response = admin_client.post(reverse("accounts:sessions_end", args=[officer_bien_hoa.pk]))
    assert response.status_code == 302
    for browser in (office, phone):
        assert browser.get(reverse("home")).status_code == 302
    event = SecurityEvent.objects.get(kind=EventKind.SESSIONS_ENDED, target=officer_bien_hoa)
    assert event.details == {"sessions_ended": 2}


def test_only_an_it_admin_ends_an_accounts_sessions(officer_bien_hoa, leader_bien_hoa, password):
    office, _phone = _two_browsers(officer_bien_hoa, password)
    leader = Client()
    sign_in(leader, leader_bien_hoa, password)
    assert leader.post(reverse("accounts:sessions_end", args=[officer_bien_hoa.pk])).status_code == 403
    assert office.get(reverse("home")).status_code == 200


def test_a_password_change_ends_the_other_sessions(officer_bien_hoa, password):
    office, phone = _two_browsers(officer_bien_hoa, password)
    officer_bien_hoa.password_changed_at = timezone.now() - timezone.timedelta(days=2)
    officer_bien_hoa.save(update_fields=["password_changed_at"])
    response = office.post(reverse("password_change"), {
        "old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert AccountSession.objects.filter(account_id=officer_bien_hoa.pk).count() == 1
    assert phone.get(reverse("home")).status_code == 302
    assert office.get(reverse("home")).status_code == 200


def test_a_password_reset_ends_every_session(admin_client, officer_bien_hoa, password):
    office, phone = _two_browsers(officer_bien_hoa, password)
    admin_client.post(reverse("accounts:reset", args=[officer_bien_hoa.pk]))
    assert AccountSession.objects.filter(account_id=officer_bien_hoa.pk).count() == 0
    event = SecurityEvent.objects.get(kind=EventKind.PASSWORD_RESET, target=officer_bien_hoa)
    assert event.details["sessions_ended"] == 2


def test_a_role_change_ends_the_accounts_sessions(it_admin, officer_bien_hoa, password):
    office, _phone = _two_browsers(officer_bien_hoa, password)
    account_update(actor=it_admin, account=officer_bien_hoa, values={"role": "unit_leader"})
    assert office.get(reverse("home")).status_code == 302
    assert SecurityEvent.objects.get(kind=EventKind.ROLE_CHANGED).details["sessions_ended"] == 2


def test_every_signed_in_page_carries_the_idle_countdown(officer_bien_hoa, password):
    office, _phone = _two_browsers(officer_bien_hoa, password)
    page = office.get(reverse("home")).content.decode()
    seconds = int(re.search(r'data-idle-seconds="(\d+)"', page).group(1))
    assert 15 * 60 - 5 <= seconds <= 15 * 60
    assert 'data-idle-warning="60"' in page
    assert 'data-testid="idle-warning"' in page and '<script src="/static/js/idle.js" defer></script>' in page


def test_stay_signed_in_counts_as_activity(officer_bien_hoa, password):
    office, _phone = _two_browsers(officer_bien_hoa, password)
    session = office.session
    session[LAST_ACTIVITY_KEY] = int(timezone.now().timestamp()) - 14 * 60
    session.save()
    response = office.post(reverse("session_keepalive"))
    assert response.status_code == 200 and response.json() == {"idle_seconds_left": 900}
    assert office.session[LAST_ACTIVITY_KEY] >= int(timezone.now().timestamp()) - 2


def test_an_idle_session_expires_and_says_so(officer_bien_hoa, password):
    office, _phone = _two_browsers(officer_bien_hoa, password)
    session = office.session
    session[LAST_ACTIVITY_KEY] = int(timezone.now().timestamp()) - 16 * 60
    session.save()
    response = office.get(reverse("home"))
    assert response.status_code == 302 and "idle=1" in response.url
    assert office.post(reverse("session_keepalive")).status_code == 302


def test_an_account_that_must_change_its_password_may_still_stay_signed_in(officer_bien_hoa, password):
    office, _phone = _two_browsers(officer_bien_hoa, password)
    officer_bien_hoa.password_change_reason = "forced"
    officer_bien_hoa.save(update_fields=["password_change_reason"])
    assert office.get(reverse("home")).url == reverse("password_change")
    assert office.post(reverse("session_keepalive")).status_code == 200
