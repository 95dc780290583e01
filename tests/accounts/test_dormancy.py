"""Dormant accounts stop working by themselves (docs/architecture.md `disable_dormant`, policy: 45 days)."""
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.choices import Role
from accounts.models import User
from accounts.services.dormancy import dormancy_exemption_grant, dormancy_exemption_revoke, dormant_accounts_disable
from accounts.tasks import disable_dormant_accounts
from audit.choices import EventKind
from audit.models import SecurityEvent
from portal.actors import SystemActor
from portal.errors import NotAllowed, PolicyViolation
from tests.factories import UserFactory

JOB = SystemActor("dormant_job")


def _unused_for(account, days, *, logged_in=True):
    moment = timezone.now() - timedelta(days=days)
    User.objects.filter(pk=account.pk).update(created_at=moment - timedelta(days=1),
                                              last_login=moment if logged_in else None)
    account.refresh_from_db()
    return account


def _disabled_usernames():
    return set(User.objects.filter(is_active=False).values_list("username", flat=True))


def test_it_disables_an_account_without_a_sign_in_for_the_policys_days(db, officer_bien_hoa, leader_bien_hoa):
    _unused_for(officer_bien_hoa, 46)
    _unused_for(leader_bien_hoa, 44)
    disabled = dormant_accounts_disable(actor=JOB)
    assert [account.username for account in disabled] == [officer_bien_hoa.username]
    officer_bien_hoa.refresh_from_db()
    assert not officer_bien_hoa.is_active
    assert officer_bien_hoa.disabled_reason == "Không sử dụng trong 45 ngày (tự động vô hiệu hóa)."
    event = SecurityEvent.objects.get(kind=EventKind.ACCOUNT_DISABLED, target=officer_bien_hoa)
    assert event.actor_username == "system:dormant_job"
    assert event.details["dormant_days"] == 45


def test_it_counts_an_account_that_never_signed_in_from_its_creation(db, officer_bien_hoa, officer_long_khanh):
    _unused_for(officer_bien_hoa, 46, logged_in=False)
    _unused_for(officer_long_khanh, 30, logged_in=False)
    dormant_accounts_disable(actor=JOB)
    assert _disabled_usernames() == {officer_bien_hoa.username}


def test_it_counts_a_re_enabled_account_from_its_re_enabling(db, officer_bien_hoa):
    _unused_for(officer_bien_hoa, 200)
    User.objects.filter(pk=officer_bien_hoa.pk).update(enabled_at=timezone.now() - timedelta(days=2))
    assert dormant_accounts_disable(actor=JOB) == []
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.is_active


def test_a_second_run_changes_nothing(db, officer_bien_hoa):
    _unused_for(officer_bien_hoa, 60)
    assert len(dormant_accounts_disable(actor=JOB)) == 1
    assert dormant_accounts_disable(actor=JOB) == []
    assert SecurityEvent.objects.filter(kind=EventKind.ACCOUNT_DISABLED).count() == 1
    assert SecurityEvent.objects.filter(kind=EventKind.DORMANT_ACCOUNTS_DISABLED).count() == 1


def test_it_tells_each_unit_what_it_disabled_there(db, units, officer_bien_hoa, officer_long_khanh):
    neighbour = UserFactory(username="cb.tanphong2", unit=units["tan_phong"])
    for account in (officer_bien_hoa, officer_long_khanh, neighbour):
        _unused_for(account, 50)
    dormant_accounts_disable(actor=JOB)
    notices = {event.unit_code: event.details["accounts_disabled"]
               for event in SecurityEvent.objects.filter(kind=EventKind.DORMANT_ACCOUNTS_DISABLED)}
    assert notices == {units["tan_phong"].code: ["cb.tanphong", "cb.tanphong2"],
                       units["xuan_an"].code: ["cb.xuanan"]}


def test_it_keeps_an_exempted_service_account_until_the_exemption_ends(db, it_admin, officer_bien_hoa):
    _unused_for(officer_bien_hoa, 90)
    dormancy_exemption_grant(actor=it_admin, account=officer_bien_hoa, reason="Tài khoản giám sát hệ thống",
                             expires_at=timezone.now() + timedelta(days=30))
    assert dormant_accounts_disable(actor=JOB) == []
    assert dormant_accounts_disable(actor=JOB, now=timezone.now() + timedelta(days=31))[0] == officer_bien_hoa
    event = SecurityEvent.objects.get(kind=EventKind.DORMANCY_EXEMPTED)
    assert (event.actor, event.target, event.details["reason"]) == (it_admin, officer_bien_hoa,
                                                                    "Tài khoản giám sát hệ thống")


def test_a_withdrawn_exemption_protects_nothing(db, it_admin, officer_bien_hoa):
    _unused_for(officer_bien_hoa, 90)
    dormancy_exemption_grant(actor=it_admin, account=officer_bien_hoa, reason="Dự phòng",
                             expires_at=timezone.now() + timedelta(days=30))
    assert dormancy_exemption_revoke(actor=it_admin, account=officer_bien_hoa) == 1
    assert len(dormant_accounts_disable(actor=JOB)) == 1


def test_it_never_disables_the_last_active_it_admin(db, it_admin):
    second = UserFactory(username="qt.admin2", role=Role.IT_ADMIN, unit=it_admin.unit)
    _unused_for(it_admin, 100)
    _unused_for(second, 100)
    for admin in (it_admin, second):  # both have signed in, a hundred days ago
        SecurityEvent.objects.create(kind=EventKind.LOGIN_SUCCESS, actor=admin, target=admin,
                                     occurred_at=timezone.now() - timedelta(days=100))
    disabled = dormant_accounts_disable(actor=JOB)
    assert len(disabled) == 1
    assert User.objects.filter(role=Role.IT_ADMIN, is_active=True).count() == 1


@pytest.mark.parametrize("reason, days, message", [
    ("", 30, "Hãy nêu lý do."),
    ("Giám sát", -1, "Ngày kết thúc miễn trừ phải sau thời điểm hiện tại."),
    ("Giám sát", 400, "Miễn trừ kéo dài tối đa một năm; hãy gia hạn khi hết hạn."),
])
def test_it_refuses_a_bad_exemption_and_changes_nothing(db, it_admin, officer_bien_hoa, reason, days, message):
    with pytest.raises(PolicyViolation) as error:
        dormancy_exemption_grant(actor=it_admin, account=officer_bien_hoa, reason=reason,
                                 expires_at=timezone.now() + timedelta(days=days))
    assert error.value.messages == [message]
    assert officer_bien_hoa.dormancy_exemptions.count() == 0
    assert SecurityEvent.objects.filter(kind=EventKind.DORMANCY_EXEMPTED).count() == 0


def test_only_an_it_admin_exempts(db, leader_bien_hoa, officer_bien_hoa):
    with pytest.raises(NotAllowed):
        dormancy_exemption_grant(actor=leader_bien_hoa, account=officer_bien_hoa, reason="Giám sát",
                                 expires_at=timezone.now() + timedelta(days=30))


def test_the_command_prints_what_it_disabled_and_then_nothing(db, officer_bien_hoa):
    _unused_for(officer_bien_hoa, 46)
    out = StringIO()
    call_command("disable_dormant", stdout=out)
    assert out.getvalue() == f"disabled cb.tanphong ({officer_bien_hoa.unit.code})\n1 dormant account(s) disabled.\n"
    out = StringIO()
    call_command("disable_dormant", stdout=out)
    assert out.getvalue() == "0 dormant account(s) disabled.\n"


@pytest.mark.django_db(transaction=True)
def test_two_passes_at_once_disable_and_record_each_account_once(units, officer_bien_hoa, officer_long_khanh):
    for account in (officer_bien_hoa, officer_long_khanh):
        _unused_for(account, 50)
    barrier = threading.Barrier(2)
    results = []

    def run_pass():
        try:
            barrier.wait(timeout=10)
            results.append(len(dormant_accounts_disable(actor=JOB)))
        finally:
            connection.close()

    threads = [threading.Thread(target=run_pass) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(results) == 2  # however the two passes shared the work
    assert SecurityEvent.objects.filter(kind=EventKind.ACCOUNT_DISABLED).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_daily_job_run_twice_on_a_real_worker_disables_once(celery_worker, units, officer_bien_hoa):
    _unused_for(officer_bien_hoa, 46)
    before = celery_worker.runs_of(disable_dormant_accounts)
    celery_worker.send(disable_dormant_accounts)
    celery_worker.send(disable_dormant_accounts)
    celery_worker.wait_done(disable_dormant_accounts, before + 2)
    officer_bien_hoa.refresh_from_db()
    assert not officer_bien_hoa.is_active
    assert SecurityEvent.objects.filter(kind=EventKind.ACCOUNT_DISABLED, target=officer_bien_hoa).count() == 1
    assert SecurityEvent.objects.filter(kind=EventKind.DORMANT_ACCOUNTS_DISABLED).count() == 1
