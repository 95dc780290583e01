"""Searches ignore Vietnamese accents ("nguyen" finds "Nguyễn"): PostgreSQL's unaccent extension (a
trusted extension: the database owner may create it)."""
from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_alter_user_password_change_reason")]
    operations = [UnaccentExtension()]
