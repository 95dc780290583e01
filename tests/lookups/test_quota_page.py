"""The IT Center's quota page: overrides per unit, per role or both, set and removed through the audited
services, bad input refused in Vietnamese; only it_admin opens it. And shadow mode: an override that
counts and flags, never refuses."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from audit.choices import EventKind
from audit.models import SecurityEvent
from lookups.anomalies import anomalies_of
from lookups.choices import AnomalyKind, QuotaWindow
from lookups.models import AnomalyFlag, QuotaOverride
from lookups.selectors import quota_limits_for
from lookups.services import lookup_decide, quota_override_set
from portal.actors import SystemActor
from portal.audit_context import audit_context
from tests.helpers import login

URL = reverse("lookups:quotas")


def _set(client, **data):
    return client.post(URL, {"unit": "", "role": "", "window": "officer_minute", "limit": "", **data})


def test_it_sets_an_override_for_a_unit_and_records_it(admin_client, it_admin, units):
    response = _set(admin_client, unit="000.01.31.H19", window="officer_day", limit="120")
    assert response.status_code == 302 and response["Location"] == URL
    override = QuotaOverride.objects.get()
    assert (override.unit_id, override.role, override.window, override.limit, override.shadow) == (
        units["tan_phong"].pk, "", "officer_day", 120, False)
    event = SecurityEvent.objects.get(kind=EventKind.QUOTA_OVERRIDE_SET)
    assert (event.actor_id, event.details) == (it_admin.pk, {"window": "officer_day", "unit": "000.01.31.H19",
                                                             "role": "", "old": None, "new": 120})


def test_it_sets_an_override_for_a_role_in_shadow_mode(admin_client, units):
    _set(admin_client, role=Role.OFFICER, window="officer_minute", limit="5", shadow="on")
    override = QuotaOverride.objects.get()
    assert (override.unit_id, override.role, override.limit, override.shadow) == (None, "officer", 5, True)
    event = SecurityEvent.objects.get(kind=EventKind.QUOTA_OVERRIDE_SET)
    assert event.details["shadow"] is True
    page = admin_client.get(URL).content.decode()
    assert "Chế độ thử: chỉ đếm, không từ chối" in page


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"limit": "0"}, "limit", "Nhập số lượt tra cứu là số nguyên từ 1 đến 10000000."),
    ({"limit": "nhiều"}, "limit", "Nhập số lượt tra cứu là số nguyên từ 1 đến 10000000."),
    ({"limit": "10"}, "unit", "Hạn mức riêng áp dụng cho một đơn vị, một vai trò hoặc một vai trò trong một đơn vị: "
                              "chọn ít nhất một."),
    ({"limit": "10", "unit": "999.99.99.H19"}, "unit", "Không có đơn vị nào mang mã này."),
    ({"limit": "10", "unit": "H19"}, "unit", "Nhập mã định danh đơn vị dạng 000.00.31.H19."),
    ({"limit": "10", "unit": "000.01.31.H19", "role": "officer", "window": "unit_day"}, "role", None),
])
def test_it_refuses_bad_input_in_vietnamese_and_changes_nothing(admin_client, units, data, field, message):
    response = _set(admin_client, **data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    if message is not None:
        assert errors[field] == [message]
    assert QuotaOverride.objects.count() == 0
    assert SecurityEvent.objects.filter(kind__startswith="quota_override").count() == 0


def test_it_removes_an_override_and_records_it(admin_client, it_admin, units):
    override = quota_override_set(actor=it_admin, window=QuotaWindow.UNIT_MINUTE, unit=units["bien_hoa"], limit=300)
    response = admin_client.post(reverse("lookups:quota_clear", args=[override.pk]))
    assert response.status_code == 302
    assert QuotaOverride.objects.count() == 0
    assert SecurityEvent.objects.filter(kind=EventKind.QUOTA_OVERRIDE_CLEARED).count() == 1
    assert admin_client.post(reverse("lookups:quota_clear", args=[override.pk])).status_code == 404


@pytest.mark.parametrize("reader", ["inspector", "leader_bien_hoa", "officer_bien_hoa"])
def test_only_it_admins_open_the_quota_page(client, request, reader, it_admin, units):
    override = quota_override_set(actor=it_admin, window=QuotaWindow.UNIT_MINUTE, unit=units["bien_hoa"], limit=300)
    login(client, request.getfixturevalue(reader))
    assert client.get(URL).status_code == 403
    assert _set(client, unit="000.01.31.H19", limit="1").status_code == 403
    assert client.post(reverse("lookups:quota_clear", args=[override.pk])).status_code == 403
    assert QuotaOverride.objects.get().limit == 300


# ----- shadow mode ----------------------------------------------------------------------------------------

def test_a_shadow_override_is_not_enforced_but_reported(it_admin, officer_bien_hoa, units):
    quota_override_set(actor=it_admin, window=QuotaWindow.OFFICER_MINUTE, unit=units["tan_phong"], limit=3,
                       shadow=True)
    limits = quota_limits_for(officer_bien_hoa)
    assert (limits.officer_minute, limits.shadow) == (10, {"officer_minute": 3})


def test_a_shadow_override_flags_every_lookup_past_it_and_refuses_none(it_admin, officer_bien_hoa, units,
                                                                         province_client):
    quota_override_set(actor=it_admin, window=QuotaWindow.OFFICER_MINUTE, unit=units["tan_phong"], limit=3,
                       shadow=True)
    minute = timezone.now().replace(second=0, microsecond=0)  # five decisions in one clock minute
    decisions = []
    with audit_context():
        for n in range(5):
            decisions.append(lookup_decide(
                actor=SystemActor("lookup_api"), client=province_client[0], officer_username="cb.tanphong",
                citizen_id=f"0750950{n:05d}", dossier_code="000.00.31.H19-210708-0032", purpose="Thử",
                now=minute + timedelta(seconds=n)))
    assert [decision.allowed for decision in decisions] == [True] * 5
    shadowed = AnomalyFlag.objects.filter(kind=AnomalyKind.QUOTA_SHADOW_EXCEEDED).order_by("pk")
    assert [(flag.lookup_id, flag.details) for flag in shadowed] == [
        (decisions[3].record_id, {"window": "officer_minute", "used": 4, "limit": 3}),
        (decisions[4].record_id, {"window": "officer_minute", "used": 5, "limit": 3})]


def test_the_shadow_rule_judges_the_counts_the_enforced_limits_left(officer_bien_hoa):
    from lookups.anomalies import Facts
    from lookups.quotas import Limits, QuotaResult

    limits = Limits(officer_minute=10, officer_day=300, unit_minute=200, unit_day=20000, shadow={"unit_day": 50})
    quota = QuotaResult(allowed=True, reason="", limits=limits, remaining={
        "officer_minute": 9, "officer_day": 299, "unit_minute": 199, "unit_day": 20000 - 51})
    facts = Facts(holiday=False, dossier_citizens=1, citizen_new_to_dossier=True, citizen_officers=1,
                  officer_new_to_citizen=True, disable_request_id=None)

    class Record:
        from datetime import datetime
        from zoneinfo import ZoneInfo
        decided_at = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
        citizen_id_masked = "075*******34"

    assert anomalies_of(Record, officer_bien_hoa, quota, facts) == {
        AnomalyKind.QUOTA_SHADOW_EXCEEDED: {"window": "unit_day", "used": 51, "limit": 50}}
