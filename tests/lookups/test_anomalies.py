"""Anomaly flags: each rule on allowed lookups, written in the decision's own transaction, then turned
into one security event per flag by the job (twice run, nothing duplicated), and the IT Center's alert
queue that claims each flag once."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.choices import TurnoverAction, TurnoverState
from accounts.models import Holiday, TurnoverLine, TurnoverRequest
from audit.choices import EventKind
from audit.models import SecurityEvent
from lookups import selectors, services
from lookups.anomalies import anomaly_flags_write
from lookups.choices import AnomalyKind, Decision, QuotaWindow
from lookups.models import AnomalyFlag, LookupRecord, QuotaOverride
from lookups.quotas import Limits, QuotaResult
from lookups.services import citizen_id_hash, lookup_decide
from lookups.tasks import process_anomaly_flags
from lookups.validation import citizen_id_masked
from portal.actors import SystemActor
from portal.audit_context import audit_context
from portal.errors import NotAllowed
from tests.factories import UserFactory
from tests.helpers import run_concurrently

VN = ZoneInfo("Asia/Ho_Chi_Minh")
TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=VN)  # a working day, in office hours
CITIZEN = "075095001234"
DOSSIER = "000.00.31.H19-210708-0032"
JOB = SystemActor("anomaly_job")
ALERT_JOB = SystemActor("alert_job")  # the IT Center alert job claims the processed flags
API = SystemActor("lookup_api")


def _record(officer, *, at=TUESDAY_10, citizen=CITIZEN, dossier=DOSSIER, decision=Decision.ALLOW):
    return LookupRecord.objects.create(
        decided_at=at, officer=officer, officer_username=officer.username, unit_id_then=officer.unit_id,
        unit_code_then=officer.unit.code, dossier_code=dossier, purpose="Thử", decision=decision,
        citizen_id_hash=citizen_id_hash(citizen), citizen_id_masked=citizen_id_masked(citizen))


def _flags(record, officer, quota=None):
    return {flag.kind: flag.details for flag in anomaly_flags_write(record=record, officer=officer, quota=quota)}


def _quota(*, minute_used, minute_limit=10, day_used=1, day_limit=300):
    limits = Limits(officer_minute=minute_limit, officer_day=day_limit, unit_minute=200, unit_day=20000)
    return QuotaResult(allowed=True, reason="", limits=limits, backend="redis", remaining={
        "officer_minute": minute_limit - minute_used, "officer_day": day_limit - day_used,
        "unit_minute": 100, "unit_day": 10000})


def _citizen(n: int) -> str:
    return f"0750950{n:05d}"


# ----- the rules ------------------------------------------------------------------------------------------

def test_a_lookup_in_office_hours_of_a_working_day_is_not_flagged(officer_bien_hoa):
    assert _flags(_record(officer_bien_hoa), officer_bien_hoa) == {}


@pytest.mark.parametrize(("moment", "local_time", "working_day"), [
    (datetime(2026, 12, 1, 21, 50, tzinfo=VN), "21:50", True),
    (datetime(2026, 12, 1, 6, 59, tzinfo=VN), "06:59", True),
    (datetime(2026, 12, 1, 17, 30, tzinfo=VN), "17:30", True),
    (datetime(2026, 12, 5, 10, 0, tzinfo=VN), "10:00", False),  # a Saturday
])
def test_it_flags_a_lookup_outside_office_hours(officer_bien_hoa, moment, local_time, working_day):
    flags = _flags(_record(officer_bien_hoa, at=moment), officer_bien_hoa)
    assert flags == {AnomalyKind.OUTSIDE_OFFICE_HOURS: {"local_time": local_time, "working_day": working_day}}


def test_office_hours_begin_and_end_in_vietnam_time(officer_bien_hoa):
    # 00:00 UTC is 07:00 in Vietnam: in office hours, whatever the server's own time zone.
    at = datetime(2026, 12, 1, 0, 0, tzinfo=ZoneInfo("UTC"))
    assert _flags(_record(officer_bien_hoa, at=at), officer_bien_hoa) == {}


def test_it_flags_a_lookup_on_a_public_holiday_the_it_center_keeps(officer_bien_hoa):
    Holiday.objects.create(date=date(2026, 12, 1), name="Ngày nghỉ thử")
    flags = _flags(_record(officer_bien_hoa), officer_bien_hoa)
    assert flags == {AnomalyKind.OUTSIDE_OFFICE_HOURS: {"local_time": "10:00", "working_day": False}}


@pytest.mark.parametrize(("minute_used", "flagged"), [(7, False), (8, True), (9, False), (10, False)])
def test_it_flags_the_lookup_that_brings_the_minute_to_80_percent_of_its_quota(officer_bien_hoa, minute_used,
                                                                               flagged):
    flags = _flags(_record(officer_bien_hoa), officer_bien_hoa, _quota(minute_used=minute_used))
    expected = {AnomalyKind.NEAR_QUOTA: {"window": "officer_minute", "used": 8, "limit": 10}} if flagged else {}
    assert flags == expected


def test_it_flags_the_lookup_that_brings_the_day_to_80_percent_of_its_quota(officer_bien_hoa):
    flags = _flags(_record(officer_bien_hoa), officer_bien_hoa, _quota(minute_used=1, day_used=240))
    assert flags == {AnomalyKind.NEAR_QUOTA: {"window": "officer_day", "used": 240, "limit": 300}}


def test_it_flags_each_new_citizen_past_five_for_one_dossier(officer_bien_hoa):
    for n in range(5):
        assert _flags(_record(officer_bien_hoa, citizen=_citizen(n)), officer_bien_hoa) == {}
    _record(officer_bien_hoa, citizen=_citizen(9), decision=Decision.REFUSE)  # refusals do not count
    _record(officer_bien_hoa, citizen=_citizen(8), dossier="000.00.31.H19-210708-0033")  # nor other dossiers
    _record(officer_bien_hoa, citizen=_citizen(7), at=TUESDAY_10 - timedelta(hours=25))  # nor older lookups
    sixth = _flags(_record(officer_bien_hoa, citizen=_citizen(5)), officer_bien_hoa)
    assert sixth == {AnomalyKind.DOSSIER_MANY_CITIZENS: {"citizens": 6, "threshold": 5, "hours": 24}}
    again = _flags(_record(officer_bien_hoa, citizen=_citizen(5)), officer_bien_hoa)
    assert again == {}  # the same citizen once more is no new citizen
    seventh = _flags(_record(officer_bien_hoa, citizen=_citizen(6)), officer_bien_hoa)
    assert seventh == {AnomalyKind.DOSSIER_MANY_CITIZENS: {"citizens": 7, "threshold": 5, "hours": 24}}


def test_it_flags_a_citizen_born_in_another_province_for_an_officer_of_a_ward(officer_bien_hoa):
    flags = _flags(_record(officer_bien_hoa, citizen="001095001234"), officer_bien_hoa)
    assert flags == {AnomalyKind.CITIZEN_OTHER_PROVINCE: {"province_code": "001", "province": "Hà Nội"}}
    # Bình Phước (070) is part of Đồng Nai since the 2025 merger: at home.
    assert _flags(_record(officer_bien_hoa, citizen="070095001234"), officer_bien_hoa) == {}


def test_it_does_not_flag_another_province_for_an_officer_above_the_communes(units):
    city_officer = UserFactory(username="cb.bienhoa", unit=units["bien_hoa"], can_lookup=True)
    assert _flags(_record(city_officer, citizen="001095001234"), city_officer) == {}


def test_it_flags_each_new_officer_past_three_for_one_citizen(units, officer_bien_hoa):
    officers = [officer_bien_hoa] + [UserFactory(unit=units["tan_phong"], can_lookup=True) for _ in range(4)]
    for officer in officers[:3]:
        assert _flags(_record(officer), officer) == {}
    _record(officers[4], decision=Decision.REFUSE)
    fourth = _flags(_record(officers[3]), officers[3])
    assert fourth == {AnomalyKind.CITIZEN_MANY_OFFICERS: {"officers": 4, "threshold": 3, "hours": 24}}
    assert _flags(_record(officers[3]), officers[3]) == {}  # the same officer again


def _turnover_request(unit, leader, officer, *, state):
    request = TurnoverRequest.objects.create(
        unit=unit, unit_code=unit.code, unit_name=unit.name, state=state, letter_number="125/UBND-VP",
        letter_date=date(2026, 11, 30), issuing_unit_name=unit.name, signer_name="Lê Minh Tuấn",
        signer_position="Chủ tịch", effective_date=date(2026, 12, 1), created_by=leader)
    TurnoverLine.objects.create(request=request, action=TurnoverAction.DISABLE, account=officer,
                                username=officer.username, departure_reason="left")
    return request


@pytest.mark.parametrize("state", [TurnoverState.SUBMITTED, TurnoverState.ACCEPTED])
def test_it_flags_an_account_used_after_its_disabling_was_requested(units, leader_bien_hoa, officer_bien_hoa, state):
    request = _turnover_request(units["tan_phong"], leader_bien_hoa, officer_bien_hoa, state=state)
    flags = _flags(_record(officer_bien_hoa), officer_bien_hoa)
    assert flags == {AnomalyKind.DISABLE_REQUESTED: {"turnover_request": request.pk}}


@pytest.mark.parametrize("state", [TurnoverState.DRAFT, TurnoverState.RETURNED, TurnoverState.CANCELLED,
                                   TurnoverState.EXECUTED])
def test_a_turnover_request_not_pending_flags_nothing(units, leader_bien_hoa, officer_bien_hoa, state):
    _turnover_request(units["tan_phong"], leader_bien_hoa, officer_bien_hoa, state=state)
    assert _flags(_record(officer_bien_hoa), officer_bien_hoa) == {}


def test_a_refused_lookup_is_never_flagged(officer_bien_hoa):
    refused = _record(officer_bien_hoa, at=datetime(2026, 12, 1, 23, 0, tzinfo=VN), decision=Decision.REFUSE)
    assert anomaly_flags_write(record=refused, officer=officer_bien_hoa, quota=None) == []


def test_the_rules_cost_one_query_and_one_insert_only_when_flagged(officer_bien_hoa, django_assert_num_queries):
    quiet = _record(officer_bien_hoa)
    anomaly_flags_write(record=quiet, officer=officer_bien_hoa, quota=None)  # prepares it on this connection
    with django_assert_num_queries(1):
        anomaly_flags_write(record=quiet, officer=officer_bien_hoa, quota=None)
    night = _record(officer_bien_hoa, at=datetime(2026, 12, 1, 22, 0, tzinfo=VN), citizen="001095001234")
    with django_assert_num_queries(2):
        assert len(anomaly_flags_write(record=night, officer=officer_bien_hoa, quota=None)) == 2


# ----- through the decision ----------------------------------------------------------------------------------

def _decide(client, officer="cb.tanphong", citizen=CITIZEN, now=None):
    with audit_context(ip_address="10.20.30.40"):
        return lookup_decide(actor=API, client=client, officer_username=officer, citizen_id=citizen,
                             dossier_code=DOSSIER, purpose="Cấp bản sao trích lục khai sinh", now=now)


def _daytime_flags():
    """The flags of the rules that do not depend on the hour the test runs at."""
    return AnomalyFlag.objects.exclude(kind=AnomalyKind.OUTSIDE_OFFICE_HOURS)


def test_the_decision_writes_its_flags_with_its_record(province_client, units, leader_bien_hoa, officer_bien_hoa):
    request = _turnover_request(units["tan_phong"], leader_bien_hoa, officer_bien_hoa, state=TurnoverState.SUBMITTED)
    decision = _decide(province_client[0], citizen="001095001234")
    assert decision.allowed is True
    flags = {flag.kind: flag for flag in _daytime_flags()}
    assert set(flags) == {AnomalyKind.DISABLE_REQUESTED, AnomalyKind.CITIZEN_OTHER_PROVINCE}
    flag = flags[AnomalyKind.DISABLE_REQUESTED]
    record = LookupRecord.objects.get()
    assert (flag.lookup_id, flag.decided_at, flag.officer_id, flag.officer_username, flag.unit_id_then,
            flag.unit_code_then, flag.details, flag.processed_at, flag.alerted_at) == (
        record.pk, record.decided_at, officer_bien_hoa.pk, "cb.tanphong", units["tan_phong"].pk, "000.01.31.H19",
        {"turnover_request": request.pk}, None, None)


def test_the_decision_flags_the_eighth_lookup_of_a_minute_quota_of_ten(province_client, officer_bien_hoa):
    QuotaOverride.objects.create(unit=officer_bien_hoa.unit, window=QuotaWindow.OFFICER_MINUTE, limit=10)
    minute = timezone.now().replace(second=0, microsecond=0)  # eleven decisions in one clock minute
    decisions = [_decide(province_client[0], citizen=_citizen(n % 3), now=minute + timedelta(seconds=n))
                 for n in range(11)]
    assert [d.allowed for d in decisions] == [True] * 10 + [False]
    near = list(_daytime_flags().filter(kind=AnomalyKind.NEAR_QUOTA))
    assert [(flag.lookup_id, flag.details) for flag in near] == [
        (decisions[7].record_id, {"window": "officer_minute", "used": 8, "limit": 10})]


def test_a_refused_decision_writes_no_flag(province_client, units, leader_bien_hoa, officer_bien_hoa):
    _turnover_request(units["tan_phong"], leader_bien_hoa, officer_bien_hoa, state=TurnoverState.SUBMITTED)
    officer_bien_hoa.can_lookup = False
    officer_bien_hoa.save(update_fields=["can_lookup"])
    assert _decide(province_client[0]).reason == "no_lookup_right"
    assert AnomalyFlag.objects.count() == 0


def test_no_flag_outlives_a_decision_whose_record_failed(province_client, units, leader_bien_hoa, officer_bien_hoa,
                                                         monkeypatch):
    from django.db import connection

    _turnover_request(units["tan_phong"], leader_bien_hoa, officer_bien_hoa, state=TurnoverState.SUBMITTED)
    with connection.cursor() as cursor:  # the flag table gone: the decision's statement fails as a whole
        cursor.execute("ALTER TABLE lookups_anomalyflag RENAME TO lookups_anomalyflag_away")
    try:
        decision = _decide(province_client[0])
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE lookups_anomalyflag_away RENAME TO lookups_anomalyflag")
    assert (decision.allowed, decision.reason) == (False, "record_unavailable")
    assert list(LookupRecord.objects.values_list("decision", "reason")) == [("refuse", "record_unavailable")]
    assert AnomalyFlag.objects.count() == 0


def test_a_decision_never_waits_on_the_celery_broker(province_client, units, leader_bien_hoa, officer_bien_hoa,
                                                     settings, closed_port_url):
    from portal.celery import app

    _turnover_request(units["tan_phong"], leader_bien_hoa, officer_bien_hoa, state=TurnoverState.SUBMITTED)
    previous = app.conf.broker_url
    app.conf.broker_url = settings.CELERY_BROKER_URL = closed_port_url
    try:
        decision = _decide(province_client[0])
    finally:
        app.conf.broker_url = settings.CELERY_BROKER_URL = previous
    assert decision.allowed is True
    assert _daytime_flags().get().kind == AnomalyKind.DISABLE_REQUESTED


# ----- the job: one security event per flag -------------------------------------------------------------------

def _night_flags(officer, count):
    """`count` allowed lookups at 22:00, each flagged outside office hours."""
    records = [_record(officer, at=datetime(2026, 12, 1, 22, 0, tzinfo=VN), citizen=_citizen(n), dossier=f"{DOSSIER[:-1]}{n}")
               for n in range(count)]
    for record in records:
        anomaly_flags_write(record=record, officer=officer, quota=None)
    return records


def test_the_job_records_one_event_per_flag_and_a_second_run_nothing(officer_bien_hoa):
    records = _night_flags(officer_bien_hoa, 3)
    with audit_context(request_id="job-1"):
        assert services.anomaly_flags_process(actor=JOB, batch_size=2) == 3
    events = SecurityEvent.objects.filter(kind=EventKind.LOOKUP_ANOMALY_FLAGGED).order_by("id")
    assert [event.details["lookup"] for event in events] == [record.pk for record in records]
    event = events[0]
    assert (event.actor_id, event.actor_username, event.target_id, event.target_username, event.unit_code) == (
        None, "system:anomaly_job", officer_bien_hoa.pk, "cb.tanphong", "000.01.31.H19")
    assert event.details == {"anomaly": "outside_office_hours", "lookup": records[0].pk,
                             "decided_at": "2026-12-01T15:00:00+00:00", "local_time": "22:00",
                             "working_day": True}
    assert AnomalyFlag.objects.filter(processed_at__isnull=True).count() == 0
    assert services.anomaly_flags_process(actor=JOB) == 0
    assert events.count() == 3


def test_two_jobs_at_once_record_each_flag_once(transactional_db, officer_bien_hoa):
    _night_flags(officer_bien_hoa, 40)
    outcomes = run_concurrently(*[lambda: services.anomaly_flags_process(actor=JOB, batch_size=5)] * 3)
    assert sum(outcomes) == 40
    assert SecurityEvent.objects.filter(kind=EventKind.LOOKUP_ANOMALY_FLAGGED).count() == 40
    lookups = SecurityEvent.objects.filter(kind=EventKind.LOOKUP_ANOMALY_FLAGGED).values_list("details__lookup",
                                                                                               flat=True)
    assert len(set(lookups)) == 40


def test_a_failed_batch_claims_nothing(officer_bien_hoa, monkeypatch):
    _night_flags(officer_bien_hoa, 2)

    def fails(**kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(services.flags, "_anomaly_events_record", fails)
    with pytest.raises(RuntimeError):
        services.anomaly_flags_process(actor=JOB)
    assert AnomalyFlag.objects.filter(processed_at__isnull=True).count() == 2
    monkeypatch.undo()
    assert services.anomaly_flags_process(actor=JOB) == 2


def test_only_it_admins_and_jobs_process_flags(inspector):
    with pytest.raises(NotAllowed):
        services.anomaly_flags_process(actor=inspector)


@pytest.mark.django_db(transaction=True)
def test_the_celery_task_processes_the_flags_on_a_real_worker(celery_worker, officer_bien_hoa):
    _night_flags(officer_bien_hoa, 2)
    before = celery_worker.runs_of(process_anomaly_flags)
    celery_worker.send(process_anomaly_flags)
    celery_worker.send(process_anomaly_flags)
    celery_worker.wait_done(process_anomaly_flags, before + 2)
    assert SecurityEvent.objects.filter(kind=EventKind.LOOKUP_ANOMALY_FLAGGED).count() == 2
    assert AnomalyFlag.objects.filter(processed_at__isnull=True).count() == 0


def test_the_job_is_scheduled_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["process-anomaly-flags"]
    assert entry["task"] == process_anomaly_flags.name == "lookups.process_anomaly_flags"
    assert entry["schedule"].minute == set(range(60)) and entry["schedule"].hour == set(range(24))


# ----- the IT Center's alert queue ---------------------------------------------------------------------------------

def test_the_alert_queue_holds_processed_flags_until_they_are_claimed(officer_bien_hoa):
    _night_flags(officer_bien_hoa, 3)
    assert selectors.anomaly_flags_to_alert() == []  # not recorded as events yet
    services.anomaly_flags_process(actor=JOB)
    queued = selectors.anomaly_flags_to_alert()
    assert len(queued) == 3
    first, *rest = [flag.pk for flag in queued]
    assert services.anomaly_flags_mark_alerted(actor=ALERT_JOB, flag_ids=[first, 999999]) == [first]
    assert services.anomaly_flags_mark_alerted(actor=ALERT_JOB, flag_ids=[first]) == []
    assert [flag.pk for flag in selectors.anomaly_flags_to_alert()] == rest
    assert AnomalyFlag.objects.get(pk=first).alerted_at is not None


def test_two_alert_jobs_at_once_claim_each_flag_once(transactional_db, officer_bien_hoa):
    _night_flags(officer_bien_hoa, 6)
    services.anomaly_flags_process(actor=JOB)
    ids = [flag.pk for flag in selectors.anomaly_flags_to_alert()]
    outcomes = run_concurrently(*[lambda: services.anomaly_flags_mark_alerted(actor=ALERT_JOB, flag_ids=ids)] * 4)
    assert sorted(flag_id for claimed in outcomes for flag_id in claimed) == ids
    assert selectors.anomaly_flags_to_alert() == []


def test_only_it_admins_and_jobs_mark_alerts(officer_bien_hoa, inspector):
    _night_flags(officer_bien_hoa, 1)
    with pytest.raises(NotAllowed):
        services.anomaly_flags_mark_alerted(actor=inspector, flag_ids=[AnomalyFlag.objects.get().pk])


def test_a_leader_sees_only_the_flags_of_their_subtree(units, leader_bien_hoa, officer_bien_hoa, officer_long_khanh,
                                                      inspector):
    _night_flags(officer_bien_hoa, 1)
    far = _record(officer_long_khanh, at=datetime(2026, 12, 1, 22, 0, tzinfo=VN))
    anomaly_flags_write(record=far, officer=officer_long_khanh, quota=None)
    assert [flag.officer_username for flag in selectors.anomaly_flags_visible_to(leader_bien_hoa)] == ["cb.tanphong"]
    assert selectors.anomaly_flags_visible_to(inspector).count() == 2
    assert selectors.anomaly_flags_visible_to(officer_bien_hoa).count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_new_database_connection_prepares_the_statement_again(officer_bien_hoa):
    from django.db import connection

    night = _record(officer_bien_hoa, at=datetime(2026, 12, 1, 22, 0, tzinfo=VN))
    assert [flag.kind for flag in anomaly_flags_write(record=night, officer=officer_bien_hoa, quota=None)] == [
        AnomalyKind.OUTSIDE_OFFICE_HOURS]
    connection.close()  # the next query opens a new connection, which holds no prepared statement
    AnomalyFlag.objects.all().delete()
    assert [flag.kind for flag in anomaly_flags_write(record=night, officer=officer_bien_hoa, quota=None)] == [
        AnomalyKind.OUTSIDE_OFFICE_HOURS]
