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
from django.db import connection
from django.utils import timezone

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
    resume: Callable[[dict, Worker], None] | None = None  # after the kill, for a job that holds a lease
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

def _recipients(people, smtp):
    return {"officers": people, "smtp": smtp, "before": {person.email: len(smtp.received_by(person.email))
                                                          for person in people}}


def _reminders_setup(fx):
    officers = [UserFactory(username=f"cb.nhac{n}", unit=fx["units"]["tan_phong"],
                            password_changed_at=changed_for(days_left=3)) for n in range(3)]
    return _recipients(officers, fx["smtp_server"])


def _once_each(state, kind=None):
    """One notice per recipient, and one e-mail each (the delivery job after the killed one's redelivery)."""
    smtp = state["smtp"]
    for person in state["officers"]:
        notices = Notice.objects.filter(recipient=person, **({"kind": kind} if kind else {}))
        _one(notices, f"notices of {person.username}")
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
            cursor.execute(f"LOCK TABLE {case.lock} IN SHARE MODE")
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
        case.resume(state, prefork_worker)
    else:
        prefork_worker.wait_done(task, before + 2)  # the killed run, then the one Celery handed back
    _until(_check_passes(case.check, state), f"{name} to finish")
    prefork_worker.wait_idle()
    case.check(state)  # and nothing more came after
