"""Sessions end after the policy's idle minutes: 15 for officers, 5 for IT admins."""
import time

from django.urls import reverse

from tests.helpers import login


def _idle(client, seconds):
    session = client.session
    session["_last_activity"] = int(time.time()) - seconds
    session.save()


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
