"""Every refused access leaves exactly one ACCESS_DENIED event with the path, the status and who asked:
a role that may not open a page (403), an object outside the reader's scope or a guessed address (404,
signed-in users only: anonymous 404s are bots' noise), and a form without a valid CSRF token (anyone)."""
import pytest
from django.test import Client
from django.urls import reverse

from audit.choices import EventKind
from audit.models import SecurityEvent
from tests.helpers import login


def _refusals():
    return list(SecurityEvent.objects.filter(kind=EventKind.ACCESS_DENIED))


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def debug(request, settings):
    """Both as production answers (DEBUG=0) and as `make run` does (DEBUG=1)."""
    settings.DEBUG = request.param
    return request.param


def test_it_records_a_role_refusal(client, officer_bien_hoa, debug):
    login(client, officer_bien_hoa)
    response = client.get(reverse("audit:events"))
    assert response.status_code == 403
    [event] = _refusals()
    assert event.actor_id == officer_bien_hoa.pk and event.actor_username == "cb.tanphong"
    assert event.unit_code == officer_bien_hoa.unit.code
    assert event.details == {"path": "/admin/audit/", "status": 403, "refused_because": "role"}


def test_it_records_an_object_outside_the_readers_scope(client, leader_bien_hoa, officer_long_khanh, debug):
    login(client, leader_bien_hoa)
    path = reverse("accounts:detail", args=[officer_long_khanh.pk])
    response = client.get(path)
    assert response.status_code == 404
    [event] = _refusals()
    assert event.actor_id == leader_bien_hoa.pk
    assert event.details == {"path": path, "status": 404, "refused_because": "not_found"}


def test_it_records_a_guessed_address_of_a_signed_in_user(client, leader_bien_hoa, debug):
    login(client, leader_bien_hoa)
    response = client.get("/admin/accounts/999999/")
    assert response.status_code == 404
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert [event.details["path"] for event in _refusals()] == ["/no-such-page/", "/admin/accounts/999999/"]


def test_it_does_not_record_an_anonymous_not_found(client, db, debug):
    assert client.get("/no-such-page/").status_code == 404
    assert client.get("/wp-login.php").status_code == 404
    assert _refusals() == []


def test_it_does_not_record_the_redirect_that_appends_a_slash(client, it_admin, debug):
    login(client, it_admin)
    response = client.get("/admin/accounts")
    assert response.status_code == 301 and response.url == "/admin/accounts/"
    assert _refusals() == []


def test_it_records_a_csrf_failure_of_an_anonymous_visitor(db, debug):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "cb.tanphong", "password": "x"})
    assert response.status_code == 403
    [event] = _refusals()
    assert event.actor_id is None and event.actor_username == "system:anonymous"
    assert event.details == {"path": "/accounts/login/", "status": 403, "refused_because": "csrf"}
    # Nothing else happened: the login was not even attempted.
    assert SecurityEvent.objects.count() == 1


def test_it_records_a_csrf_failure_of_a_signed_in_user(officer_bien_hoa, debug):
    client = login(Client(enforce_csrf_checks=True), officer_bien_hoa)
    response = client.post(reverse("logout"))
    assert response.status_code == 403
    [event] = _refusals()
    assert event.actor_id == officer_bien_hoa.pk
    assert event.details == {"path": "/accounts/logout/", "status": 403, "refused_because": "csrf"}
    assert "_auth_user_id" in client.session


def test_it_records_nothing_for_pages_that_open(client, it_admin, officer_bien_hoa):
    login(client, it_admin)
    answers = [(url, client.get(url).status_code) for url in [
        reverse("home"), reverse("accounts:list"), reverse("accounts:detail", args=[officer_bien_hoa.pk]),
        reverse("audit:events"), reverse("healthz")]]
    assert [status for _, status in answers] == [200, 200, 200, 200, 200], answers  # home: the dashboard
    assert _refusals() == []


def test_it_shows_refusals_in_the_readers_language(client, it_admin, officer_bien_hoa):
    login(client, officer_bien_hoa)
    client.get(reverse("audit:events"))
    login(client, it_admin)
    page = client.get(reverse("audit:events")).content.decode()
    assert "Từ chối truy cập" in page and "Vai trò không được phép mở trang" in page
    assert "Mã trạng thái HTTP" in page
