"""Redis down: logins, password changes and admin pages keep working from the database; nothing is lost."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.choices import EventKind
from audit.models import SecurityEvent
from policy.selectors import current_policy
from policy.services import policy_update

DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        # Nothing listens on port 1: the real client fails to connect, as when Redis is down.
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


@pytest.fixture
def redis_down(settings):
    settings.CACHES = DEAD_REDIS


def test_it_logs_in_and_changes_the_password_with_redis_down(client, redis_down, officer_bien_hoa, password):
    officer_bien_hoa.password_changed_at = timezone.now() - timedelta(days=3)
    officer_bien_hoa.save(update_fields=["password_changed_at"])
    response = client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": password})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    new_password = "Cay-Cau-Mua-Thu-Xanh-27!"
    response = client.post(reverse("password_change"), {"old_password": password, "new_password1": new_password,
                                                        "new_password2": new_password})
    assert response.status_code == 302
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.check_password(new_password)
    assert SecurityEvent.objects.filter(kind=EventKind.PASSWORD_CHANGED, target=officer_bien_hoa).count() == 1


def test_it_reads_the_lockout_threshold_from_the_database_with_redis_down(client, redis_down, officer_bien_hoa):
    for _ in range(5):
        client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": "Sai-mat-khau-1!"})
    response = client.post(reverse("login"), {"username": officer_bien_hoa.username, "password": "Sai-mat-khau-1!"})
    assert response.status_code == 429


def test_it_changes_the_policy_with_redis_down(redis_down, it_admin):
    policy_update(actor=it_admin, values={"min_length": 10})
    assert current_policy().min_length == 10
