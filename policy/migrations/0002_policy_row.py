from django.conf import settings
from django.db import migrations


def create_policy(apps, schema_editor):
    PasswordPolicy = apps.get_model("policy", "PasswordPolicy")
    # Only the fields this migration's model has: later migrations add fields with their own defaults.
    names = {field.name for field in PasswordPolicy._meta.get_fields()}
    defaults = {name: value for name, value in settings.POLICY_DEFAULTS.items() if name in names}
    if "expiry_warning_days" in names:  # folded into expiry_reminder_days since (0008): its old default
        defaults.setdefault("expiry_warning_days", 14)
    PasswordPolicy.objects.get_or_create(id=1, defaults=defaults)


class Migration(migrations.Migration):
    dependencies = [("policy", "0001_initial")]
    operations = [migrations.RunPython(create_policy, migrations.RunPython.noop)]
