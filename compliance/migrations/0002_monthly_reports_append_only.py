"""A monthly report is kept as generated: PostgreSQL refuses UPDATE, DELETE and TRUNCATE on its table."""
from django.db import migrations

from audit.operations import MakeAppendOnly


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_snapshots_reports_exports")]
    operations = [MakeAppendOnly("compliance_monthlyreport")]
