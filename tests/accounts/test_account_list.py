"""The IT admin's account list: search and filters (unit, role, state, password expiring, locked), with a
constant number of queries whatever the number of rows."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.choices import PasswordChangeReason
from tests.factories import UserFactory


@pytest.fixture
def population(units):
    now = timezone.now()
    return {
        "fresh": UserFactory(username="cb.fresh", unit=units["tan_phong"]),
        "expiring": UserFactory(username="cb.expiring", unit=units["tan_phong"],
                                password_changed_at=now - timedelta(days=80)),
        "expired": UserFactory(username="cb.expired", unit=units["xuan_an"], password_changed_at=now - timedelta(days=95)),
        "disabled": UserFactory(username="cb.disabled", unit=units["xuan_an"], is_active=False,
                                disabled_reason="Nghỉ hưu"),
        # A new account: no password of its own yet, so no change date; it is "must change", not "expired".
        "one_time": UserFactory(username="cb.onetime", unit=units["bien_hoa"], password_changed_at=None,
                                password_change_reason=PasswordChangeReason.ONE_TIME),
        "leader": UserFactory(username="ld.longkhanh", unit=units["long_khanh"], role="unit_leader"),
    }


def _usernames(response):
    return {account.username for account in response.context["page"]}


@pytest.mark.parametrize("state,expected", [
    ("disabled", {"cb.disabled"}),
    ("must_change", {"cb.onetime"}),
    ("expiring", {"cb.expiring"}),
    ("expired", {"cb.expired"}),
])
def test_it_filters_by_state(admin_client, population, state, expected):
    assert _usernames(admin_client.get(reverse("accounts:list"), {"state": state})) == expected


def test_it_filters_locked_accounts(admin_client, population, client):
    from django.test import Client

    other = Client()
    for _ in range(5):
        other.post(reverse("login"), {"username": "cb.fresh", "password": "Sai-mat-khau-1!"})
    assert _usernames(admin_client.get(reverse("accounts:list"), {"state": "locked"})) == {"cb.fresh"}


def test_it_filters_by_unit_subtree_and_role(admin_client, population, units):
    response = admin_client.get(reverse("accounts:list"), {"unit": units["bien_hoa"].pk})
    assert _usernames(response) == {"cb.fresh", "cb.expiring", "cb.onetime"}
    response = admin_client.get(reverse("accounts:list"), {"role": "unit_leader"})
    assert _usernames(response) == {"ld.longkhanh"}


def test_it_searches_name_username_and_email(admin_client, population):
    assert _usernames(admin_client.get(reverse("accounts:list"), {"q": "EXPIRING"})) == {"cb.expiring"}


def test_it_ignores_unknown_filter_values_with_a_message(admin_client, population):
    response = admin_client.get(reverse("accounts:list"), {"state": "hacked", "unit": "abc"})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_it_lists_with_a_constant_number_of_queries(admin_client, units, django_assert_max_num_queries):
    admin_client.get(reverse("accounts:list"))  # warm the policy cache and the session
    UserFactory.create_batch(5, unit=units["tan_phong"])
    with django_assert_max_num_queries(8) as few:
        admin_client.get(reverse("accounts:list"))
    UserFactory.create_batch(40, unit=units["xuan_an"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(reverse("accounts:list"))


@pytest.mark.parametrize("typed", ["nguyen thi", "NGUYỄN THỊ", "thi dong", "Thị Đông"])
def test_it_searches_without_accents(admin_client, units, typed):
    UserFactory(username="cb.nguyen", full_name="Nguyễn Thị Đông", unit=units["tan_phong"])
    UserFactory(username="cb.tran", full_name="Trần Văn Bình", unit=units["tan_phong"])
    assert _usernames(admin_client.get(reverse("accounts:list"), {"q": typed})) == {"cb.nguyen"}
