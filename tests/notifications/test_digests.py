"""Leaders' weekly digest: figures of their subtree only, escalation of units still not compliant
after the grace period to the nearest leader above, once per leader and week, constant queries."""
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.choices import PasswordChangeReason, Role
from notifications.choices import NoticeKind
from notifications.digests import digests_send
from notifications.messages import notice_message
from notifications.models import Notice
from tests.factories import UnitFactory, UserFactory

from .helpers import changed_for


@pytest.fixture
def subtree(units, leader_bien_hoa):
    """Biên Hòa (its leader) with an expired and an expiring account in Tân Phong; Long Khánh (its own
    leader) with an account expired 20 days ago, and three expired 30 days ago in Xuân An (no leader of
    its own); the province's leader above both cities."""
    province_leader = UserFactory(username="ld.tinh", role=Role.UNIT_LEADER, unit=units["province"])
    leader_long_khanh = UserFactory(username="ld.longkhanh", role=Role.UNIT_LEADER, unit=units["long_khanh"])
    UserFactory(unit=units["tan_phong"], password_changed_at=changed_for(days_left=-3))
    UserFactory(unit=units["tan_phong"], password_changed_at=changed_for(days_left=5))
    UserFactory(unit=units["tan_phong"], password_change_reason=PasswordChangeReason.ONE_TIME)
    for _ in range(3):
        UserFactory(unit=units["xuan_an"], password_changed_at=changed_for(days_left=-30))
    UserFactory(unit=units["long_khanh"], password_changed_at=changed_for(days_left=-20))
    return {"province": province_leader, "bien_hoa": leader_bien_hoa, "long_khanh": leader_long_khanh}


def _digest(leader):
    return Notice.objects.get(recipient=leader, kind=NoticeKind.LEADER_DIGEST)


@pytest.mark.django_db
def test_a_leaders_digest_names_only_their_subtree(subtree, units):
    digests_send()
    bien_hoa = _digest(subtree["bien_hoa"]).context
    assert bien_hoa["figures"] == {"expiring": 1, "expired": 1, "locked": 0, "dormant": 0, "one_time_unused": 1,
                                   "requests_pending": 0}
    assert bien_hoa["unit_name"] == units["bien_hoa"].name
    long_khanh = _digest(subtree["long_khanh"]).context
    assert long_khanh["figures"]["expired"] == 4 and long_khanh["figures"]["expiring"] == 0
    province = _digest(subtree["province"]).context
    assert province["figures"]["expired"] == 5
    text = notice_message(_digest(subtree["bien_hoa"])).text
    assert units["xuan_an"].name not in text and units["long_khanh"].name not in text


@pytest.mark.django_db
def test_a_unit_not_compliant_after_the_grace_period_is_escalated_to_the_leader_above(subtree, units):
    digests_send()
    # Long Khánh's own unit goes to the province's leader; Xuân An, without a leader of its own, to
    # Long Khánh's — each to the nearest leader above the unit, not to every level.
    assert _digest(subtree["province"]).context["escalated"] == [
        {"name": units["long_khanh"].name, "code": units["long_khanh"].code, "accounts": 1}]
    assert _digest(subtree["long_khanh"]).context["escalated"] == [
        {"name": units["xuan_an"].name, "code": units["xuan_an"].code, "accounts": 3}]
    # Tân Phong's password expired 3 days ago: within the grace period, nobody is escalated to.
    assert _digest(subtree["bien_hoa"]).context["escalated"] == []
    assert units["xuan_an"].name in notice_message(_digest(subtree["long_khanh"])).text


@pytest.mark.django_db
def test_the_digest_is_made_once_a_week(subtree):
    now = timezone.now()
    first = digests_send(now=now)
    assert len(first) == 3
    assert digests_send(now=now + timedelta(minutes=5)) == []
    assert len(digests_send(now=now + timedelta(days=7))) == 3


@pytest.mark.django_db
@pytest.mark.parametrize("units_count", [5, 50])
def test_the_digest_pass_is_a_constant_number_of_queries(units, subtree, units_count, django_assert_num_queries):
    for index in range(units_count):
        ward = UnitFactory(parent=units["bien_hoa"])
        UserFactory(username=f"ld.ward{index}", role=Role.UNIT_LEADER, unit=ward)
        UserFactory(unit=ward, password_changed_at=changed_for(days_left=-20))
    with django_assert_num_queries(DIGEST_QUERIES):
        digests_send()
    assert len(_digest(subtree["bien_hoa"]).context["escalated"]) == units_count


# Leaders, the accounts' figures, lockouts (attempts), turnover requests, units, the policy,
# the preferences and the insert.
DIGEST_QUERIES = 8
