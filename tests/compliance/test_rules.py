"""Each compliance rule on its own (policy.compliance), a unit's score against figures computed by
hand, the roll-up into the units above, and the zones."""
from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.choices import PasswordChangeReason, RecertificationDecision, Role, TurnoverAction, TurnoverState
from accounts.models import RecertificationCampaign, RecertificationItem, TurnoverLine, TurnoverRequest, User
from compliance.selectors import account_compliance, rule_inputs
from lookups.models import LookupRecord
from policy.compliance import (
    ComplianceReason,
    UnitFigures,
    Zone,
    accounts_with_rules,
    failure_conditions,
    path_ancestors,
    rollup,
    score_zone,
    unit_counts_annotations,
)
from tests.factories import UserFactory

R = ComplianceReason


def officer(units, **fields):
    return UserFactory(unit=units["tan_phong"], **fields)


@pytest.mark.django_db
def test_a_fresh_password_complies_and_one_past_its_maximum_age_does_not(units):
    now = timezone.now()
    fresh = officer(units, password_changed_at=now - timedelta(days=89))
    old = officer(units, password_changed_at=now - timedelta(days=91))
    never = officer(units, password_changed_at=None)
    stored = officer(units, password_changed_at=now, password_change_reason=PasswordChangeReason.EXPIRED)
    assert account_compliance(fresh, now) == []
    assert account_compliance(old, now) == [R.PASSWORD_EXPIRED]
    assert account_compliance(never, now) == [R.PASSWORD_EXPIRED]
    assert account_compliance(stored, now) == [R.PASSWORD_EXPIRED]


@pytest.mark.django_db
def test_an_it_admins_password_expires_after_its_own_shorter_age(units):
    now = timezone.now()
    admin = UserFactory(unit=units["it_center"], role=Role.IT_ADMIN, password_changed_at=now - timedelta(days=61))
    TOTPDevice.objects.create(user=admin, name="app", confirmed=True)
    assert account_compliance(admin, now) == [R.PASSWORD_EXPIRED]


@pytest.mark.django_db
def test_a_one_time_password_fails_only_once_past_its_validity(units):
    now = timezone.now()
    pending = officer(units, password_change_reason=PasswordChangeReason.ONE_TIME,
                      one_time_password_expires_at=now + timedelta(hours=1))
    unused = officer(units, password_change_reason=PasswordChangeReason.ONE_TIME,
                     one_time_password_expires_at=now - timedelta(minutes=1))
    assert account_compliance(pending, now) == []
    assert account_compliance(unused, now) == [R.ONE_TIME_UNUSED]


@pytest.mark.django_db
def test_a_dormant_account_fails_and_a_disabled_one_is_not_judged(units):
    now = timezone.now()
    dormant = officer(units, created_at=now - timedelta(days=100), last_login=now - timedelta(days=46))
    recent = officer(units, created_at=now - timedelta(days=100), last_login=now - timedelta(days=44))
    disabled = officer(units, created_at=now - timedelta(days=100), last_login=None, is_active=False)
    assert account_compliance(dormant, now) == [R.DORMANT]
    assert account_compliance(recent, now) == []
    assert account_compliance(disabled, now) == []


@pytest.mark.django_db
def test_an_account_left_uncertified_fails_only_after_the_deadline(units):
    now = timezone.now()
    account, certified = officer(units), officer(units)
    campaign = RecertificationCampaign.objects.create(name="2026/1", started_at=now - timedelta(days=10),
                                                      deadline=now + timedelta(days=1), started_by_name="x")
    for who, decision in ((account, RecertificationDecision.PENDING), (certified, RecertificationDecision.KEEP)):
        RecertificationItem.objects.create(campaign=campaign, account=who, unit=who.unit, reviewer_unit=who.unit,
                                           role=who.role, can_lookup=False, decision=decision)
    assert account_compliance(account, now) == []
    later = now + timedelta(days=2)
    assert account_compliance(account, later) == [R.UNCERTIFIED]
    assert R.UNCERTIFIED not in account_compliance(certified, later)


@pytest.mark.django_db
def test_an_account_on_a_request_the_unit_has_not_sent_past_its_effective_date_fails(units, leader_bien_hoa):
    now = timezone.now()
    today = timezone.localdate(now)
    not_sent, returned, not_yet, at_it_center = officer(units), officer(units), officer(units), officer(units)
    for who, state, effective, due in (
            (not_sent, TurnoverState.DRAFT, today - timedelta(days=2), None),
            (returned, TurnoverState.RETURNED, today - timedelta(days=1), None),
            (not_yet, TurnoverState.DRAFT, today, None),
            # Late at the IT Center: its own lateness, not the ward's.
            (at_it_center, TurnoverState.SUBMITTED, today - timedelta(days=5), now - timedelta(hours=1))):
        request = TurnoverRequest.objects.create(
            unit=units["tan_phong"], unit_code="x", unit_name="x", state=state,
            letter_number="1/UBND-VP", letter_date=effective, issuing_unit_name="x", signer_name="x",
            signer_position="x", effective_date=effective, created_by=leader_bien_hoa, due_at=due)
        TurnoverLine.objects.create(request=request, action=TurnoverAction.DISABLE, account=who)
    assert account_compliance(not_sent, now) == [R.TURNOVER_OVERDUE]
    assert account_compliance(returned, now) == [R.TURNOVER_OVERDUE]
    assert account_compliance(not_yet, now) == []
    assert account_compliance(at_it_center, now) == []


@pytest.mark.django_db
def test_a_lookup_refused_for_a_quota_within_the_window_fails(units):
    now = timezone.now()
    over, other_refusal, long_ago = officer(units), officer(units), officer(units)
    LookupRecord.objects.create(officer=over, decision="refuse", reason="officer_day", decided_at=now - timedelta(days=3))
    LookupRecord.objects.create(officer=other_refusal, decision="refuse", reason="no_lookup_right", decided_at=now)
    LookupRecord.objects.create(officer=long_ago, decision="refuse", reason="unit_minute",
                                decided_at=now - timedelta(days=31))
    assert account_compliance(over, now) == [R.LOOKUP_QUOTA]
    assert account_compliance(other_refusal, now) == []
    assert account_compliance(long_ago, now) == []


@pytest.mark.django_db
def test_an_anomaly_flag_fails_its_officer_until_the_it_center_closes_it(units):
    from lookups.models import AnomalyFlag

    now = timezone.now()
    flagged, long_ago, reviewed, clean = officer(units), officer(units), officer(units), officer(units)
    for account, moment in ((flagged, now - timedelta(days=2)), (long_ago, now - timedelta(days=200)),
                            (reviewed, now - timedelta(days=2)), (clean, None)):
        record = LookupRecord.objects.create(officer=account, decision="allow", decided_at=now)
        if moment is not None:
            AnomalyFlag.objects.create(lookup_id=record.pk, decided_at=moment, kind="outside_office_hours",
                                       officer=account, officer_username=account.username,
                                       reviewed_at=now - timedelta(days=1) if account is reviewed else None)
    assert account_compliance(flagged, now) == [R.LOOKUP_ANOMALY]
    assert account_compliance(long_ago, now) == [R.LOOKUP_ANOMALY]  # open flags do not age out
    assert account_compliance(reviewed, now) == []
    assert account_compliance(clean, now) == []


@pytest.mark.django_db
def test_a_role_that_needs_a_second_factor_fails_without_a_confirmed_device(units):
    now = timezone.now()
    inspector = UserFactory(unit=units["inspectorate"], role=Role.INSPECTOR)
    enrolled = UserFactory(unit=units["inspectorate"], role=Role.INSPECTOR)
    TOTPDevice.objects.create(user=enrolled, name="app", confirmed=True)
    unconfirmed = UserFactory(unit=units["inspectorate"], role=Role.INSPECTOR)
    TOTPDevice.objects.create(user=unconfirmed, name="app", confirmed=False)
    assert account_compliance(inspector, now) == [R.SECOND_FACTOR]
    assert account_compliance(enrolled, now) == []
    assert account_compliance(unconfirmed, now) == [R.SECOND_FACTOR]
    assert account_compliance(officer(units), now) == []  # an officer needs none


@pytest.mark.django_db
def test_the_roles_and_lookup_officers_the_policy_adds_need_a_second_factor_too(units):
    from policy.models import PasswordPolicy
    from policy.selectors import policy_cache_clear

    now = timezone.now()
    looker, other = officer(units, can_lookup=True), officer(units, can_lookup=False)
    leader = UserFactory(unit=units["bien_hoa"], role=Role.UNIT_LEADER)
    assert (account_compliance(looker, now), account_compliance(leader, now)) == ([], [])
    PasswordPolicy.objects.filter(id=1).update(second_factor_lookup=True, second_factor_roles=[Role.UNIT_LEADER])
    policy_cache_clear()
    assert account_compliance(looker, now) == [R.SECOND_FACTOR]
    assert account_compliance(leader, now) == [R.SECOND_FACTOR]
    assert account_compliance(other, now) == []


@pytest.mark.django_db
def test_a_rule_with_nothing_to_judge_is_left_out(units):
    conditions = failure_conditions(rule_inputs(timezone.now()))
    assert R.LOOKUP_ANOMALY in conditions  # the anomaly flags are judged
    assert R.UNCERTIFIED not in conditions  # no campaign past its deadline


@pytest.mark.django_db
def test_a_units_score_matches_figures_computed_by_hand(units):
    """Tân Phong: 10 active accounts — 6 comply, 2 expired, 1 dormant and expired, 1 one-time unused;
    a disabled account is not counted. Score 6/10 = 60 %, reasons 3 expired, 1 dormant, 1 one-time."""
    now = timezone.now()
    for _ in range(6):
        officer(units)
    officer(units, password_changed_at=now - timedelta(days=95))
    officer(units, password_changed_at=now - timedelta(days=120))
    officer(units, password_changed_at=now - timedelta(days=200), created_at=now - timedelta(days=300),
            last_login=now - timedelta(days=60))
    officer(units, password_change_reason=PasswordChangeReason.ONE_TIME,
            one_time_password_expires_at=now - timedelta(hours=2))
    officer(units, is_active=False, password_changed_at=None)
    conditions = failure_conditions(rule_inputs(now))
    row = (accounts_with_rules(User.objects.filter(unit=units["tan_phong"], is_active=True)).order_by()
           .values("unit_id").annotate(**unit_counts_annotations(conditions)).get())
    assert (row["total"], row["compliant"]) == (10, 6)
    assert (row[R.PASSWORD_EXPIRED], row[R.DORMANT], row[R.ONE_TIME_UNUSED]) == (3, 1, 1)
    assert UnitFigures(row["total"], row["compliant"]).score == 60.0


def test_the_roll_up_adds_every_unit_below_into_its_parent():
    own = {
        "/00000001/": UnitFigures(2, 2, {"dormant": 0}),
        "/00000001/00000005/": UnitFigures(10, 7, {"dormant": 3}),
        "/00000001/00000005/00000006/": UnitFigures(4, 1, {"dormant": 2, "password_expired": 1}),
        "/00000001/00000007/": UnitFigures(5, 5, {}),
    }
    totals = rollup(own, list(own))
    assert (totals["/00000001/"].total, totals["/00000001/"].compliant) == (21, 15)
    assert totals["/00000001/"].reasons == {"dormant": 5, "password_expired": 1}
    assert (totals["/00000001/00000005/"].total, totals["/00000001/00000005/"].compliant) == (14, 8)
    assert totals["/00000001/00000007/"].score == 100.0
    assert round(totals["/00000001/"].score, 1) == 71.4
    assert path_ancestors("/00000001/00000005/") == ["/00000001/", "/00000001/00000005/"]


def test_zones_follow_the_it_centers_thresholds():
    assert score_zone(90.0, good_from=90, attention_from=70) == Zone.GOOD
    assert score_zone(89.9, good_from=90, attention_from=70) == Zone.ATTENTION
    assert score_zone(70.0, good_from=90, attention_from=70) == Zone.ATTENTION
    assert score_zone(69.9, good_from=90, attention_from=70) == Zone.BAD
    assert score_zone(None, good_from=90, attention_from=70) is None
    assert UnitFigures(0, 0).score is None
