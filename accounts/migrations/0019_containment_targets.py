# Containment that chose to deactivate the accounts in the connected systems keeping their own (incidents).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0018_turnover_completion'),
    ]

    operations = [
        migrations.AddField(
            model_name='unit',
            name='contained_targets_deactivated',
            field=models.BooleanField(default=False, verbose_name='deactivated in the connected systems'),
        ),
        migrations.AddField(
            model_name='user',
            name='contained_targets_deactivated',
            field=models.BooleanField(default=False, verbose_name='deactivated in the connected systems'),
        ),
    ]
