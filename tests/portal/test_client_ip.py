"""The client address behind one reverse proxy, and what a forged or broken header does (nothing)."""
import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.selectors import account_is_locked
from audit.choices import EventKind
from audit.models import SecurityEvent
from portal.client_ip import client_ip


@pytest.fixture
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1


@pytest.mark.parametrize("forwarded,expected", [
    ("203.0.113.9", "203.0.113.9"),
    ("6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the left entry was written by the client
    ("2001:db8::1", "2001:db8::1"),
    ("not-an-ip", "127.0.0.1"),
    ("203.0.113.9, <script>", "127.0.0.1"),
    ("", "127.0.0.1"),
])
def test_it_reads_the_hop_appended_by_the_proxy(behind_one_proxy, forwarded, expected):
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="127.0.0.1")
    assert client_ip(request) == expected


def test_it_ignores_the_header_without_a_trusted_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="203.0.113.9", REMOTE_ADDR="10.0.0.5")
    assert client_ip(request) == "10.0.0.5"


def test_it_still_counts_failures_sent_with_a_forged_header(client, behind_one_proxy, officer_bien_hoa):
    statuses = []
    for _ in range(5):
        response = client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": "Sai-1!abc"},
                               HTTP_X_FORWARDED_FOR="not-an-ip", REMOTE_ADDR="127.0.0.1")
        statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 200, 429]  # the fifth failure locks the username
    assert account_is_locked(officer_bien_hoa)
    assert SecurityEvent.objects.filter(kind=EventKind.LOGIN_FAILURE, ip_address="127.0.0.1").count() == 5
