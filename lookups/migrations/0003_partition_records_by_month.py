"""The lookup records, partitioned by month (docs/architecture.md: 10 million lookups a day nationwide).

The existing table is converted in place: renamed aside, its identity sequence kept going as a plain
sequence (ids already handed out are never reused: seals record the rolled-back ones as gaps), a
partitioned table of the same columns created with a primary key that includes the partition column,
one partition per local month from the oldest record through the months ahead, the rows copied, the old
table dropped, the append-only triggers and the indexes (officer and time, unit and day, citizen hash,
time) put back. PostgreSQL only: the SQLite trial keeps its plain table."""
from django.db import migrations, models

from audit.operations import MakeAppendOnly
from audit.partitions import months_before, partitions_ensure

TABLE = "lookups_lookuprecord"
OLD = "lookups_lookuprecord_unpartitioned"
INDEXES = [
    ("lookup_record_citizen", "citizen_id_hash, decided_at"),
    ("lookup_record_officer", "officer_id, decided_at"),
    ("lookup_record_unit", "unit_id_then, decided_at"),
    ("lookup_record_time", "decided_at"),
    ("lookups_lookuprecord_client_id_63fe39c7", "client_id"),
    ("lookups_lookuprecord_officer_id_42afe572", "officer_id"),
]


def partition(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":  # the SQLite trial: the new index only
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS lookup_record_unit ON {TABLE} (unit_id_then, decided_at)")
        return
    from django.utils import timezone

    execute = schema_editor.execute
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_sequence_last_value(pg_get_serial_sequence('{TABLE}', 'id')::regclass)")
        last_value = cursor.fetchone()[0] or 0
    execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    execute(f"ALTER TABLE {OLD} RENAME CONSTRAINT {TABLE}_pkey TO {OLD}_pkey")
    execute(f"ALTER TABLE {OLD} ALTER COLUMN id DROP IDENTITY IF EXISTS")
    for name, _columns in INDEXES:
        execute(f"DROP INDEX IF EXISTS {name}")
    execute(f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING CONSTRAINTS,"
            f" PRIMARY KEY (id, decided_at)) PARTITION BY RANGE (decided_at)")
    execute(f"CREATE SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
    if last_value:
        execute(f"SELECT setval('{TABLE}_id_seq', {int(last_value)})")
    execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{TABLE}_id_seq')")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(decided_at) FROM {OLD}")
        oldest = cursor.fetchone()[0]
    this_month = timezone.localdate().replace(day=1)
    since = timezone.localtime(oldest).date().replace(day=1) if oldest else this_month
    MakeAppendOnly(TABLE).database_forwards("lookups", schema_editor, None, None)
    partitions_ensure(TABLE, since=min(since, this_month), through=months_before(this_month, -3), using=connection)
    execute(f"INSERT INTO {TABLE} SELECT * FROM {OLD}")
    execute(f"DROP TABLE {OLD}")
    for name, columns in INDEXES:
        execute(f"CREATE INDEX {name} ON {TABLE} ({columns})")


def refuse_going_back(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        raise RuntimeError("The monthly partitioning of lookups_lookuprecord is not undone by a migration.")


class Migration(migrations.Migration):
    dependencies = [("lookups", "0002_api_clients_and_records")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(
                model_name="lookuprecord",
                index=models.Index(fields=["unit_id_then", "decided_at"], name="lookup_record_unit"),
            )],
            database_operations=[migrations.RunPython(partition, refuse_going_back)],
        ),
    ]
