"""The reminder thresholds are part of the editable, audited policy."""
import pytest
from django.urls import reverse

from audit.choices import EventKind
from audit.models import SecurityEvent
from policy.models import PasswordPolicy
from policy.selectors import current_policy


def _form_data(**overrides):
    return {**PasswordPolicy.from_defaults().values(), **overrides}


def test_the_default_is_14_7_3_1(db):
    assert current_policy().reminder_days == [14, 7, 3, 1]


def test_an_it_admin_changes_the_thresholds_and_it_is_audited(admin_client):
    response = admin_client.post(reverse("policy:edit"), _form_data(expiry_reminder_days="28, 14,7 ,3,1"))
    assert response.status_code == 302
    assert current_policy().reminder_days == [28, 14, 7, 3, 1]
    event = SecurityEvent.objects.get(kind=EventKind.POLICY_CHANGED)
    assert event.details == {"old": {"expiry_reminder_days": "14,7,3,1"}, "new": {"expiry_reminder_days": "28, 14,7 ,3,1"}}


WHOLE_NUMBERS = "Ghi số ngày trước khi hết hạn là các số nguyên từ 1 đến 60, cách nhau bằng dấu phẩy, ví dụ 14, 7, 3, 1."
TOO_MANY = "Tối đa 8 lần nhắc trước khi hết hạn."


@pytest.mark.parametrize("value,message", [("hai tuần", WHOLE_NUMBERS), ("14,0", WHOLE_NUMBERS), ("14,-1", WHOLE_NUMBERS),
                                           ("61", WHOLE_NUMBERS), ("1,2,3,4,5,6,7,8,9", TOO_MANY)])
def test_it_refuses_malformed_thresholds_and_changes_nothing(admin_client, value, message):
    response = admin_client.post(reverse("policy:edit"), _form_data(expiry_reminder_days=value))
    assert response.status_code == 200
    assert response.context["form"].errors["expiry_reminder_days"] == [message]
    assert PasswordPolicy.objects.get().expiry_reminder_days == "14,7,3,1"
    assert not SecurityEvent.objects.filter(kind=EventKind.POLICY_CHANGED).exists()
