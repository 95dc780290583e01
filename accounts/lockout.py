"""django-axes reads its threshold and cool-off from the editable policy through these callables."""
from datetime import timedelta

from policy.selectors import current_policy


def failure_limit(request, credentials) -> int:
    return current_policy().lockout_threshold


def cool_off(request=None) -> timedelta:
    return timedelta(minutes=current_policy().lockout_minutes)
