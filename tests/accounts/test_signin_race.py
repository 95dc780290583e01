"""The lockout cannot be raced: parallel attempts on one username (several gunicorn workers, 0.2 s of
Argon2 each) are judged one at a time, so no more passwords are checked than the threshold allows.
Real threads, each with its own test client and database connection."""
import threading

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from accounts.models import User
from audit.choices import EventKind
from audit.models import SecurityEvent
from tests.conftest import login

THRESHOLD = 5
WRONG = "Sai-mat-khau-1!"
NEW_PASSWORD = "Song-Dong-Nai-Xanh-Mat-48!"


class PasswordChecks:
    """Counts the passwords actually verified, and those verified while the username had already
    reached the threshold (the race the lock must close)."""

    def __init__(self, monkeypatch, username):
        self.username = username
        self.verified = 0
        self.verified_past_threshold = 0
        self._mutex = threading.Lock()
        original = User.check_password
        checks = self

        def check_password(user, raw_password):
            failures = AccessAttempt.objects.filter(username=user.username).aggregate(
                total=Sum("failures_since_start"))["total"] or 0
            with checks._mutex:
                checks.verified += 1
                checks.verified_past_threshold += failures >= THRESHOLD
            return original(user, raw_password)

        monkeypatch.setattr(User, "check_password", check_password)


def _in_parallel(requests):
    """Run each callable in its own thread, all released at once; their results in order."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def run(index, request):
        try:
            barrier.wait()
            results[index] = request()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, request)) for index, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _login_post(username, password):
    def post():
        return Client().post(reverse("login"), {"username": username, "password": password}).status_code
    return post


def _fail_before(username, times):
    client = Client()
    for _ in range(times):
        client.post(reverse("login"), {"username": username, "password": WRONG})


@pytest.mark.django_db(transaction=True)
def test_it_checks_one_password_of_a_burst_when_one_attempt_is_left(monkeypatch, officer_bien_hoa, password):
    _fail_before(officer_bien_hoa.username, THRESHOLD - 1)
    checks = PasswordChecks(monkeypatch, officer_bien_hoa.username)
    statuses = _in_parallel([_login_post(officer_bien_hoa.username, WRONG) for _ in range(8)])
    assert checks.verified == 1
    assert statuses == [429] * 8  # the one checked reached the threshold; the others found it reached
    assert AccessAttempt.objects.aggregate(total=Sum("failures_since_start"))["total"] == THRESHOLD
    # The right password after the threshold is refused without being checked.
    assert Client().post(reverse("login"), {"username": officer_bien_hoa.username,
                                            "password": password}).status_code == 429
    assert checks.verified == 1
    assert SecurityEvent.objects.filter(kind=EventKind.LOCKOUT).count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_never_checks_a_password_past_the_threshold_in_a_mixed_burst(monkeypatch, officer_bien_hoa, password):
    _fail_before(officer_bien_hoa.username, THRESHOLD - 1)
    checks = PasswordChecks(monkeypatch, officer_bien_hoa.username)
    requests = [_login_post(officer_bien_hoa.username, WRONG) for _ in range(7)]
    requests.insert(3, _login_post(officer_bien_hoa.username, password))
    statuses = _in_parallel(requests)
    assert checks.verified_past_threshold == 0
    right = statuses[3]
    # Either the right password came first (it logs in, and the counter starts again from zero: the
    # seven wrong ones are then checked as fresh attempts, five of them at most), or a wrong one did and
    # the right password is refused with the rest.
    if right == 302:
        assert checks.verified == 1 + THRESHOLD
        assert sorted(statuses) == [200] * (THRESHOLD - 1) + [302] + [429] * 3
    else:
        assert right == 429
        assert checks.verified == 1
        assert statuses == [429] * 8
    assert SecurityEvent.objects.filter(kind=EventKind.LOGIN_SUCCESS).count() == (1 if right == 302 else 0)


@pytest.mark.django_db(transaction=True)
def test_it_checks_one_current_password_of_a_burst_on_the_change_page(monkeypatch, officer_bien_hoa, password):
    # Sessions first (a login clears the failures): one for the burst, one opened in another browser.
    session = login(Client(), officer_bien_hoa)
    again = login(Client(), officer_bien_hoa)
    _fail_before(officer_bien_hoa.username, THRESHOLD - 1)
    hash_before = officer_bien_hoa.password
    checks = PasswordChecks(monkeypatch, officer_bien_hoa.username)

    def change(old_password):
        def post():
            client = Client()
            client.cookies = session.cookies
            return client.post(reverse("password_change"), {
                "old_password": old_password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
            }).status_code
        return post

    statuses = _in_parallel([change(WRONG) for _ in range(8)])
    assert checks.verified == 1
    # 429 for the one checked and for those that found the lockout; 302 (to the login) for those that
    # arrived after the lockout had ended the session. None was shown the form again (a checked one).
    assert sorted(set(statuses)) in ([429], [302, 429])
    assert AccessAttempt.objects.aggregate(total=Sum("failures_since_start"))["total"] == THRESHOLD
    # Locked now: the right current password, from the other session, changes nothing.
    response = again.post(reverse("password_change"), {
        "old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 429
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.password == hash_before
    assert checks.verified == 1
