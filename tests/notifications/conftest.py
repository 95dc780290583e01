"""Fixtures of the notification tests (helpers in tests/notifications/helpers.py)."""
import pytest

from accounts.choices import Role
from tests.factories import UserFactory

from .helpers import changed_for


@pytest.fixture
def officer_due_in_7(units):
    return UserFactory(username="cb.baydays", full_name="Đỗ Thị Lan", role=Role.OFFICER, unit=units["tan_phong"],
                       password_changed_at=changed_for(days_left=7))
