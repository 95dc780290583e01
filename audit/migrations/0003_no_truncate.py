"""Kept for databases migrated before audit.operations existed: 0002 now installs the TRUNCATE trigger
too (MakeAppendOnly), and running it again here is harmless (it replaces the same triggers)."""
from django.db import migrations

from audit.operations import MakeAppendOnly


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]
    operations = [MakeAppendOnly("audit_securityevent")]
