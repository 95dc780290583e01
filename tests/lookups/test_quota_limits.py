"""Quota limits: the policy's four defaults (edited and audited with the policy), overrides per unit
and per role resolved most specific first, set and cleared by the IT Center only, each change audited."""
import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.choices import Role
from audit.choices import EventKind
from audit.models import SecurityEvent
from lookups.choices import QuotaWindow
from lookups.models import QuotaOverride
from lookups.quotas import Limits
from lookups.selectors import quota_limits_for
from lookups.services import quota_override_clear, quota_override_set
from policy.models import PasswordPolicy
from portal.errors import NotAllowed, PolicyViolation
from tests.factories import UserFactory

DEFAULTS = Limits(officer_minute=10, officer_day=300, unit_minute=200, unit_day=20000)


def test_it_starts_with_the_design_defaults(officer_bien_hoa):
    assert quota_limits_for(officer_bien_hoa) == DEFAULTS


def test_overrides_resolve_most_specific_first(it_admin, units, officer_bien_hoa, leader_bien_hoa):
    tan_phong = units["tan_phong"]
    quota_override_set(actor=it_admin, window=QuotaWindow.OFFICER_MINUTE, role=Role.OFFICER, limit=20)
    assert quota_limits_for(officer_bien_hoa).officer_minute == 20
    quota_override_set(actor=it_admin, window=QuotaWindow.OFFICER_MINUTE, unit=tan_phong, limit=30)
    assert quota_limits_for(officer_bien_hoa).officer_minute == 30  # the unit beats the role anywhere
    quota_override_set(actor=it_admin, window=QuotaWindow.OFFICER_MINUTE, unit=tan_phong, role=Role.OFFICER,
                       limit=40)
    quota_override_set(actor=it_admin, window=QuotaWindow.UNIT_DAY, unit=tan_phong, limit=50000)
    assert quota_limits_for(officer_bien_hoa) == Limits(officer_minute=40, officer_day=300, unit_minute=200,
                                                        unit_day=50000)
    colleague_leader = UserFactory(username="ld.tanphong", role=Role.UNIT_LEADER, unit=tan_phong)
    assert quota_limits_for(colleague_leader).officer_minute == 30  # not an officer: the unit's override
    assert quota_limits_for(colleague_leader).unit_day == 50000
    assert quota_limits_for(leader_bien_hoa) == DEFAULTS  # another unit, another role
    quota_override_clear(actor=it_admin, window=QuotaWindow.OFFICER_MINUTE, unit=tan_phong, role=Role.OFFICER)
    assert quota_limits_for(officer_bien_hoa).officer_minute == 30


def test_setting_and_clearing_an_override_is_audited_with_old_and_new(it_admin, units):
    unit = units["bien_hoa"]
    quota_override_set(actor=it_admin, window=QuotaWindow.UNIT_MINUTE, unit=unit, limit=300)
    quota_override_set(actor=it_admin, window=QuotaWindow.UNIT_MINUTE, unit=unit, limit=300)  # no change
    quota_override_set(actor=it_admin, window=QuotaWindow.UNIT_MINUTE, unit=unit, limit=250)
    assert quota_override_clear(actor=it_admin, window=QuotaWindow.UNIT_MINUTE, unit=unit) is True
    assert quota_override_clear(actor=it_admin, window=QuotaWindow.UNIT_MINUTE, unit=unit) is False
    events = list(SecurityEvent.objects.filter(kind__startswith="quota_override").order_by("id")
                  .values_list("kind", "actor", "unit_code", "details"))
    base = {"window": "unit_minute", "unit": unit.code, "role": ""}
    assert events == [
        (EventKind.QUOTA_OVERRIDE_SET, it_admin.pk, unit.code, {**base, "old": None, "new": 300}),
        (EventKind.QUOTA_OVERRIDE_SET, it_admin.pk, unit.code, {**base, "old": 300, "new": 250}),
        (EventKind.QUOTA_OVERRIDE_CLEARED, it_admin.pk, unit.code, {**base, "old": 250, "new": None}),
    ]


@pytest.mark.parametrize("actor_fixture", ["inspector", "leader_bien_hoa", "officer_bien_hoa"])
def test_only_the_it_center_may_change_quotas(request, actor_fixture, units):
    actor = request.getfixturevalue(actor_fixture)
    with pytest.raises(NotAllowed):
        quota_override_set(actor=actor, window=QuotaWindow.OFFICER_DAY, unit=units["bien_hoa"], limit=1000)
    with pytest.raises(NotAllowed):
        quota_override_clear(actor=actor, window=QuotaWindow.OFFICER_DAY, unit=units["bien_hoa"])
    assert QuotaOverride.objects.count() == 0
    assert not SecurityEvent.objects.filter(kind__startswith="quota_override").exists()


@pytest.mark.parametrize("kwargs,code", [
    (dict(window="officer_week", role=Role.OFFICER, limit=5), "quota_window_invalid"),
    (dict(window=QuotaWindow.OFFICER_DAY, role="boss", limit=5), "quota_role_invalid"),
    (dict(window=QuotaWindow.OFFICER_DAY, limit=5), "quota_scope_missing"),
    (dict(window=QuotaWindow.UNIT_DAY, role=Role.OFFICER, limit=5), "quota_role_on_unit_window"),
    (dict(window=QuotaWindow.OFFICER_DAY, role=Role.OFFICER, limit=0), "quota_limit_invalid"),
    (dict(window=QuotaWindow.OFFICER_DAY, role=Role.OFFICER, limit="5"), "quota_limit_invalid"),
    (dict(window=QuotaWindow.OFFICER_DAY, role=Role.OFFICER, limit=10_000_001), "quota_limit_invalid"),
])
def test_it_refuses_a_malformed_override_and_changes_nothing(it_admin, kwargs, code):
    with pytest.raises(PolicyViolation) as refused:
        quota_override_set(actor=it_admin, **kwargs)
    assert refused.value.code == code
    assert QuotaOverride.objects.count() == 0


def test_the_database_refuses_a_limit_below_one_whatever_writes_it(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        PasswordPolicy.objects.filter(id=1).update(quota_unit_minute=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        QuotaOverride.objects.create(role=Role.OFFICER, window=QuotaWindow.OFFICER_DAY, limit=0)


def test_a_quota_change_in_the_policy_is_audited_and_applies(admin_client, it_admin, officer_bien_hoa):
    data = {**PasswordPolicy.from_defaults().values(), "quota_officer_minute": 5, "quota_unit_day": 30000}
    response = admin_client.post(reverse("policy:edit"), data)
    assert response.status_code == 302
    event = SecurityEvent.objects.get(kind=EventKind.POLICY_CHANGED)
    assert event.actor == it_admin
    assert event.details == {"old": {"quota_officer_minute": 10, "quota_unit_day": 20000},
                             "new": {"quota_officer_minute": 5, "quota_unit_day": 30000}}
    assert quota_limits_for(officer_bien_hoa) == Limits(officer_minute=5, officer_day=300, unit_minute=200,
                                                        unit_day=30000)


@pytest.mark.parametrize("value", [0, -3, "nhiều", ""])
def test_the_policy_form_refuses_a_quota_below_one_in_vietnamese(admin_client, value):
    data = {**PasswordPolicy.from_defaults().values(), "quota_officer_minute": value}
    response = admin_client.post(reverse("policy:edit"), data)
    assert response.status_code == 200
    assert response.context["form"].errors == {"quota_officer_minute": [
        "Số lượt tra cứu của một cán bộ mỗi phút: nhập một số nguyên từ 1 đến 1000 lượt tra cứu."]}
    assert PasswordPolicy.objects.get().quota_officer_minute == 10
    assert not SecurityEvent.objects.filter(kind=EventKind.POLICY_CHANGED).exists()


def test_the_policy_page_shows_the_quotas_as_their_own_group(admin_client):
    page = admin_client.get(reverse("policy:edit")).content.decode()
    assert page.count("<fieldset") == 3  # the rules, the quotas, the second factor
    quotas_group = page.split("<legend>")[2]
    assert "Hạn mức tra cứu thông tin công dân" in quotas_group
    for name in PasswordPolicy.QUOTA_FIELDS:
        assert f'name="{name}"' in quotas_group
    assert 'name="min_length"' in page.split("<legend>")[1]
