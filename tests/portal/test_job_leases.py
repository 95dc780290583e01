"""Jobs that claim a row hold a lease (portal.leases): a worker killed in the middle of an export or a
roster import leaves the job running only until its lease runs out, and the next worker finishes it.
Before, the claim (pending → running) had no lease: the job stayed "running" for ever and its progress
page polled for ever. Real workers (tests/worker.py), killed with SIGKILL."""
import hashlib
import time
from datetime import timedelta
from pathlib import Path

import psycopg2
import pytest
from django.db import connection
from django.db.models import F

from accounts.models import RosterImport
from accounts.services.reconciliation import roster_import_run
from compliance.models import ExportJob
from compliance.services import export_job_run
from portal.leases import JOB_LEASE, MAX_ATTEMPTS, job_claim
from tests.factories import UserFactory
from tests.worker import Worker


def _wait_for(predicate, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise TimeoutError(f"Waited a minute for {what}.")


def _killed_in_the_middle(model, pk, send) -> Worker:
    """Start a worker, let it claim the job and hold it there (the accounts table locked from another
    connection: the job reads it right after its claim), then kill it with SIGKILL."""
    worker = Worker().start()
    database = connection.settings_dict
    holder = psycopg2.connect(host=database["HOST"], port=database["PORT"], user=database["USER"],
                              dbname=database["NAME"])
    try:
        holder.cursor().execute("LOCK TABLE accounts_user IN ACCESS EXCLUSIVE MODE")
        send(worker)
        _wait_for(lambda: model.objects.filter(pk=pk, state="running").exists(), "the worker's claim")
        worker.kill()
    finally:
        holder.rollback()
        holder.close()
    return worker


def _lease_runs_out(model, pk):
    """As if the lease's time had passed (a test does not wait five minutes)."""
    model.objects.filter(pk=pk).update(claimed_at=F("claimed_at") - JOB_LEASE - timedelta(seconds=1))


def _resumed_on(worker, sweep, task):
    before = worker.runs_of(task)
    worker.send(sweep)
    worker.wait_done(task, before + 1)


@pytest.mark.django_db(transaction=True)
def test_an_export_whose_worker_was_killed_finishes_on_the_next_worker(units, leader_bien_hoa):
    from compliance.tasks import export_run, exports_resume

    for number in range(3):
        UserFactory(unit=units["tan_phong"], username=f"cb.tp{number}")
    job = ExportJob.objects.create(requested_by=leader_bien_hoa, list_name="accounts", file_format="csv",
                                   rows_total=4)
    first = _killed_in_the_middle(ExportJob, job.pk, lambda worker: worker.send(export_run, job.pk))
    first.stop()
    left = ExportJob.objects.get(pk=job.pk)
    assert (left.state, left.attempts, left.content) == (ExportJob.State.RUNNING, 1, None)
    export_job_run(job_id=job.pk)  # a redelivery within the lease: the dead worker's claim still holds
    assert ExportJob.objects.get(pk=job.pk).attempts == 1
    _lease_runs_out(ExportJob, job.pk)
    second = Worker().start()
    try:
        _resumed_on(second, exports_resume, export_run)
    finally:
        second.stop()
    job.refresh_from_db()
    assert (job.state, job.attempts, job.rows_done, job.claim) == (ExportJob.State.DONE, 2, 4, None)
    usernames = [line.split(",")[0] for line in bytes(job.content).decode("utf-8-sig").splitlines()[1:]]
    assert sorted(usernames) == ["cb.tp0", "cb.tp1", "cb.tp2", "ld.bienhoa"]


@pytest.mark.django_db(transaction=True)
def test_a_roster_import_whose_worker_was_killed_finishes_on_the_next_worker(units, leader_bien_hoa):
    from accounts.tasks import reconcile_roster, roster_imports_resume_task

    data = ("Họ và tên,Mã đơn vị,Chức vụ,Trạng thái,Email\n" + "".join(
        f"Cán bộ số {n},000.01.31.H19,Chuyên viên,Đang công tác,cb{n}@dongnai.gov.vn\n" for n in range(3000))
            ).encode()
    digest = hashlib.sha256(data).hexdigest()
    # What roster_import_start keeps of a large upload for its job (queued here on the worker's own queue).
    roster_import = RosterImport.objects.create(uploaded_by=leader_bien_hoa, file_name="ds.csv", sha256=digest)

    def start(worker):
        stored = Path(worker.private_media_root) / "roster" / f"{digest}.csv"
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.write_bytes(data)
        worker.send(reconcile_roster, roster_import.pk)

    first = _killed_in_the_middle(RosterImport, roster_import.pk, start)
    try:
        left = RosterImport.objects.get(pk=roster_import.pk)
        assert (left.state, left.attempts, left.result) == (RosterImport.State.RUNNING, 1, {})
        _lease_runs_out(RosterImport, roster_import.pk)
        second = Worker(private_media_root=first.private_media_root).start()
        try:
            _resumed_on(second, roster_imports_resume_task, reconcile_roster)
        finally:
            second.stop()
        roster_import.refresh_from_db()
        assert (roster_import.state, roster_import.attempts, roster_import.rows_done) == (
            RosterImport.State.DONE, 2, 3000)
        assert len(roster_import.result["without_account"]) == 3000
        assert list(Path(first.private_media_root).rglob("*.csv")) == []
    finally:
        first.stop()


@pytest.mark.django_db
def test_a_job_that_kills_every_worker_fails_after_its_last_attempt(leader_bien_hoa):
    job = ExportJob.objects.create(requested_by=leader_bien_hoa, list_name="accounts", file_format="csv")
    for _attempt in range(MAX_ATTEMPTS):
        assert job_claim(ExportJob, job.pk) is not None
        _lease_runs_out(ExportJob, job.pk)
    assert job_claim(ExportJob, job.pk) is None
    job.refresh_from_db()
    assert (job.state, job.attempts, job.claim) == (ExportJob.State.FAILED, MAX_ATTEMPTS + 1, None)


@pytest.mark.django_db
def test_a_worker_that_lost_its_claim_writes_nothing(units, leader_bien_hoa):
    roster_import = RosterImport.objects.create(uploaded_by=leader_bien_hoa, file_name="ds.csv", sha256="0" * 64)
    stalled = job_claim(RosterImport, roster_import.pk)
    _lease_runs_out(RosterImport, roster_import.pk)
    taken_over = job_claim(RosterImport, roster_import.pk)
    assert taken_over is not None and taken_over != stalled
    from portal.leases import job_finish, job_renew

    assert job_renew(RosterImport, roster_import.pk, stalled, rows_done=10) is False
    assert job_finish(RosterImport, roster_import.pk, stalled, state=RosterImport.State.DONE) is False
    assert roster_import_run(import_id=roster_import.pk) is None  # held by the new claim
    roster_import.refresh_from_db()
    assert (roster_import.state, roster_import.rows_done, roster_import.attempts) == (RosterImport.State.RUNNING, 0, 2)
