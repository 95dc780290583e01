"""Helpers of the seal tests: records written as the portal writes them, and tampering done as
someone holding the database would (triggers disabled, or the replication role that skips them)."""
from contextlib import contextmanager
from datetime import timedelta

from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from audit.choices import EventKind
from audit.services import audit_event_record
from portal.actors import SystemActor


def lookup_records(count: int, *, decided_at=None, officer="cb.tanphong") -> list[int]:
    """Insert lookup records; their ids."""
    from lookups.models import LookupRecord

    moment = decided_at or timezone.now()
    ids = []
    for index in range(count):
        record = LookupRecord.objects.create(
            decided_at=moment + timedelta(microseconds=index), officer_username=officer, unit_id_then=None,
            unit_code_then="000.01.31.H19", dossier_code="000.00.31.H19-261201-0001", purpose="Cấp hộ chiếu",
            decision="allow", citizen_id_hash=f"{index:064x}", citizen_id_masked="075*******34")
        ids.append(record.pk)
    return ids


def security_events(count: int) -> list[int]:
    return [audit_event_record(kind=EventKind.POLICY_CHANGED, actor=SystemActor("system"),
                               details={"reason": f"thử {index}", "old": {"b": 1, "a": [1, 2]}}).pk
            for index in range(count)]


@contextmanager
def replication_role():
    """What a superuser can do: `session_replication_role = replica` skips every trigger."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            cursor.execute("RESET session_replication_role")


@contextmanager
def triggers_disabled(table: str):
    """What the table's owner can do: switch the append-only triggers off."""
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_update")
        try:
            yield cursor
        finally:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_no_update")


def verify_command(*args) -> tuple[str, str | None]:
    """Run audit_verify; (what it printed, the error it ended with or None)."""
    from io import StringIO

    out = StringIO()
    try:
        call_command("audit_verify", *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), None
