"""Purge what django-axes stored before accounts.lockout kept it from doing so: the form bodies of failed
attempts (on the password-change page: the current password and the new one, twice) and values typed
into the username field that cannot be usernames (often a password in the wrong field).

Rows being counted now keep counting: such a username becomes the keyed hash accounts.lockout stores
for it from now on (the computation is repeated here, as a migration must not depend on code that may
change later)."""
import re

from django.db import migrations
from django.utils.crypto import salted_hmac

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")  # accounts.models.USERNAME_PATTERN
KEY_SALT = "accounts.lockout.username_as_counted"


def _counted(username):
    username = (username or "").strip().lower()
    if not username or USERNAME_PATTERN.match(username) or username.startswith("#"):
        return username
    return "#" + salted_hmac(KEY_SALT, username, algorithm="sha256").hexdigest()[:40]


def purge(apps, schema_editor):
    AccessAttempt = apps.get_model("axes", "AccessAttempt")
    AccessFailureLog = apps.get_model("axes", "AccessFailureLog")
    AccessLog = apps.get_model("axes", "AccessLog")
    AccessAttempt.objects.exclude(post_data="", get_data="").update(post_data="", get_data="")
    for attempt in AccessAttempt.objects.exclude(username__isnull=True).only("pk", "username").iterator():
        counted = _counted(attempt.username)
        if counted == attempt.username:
            continue
        # Two spellings of one typed value may now collide on (username, ip_address, user_agent).
        twin = AccessAttempt.objects.filter(username=counted, ip_address=attempt.ip_address,
                                            user_agent=attempt.user_agent).exclude(pk=attempt.pk).first()
        if twin is not None:
            twin.failures_since_start += AccessAttempt.objects.get(pk=attempt.pk).failures_since_start
            twin.save(update_fields=["failures_since_start"])
            AccessAttempt.objects.filter(pk=attempt.pk).delete()
        else:
            AccessAttempt.objects.filter(pk=attempt.pk).update(username=counted)
    for model in (AccessFailureLog, AccessLog):
        for row in model.objects.exclude(username__isnull=True).only("pk", "username").iterator():
            counted = _counted(row.username)
            if counted != row.username:
                model.objects.filter(pk=row.pk).update(username=counted)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_user_password_set_by_self"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(purge, migrations.RunPython.noop, elidable=True)]
