"""No reuse of the last N passwords (kept as hashes) and a minimum age between changes."""
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.choices import PasswordChangeReason
from policy.models import PasswordHistory
from policy.services import password_change
from portal.errors import PolicyViolation

PASSWORDS = [f"Quat-Mua-But-Chi-{n}!x" for n in range(12)]


def _age(account, days=2):
    account.password_changed_at = timezone.now() - timedelta(days=days)
    account.save(update_fields=["password_changed_at"])


def _change(account, new_password):
    password_change(actor=account, account=account, new_password=new_password)
    _age(account)


def test_it_keeps_hashes_not_passwords(db, officer_bien_hoa):
    _age(officer_bien_hoa)
    _change(officer_bien_hoa, PASSWORDS[0])
    stored = PasswordHistory.objects.get(account=officer_bien_hoa).password_hash
    assert stored.startswith("argon2$") and PASSWORDS[0] not in stored


def test_it_refuses_the_current_password(db, officer_bien_hoa, password):
    _age(officer_bien_hoa)
    with pytest.raises(PolicyViolation) as error:
        password_change(actor=officer_bien_hoa, account=officer_bien_hoa, new_password=password)
    assert error.value.code == "password_reused"


def test_it_refuses_any_of_the_last_five_passwords(db, officer_bien_hoa):
    _age(officer_bien_hoa)
    for new_password in PASSWORDS[:5]:
        _change(officer_bien_hoa, new_password)
    with pytest.raises(PolicyViolation) as error:
        password_change(actor=officer_bien_hoa, account=officer_bien_hoa, new_password=PASSWORDS[0])
    assert "5" in error.value.messages[0]


def test_it_accepts_a_password_older_than_the_history(db, officer_bien_hoa):
    _age(officer_bien_hoa)
    for new_password in PASSWORDS[:6]:
        _change(officer_bien_hoa, new_password)
    password_change(actor=officer_bien_hoa, account=officer_bien_hoa, new_password=PASSWORDS[0])
    assert officer_bien_hoa.check_password(PASSWORDS[0])


def test_it_remembers_ten_passwords_for_it_admins(db, it_admin):
    _age(it_admin)
    strong = [f"Quat-Mua-But-Chi-Den-{n}!x" for n in range(7)]
    for new_password in strong:
        _change(it_admin, new_password)
    with pytest.raises(PolicyViolation):
        password_change(actor=it_admin, account=it_admin, new_password=strong[0])


def test_it_refuses_a_second_change_within_the_minimum_age(db, officer_bien_hoa):
    _age(officer_bien_hoa)
    password_change(actor=officer_bien_hoa, account=officer_bien_hoa, new_password=PASSWORDS[0])
    with pytest.raises(PolicyViolation) as error:
        password_change(actor=officer_bien_hoa, account=officer_bien_hoa, new_password=PASSWORDS[1])
    assert error.value.code == "password_too_young"
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.check_password(PASSWORDS[0])


def test_it_allows_a_required_change_within_the_minimum_age(db, officer_bien_hoa):
    officer_bien_hoa.password_change_reason = PasswordChangeReason.FORCED
    officer_bien_hoa.save(update_fields=["password_change_reason"])
    password_change(actor=officer_bien_hoa, account=officer_bien_hoa, new_password=PASSWORDS[1])
    assert officer_bien_hoa.password_change_reason == PasswordChangeReason.NONE


def test_it_lets_an_officer_change_a_password_the_operator_set_at_once(db, officer_bien_hoa):
    # Seeded or set by the IT Center a minute ago, not chosen by the officer: the minimum age has not started.
    officer_bien_hoa.password_changed_at = timezone.now() - timedelta(minutes=1)
    officer_bien_hoa.password_set_by_self = False
    officer_bien_hoa.save(update_fields=["password_changed_at", "password_set_by_self"])
    password_change(actor=officer_bien_hoa, account=officer_bien_hoa, new_password=PASSWORDS[0])
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.check_password(PASSWORDS[0])
    assert officer_bien_hoa.password_set_by_self is True


def test_it_lets_an_officer_replace_a_password_reset_right_after_an_own_change(db, officer_bien_hoa, it_admin):
    from accounts.services import account_password_reset

    _age(officer_bien_hoa)
    password_change(actor=officer_bien_hoa, account=officer_bien_hoa, new_password=PASSWORDS[0])
    one_time_password, _ = account_password_reset(actor=it_admin, account=officer_bien_hoa)
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.password_set_by_self is False
    password_change(actor=officer_bien_hoa, account=officer_bien_hoa, new_password=PASSWORDS[1])
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.check_password(PASSWORDS[1])


def test_it_starts_the_minimum_age_only_with_the_officers_own_choice(db, officer_bien_hoa):
    from policy.selectors import password_change_allowed_from

    officer_bien_hoa.password_set_by_self = False
    assert password_change_allowed_from(officer_bien_hoa) is None
    _age(officer_bien_hoa)
    password_change(actor=officer_bien_hoa, account=officer_bien_hoa, new_password=PASSWORDS[0])
    officer_bien_hoa.refresh_from_db()
    assert password_change_allowed_from(officer_bien_hoa) == officer_bien_hoa.password_changed_at + timedelta(hours=24)
