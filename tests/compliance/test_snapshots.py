"""The daily snapshot: per unit and day, its subtree's figures rolled up, written once (a second run,
also a concurrent one, adds nothing), with the unit's code, name and path as they were that day."""
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.choices import PasswordChangeReason
from audit.choices import EventKind
from audit.services import audit_event_record
from compliance.models import UnitSnapshot
from compliance.services import snapshot_take
from lookups.models import LookupRecord
from portal.actors import SystemActor
from tests.factories import UserFactory
from tests.helpers import run_concurrently

JOB = SystemActor("compliance_job")


def population(units, now):
    """Tân Phong: 3 comply, 1 expired; Biên Hòa itself: 1 complies, 1 dormant; Xuân An: 2 comply."""
    for _ in range(3):
        UserFactory(unit=units["tan_phong"])
    expired = UserFactory(unit=units["tan_phong"], password_changed_at=now - timedelta(days=100))
    UserFactory(unit=units["bien_hoa"])
    UserFactory(unit=units["bien_hoa"], created_at=now - timedelta(days=90), last_login=now - timedelta(days=50))
    for _ in range(2):
        UserFactory(unit=units["xuan_an"])
    UserFactory(unit=units["xuan_an"], is_active=False)
    return expired


@pytest.mark.django_db
def test_the_snapshot_rolls_each_subtree_up_into_its_unit(units):
    now = timezone.now()
    expired = population(units, now)
    LookupRecord.objects.create(officer=expired, unit_id_then=units["tan_phong"].pk, decision="allow", decided_at=now)
    LookupRecord.objects.create(officer=expired, unit_id_then=units["tan_phong"].pk, decision="refuse",
                                reason="officer_minute", decided_at=now)
    audit_event_record(kind=EventKind.LOCKOUT, actor=JOB, target=expired)
    assert snapshot_take(actor=JOB, now=now) == len(units)
    rows = {row.unit_code: row for row in UnitSnapshot.objects.filter(day=timezone.localdate(now))}
    tan_phong, bien_hoa, province = rows["000.01.31.H19"], rows["000.00.31.H19"], rows["000.00.00.H19"]
    assert (tan_phong.accounts_total, tan_phong.accounts_compliant, tan_phong.password_expired) == (4, 3, 1)
    assert tan_phong.lookup_quota == 1  # the refused lookup marks the same expired account
    assert (bien_hoa.accounts_total, bien_hoa.accounts_compliant, bien_hoa.dormant, bien_hoa.accounts_own) == (6, 4, 1, 2)
    assert (province.accounts_total, province.accounts_compliant) == (8, 6)
    assert (tan_phong.lookups_allowed, tan_phong.lookups_refused, tan_phong.lockouts) == (1, 1, 1)
    assert (province.lookups_allowed, province.lookups_refused, province.lockouts) == (1, 1, 1)
    assert bien_hoa.unit_path == units["bien_hoa"].path and bien_hoa.depth == 1
    assert "lookup_anomaly" not in province.rules_not_judged  # the anomaly flags are judged


@pytest.mark.django_db
def test_a_second_run_the_same_day_writes_nothing(units):
    now = timezone.now()
    population(units, now)
    assert snapshot_take(actor=JOB, now=now) == len(units)
    UserFactory(unit=units["tan_phong"], password_change_reason=PasswordChangeReason.EXPIRED)
    assert snapshot_take(actor=JOB, now=now + timedelta(minutes=5)) == 0
    assert UnitSnapshot.objects.count() == len(units)
    assert UnitSnapshot.objects.get(unit=units["tan_phong"]).accounts_total == 4


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_give_one_set_of_rows(units):
    now = timezone.now()
    population(units, now)
    outcomes = run_concurrently(lambda: snapshot_take(actor=JOB, now=now),
                                lambda: snapshot_take(actor=JOB, now=now + timedelta(seconds=1)))
    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    assert UnitSnapshot.objects.count() == len(units)
    assert UnitSnapshot.objects.values("day", "unit").distinct().count() == len(units)


@pytest.mark.django_db
def test_a_renamed_unit_keeps_its_old_name_in_past_snapshots(units):
    now = timezone.now()
    snapshot_take(actor=JOB, now=now - timedelta(days=1))
    units["tan_phong"].name = "UBND phường Tân Phong (mới)"
    units["tan_phong"].save(update_fields=["name"])
    snapshot_take(actor=JOB, now=now)
    names = list(UnitSnapshot.objects.filter(unit=units["tan_phong"]).order_by("day").values_list("unit_name", flat=True))
    assert names == ["UBND phường Tân Phong", "UBND phường Tân Phong (mới)"]


@pytest.mark.django_db
def test_snapshots_older_than_two_years_are_removed(units):
    now = timezone.now()
    snapshot_take(actor=JOB, now=now - timedelta(days=800))
    snapshot_take(actor=JOB, now=now - timedelta(days=700))
    snapshot_take(actor=JOB, now=now)
    days = sorted({row for row in UnitSnapshot.objects.values_list("day", flat=True)})
    assert days == [timezone.localdate(now - timedelta(days=700)), timezone.localdate(now)]


@pytest.mark.django_db(transaction=True)
def test_the_daily_job_runs_on_a_real_worker_once(units, celery_worker):
    from compliance.tasks import snapshot_daily

    population(units, timezone.now())
    before = celery_worker.runs_of(snapshot_daily)
    celery_worker.send(snapshot_daily)
    celery_worker.send(snapshot_daily)
    celery_worker.wait_done(snapshot_daily, before + 2)
    assert UnitSnapshot.objects.count() == len(units)
