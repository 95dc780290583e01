"""Security events are append-only, enforced by the database itself (audit.operations)."""
from django.db import migrations

from audit.operations import MakeAppendOnly


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [MakeAppendOnly("audit_securityevent")]
