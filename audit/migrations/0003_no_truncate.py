"""TRUNCATE skips row triggers, so the append-only rule needs a statement trigger too (PostgreSQL;
SQLite has no TRUNCATE). The table's owner could still drop the trigger: production runs the portal
with a role that does not own the table (README, "Running in production")."""
from django.db import migrations

FORWARD = """
CREATE TRIGGER audit_securityevent_no_truncate BEFORE TRUNCATE ON audit_securityevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_securityevent_append_only();
"""
REVERSE = "DROP TRIGGER IF EXISTS audit_securityevent_no_truncate ON audit_securityevent;"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]
    operations = [migrations.RunPython(forward, reverse)]
