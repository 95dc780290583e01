"""Recertification campaigns: leaders certify their accounts; reminders only to leaders with items
left; escalation past the deadline; silence withdraws the lookup right by default."""
from datetime import timedelta

import pytest

from accounts.choices import RecertificationDecision, RecertificationOutcome, Role
from accounts.models import RecertificationCampaign, RecertificationItem, User
from accounts.services import recertification as recert
from audit.choices import EventKind
from audit.models import SecurityEvent
from portal.actors import SystemActor
from portal.errors import DomainError, NotAllowed, PolicyViolation
from tests.factories import UserFactory
from tests.helpers import run_concurrently

JOB = SystemActor("recertification_job")


@pytest.fixture
def campaign(db, it_admin, inspector, leader_bien_hoa, officer_bien_hoa, officer_long_khanh):
    return recert.recertification_campaign_start(actor=it_admin, name="Đợt 1/2027")


def _item(campaign, account):
    return RecertificationItem.objects.get(campaign=campaign, account=account)


def test_it_lists_every_active_account_once_with_what_it_had(campaign, officer_bien_hoa):
    assert RecertificationItem.objects.filter(campaign=campaign).count() == User.objects.filter(is_active=True).count()
    item = _item(campaign, officer_bien_hoa)
    assert (item.role, item.can_lookup, item.decision) == (Role.OFFICER, True, RecertificationDecision.PENDING)


def test_a_leaders_own_account_is_certified_by_the_level_above(campaign, leader_bien_hoa, units):
    assert _item(campaign, leader_bien_hoa).reviewer_unit == units["province"]
    with pytest.raises(NotAllowed):
        recert.recertification_item_decide(actor=leader_bien_hoa, item=_item(campaign, leader_bien_hoa),
                                           decision=RecertificationDecision.KEEP)


def test_a_leader_certifies_the_accounts_of_the_subtree_only(campaign, leader_bien_hoa, officer_bien_hoa,
                                                            officer_long_khanh):
    recert.recertification_item_decide(actor=leader_bien_hoa, item=_item(campaign, officer_bien_hoa),
                                       decision=RecertificationDecision.KEEP)
    assert _item(campaign, officer_bien_hoa).decision == RecertificationDecision.KEEP
    with pytest.raises(NotAllowed):
        recert.recertification_item_decide(actor=leader_bien_hoa, item=_item(campaign, officer_long_khanh),
                                           decision=RecertificationDecision.KEEP)
    assert set(recert.recertification_items_for(leader_bien_hoa, campaign).values_list("account__username",
                                                                                       flat=True)) == {"cb.tanphong"}


def test_it_refuses_a_remove_without_a_note_and_changes_nothing(campaign, leader_bien_hoa, officer_bien_hoa):
    with pytest.raises(PolicyViolation) as error:
        recert.recertification_item_decide(actor=leader_bien_hoa, item=_item(campaign, officer_bien_hoa),
                                           decision=RecertificationDecision.REMOVE)
    assert error.value.field == "note"
    assert _item(campaign, officer_bien_hoa).decision == RecertificationDecision.PENDING


def test_a_remove_becomes_a_turnover_line(campaign, leader_bien_hoa, officer_bien_hoa):
    recert.recertification_item_decide(actor=leader_bien_hoa, item=_item(campaign, officer_bien_hoa),
                                       decision=RecertificationDecision.REMOVE, note="Đã nghỉ việc từ tháng 10")
    [line] = recert.recertification_turnover_lines(leader_bien_hoa, campaign)
    assert (line["action"], line["account"]) == ("disable", officer_bien_hoa)


def test_only_one_campaign_is_open_at_a_time(campaign, it_admin):
    with pytest.raises(DomainError) as error:
        recert.recertification_campaign_start(actor=it_admin)
    assert error.value.code == "campaign_open"


def test_reminders_go_only_to_leaders_with_items_left_and_once(campaign, units, leader_bien_hoa, officer_bien_hoa):
    # Reminders go to the leaders of each item's reviewing unit. The Xuân An leader finishes; the Tân
    # Phong leader still has cb.tanphong to certify.
    leader_long_khanh = UserFactory(username="ld.longkhanh", role=Role.UNIT_LEADER, unit=units["xuan_an"])
    for item in RecertificationItem.objects.filter(campaign=campaign, reviewer_unit=units["xuan_an"]):
        recert.recertification_item_decide(actor=leader_long_khanh, item=item, decision=RecertificationDecision.KEEP)
    tan_phong_leader = UserFactory(username="ld.tanphong", role=Role.UNIT_LEADER, unit=units["tan_phong"])
    three_days_before = campaign.deadline - timedelta(days=2, hours=12)
    claimed = recert.recertification_reminders_due(actor=JOB, campaign=campaign, now=three_days_before)
    assert [reminder.leader for reminder in claimed] == [tan_phong_leader]
    assert claimed[0].items_left == 1
    assert recert.recertification_reminders_due(actor=JOB, campaign=campaign, now=three_days_before) == []
    assert SecurityEvent.objects.filter(kind=EventKind.RECERTIFICATION_REMINDED).count() == 1


def test_past_the_deadline_open_items_escalate_once(campaign, units, officer_bien_hoa):
    after = campaign.deadline + timedelta(hours=1)
    moved = recert.recertification_escalate(actor=JOB, campaign=campaign, now=after)
    assert moved == RecertificationItem.objects.filter(campaign=campaign, escalated=True).count()
    assert _item(campaign, officer_bien_hoa).reviewer_unit == units["bien_hoa"]
    assert recert.recertification_escalate(actor=JOB, campaign=campaign, now=after) == 0


def test_silence_withdraws_the_lookup_right_by_default(campaign, it_admin, leader_bien_hoa, officer_bien_hoa):
    touched = recert.recertification_close(actor=it_admin, campaign=campaign)
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.can_lookup is False and officer_bien_hoa.is_active
    assert touched == 1  # the only account with the lookup right
    assert _item(campaign, officer_bien_hoa).outcome_applied == "lookup_withdrawn"
    assert recert.recertification_close(actor=it_admin, campaign=campaign) == 0
    with pytest.raises(DomainError):
        recert.recertification_item_decide(actor=leader_bien_hoa, item=_item(campaign, officer_bien_hoa),
                                           decision=RecertificationDecision.KEEP)


def test_a_certified_account_keeps_its_lookup_right(campaign, it_admin, leader_bien_hoa, officer_bien_hoa):
    recert.recertification_item_decide(actor=leader_bien_hoa, item=_item(campaign, officer_bien_hoa),
                                       decision=RecertificationDecision.KEEP)
    recert.recertification_close(actor=it_admin, campaign=campaign)
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.can_lookup is True


def test_the_disable_outcome_disables_the_uncertified_but_never_the_last_admin(db, it_admin, officer_bien_hoa):
    campaign = recert.recertification_campaign_start(actor=it_admin, outcome=RecertificationOutcome.DISABLE)
    recert.recertification_close(actor=it_admin, campaign=campaign)
    officer_bien_hoa.refresh_from_db()
    it_admin.refresh_from_db()
    assert (officer_bien_hoa.is_active, it_admin.is_active) == (False, True)


def test_the_daily_job_starts_a_campaign_when_the_policys_months_have_passed(db, it_admin, officer_bien_hoa):
    assert recert.recertification_daily(actor=JOB)["started"] == 1
    assert recert.recertification_daily(actor=JOB)["started"] == 0
    campaign = RecertificationCampaign.objects.get()
    closed = recert.recertification_daily(actor=JOB, now=campaign.deadline + timedelta(days=8))
    assert closed["closed"] == 1
    assert recert.recertification_daily(actor=JOB, now=campaign.deadline + timedelta(days=9))["started"] == 0
    half_a_year = campaign.started_at + timedelta(days=184)
    assert recert.recertification_daily(actor=JOB, now=half_a_year)["started"] == 1


def test_progress_per_unit_in_one_query(campaign, leader_bien_hoa, units, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = recert.recertification_progress(leader_bien_hoa, campaign)
    assert [(row["unit__code"], row["total"], row["pending"]) for row in rows] == [
        (units["bien_hoa"].code, 1, 1), (units["tan_phong"].code, 1, 1)]


@pytest.mark.django_db(transaction=True)
def test_two_workers_closing_at_once_apply_the_outcome_once(it_admin, officer_bien_hoa):
    campaign = recert.recertification_campaign_start(actor=it_admin)
    outcomes = run_concurrently(lambda: recert.recertification_close(actor=JOB, campaign=campaign),
                                lambda: recert.recertification_close(actor=JOB, campaign=campaign))
    assert sorted(outcomes) == [0, 1]
    assert SecurityEvent.objects.filter(kind=EventKind.RECERTIFICATION_CLOSED).count() == 1


def test_starting_a_campaign_takes_a_constant_number_of_queries(db, it_admin, units, django_assert_num_queries):
    for n in range(30):
        UserFactory(username=f"cb.so{n}", unit=units["tan_phong"] if n % 2 else units["xuan_an"],
                    role=Role.UNIT_LEADER if n % 5 == 0 else Role.OFFICER)
    # Open-campaign check, the campaign, the accounts with their units, one bulk insert per 5,000
    # accounts, the audit event, and the transaction's savepoint pair: 7 whatever the count below 5,000.
    with django_assert_num_queries(7):
        campaign = recert.recertification_campaign_start(actor=it_admin)
    assert campaign.items.count() == User.objects.filter(is_active=True).count()
