"""No table ever holds a typed password: not django-axes' attempts (the form body of a failure, a
password typed into the username field), not the audit log, not the sessions — checked on a dump of the
whole test database, every table, every column."""
import importlib
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.apps import apps
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.lockout import counted_username
from accounts.selectors import account_is_locked

WRONG_CURRENT = "Nham-Mat-Khau-Cu-31!"
NEW_PASSWORD = "Song-Dong-Nai-Xanh-Mat-48!"
TYPED_AS_USERNAME = "Go-Nham-O-Ten-Dang-Nhap-77!"
WRONG_AT_LOGIN = "Sai-O-Trang-Dang-Nhap-52!"


def _database_dump() -> str:
    """Every row of every table as PostgreSQL prints it (the row cast to text: all its columns)."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(include_views=False):
            cursor.execute(f'SELECT t::text FROM "{table}" AS t')
            rows.extend(f"{table}: {row[0]}" for row in cursor.fetchall())
    return "\n".join(rows)


def _age_password(account):
    # The minimum age between changes (24 h) would refuse the change the test needs.
    account.password_changed_at = timezone.now() - timedelta(days=2)
    account.save(update_fields=["password_changed_at"])


def test_it_keeps_no_typed_password_anywhere_in_the_database(client, officer_bien_hoa, password, settings):
    settings.AXES_ENABLE_ACCESS_FAILURE_LOG = True  # the per-failure log too, should it be turned on
    _age_password(officer_bien_hoa)
    assert client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": password}).status_code == 302
    # A mistyped current password, then the right one: the new password is typed twice each time.
    response = client.post(reverse("password_change"), {
        "old_password": WRONG_CURRENT, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 200
    response = client.post(reverse("password_change"), {
        "old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    client.post(reverse("logout"))
    # A password typed into the username field, and a wrong password at the login.
    client.post(reverse("login"), {"username": TYPED_AS_USERNAME, "password": NEW_PASSWORD})
    client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": WRONG_AT_LOGIN})
    # The three failures were recorded (the officer's two in one row, by username, address and browser)…
    assert sorted(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == [1, 2]
    assert AccessFailureLog.objects.count() == 3

    dump = _database_dump().lower()
    assert "axes_accessattempt" in dump and "audit_securityevent" in dump  # …and the dump holds them
    for typed in (WRONG_CURRENT, NEW_PASSWORD, TYPED_AS_USERNAME, WRONG_AT_LOGIN, password):
        assert typed.lower() not in dump, typed


def test_it_still_counts_and_locks_what_was_typed_as_a_username(client, db):
    for _ in range(5):
        client.post(reverse("login"), {"username": TYPED_AS_USERNAME, "password": "x"})
    attempt = AccessAttempt.objects.get()
    assert attempt.username == counted_username(TYPED_AS_USERNAME)
    assert attempt.username.startswith("#") and attempt.failures_since_start == 5
    response = client.post(reverse("login"), {"username": TYPED_AS_USERNAME, "password": "x"})
    assert response.status_code == 429


def test_it_keeps_a_real_username_as_typed_for_the_admins(client, officer_bien_hoa):
    client.post(reverse("login"), {"username": " CB.TanPhong", "password": WRONG_AT_LOGIN})
    attempt = AccessAttempt.objects.get()
    assert attempt.username == "cb.tanphong"
    assert attempt.post_data == "" and attempt.get_data == ""


def test_it_purges_what_was_stored_before(db, officer_bien_hoa):
    now = timezone.now()
    AccessAttempt.objects.create(
        username=officer_bien_hoa.username, ip_address="10.0.0.1", user_agent="ua", http_accept="*/*",
        path_info="/accounts/password_change/", attempt_time=now, failures_since_start=2, get_data="",
        post_data=f"old_password={WRONG_CURRENT}\nnew_password1={NEW_PASSWORD}\nnew_password2={NEW_PASSWORD}")
    AccessAttempt.objects.create(
        username=TYPED_AS_USERNAME.lower(), ip_address="10.0.0.1", user_agent="ua", http_accept="*/*",
        path_info="/accounts/login/", attempt_time=now, failures_since_start=5, get_data="",
        post_data="username=…\npassword=********************")
    AccessFailureLog.objects.create(username=TYPED_AS_USERNAME.lower(), ip_address="10.0.0.1", user_agent="ua",
                                    http_accept="*/*", path_info="/accounts/login/", attempt_time=now)

    migration = importlib.import_module("accounts.migrations.0010_purge_typed_passwords_from_axes")
    migration.purge(apps, None)

    dump = _database_dump().lower()
    for typed in (WRONG_CURRENT, NEW_PASSWORD, TYPED_AS_USERNAME):
        assert typed.lower() not in dump, typed
    assert set(AccessAttempt.objects.values_list("post_data", flat=True)) == {""}
    # The counters survive, under the name the login counts from now on.
    assert account_is_locked(officer_bien_hoa) is False
    hashed = AccessAttempt.objects.get(username=counted_username(TYPED_AS_USERNAME))
    assert hashed.failures_since_start == 5
    assert AccessFailureLog.objects.get().username == counted_username(TYPED_AS_USERNAME)
    assert AccessAttempt.objects.get(username=officer_bien_hoa.username).failures_since_start == 2


@pytest.mark.parametrize("typed", ["", "cb.tanphong", "CB.TanPhong "])
def test_it_counts_a_username_shaped_value_as_the_username(typed):
    assert counted_username(typed) == typed.strip().lower()
