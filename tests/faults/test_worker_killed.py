"""A worker killed (SIGKILL) in the middle of a task, for every kind of job the Celery app registers
(docs/faults.md). The task runs in the pool process of a real prefork worker (tests/worker.py); the test
holds it mid-way (a table it writes is SHARE-locked from another connection, so it waits inside its
work), kills that process, and the database session of the dead process dies with it. Celery then
hands the task back (acks_late, reject_on_worker_lost: portal.settings) to the worker's new pool process,
or, for a job that holds a lease, the minutely sweep hands it on once the lease has run out. Either way
the job is done once: nothing duplicated, nothing lost.

KILL_TESTS is keyed by task name; `test_every_registered_task_has_a_kill_test` fails for a task that
has none. A new task's entry: what it needs (setup), the table it writes mid-way (lock), what "done
once" means (check), and, for a leased job, how it is taken over (resume)."""
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import psycopg2
import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count, F
from django.utils import timezone

from accounts.choices import Role
from audit.choices import EventKind
from audit.models import SecurityEvent
from notifications.models import Notice
from portal.celery import app
from tests.factories import UserFactory
from tests.notifications.helpers import changed_for
from tests.worker import Worker


@dataclass
class KillCase:
    setup: Callable[[dict], dict]  # the fixtures' objects in, what the check needs out
    lock: str  # a table the task writes in the middle of its work
    check: Callable[[dict], None]  # raises AssertionError until the job is done, once
    args: Callable[[dict], tuple] = lambda state: ()
    resume: Callable[[dict, Worker, int], None] | None = None  # after the kill, for a job that holds a lease
    lock_mode: str = "SHARE"  # SHARE holds a task at its first write; ACCESS EXCLUSIVE at its first read
    fixtures: tuple[str, ...] = field(default=("units",))


def _one(queryset, what):
    assert queryset.count() == 1, f"{what}: {queryset.count()}, not exactly one"


# ----- accounts ----------------------------------------------------------------------------------------

def _dormant_setup(fx):
    officer = UserFactory(username="cb.ngu", unit=fx["units"]["tan_phong"])
    moment = timezone.now() - timedelta(days=80)
    officer.__class__.objects.filter(pk=officer.pk).update(created_at=moment - timedelta(days=1), last_login=moment)
    return {"officer": officer}


def _dormant_check(state):
    officer = state["officer"]
    officer.refresh_from_db()
    assert not officer.is_active
    _one(SecurityEvent.objects.filter(kind=EventKind.ACCOUNT_DISABLED, target=officer), "disabling events")


# ----- notifications -----------------------------------------------------------------------------------

def _recipients(people, smtp, kind=None):
    """The people who must get one notice (of `kind`) and one e-mail each; what they had before."""
    return {"officers": people, "smtp": smtp, "kind": kind,
            "before": {person.email: len(smtp.received_by(person.email)) for person in people},
            "notices_before": {person.pk: _notices_of(person, kind).count() for person in people}}


def _notices_of(person, kind):
    return Notice.objects.filter(recipient=person, **({"kind": kind} if kind else {}))


def _reminders_setup(fx):
    officers = [UserFactory(username=f"cb.nhac{n}", unit=fx["units"]["tan_phong"],
                            password_changed_at=changed_for(days_left=3)) for n in range(3)]
    return _recipients(officers, fx["smtp_server"])


def _once_each(state):
    """One notice per recipient, and one e-mail each (the delivery job after the killed one's redelivery)."""
    smtp = state["smtp"]
    for person in state["officers"]:
        made = _notices_of(person, state["kind"]).count() - state["notices_before"][person.pk]
        assert made == 1, f"{made} notices for {person.username}"
        # The SMTP sink lives for the whole run: count what came since the setup.
        received = len(smtp.received_by(person.email)) - state["before"][person.email]
        assert received == 1, f"{person.username}: {received} e-mails"


def _notices_ready(fx):
    """Notices made without handing them to the delivery job (the job under test sends them)."""
    from notifications.reminders import reminders_send

    state = _reminders_setup(fx)
    state["ids"] = reminders_send(dispatch=False).notice_ids
    return state


def _admins_setup(fx):
    return _recipients([fx["it_admin"]], fx["smtp_server"])


def _failed_job_setup(fx):
    from notifications.alerts import job_failure_record

    job_failure_record(task_name="accounts.disable_dormant_accounts", task_id="t1", error=TimeoutError("x"))
    return _admins_setup(fx)


def _digest_setup(fx):
    UserFactory(username="cb.hethan", unit=fx["units"]["tan_phong"], password_changed_at=changed_for(days_left=-3))
    return _recipients([fx["leader_bien_hoa"]], fx["smtp_server"])


def _sessions_setup(fx):
    from django.test import Client

    from accounts.models import AccountSession
    from tests.helpers import login

    officer = fx["officer_bien_hoa"]
    login(Client(), officer)
    AccountSession.objects.filter(account_id=officer.pk).update(last_seen_at=timezone.now() - timedelta(hours=2))
    return {"officer": officer}


def _sessions_check(state):
    from accounts.models import AccountSession

    assert not AccountSession.objects.filter(account_id=state["officer"].pk).exists()
    _one(SecurityEvent.objects.filter(kind=EventKind.LOGOUT, target=state["officer"]), "sign-out events")


def _leased_job_resume(sweep_name):
    """After the kill the claim holds until its lease runs out (a redelivery finds it claimed and does
    nothing); then the minutely sweep hands it to a live worker (tests/portal/test_job_leases.py)."""
    def resume(state, worker, before):
        from portal.leases import JOB_LEASE

        job = state["job"]
        worker.wait_done(app.tasks[state["task"]], before + 2)
        type(job).objects.filter(pk=job.pk).update(claimed_at=F("claimed_at") - JOB_LEASE - timedelta(seconds=1))
        worker.send(app.tasks[sweep_name])
    return resume


def _export_setup(fx):
    from compliance.models import ExportJob

    for number in range(3):
        UserFactory(unit=fx["units"]["tan_phong"], username=f"cb.xuat{number}")
    job = ExportJob.objects.create(requested_by=fx["leader_bien_hoa"], list_name="accounts", file_format="csv",
                                   rows_total=4)
    return {"job": job, "task": "compliance.export_run"}


def _stale_export_setup(fx):
    """An export a dead worker claimed, its lease run out: the sweep's work."""
    from compliance.models import ExportJob
    from portal.leases import JOB_LEASE

    state = _export_setup(fx)
    ExportJob.objects.filter(pk=state["job"].pk).update(
        state=ExportJob.State.RUNNING, attempts=1, claimed_at=timezone.now() - JOB_LEASE - timedelta(minutes=1))
    return state


def _export_check(state):
    from compliance.models import ExportJob

    job = ExportJob.objects.get(pk=state["job"].pk)
    assert (job.state, job.rows_done, job.claim) == (ExportJob.State.DONE, 4, None)
    usernames = [line.split(",")[0] for line in bytes(job.content).decode("utf-8-sig").splitlines()[1:]]
    assert sorted(usernames) == ["cb.xuat0", "cb.xuat1", "cb.xuat2", "ld.bienhoa"]


ROSTER_ROWS = 200


def _roster_setup(fx):
    import hashlib
    from pathlib import Path

    from accounts.models import RosterImport

    data = ("Họ và tên,Mã đơn vị,Chức vụ,Trạng thái,Email\n" + "".join(
        f"Cán bộ số {n},000.01.31.H19,Chuyên viên,Đang công tác,cb{n}@dongnai.gov.vn\n" for n in range(ROSTER_ROWS))
            ).encode()
    digest = hashlib.sha256(data).hexdigest()
    stored = Path(fx["prefork_worker"].private_media_root) / "roster" / f"{digest}.csv"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(data)
    job = RosterImport.objects.create(uploaded_by=fx["leader_bien_hoa"], file_name="ds.csv", sha256=digest)
    return {"job": job, "task": "accounts.reconcile_roster"}


def _stale_roster_setup(fx):
    from accounts.models import RosterImport
    from portal.leases import JOB_LEASE

    state = _roster_setup(fx)
    RosterImport.objects.filter(pk=state["job"].pk).update(
        state=RosterImport.State.RUNNING, attempts=1, claimed_at=timezone.now() - JOB_LEASE - timedelta(minutes=1))
    return state


def _roster_check(state):
    from accounts.models import RosterImport

    job = RosterImport.objects.get(pk=state["job"].pk)
    assert (job.state, job.rows_done) == (RosterImport.State.DONE, ROSTER_ROWS)
    assert len(job.result["without_account"]) == ROSTER_ROWS


# ----- audit, lookups, compliance --------------------------------------------------------------------------

def _events_setup(fx):
    from tests.audit.seal_helpers import security_events

    security_events(3)
    return {}


def _sealed_once(state):
    from django.db.models import Sum

    from audit.models import Seal

    sealed = Seal.objects.filter(table_name="audit_securityevent").aggregate(rows=Sum("row_count"))["rows"]
    assert sealed == SecurityEvent.objects.count(), f"{sealed} sealed of {SecurityEvent.objects.count()}"


def _sealed_setup(fx):
    """Sealed here, with the heads kept in the worker's file (audit/heads.py), which its verification reads."""
    from pathlib import Path

    from django.test import override_settings

    from audit.sealing import seals_run

    _events_setup(fx)
    heads = Path(fx["prefork_worker"].heads_file)
    heads.unlink(missing_ok=True)
    with override_settings(AUDIT_HEADS_FILE=str(heads)):
        seals_run()
    return {}


def _verified_once(state):
    from audit.models import SealVerification

    _one(SealVerification.objects.all(), "verifications")
    assert SealVerification.objects.get().ok


def _partition_setup(fx):
    from audit.partitions import months_before, partition_name

    month = months_before(timezone.localdate().replace(day=1), -settings.AUDIT_PARTITIONS_AHEAD)
    name = partition_name("lookups_lookuprecord", month)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS "{name}"')
    return {"name": name}


def _partition_check(state):
    from audit.partitions import partitions_of

    assert state["name"] in [partition.name for partition in partitions_of("lookups_lookuprecord")]


def _quota_counters_setup(fx):
    from lookups.models import QuotaCounter

    old = timezone.now() - timedelta(days=5)
    for number in range(3):
        QuotaCounter.objects.create(unit_id=fx["units"]["tan_phong"].pk, key=f"officer:{number}:day",
                                    window_start=old - timedelta(days=1), window_end=old)
    QuotaCounter.objects.create(unit_id=fx["units"]["tan_phong"].pk, key="officer:99:minute",
                                window_start=timezone.now(), window_end=timezone.now() + timedelta(minutes=1))
    return {}


def _quota_counters_check(state):
    from lookups.models import QuotaCounter

    assert list(QuotaCounter.objects.values_list("key", flat=True)) == ["officer:99:minute"]


def _anomaly_setup(fx):
    from lookups.anomalies import anomaly_flags_write
    from lookups.choices import Decision
    from lookups.models import AnomalyFlag, LookupRecord
    from lookups.services import citizen_id_hash
    from lookups.validation import citizen_id_masked

    officer = fx["officer_bien_hoa"]
    sunday_night = timezone.make_aware(timezone.datetime(2026, 11, 29, 23, 30))
    for number in range(3):
        citizen = f"0750950{number:05d}"
        record = LookupRecord.objects.create(
            decided_at=sunday_night + timedelta(minutes=number), officer=officer, officer_username=officer.username,
            unit_id_then=officer.unit_id, unit_code_then=officer.unit.code, dossier_code="000.00.31.H19-261127-0032",
            purpose="Thử", decision=Decision.ALLOW, citizen_id_hash=citizen_id_hash(citizen),
            citizen_id_masked=citizen_id_masked(citizen))
        anomaly_flags_write(record=record, officer=officer, quota=None)
    assert AnomalyFlag.objects.count() >= 3
    return {"flags": AnomalyFlag.objects.count()}


def _anomaly_check(state):
    flagged = SecurityEvent.objects.filter(kind=EventKind.LOOKUP_ANOMALY_FLAGGED).count()
    assert flagged == state["flags"], f"{flagged} events for {state['flags']} flags"


def _snapshot_check(state):
    from accounts.models import Unit
    from compliance.models import UnitSnapshot

    rows = UnitSnapshot.objects.values("unit").annotate(n=Count("pk"))
    assert sorted(row["n"] for row in rows) == [1] * Unit.objects.count()


def _last_month_setup(fx):
    from compliance.services import snapshot_take
    from portal.actors import SystemActor
    from tests.compliance.test_reports import last_month_noon

    snapshot_take(actor=SystemActor("compliance_job"), now=last_month_noon())
    return {}


def _reports_check(state):
    from accounts.models import Unit
    from compliance.models import MonthlyReport

    rows = MonthlyReport.objects.values("unit").annotate(n=Count("pk"))
    assert sorted(row["n"] for row in rows) == [1] * Unit.objects.count()


# ----- federation ----------------------------------------------------------------------------------------

def _deliveries_setup(fx):
    """Logout deliveries to two systems' back-channel endpoints (a real HTTP receiver), not yet handed to
    any job: the job under test sends them."""
    from federation.choices import DeliveryKind
    from federation.models import Delivery
    from tests.helpers import LogoutReceiver, oidc_system_register

    receiver = LogoutReceiver().start()
    fx["request"].addfinalizer(receiver.stop)
    officer = fx["officer_bien_hoa"]
    now = timezone.now()
    ids = []
    for name in ("Một cửa", "Hộ tịch"):
        system, _secret = oidc_system_register(fx["units"]["province"], name=name, backchannel_logout_uri=receiver.url,
                                               redirect_uri=f"https://{abs(hash(name))}.example.vn/cb")
        ids.append(Delivery.objects.create(system=system, account=officer, kind=DeliveryKind.BACKCHANNEL_LOGOUT,
                                           reason="account_disabled", payload={}, created_at=now, next_at=now).pk)
    return {"ids": ids, "receiver": receiver}


def _delivered_once(state):
    from federation.choices import DeliveryState
    from federation.models import Delivery

    assert len(state["receiver"].tokens) == 2, f"{len(state['receiver'].tokens)} logout tokens, not 2"
    assert Delivery.objects.filter(pk__in=state["ids"], state=DeliveryState.DELIVERED).count() == 2


def _turnover_setup(fx):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.attachments import attachment_store
    from accounts.choices import DepartureReason, TurnoverAction
    from accounts.models import TurnoverRequest
    from accounts.services import turnover
    from tests.helpers import pdf_bytes

    fx["settings"].PRIVATE_MEDIA_ROOT = fx["tmp_path"]
    leader, officer, unit = fx["leader_bien_hoa"], fx["officer_bien_hoa"], fx["units"]["bien_hoa"]
    letter = attachment_store(SimpleUploadedFile("cv-125.pdf", pdf_bytes(), content_type="application/pdf"))
    request = turnover.turnover_request_create(
        actor=leader, unit=unit, letter_number="125/UBND-VP", letter_date=timezone.localdate() - timedelta(days=1),
        effective_date=timezone.localdate() + timedelta(days=7), issuing_unit_name=unit.name, signer_name="Trần Văn Bình",
        signer_position="Chủ tịch", attachment=letter,
        lines=[{"action": TurnoverAction.DISABLE, "account": officer, "departure_reason": DepartureReason.LEFT}])
    turnover.turnover_request_submit(actor=leader, request=request)
    turnover.turnover_request_accept(actor=fx["it_admin"], request=request)
    TurnoverRequest.objects.filter(pk=request.pk).update(effective_date=timezone.localdate())  # its day has come
    fx["prefork_worker"].wait_idle()
    return {"officer": officer, "request": request}


def _turnover_check(state):
    from accounts.choices import TurnoverState
    from accounts.models import TurnoverRequest

    # No connected system concerns the request: complete as soon as it is executed.
    assert TurnoverRequest.objects.get(pk=state["request"].pk).state == TurnoverState.COMPLETE
    _one(SecurityEvent.objects.filter(kind=EventKind.TURNOVER_EXECUTED), "execution events")
    _one(SecurityEvent.objects.filter(kind=EventKind.ACCOUNT_DISABLED, target=state["officer"]), "disabling events")


def _recertification_check(state):
    from accounts.models import RecertificationCampaign

    _one(RecertificationCampaign.objects.all(), "campaigns")


def _directive_setup(fx):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from letter.services import directive_publish
    from notifications.choices import NoticeKind
    from tests.helpers import pdf_bytes

    today = timezone.localdate()
    fx["settings"].PRIVATE_MEDIA_ROOT = fx["tmp_path"]
    directive_publish(
        actor=fx["it_admin"], number="5722/TCTTKĐA", issued_on=today - timedelta(days=3),
        issuer="Tổ công tác triển khai Đề án 06", signer="Tổ trưởng", title="Quy định kết nối CSDLQG về dân cư",
        summary="Đọc và tuân thủ quy định kết nối, chia sẻ, khai thác CSDLQG về dân cư.",
        audience_units=[fx["units"]["bien_hoa"]], audience_roles=[Role.OFFICER, Role.UNIT_LEADER],
        due_date=today + timedelta(days=7),
        attachment=SimpleUploadedFile("chi-thi.pdf", pdf_bytes(), content_type="application/pdf"))
    fx["prefork_worker"].wait_idle()  # the e-mails of the publication itself
    return _recipients([fx["officer_bien_hoa"], fx["leader_bien_hoa"]], fx["smtp_server"], kind=NoticeKind.DIRECTIVE)


def _incident_setup(fx):
    from incidents.choices import IncidentCategory
    from incidents.services.records import incident_report
    from tests.incidents.helpers import deadline_rules_seeded

    deadline_rules_seeded()
    # Discovered 49 hours ago: the 72-hour notification of a personal-data breach is due in 23 hours,
    # inside its 24-hour reminder; the other deadlines are not near yet.
    incident_report(actor=fx["officer_bien_hoa"], title="Lộ danh sách công dân",
                    category=IncidentCategory.PERSONAL_DATA_BREACH, discovered_at=timezone.now() - timedelta(hours=49))
    fx["prefork_worker"].wait_idle()
    state = _recipients([fx["it_admin"]], fx["smtp_server"])
    return state


def _scim_setup(fx):
    from federation.choices import SystemKind
    from federation.services import system_register_target
    from portal.actors import COMMAND_LINE
    from tests.helpers import ScimServer

    server = ScimServer().start()
    fx["request"].addfinalizer(server.stop)
    system = system_register_target(actor=COMMAND_LINE, name="Hộ tịch Biên Hòa", unit=fx["units"]["bien_hoa"],
                                    kind=SystemKind.SCIM, scim_url=server.url, scim_token=ScimServer.TOKEN,
                                    role_mapping={"officer": "staff"})
    fx["prefork_worker"].wait_idle()
    return {"system": system}


def _reconciled_once(state):
    from federation.models import Reconciliation

    _one(Reconciliation.objects.filter(system=state["system"]), "reconciliations")
    assert Reconciliation.objects.get(system=state["system"]).finished_at is not None


def _scim_admin_setup(fx):
    return {**_scim_setup(fx), "admin": fx["it_admin"]}


def _turnover_confirmed_setup(fx):
    """A request executed while a manual target still owed its task; the task is now done: the
    completion sweep marks the confirmation and completes the request."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from federation.choices import SystemKind
    from federation.models import ManualTask
    from federation.services import manual_task_complete, system_provision_all, system_register_target
    from portal.actors import COMMAND_LINE

    fx["settings"].PRIVATE_MEDIA_ROOT = fx["tmp_path"]
    system = system_register_target(actor=COMMAND_LINE, name="Phần mềm kế toán", unit=fx["units"]["bien_hoa"],
                                    kind=SystemKind.MANUAL)
    system_provision_all(actor=COMMAND_LINE, system=system)
    for task in ManualTask.objects.filter(done_at=None):  # the accounts created there at registration
        manual_task_complete(actor=COMMAND_LINE, task=task, note="Đã tạo",
                             evidence=SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64))
    state = _turnover_setup(fx)
    from accounts.services import turnover

    result = turnover.turnover_request_execute(actor=fx["it_admin"], request=state["request"])
    assert getattr(result, "error", None) is None
    for task in ManualTask.objects.filter(done_at=None):
        manual_task_complete(actor=COMMAND_LINE, task=task, note="Đã khóa",
                             evidence=SimpleUploadedFile("b.png", b"\x89PNG\r\n\x1a\n" + b"\x01" * 64))
    fx["prefork_worker"].wait_idle()
    return state


def _turnover_completed_once(state):
    from accounts.choices import TurnoverState
    from accounts.models import TurnoverRequest

    assert TurnoverRequest.objects.get(pk=state["request"].pk).state == TurnoverState.COMPLETE
    _one(SecurityEvent.objects.filter(kind=EventKind.TURNOVER_COMPLETED), "completion events")


def _quarantine_setup(fx):
    """A SCIM target quarantined five weeks ago: the daily job stops its deliveries, once."""
    from federation.models import ConnectedSystem

    state = _scim_setup(fx)
    ConnectedSystem.objects.filter(pk=state["system"].pk).update(
        quarantined_at=timezone.now() - timedelta(weeks=5))
    return state


def _deliveries_stopped_once(state):
    from federation.models import ConnectedSystem

    assert ConnectedSystem.objects.get(pk=state["system"].pk).deliveries_stopped_at is not None
    _one(SecurityEvent.objects.filter(kind=EventKind.SYSTEM_DELIVERIES_STOPPED), "stop events")


KILL_TESTS: dict[str, KillCase] = {
    "accounts.disable_dormant_accounts": KillCase(_dormant_setup, "audit_securityevent", _dormant_check),
    "notifications.send_reminders": KillCase(_reminders_setup, "notifications_notice", _once_each,
                                             fixtures=("units", "smtp_server")),
    "notifications.deliver": KillCase(_notices_ready, "notifications_notice", _once_each,
                                      args=lambda state: (state["ids"],), fixtures=("units", "smtp_server")),
    "notifications.deliver_due": KillCase(_notices_ready, "notifications_notice", _once_each,
                                          fixtures=("units", "smtp_server")),
    "notifications.send_it_daily": KillCase(_admins_setup, "notifications_notice", _once_each,
                                            fixtures=("units", "it_admin", "smtp_server")),
    "notifications.send_alerts": KillCase(_failed_job_setup, "notifications_notice", _once_each,
                                          fixtures=("units", "it_admin", "smtp_server")),
    "notifications.send_digests": KillCase(_digest_setup, "notifications_notice", _once_each,
                                           fixtures=("units", "leader_bien_hoa", "smtp_server")),
    "accounts.sessions_expired_end": KillCase(_sessions_setup, "audit_securityevent", _sessions_check,
                                              fixtures=("officer_bien_hoa",)),
    "compliance.export_run": KillCase(_export_setup, "accounts_user", _export_check, lock_mode="ACCESS EXCLUSIVE",
                                      args=lambda state: (state["job"].pk,),
                                      resume=_leased_job_resume("compliance.exports_resume"),
                                      fixtures=("units", "leader_bien_hoa")),
    "compliance.exports_resume": KillCase(_stale_export_setup, "compliance_exportjob", _export_check,
                                          lock_mode="ACCESS EXCLUSIVE", fixtures=("units", "leader_bien_hoa")),
    "accounts.reconcile_roster": KillCase(_roster_setup, "accounts_user", _roster_check, lock_mode="ACCESS EXCLUSIVE",
                                          args=lambda state: (state["job"].pk,),
                                          resume=_leased_job_resume("accounts.roster_imports_resume"),
                                          fixtures=("units", "leader_bien_hoa", "prefork_worker")),
    "accounts.roster_imports_resume": KillCase(_stale_roster_setup, "accounts_rosterimport", _roster_check,
                                               lock_mode="ACCESS EXCLUSIVE",
                                               fixtures=("units", "leader_bien_hoa", "prefork_worker")),
    "audit.seal": KillCase(_events_setup, "audit_seal", _sealed_once),
    "audit.verify": KillCase(_sealed_setup, "audit_sealverification", _verified_once,
                             fixtures=("units", "prefork_worker")),
    "audit.partitions_ahead": KillCase(_partition_setup, "lookups_lookuprecord", _partition_check),
    "lookups.prune_quota_counters": KillCase(_quota_counters_setup, "lookups_quotacounter", _quota_counters_check),
    "lookups.process_anomaly_flags": KillCase(_anomaly_setup, "audit_securityevent", _anomaly_check,
                                              fixtures=("units", "officer_bien_hoa")),
    "compliance.snapshot_daily": KillCase(lambda fx: {}, "compliance_unitsnapshot", _snapshot_check),
    "compliance.monthly_reports": KillCase(_last_month_setup, "compliance_monthlyreport", _reports_check),
    "federation.deliver": KillCase(_deliveries_setup, "federation_delivery", _delivered_once,
                                   args=lambda state: (state["ids"],), fixtures=("units", "officer_bien_hoa", "request")),
    "federation.deliver_due": KillCase(_deliveries_setup, "federation_delivery", _delivered_once,
                                       fixtures=("units", "officer_bien_hoa", "request")),
    "accounts.execute_due_turnover_requests": KillCase(
        _turnover_setup, "audit_securityevent", _turnover_check,
        fixtures=("units", "it_admin", "leader_bien_hoa", "officer_bien_hoa", "settings", "tmp_path", "prefork_worker")),
    "accounts.recertification_daily": KillCase(lambda fx: {}, "accounts_recertificationcampaign",
                                               _recertification_check, fixtures=("units", "it_admin", "officer_bien_hoa")),
    "letter.send_directive_reminders": KillCase(
        _directive_setup, "notifications_notice", _once_each,
        fixtures=("units", "it_admin", "officer_bien_hoa", "leader_bien_hoa", "settings", "tmp_path", "smtp_server",
                  "prefork_worker")),
    "incidents.send_deadline_notices": KillCase(
        _incident_setup, "notifications_notice", _once_each,
        fixtures=("units", "it_admin", "officer_bien_hoa", "smtp_server", "prefork_worker")),
    "federation.reconcile_all": KillCase(_scim_setup, "federation_reconciliation", _reconciled_once,
                                         fixtures=("units", "officer_bien_hoa", "request", "prefork_worker")),
    "federation.reconcile_system": KillCase(_scim_admin_setup, "federation_reconciliation", _reconciled_once,
                                            args=lambda state: (state["system"].pk, state["admin"].pk),
                                            fixtures=("units", "it_admin", "officer_bien_hoa", "request",
                                                      "prefork_worker")),
    "federation.quarantine_expire": KillCase(_quarantine_setup, "audit_securityevent", _deliveries_stopped_once,
                                             fixtures=("units", "officer_bien_hoa", "request", "prefork_worker")),
    "accounts.complete_turnover_requests": KillCase(
        _turnover_confirmed_setup, "audit_securityevent", _turnover_completed_once,
        fixtures=("units", "it_admin", "leader_bien_hoa", "officer_bien_hoa", "settings", "tmp_path",
                  "prefork_worker")),
}


# ----- the machinery -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def prefork_worker(django_db_setup, django_db_blocker, smtp_server):
    worker = Worker(pool="prefork")
    with django_db_blocker.unblock():
        worker.start()
    yield worker
    worker.stop()


def _holder():
    database = connection.settings_dict
    return psycopg2.connect(host=database["HOST"], port=database["PORT"], user=database["USER"],
                            dbname=database["NAME"])


def _waiting_on(holder, table) -> list[int]:
    with holder.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_locks WHERE NOT granted AND relation = %s::regclass", [table])
        return [row[0] for row in cursor.fetchall()]


def _until(predicate, what, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = predicate()
        except AssertionError:
            result = False
        if result:
            return
        if time.monotonic() > deadline:
            predicate()  # its own message, if it has one
            raise TimeoutError(f"Waited a minute for {what}.")
        time.sleep(0.2)


def _check_passes(check, state):
    def predicate():
        check(state)
        return True
    return predicate


def test_every_registered_task_has_a_kill_test():
    app.loader.import_default_modules()
    registered = {name for name in app.tasks if not name.startswith("celery.")}
    assert sorted(registered - set(KILL_TESTS)) == []
    assert sorted(set(KILL_TESTS) - registered) == []  # a renamed task leaves no entry behind


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", sorted(KILL_TESTS))
def test_a_worker_killed_mid_task_does_the_job_once(name, request, prefork_worker):
    case = KILL_TESTS[name]
    state = case.setup({fixture: request.getfixturevalue(fixture) for fixture in case.fixtures})
    app.loader.import_default_modules()
    task = app.tasks[name]
    before = prefork_worker.runs_of(task)
    holder = _holder()
    try:
        with holder.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {case.lock} IN {case.lock_mode} MODE")
        [pool_process] = prefork_worker.pool_pids()
        prefork_worker.send(task, *case.args(state))
        _until(lambda: _waiting_on(holder, case.lock), f"{name} to reach {case.lock}")
        waiting = _waiting_on(holder, case.lock)
        os.kill(pool_process, signal.SIGKILL)
        with holder.cursor() as cursor:  # the dead process's database session ends with it
            for pid in waiting:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        holder.rollback()
        holder.close()
    if case.resume is not None:
        case.resume(state, prefork_worker, before)
    else:
        prefork_worker.wait_done(task, before + 2)  # the killed run, then the one Celery handed back
    _until(_check_passes(case.check, state), f"{name} to finish")
    prefork_worker.wait_idle()
    case.check(state)  # and nothing more came after
