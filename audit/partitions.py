"""Monthly partitions of the large append-only tables (settings.AUDIT_PARTITIONED_TABLES), by their
time column in the portal's time zone: `<table>_YYYY_MM` holds that local month. Table names only, so
that audit imports no other app; the lookups migration converts its table with these helpers.

Each partition gets the parent's TRUNCATE trigger too (a statement trigger is not inherited, and a
TRUNCATE of one partition would otherwise go through), in the parent's state: a test database that has
switched the parent's off (pytest-django empties tables with TRUNCATE) gets new partitions likewise."""
import re
from dataclasses import dataclass
from datetime import date, datetime, time

from django.conf import settings
from django.db import connection
from django.utils import timezone

NAME = re.compile(r"_(\d{4})_(\d{2})$")


@dataclass(frozen=True)
class Partition:
    name: str
    month: date  # the first day of its local month

    @property
    def starts(self) -> datetime:
        return month_start(self.month)

    @property
    def ends(self) -> datetime:
        return month_start(next_month(self.month))


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_before(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def month_start(month: date) -> datetime:
    return timezone.make_aware(datetime.combine(month, time.min))


def partition_name(table: str, month: date) -> str:
    return f"{table}_{month:%Y_%m}"


def partitions_of(table: str, *, using=connection) -> list[Partition]:
    with using.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                       " WHERE i.inhparent = %s::regclass", [table])
        names = [row[0] for row in cursor.fetchall()]
    found = []
    for name in names:
        match = NAME.search(name)
        if match and name == partition_name(table, date(int(match[1]), int(match[2]), 1)):
            found.append(Partition(name, date(int(match[1]), int(match[2]), 1)))
    return sorted(found, key=lambda partition: partition.month)


def _truncate_trigger_enabled(cursor, table: str) -> bool:
    cursor.execute("SELECT tgenabled <> 'D' FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname = %s",
                   [table, f"{table}_no_truncate"])
    row = cursor.fetchone()
    return bool(row and row[0])


def partition_create(table: str, month: date, *, using=connection) -> bool:
    """Create the partition of one local month unless it exists; True when created."""
    name = partition_name(table, month)
    quote = using.ops.quote_name
    with using.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if cursor.fetchone()[0]:
            return False
        starts, ends = month_start(month), month_start(next_month(month))
        cursor.execute(f"CREATE TABLE {quote(name)} PARTITION OF {quote(table)}"
                       f" FOR VALUES FROM ('{starts.isoformat()}') TO ('{ends.isoformat()}')")
        trigger = f"{table}_no_truncate"
        cursor.execute(f"CREATE TRIGGER {quote(trigger)} BEFORE TRUNCATE ON {quote(name)}"
                       f" FOR EACH STATEMENT EXECUTE FUNCTION {quote(table + '_append_only')}()")
        if not _truncate_trigger_enabled(cursor, table):
            cursor.execute(f"ALTER TABLE {quote(name)} DISABLE TRIGGER {quote(trigger)}")
    return True


def partitions_ensure(table: str, *, through: date, since: date | None = None, using=connection) -> list[str]:
    """Every month's partition from `since` (default: the current month) through `through`."""
    month = since or timezone.localdate().replace(day=1)
    created = []
    while month <= through:
        if partition_create(table, month, using=using):
            created.append(partition_name(table, month))
        month = next_month(month)
    return created


def partitions_ahead(*, months: int | None = None) -> dict[str, list[str]]:
    """The job (audit.partitions_ahead) and `manage.py audit_partitions`: this month's partition and the
    next months' of every partitioned table, ready before the first record needs them."""
    months = settings.AUDIT_PARTITIONS_AHEAD if months is None else months
    this_month = timezone.localdate().replace(day=1)
    through = months_before(this_month, -months)
    return {table: partitions_ensure(table, through=through) for table in settings.AUDIT_PARTITIONED_TABLES}
