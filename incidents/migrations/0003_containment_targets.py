# Containment that chose to deactivate the accounts in the connected systems keeping their own (incidents).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0002_append_only_and_deadline_rules'),
    ]

    operations = [
        migrations.AddField(
            model_name='containment',
            name='targets_deactivated',
            field=models.BooleanField(default=False, verbose_name='deactivated in the connected systems'),
        ),
    ]
