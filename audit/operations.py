"""A reusable migration operation that makes a table append-only in the database itself.

PostgreSQL refuses UPDATE, DELETE (row triggers) and TRUNCATE (a statement trigger: TRUNCATE skips row
triggers) whatever the application, or someone with its credentials, tries. The security events use it, and so will every
append-only table the seals chain (the lookup records, the seals themselves). The table's owner could
still drop the triggers: production runs the portal with a role that does not own the tables.
"""
from django.db import migrations


def _postgres_forward(table: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{table} is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS {table}_no_update ON {table};
CREATE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only();
"""


def _postgres_reverse(table: str) -> str:
    return f"""
DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
DROP TRIGGER IF EXISTS {table}_no_update ON {table};
DROP FUNCTION IF EXISTS {table}_append_only();
"""


class MakeAppendOnly(migrations.operations.base.Operation):
    """`MakeAppendOnly("audit_securityevent")` in a migration's operations."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, table: str):
        self.table = table

    def state_forwards(self, app_label, state):
        pass  # the model state does not change; only the database refuses changes

    def _run(self, schema_editor, *, forward: bool):
        sql = _postgres_forward(self.table) if forward else _postgres_reverse(self.table)
        schema_editor.execute(sql, params=None)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._run(schema_editor, forward=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._run(schema_editor, forward=False)

    def describe(self):
        return f"Make {self.table} append-only"

    @property
    def migration_name_fragment(self):
        return f"{self.table}_append_only"

    def deconstruct(self):
        return self.__class__.__name__, [self.table], {}
