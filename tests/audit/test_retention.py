"""Retention: the oldest months go only through `audit_retention`, which verifies first and leaves a
signed, sealed event; verification stays green after it and turns red after a partition dropped by hand."""
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from audit.choices import EventKind
from audit.models import Seal, SecurityEvent
from audit.partitions import month_start, months_before, partition_create, partition_name, partitions_of
from audit.sealing import seals_run

from .seal_helpers import lookup_records, replication_role, triggers_disabled, verify_command

pytestmark = pytest.mark.django_db
LOOKUPS = "lookups_lookuprecord"


@pytest.fixture
def old_and_new_records(settings):
    """Records of a month five months back (its partition made for the test) and of this month; one
    record of the old month drawn its id after a record of this month (ids are drawn before commit).
    The straggler stands for one dated a moment before a month's end: five months here, so the
    verification's back-dating tolerance is widened to match."""
    settings.AUDIT_TIME_BACKWARDS_MINUTES = 200 * 24 * 60
    this_month = timezone.localdate().replace(day=1)
    old_month = months_before(this_month, 5)
    partition_create(LOOKUPS, old_month)
    old_time = month_start(old_month) + timedelta(days=3)
    old = lookup_records(4, decided_at=old_time)
    new = lookup_records(3)
    straggler = lookup_records(1, decided_at=old_time)
    seals_run()
    return {"old_month": old_month, "old": old + straggler, "new": new, "straggler": straggler[0]}


def _retention(*args):
    out, err = StringIO(), StringIO()
    call_command("audit_retention", *args, stdout=out, stderr=err)
    return out.getvalue()


def test_removing_the_oldest_month_through_the_command_keeps_verification_green(old_and_new_records):
    name = partition_name(LOOKUPS, old_and_new_records["old_month"])
    out = _retention("--months", "3")
    assert out.startswith(f"{LOOKUPS}: removed {name} (5 records, ids {old_and_new_records['old'][0]}–"
                          f"{old_and_new_records['straggler']})")
    assert name not in [partition.name for partition in partitions_of(LOOKUPS)]
    event = SecurityEvent.objects.get(kind=EventKind.AUDIT_RETENTION)
    assert event.actor_username == "system:command_line"
    assert (event.details["partitions"], event.details["removed_count"], event.details["straggler_ids"]) == (
        [name], 5, [old_and_new_records["straggler"]])
    assert Seal.objects.filter(table_name="audit_securityevent", last_id__gte=event.pk).exists()  # sealed
    out, error = verify_command()
    assert error is None, out
    assert "5 records removed by retention" in out
    assert f"{len(old_and_new_records['new'])}/{len(old_and_new_records['new'])} records covered" in out


def test_dropping_the_oldest_month_by_hand_turns_verification_red(old_and_new_records):
    name = partition_name(LOOKUPS, old_and_new_records["old_month"])
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {LOOKUPS} DETACH PARTITION {name}")
        cursor.execute(f"DROP TABLE {name}")
    _out, error = verify_command("--table", LOOKUPS)
    first = old_and_new_records["old"][0]
    assert error == f"Verification failed: {LOOKUPS} record {first} missing from seal 1."


def test_a_retention_event_forged_behind_the_triggers_explains_nothing(old_and_new_records):
    name = partition_name(LOOKUPS, old_and_new_records["old_month"])
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {LOOKUPS} DETACH PARTITION {name}")
        cursor.execute(f"DROP TABLE {name}")
    SecurityEvent.objects.create(kind=EventKind.AUDIT_RETENTION, actor_username="system:command_line", details={
        "table": LOOKUPS, "through_position": 1, "removed_below_id": 10 ** 9, "straggler_ids": [],
        "signing_key_id": "0" * 16, "signature": "00" * 64})
    assert verify_command("--table", LOOKUPS)[1].startswith(f"Verification failed: {LOOKUPS} record ")


def test_it_removes_nothing_when_verification_fails(old_and_new_records):
    target = old_and_new_records["new"][0]
    with replication_role() as cursor:
        cursor.execute(f"UPDATE {LOOKUPS} SET purpose = 'sửa' WHERE id = %s", [target])
    with pytest.raises(CommandError, match="Verification found problems: nothing removed"):
        _retention("--months", "3")
    assert partition_name(LOOKUPS, old_and_new_records["old_month"]) in [p.name for p in partitions_of(LOOKUPS)]
    assert not SecurityEvent.objects.filter(kind=EventKind.AUDIT_RETENTION).exists()


def test_it_keeps_at_least_three_months(old_and_new_records):
    with pytest.raises(CommandError, match="at least 3 months"):
        _retention("--months", "2")


def test_a_dry_run_says_what_would_go_and_removes_nothing(old_and_new_records):
    name = partition_name(LOOKUPS, old_and_new_records["old_month"])
    assert _retention("--months", "3", "--dry-run") == f"Would remove {name} (5 records).\n"
    assert name in [partition.name for partition in partitions_of(LOOKUPS)]


def test_nothing_is_older_than_the_default_twelve_months(old_and_new_records):
    assert "nothing older than" in _retention()


def test_seals_whose_records_all_went_keep_being_checked():
    this_month = timezone.localdate().replace(day=1)
    old_month = months_before(this_month, 4)
    partition_create(LOOKUPS, old_month)
    lookup_records(3, decided_at=month_start(old_month) + timedelta(days=1))
    seals_run()  # seal 1: the old month only
    new = lookup_records(2)
    seals_run()  # seal 2: this month
    _retention("--months", "3")
    out, error = verify_command("--table", LOOKUPS)
    assert error is None, out
    assert "3 records removed by retention (seals 1 to 1 keep no records)" in out
    assert f"{len(new)}/{len(new)} records covered" in out and "2/2 seals valid" in out
    with triggers_disabled("audit_seal") as cursor:  # a seal that keeps no records is still checked
        cursor.execute("UPDATE audit_seal SET digest = repeat('0', 64) WHERE table_name = %s AND position = 1",
                       [LOOKUPS])
    assert verify_command("--table", LOOKUPS)[1] == (
        f"Verification failed: {LOOKUPS} seal 1 changed: its HMAC does not match.")
