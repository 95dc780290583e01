"""Rate limits beyond the lockout (portal.ratelimit): sign-in posts and second-step posts per address,
password-change posts per account, lookup API calls per client token; 429 with Retry-After; exact
under concurrency (one atomic script on Redis's clock); with Redis down, not counted (the lockout and
the lookup quotas, in PostgreSQL, still bind)."""
import socket

import pytest
from django.urls import reverse

from lookups.models import LookupRecord
from portal.errors import QuotaExceeded
from portal.ratelimit import rate_limit_hit
from tests.helpers import login, run_concurrently, totp_enrol


@pytest.fixture
def low_limits(settings):
    settings.RATE_LIMITS = {"signin": 3, "second_step": 2, "password_change": 2, "lookup_api": 2}
    return settings.RATE_LIMITS


def test_the_fourth_sign_in_post_of_a_minute_is_refused_with_retry_after(client, officer_bien_hoa, low_limits):
    for _ in range(3):
        assert client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": "x"}).status_code == 200
    response = client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": "x"})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Quá nhiều yêu cầu" in response.content.decode()


def test_the_sign_in_limit_counts_per_address(client, officer_bien_hoa, low_limits, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(3):
        client.post(reverse("login"), {"username": "a", "password": "x"}, HTTP_X_FORWARDED_FOR="10.0.0.1")
    assert client.post(reverse("login"), {"username": "a", "password": "x"},
                       HTTP_X_FORWARDED_FOR="10.0.0.1").status_code == 429
    assert client.post(reverse("login"), {"username": "a", "password": "x"},
                       HTTP_X_FORWARDED_FOR="10.0.0.2").status_code == 200


def test_the_second_step_has_its_own_limit(client, inspector, password, low_limits):
    totp_enrol(inspector)
    client.post(reverse("login"), {"username": inspector.username, "password": password})
    statuses = [client.post(reverse("login_second_step"), {"otp_token": "12345"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_the_password_change_page_has_a_limit_per_account(client, officer_bien_hoa, low_limits):
    login(client, officer_bien_hoa)
    data = {"old_password": "", "new_password1": "", "new_password2": ""}
    statuses = [client.post(reverse("password_change"), data).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


@pytest.mark.django_db(transaction=True)
def test_it_allows_exactly_the_limit_under_concurrency(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signin": 7}

    def hit():
        try:
            rate_limit_hit("signin", "198.51.100.7")
        except QuotaExceeded:
            return "refused"
        return "allowed"

    outcomes = run_concurrently(*[hit for _ in range(30)])
    assert outcomes.count("allowed") == 7 and outcomes.count("refused") == 23


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_with_its_redis_down_requests_are_not_counted(client, officer_bien_hoa, low_limits, settings, caplog,
                                                      password):
    settings.QUOTA_REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    for _ in range(5):
        rate_limit_hit("signin", "198.51.100.8")
    assert "Rate limit signin not counted" in caplog.text
    # Sign-in goes on (the lockout, in PostgreSQL, still counts the failures).
    for _ in range(4):
        client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": "Sai-mat-khau-1!"})
    response = client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": password})
    assert response.status_code == 302 and response.url == reverse("home")


def _lookup(client, token, officer):
    return client.post("/api/v1/lookups/", data={"officer": officer.username, "citizen_id": "075204000134",
                                                 "dossier_code": "000.00.31.H19-241105-0001", "purpose": "Hồ sơ"},
                       content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_flood_from_one_api_token_is_refused_before_any_decision(client, units, officer_bien_hoa, low_limits):
    from lookups.services import api_client_create
    from portal.actors import COMMAND_LINE

    _api_client, token = api_client_create(actor=COMMAND_LINE, name="Một cửa Biên Hòa", unit=units["bien_hoa"])
    other_client, other_token = api_client_create(actor=COMMAND_LINE, name="Một cửa tỉnh", unit=units["province"])
    assert [_lookup(client, token, officer_bien_hoa).status_code for _ in range(2)] == [200, 200]
    response = _lookup(client, token, officer_bien_hoa)
    assert response.status_code == 429
    assert response.json()["reason"] == "rate_limited" and 1 <= int(response["Retry-After"]) <= 60
    # Not a lookup decision: nothing recorded for it; another client's token is not affected.
    assert LookupRecord.objects.count() == 2
    assert _lookup(client, other_token, officer_bien_hoa).status_code == 200
