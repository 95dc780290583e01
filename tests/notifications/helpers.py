"""Helpers of the notification tests."""
from datetime import timedelta

from django.utils import timezone

from accounts.choices import Role
from accounts.models import User

OFFICER_MAX_AGE = timedelta(days=90)  # the policy's default (docs/architecture.md)
ADMIN_MAX_AGE = timedelta(days=60)


def changed_for(*, days_left: float, now=None, admin: bool = False):
    """The password change time that leaves `days_left` days (less an hour) before expiry at `now`."""
    now = now or timezone.now()
    return now - (ADMIN_MAX_AGE if admin else OFFICER_MAX_AGE) + timedelta(days=days_left) - timedelta(hours=1)


def bulk_officers(unit, count: int, *, days_left: float, prefix: str, now=None, email: bool = True) -> None:
    """Many officers at once (no password hashing: their password is unusable), for the scale tests."""
    changed = changed_for(days_left=days_left, now=now)
    User.objects.bulk_create([
        User(username=f"{prefix}{index}", full_name=f"Cán bộ {index}", unit=unit, role=Role.OFFICER, password="!",
             email=f"{prefix}{index}@dongnai.gov.vn" if email else "", password_changed_at=changed)
        for index in range(count)], batch_size=5000)
