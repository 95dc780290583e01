"""Security events are append-only, enforced by PostgreSQL itself: no UPDATE or DELETE reaches a
row, whatever the application (or someone with its credentials) tries. SQLite, the single-machine
trial database, gets the same rule as triggers."""
from django.db import migrations

POSTGRES_FORWARD = """
CREATE OR REPLACE FUNCTION audit_securityevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_securityevent is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_securityevent_no_update BEFORE UPDATE OR DELETE ON audit_securityevent
    FOR EACH ROW EXECUTE FUNCTION audit_securityevent_append_only();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS audit_securityevent_no_update ON audit_securityevent;
DROP FUNCTION IF EXISTS audit_securityevent_append_only();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER audit_securityevent_no_update BEFORE UPDATE ON audit_securityevent
       BEGIN SELECT RAISE(ABORT, 'audit_securityevent is append-only (UPDATE refused)'); END;""",
    """CREATE TRIGGER audit_securityevent_no_delete BEFORE DELETE ON audit_securityevent
       BEGIN SELECT RAISE(ABORT, 'audit_securityevent is append-only (DELETE refused)'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_securityevent_no_update;",
    "DROP TRIGGER IF EXISTS audit_securityevent_no_delete;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forward, reverse)]
