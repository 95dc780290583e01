"""The lookup records partitioned by month: the converted table, its keys, triggers and indexes, and
the job that creates the next months' partitions ahead."""
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.partitions import month_start, months_before, next_month, partition_name, partitions_ahead, partitions_of
from lookups.models import LookupRecord

from .seal_helpers import lookup_records

pytestmark = pytest.mark.django_db
LOOKUPS = "lookups_lookuprecord"


def _scalar(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_the_lookup_records_are_partitioned_by_month_with_the_month_in_the_primary_key():
    assert _scalar("SELECT partstrat FROM pg_partitioned_table WHERE partrelid = %s::regclass", [LOOKUPS]) == "r"
    assert _scalar("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass"
                   " AND contype = 'p'", [LOOKUPS]) == "PRIMARY KEY (id, decided_at)"
    this_month = timezone.localdate().replace(day=1)
    # (the test set-up adds the two months before this one: tests write lookups in the past)
    names = [partition.name for partition in partitions_of(LOOKUPS) if partition.name >= partition_name(LOOKUPS, this_month)]
    assert names[:4] == [partition_name(LOOKUPS, this_month), partition_name(LOOKUPS, next_month(this_month)),
                         partition_name(LOOKUPS, months_before(this_month, -2)),
                         partition_name(LOOKUPS, months_before(this_month, -3))]


def test_the_indexes_serve_officer_time_unit_day_and_citizen():
    definitions = {row[0]: row[1] for row in _rows(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [LOOKUPS])}
    assert "(officer_id, decided_at)" in definitions["lookup_record_officer"]
    assert "(unit_id_then, decided_at)" in definitions["lookup_record_unit"]
    assert "(citizen_id_hash, decided_at)" in definitions["lookup_record_citizen"]


def _rows(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_a_record_lands_in_its_months_partition_and_stays_append_only():
    [record_id] = lookup_records(1)
    name = partition_name(LOOKUPS, timezone.localdate().replace(day=1))
    assert _scalar(f"SELECT count(*) FROM {name} WHERE id = %s", [record_id]) == 1
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LookupRecord.objects.filter(pk=record_id).update(purpose="sửa")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:  # straight into the partition: the row trigger is cloned there
            cursor.execute(f"DELETE FROM {name} WHERE id = %s", [record_id])
    assert LookupRecord.objects.get(pk=record_id).purpose == "Cấp hộ chiếu"


def test_a_partitions_truncate_trigger_refuses_when_switched_on():
    name = partition_name(LOOKUPS, timezone.localdate().replace(day=1))
    lookup_records(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {name} ENABLE TRIGGER {LOOKUPS}_no_truncate")
            cursor.execute(f"TRUNCATE {name}")


def test_the_job_creates_the_next_months_ahead_once(settings):
    settings.AUDIT_PARTITIONS_AHEAD = 5
    this_month = timezone.localdate().replace(day=1)
    created = partitions_ahead()
    assert created == {LOOKUPS: [partition_name(LOOKUPS, months_before(this_month, -4)),
                                 partition_name(LOOKUPS, months_before(this_month, -5))]}
    assert partitions_ahead() == {LOOKUPS: []}
    newest = partition_name(LOOKUPS, months_before(this_month, -5))
    # The new partition follows its parent's TRUNCATE trigger (off in the test database).
    assert _scalar("SELECT tgenabled FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname = %s",
                   [newest, f"{LOOKUPS}_no_truncate"]) == "D"


def test_the_command_creates_partitions_ahead():
    from io import StringIO

    out = StringIO()
    call_command("audit_partitions", "--months", "4", stdout=out)
    this_month = timezone.localdate().replace(day=1)
    assert out.getvalue() == f"{LOOKUPS}: {partition_name(LOOKUPS, months_before(this_month, -4))}\n"


def test_months_are_local_months():
    assert month_start(date(2026, 12, 1)).isoformat() == "2026-12-01T00:00:00+07:00"
    assert months_before(date(2026, 1, 1), 1) == date(2025, 12, 1)
    assert next_month(date(2026, 12, 1)) == date(2027, 1, 1)
    assert month_start(date(2027, 1, 1)) - month_start(date(2026, 12, 1)) == timedelta(days=31)
