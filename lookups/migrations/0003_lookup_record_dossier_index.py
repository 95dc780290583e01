from django.db import migrations, models


class Migration(migrations.Migration):
    """The anomaly rule "many different citizens for one dossier" counts a dossier's recent lookups."""

    dependencies = [
        ("lookups", "0002_api_clients_and_records"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="lookuprecord",
            index=models.Index(fields=["dossier_code", "decided_at"], name="lookup_record_dossier"),
        ),
    ]
