from django.db import migrations, models


class Migration(migrations.Migration):
    """The anomaly rule "many different citizens for one dossier" counts a dossier's recent lookups."""

    dependencies = [
        ("lookups", "0003_partition_records_by_month"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="lookuprecord",
            index=models.Index(fields=["dossier_code", "decided_at"], name="lookup_record_dossier"),
        ),
    ]
