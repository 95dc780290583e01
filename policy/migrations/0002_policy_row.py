from django.conf import settings
from django.db import migrations


def create_policy(apps, schema_editor):
    PasswordPolicy = apps.get_model("policy", "PasswordPolicy")
    PasswordPolicy.objects.get_or_create(id=1, defaults=settings.POLICY_DEFAULTS)


class Migration(migrations.Migration):
    dependencies = [("policy", "0001_initial")]
    operations = [migrations.RunPython(create_policy, migrations.RunPython.noop)]
