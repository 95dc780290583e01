"""The password expiry reminder pass (notifications.reminders): thresholds fire once per password,
catch up after a missed run, start afresh after a change, and one pass is a constant number of
queries whatever the number of accounts."""
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.choices import PasswordChangeReason, Role
from notifications.choices import DeliveryState, NoticeKind
from notifications.models import Notice
from notifications.reminders import reminders_send
from policy.models import PasswordPolicy
from policy.selectors import policy_cache_clear
from tests.factories import UserFactory

from .helpers import bulk_officers, changed_for


def _thresholds(account):
    return list(Notice.objects.filter(recipient=account, kind=NoticeKind.PASSWORD_EXPIRY)
                .order_by("id").values_list("threshold", flat=True))


@pytest.mark.django_db
def test_it_sends_the_threshold_reached_once(officer_due_in_7):
    first = reminders_send(dispatch=False)
    second = reminders_send(dispatch=False)
    assert _thresholds(officer_due_in_7) == [7]
    assert len(first.notice_ids) == 1
    assert second.notice_ids == []
    notice = Notice.objects.get(recipient=officer_due_in_7)
    assert notice.password_version == officer_due_in_7.password_changed_at
    assert notice.deadline == officer_due_in_7.password_changed_at + timedelta(days=90)
    assert notice.email_state == DeliveryState.READY
    assert notice.email_to == officer_due_in_7.email


@pytest.mark.django_db
def test_a_skipped_day_is_caught_up_with_the_threshold_reached_by_then(units):
    start = timezone.now()
    officer = UserFactory(unit=units["tan_phong"], password_changed_at=changed_for(days_left=8, now=start))
    reminders_send(now=start, dispatch=False)
    assert _thresholds(officer) == [14]
    # Two days without a run: 6 days left, the 7-day reminder was missed and is sent now.
    reminders_send(now=start + timedelta(days=2), dispatch=False)
    assert _thresholds(officer) == [14, 7]
    # A worker stopped for five days: the 3-day reminder passed over, the 1-day one is sent, once.
    reminders_send(now=start + timedelta(days=7), dispatch=False)
    reminders_send(now=start + timedelta(days=7, hours=6), dispatch=False)
    assert _thresholds(officer) == [14, 7, 1]
    reminders_send(now=start + timedelta(days=8), dispatch=False)
    assert _thresholds(officer) == [14, 7, 1, 0]
    reminders_send(now=start + timedelta(days=30), dispatch=False)
    assert _thresholds(officer) == [14, 7, 1, 0]


@pytest.mark.django_db
def test_a_new_password_starts_afresh(units):
    start = timezone.now()
    officer = UserFactory(unit=units["tan_phong"], password_changed_at=changed_for(days_left=2, now=start))
    reminders_send(now=start, dispatch=False)
    assert _thresholds(officer) == [3]
    officer.password_changed_at = start + timedelta(hours=1)
    officer.save(update_fields=["password_changed_at"])
    reminders_send(now=start + timedelta(hours=2), dispatch=False)
    assert _thresholds(officer) == [3]
    reminders_send(now=start + timedelta(days=90 - 7, hours=2), dispatch=False)
    assert _thresholds(officer) == [3, 7]
    versions = list(Notice.objects.filter(recipient=officer).order_by("id").values_list("password_version", flat=True))
    assert versions[1] == officer.password_changed_at != versions[0]


@pytest.mark.django_db
def test_it_uses_the_it_admins_shorter_maximum_age(units):
    admin = UserFactory(unit=units["it_center"], role=Role.IT_ADMIN, password_changed_at=changed_for(days_left=3, admin=True))
    reminders_send(dispatch=False)
    assert _thresholds(admin) == [3]
    assert Notice.objects.get(recipient=admin).deadline == admin.password_changed_at + timedelta(days=60)


@pytest.mark.django_db
def test_it_leaves_out_accounts_not_due(units):
    UserFactory(unit=units["tan_phong"], password_changed_at=changed_for(days_left=20))
    UserFactory(unit=units["tan_phong"], is_active=False, password_changed_at=changed_for(days_left=2))
    UserFactory(unit=units["tan_phong"], password_change_reason=PasswordChangeReason.ONE_TIME,
                password_changed_at=changed_for(days_left=2))
    UserFactory(unit=units["tan_phong"], password_changed_at=None)
    assert reminders_send(dispatch=False).notice_ids == []
    assert Notice.objects.count() == 0


@pytest.mark.django_db
def test_it_follows_the_policys_thresholds(units):
    PasswordPolicy.objects.filter(id=1).update(expiry_reminder_days="10,2")
    policy_cache_clear()
    officer = UserFactory(unit=units["tan_phong"], password_changed_at=changed_for(days_left=9))
    other = UserFactory(unit=units["tan_phong"], password_changed_at=changed_for(days_left=12))
    reminders_send(dispatch=False)
    assert _thresholds(officer) == [10]
    assert _thresholds(other) == []


@pytest.mark.django_db
def test_an_account_without_an_address_gets_it_in_the_portal_only(units):
    officer = UserFactory(unit=units["tan_phong"], email="", password_changed_at=changed_for(days_left=1))
    reminders_send(dispatch=False)
    notice = Notice.objects.get(recipient=officer)
    assert (notice.threshold, notice.email_state, notice.email_to) == (1, DeliveryState.NONE, "")


@pytest.mark.django_db
def test_the_e_mails_are_handed_over_only_after_commit(officer_due_in_7, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        reminders_send()
    assert len(callbacks) == 1


# One pass: the policy read, the pass's lock, one INSERT … SELECT, and the savepoint around them.
PASS_QUERIES = 5


@pytest.mark.django_db
@pytest.mark.parametrize("accounts", [1_000, 10_000])
def test_one_pass_is_the_same_number_of_queries_at_any_size(units, accounts, django_assert_num_queries):
    bulk_officers(units["tan_phong"], accounts, days_left=5, prefix="cb.scale")
    bulk_officers(units["xuan_an"], accounts // 10, days_left=40, prefix="cb.later")  # not due
    policy_cache_clear()
    with django_assert_num_queries(PASS_QUERIES):
        result = reminders_send(dispatch=False)
    assert len(result.notice_ids) == accounts
    assert Notice.objects.filter(threshold=7).count() == accounts


@pytest.mark.django_db
def test_the_command_prints_what_it_sends_and_dry_run_sends_nothing(officer_due_in_7, capsys, mailoutbox):
    call_command("send_reminders", "--dry-run")
    dry = capsys.readouterr().out
    assert "cb.baydays\t7 day(s) before expiry\te-mail and in-app" in dry
    assert "Would send 1 reminder(s): 7 day(s) before expiry: 1." in dry
    assert Notice.objects.count() == 0
    assert mailoutbox == []
    call_command("send_reminders")
    out = capsys.readouterr().out
    assert "Queued 1 reminder(s): 7 day(s) before expiry: 1." in out
    assert "E-mails sent: 1; to retry: 0; failed: 0." in out
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ['"Đỗ Thị Lan" <cb.baydays@dongnai.gov.vn>']
    assert Notice.objects.get().email_state == DeliveryState.SENT
    call_command("send_reminders")
    assert "Queued 0 reminder(s)." in capsys.readouterr().out
    assert len(mailoutbox) == 1
