"""Login through Django's auth view: usernames without case, one indexed lookup, events recorded."""
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from audit.choices import EventKind
from audit.models import SecurityEvent


def test_it_logs_in_whatever_the_case_typed(client, officer_bien_hoa, password):
    response = client.post(reverse("login"), {"username": "  CB.TanPhong ", "password": password})
    assert response.status_code == 302 and response.url == reverse("home")
    event = SecurityEvent.objects.get(kind=EventKind.LOGIN_SUCCESS)
    assert event.target == officer_bien_hoa and event.unit_code == officer_bien_hoa.unit.code


def test_it_finds_the_account_through_the_unique_index(db, officer_bien_hoa):
    """`iexact` would compare UPPER(username) and scan the whole table on every login."""
    with CaptureQueriesContext(connection) as queries:
        account = User.objects.get_by_natural_key("CB.TANPHONG")
    assert account == officer_bien_hoa
    assert len(queries.captured_queries) == 1
    sql = queries.captured_queries[0]["sql"]
    assert "UPPER" not in sql and "LIKE" not in sql and "accounts_unit" in sql


def test_it_records_a_failure_without_the_password(client, officer_bien_hoa):
    client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": "Bi-Mat-Cua-Toi-77!"})
    event = SecurityEvent.objects.get(kind=EventKind.LOGIN_FAILURE)
    assert event.target == officer_bien_hoa
    assert "Bi-Mat-Cua-Toi-77!" not in str(event.details)


def test_it_refuses_a_password_over_128_characters_at_login(client, officer_bien_hoa):
    response = client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": "x" * 129})
    assert response.status_code == 200 and "password" in response.context["form"].errors


def test_it_keeps_only_a_hint_of_an_unknown_username_that_looks_like_a_password(client, db):
    client.post(reverse("login"), {"username": "Bi-Mat-Cua-Toi-77!", "password": "x"})
    client.post(reverse("login"), {"username": "nguoi.la", "password": "x"})
    recorded = set(SecurityEvent.objects.filter(kind=EventKind.LOGIN_FAILURE).values_list("target_username", flat=True))
    assert recorded == {"bi…[18]", "nguoi.la"}


def test_it_asks_for_both_fields_and_records_nothing(client, db):
    response = client.post(reverse("login"), {"username": "", "password": ""})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"username", "password"}
    assert not SecurityEvent.objects.exists()


def test_it_answers_a_username_of_256_characters_with_a_form_error(client, db):
    from axes.models import AccessAttempt

    response = client.post(reverse("login"), {"username": "a" * 256, "password": "Bi-Mat-Cua-Toi-77!"})
    assert response.status_code == 200
    assert response.context["form"].errors["username"] == ["Tên đăng nhập dài tối đa 64 ký tự."]
    event = SecurityEvent.objects.get(kind=EventKind.LOGIN_FAILURE)
    assert event.details == {"reason": "malformed"} and event.target_username == "aa…[256]"
    # No account can have it: nothing to count towards a lockout.
    assert AccessAttempt.objects.count() == 0


def test_it_sends_a_signed_in_officer_home_from_a_login_link_that_points_to_itself(client, officer_bien_hoa):
    from tests.conftest import login

    login(client, officer_bien_hoa)
    response = client.get(reverse("login") + "?next=" + reverse("login"))
    assert response.status_code == 302 and response.url == reverse("home")
