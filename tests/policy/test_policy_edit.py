"""One policy record, editable by IT admins in the portal, each change audited with old and new values;
the letter's rules are a floor."""
import re

import pytest
from django.urls import reverse

from audit.choices import EventKind
from audit.models import SecurityEvent
from policy.models import PasswordPolicy
from policy.selectors import current_policy, policy_for


def _form_data(**overrides):
    return {**PasswordPolicy.from_defaults().values(), **overrides}


def test_it_starts_with_the_design_defaults(db, it_admin, officer_bien_hoa):
    policy = current_policy()
    assert (policy.min_length, policy.min_length_admin, policy.history_count, policy.history_count_admin) == (8, 12, 5, 10)
    assert (policy.max_age_days, policy.max_age_days_admin, policy.one_time_password_hours) == (90, 60, 72)
    assert (policy.lockout_threshold, policy.lockout_minutes, policy.min_zxcvbn_score) == (5, 15, 3)
    assert policy_for(it_admin).min_length == 12 and policy_for(officer_bien_hoa).min_length == 8


def test_it_records_a_change_with_old_and_new_values(admin_client, it_admin):
    response = admin_client.post(reverse("policy:edit"), _form_data(min_length=10, lockout_threshold=4))
    assert response.status_code == 302
    event = SecurityEvent.objects.get(kind=EventKind.POLICY_CHANGED)
    assert event.actor == it_admin
    assert event.details == {"old": {"min_length": 8, "lockout_threshold": 5},
                             "new": {"min_length": 10, "lockout_threshold": 4}}
    assert current_policy().min_length == 10


def test_it_records_nothing_when_nothing_changed(admin_client):
    admin_client.post(reverse("policy:edit"), _form_data())
    assert not SecurityEvent.objects.filter(kind=EventKind.POLICY_CHANGED).exists()


@pytest.mark.parametrize("field,value", [("min_length", 7), ("max_age_days", 91), ("max_age_days_admin", 120),
                                         ("min_zxcvbn_score", 1), ("lockout_threshold", "nhiều")])
def test_it_refuses_values_below_the_letter_or_malformed(admin_client, field, value):
    response = admin_client.post(reverse("policy:edit"), _form_data(**{field: value}))
    assert response.status_code == 200 and field in response.context["form"].errors
    assert getattr(PasswordPolicy.objects.get(), field) == getattr(PasswordPolicy.from_defaults(), field)
    assert not SecurityEvent.objects.filter(kind=EventKind.POLICY_CHANGED).exists()


@pytest.mark.parametrize("field,value,message", [
    ("min_length", 7, "Độ dài tối thiểu: nhập một số nguyên từ 8 đến 64 ký tự."),
    ("max_age_days", 91, "Thời hạn tối đa của mật khẩu (ngày): nhập một số nguyên từ 7 đến 90 ngày."),
    ("lockout_threshold", "nhiều", "Số lần đăng nhập sai trước khi khóa tạm thời: nhập một số nguyên từ 3 đến 10 lần."),
    ("min_zxcvbn_score", "", "Độ mạnh tối thiểu của mật khẩu (2–4): nhập một số nguyên từ 2 đến 4 (mức độ mạnh)."),
])
def test_it_explains_each_refused_value_with_its_field_and_range(admin_client, field, value, message):
    response = admin_client.post(reverse("policy:edit"), _form_data(**{field: value}))
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}


def test_the_policy_page_speaks_plainly_and_says_what_the_live_jobs_do(admin_client):
    page = admin_client.get(reverse("policy:edit")).content.decode()
    visible = re.sub(r"<[^>]*>", " ", page)  # the text people read, not the field names in the markup
    assert "zxcvbn" not in visible
    # The dormant-account and recertification jobs run: nothing on the page says they do not yet.
    assert page.count("Chưa áp dụng") == 0
    assert visible.count("Tác vụ hằng ngày vô hiệu hóa tài khoản không đăng nhập trong số ngày này") == 1
    assert visible.count("Đợt rà soát, xác nhận lại tài khoản mới bắt đầu sau số tháng này") == 1
    # One setting for the expiry warning: the reminder days (the largest starts the banner).
    assert "expiry_warning_days" not in page
    assert visible.count("Từ mốc lớn nhất, người dùng còn thấy cảnh báo trên mọi trang.") == 1


def test_the_expiry_warning_starts_at_the_largest_reminder_day(db):
    from policy.models import PasswordPolicy
    from policy.selectors import current_policy, policy_cache_clear

    assert current_policy().expiry_warning_days == 14
    PasswordPolicy.objects.filter(id=1).update(expiry_reminder_days="21,7,1")
    policy_cache_clear()
    assert current_policy().expiry_warning_days == 21


def test_the_policy_is_read_once_per_request_and_afresh_after_a_change(db):
    from django.core.cache import cache

    from policy.models import PasswordPolicy
    from policy.selectors import POLICY_CACHE_KEY, current_policy, policy_cache_clear
    from portal.audit_context import audit_context

    PasswordPolicy.objects.update_or_create(id=1, defaults=PasswordPolicy.from_defaults().values())
    with audit_context():
        assert current_policy().lockout_threshold == 5
        PasswordPolicy.objects.filter(id=1).update(lockout_threshold=7)
        cache.delete(POLICY_CACHE_KEY)
        assert current_policy().lockout_threshold == 5  # the same request: no second read
        policy_cache_clear()
        assert current_policy().lockout_threshold == 7  # a change clears the request's copy too
    with audit_context():
        PasswordPolicy.objects.filter(id=1).update(lockout_threshold=6)
        cache.delete(POLICY_CACHE_KEY)
        assert current_policy().lockout_threshold == 6  # a new request reads afresh
