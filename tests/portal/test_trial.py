"""`make run` as a new user meets it: from a fresh copy of the checkout with no service environment
(no DATABASE_URL, REDIS_URL…), the portal serves on the PORT asked for, on its own PostgreSQL and Valkey
from wheels, and within minutes its jobs have run — seals made and verified, past months' reports,
reminders in the bell, anomaly flags in the security log, links in e-mails to the real address. Ctrl-C
stops all of it; the data stays for the next start.

The copy is what `git clone` gives (tracked and untracked-but-not-ignored files); its .venv is a link
to this checkout's, so that the test does not reinstall every package (make run still runs its
install step against it)."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

import psutil
import psycopg2
import pytest

from portal.embedded import postgres_stop

ROOT = Path(__file__).resolve().parents[2]
# EMAIL_URL too: the suite's session-wide SMTP sink sets it for its worker, and a trial that inherited it
# would mail there instead of writing its console e-mails to the worker's log.
SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "QUOTA_REDIS_URL", "PORTAL_URL", "DEBUG",
                     "PORT", "EMAIL_URL")
DEADLINE_SECONDS = 6 * 60


def _fresh_copy(target: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".venv").symlink_to(ROOT / ".venv")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment() -> dict:
    return {key: value for key, value in os.environ.items() if key not in SERVICE_VARIABLES}


def _query(pgdata: Path, sql: str):
    """One value from the trial's database, through the socket its postmaster.pid names; None while the
    server or the table is not there yet."""
    try:
        socket_dir = (pgdata / "postmaster.pid").read_text().splitlines()[4]
        with psycopg2.connect(dbname="portal", user="postgres", host=socket_dir, connect_timeout=3) as connection:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchone()[0]
    except (OSError, IndexError, psycopg2.Error):
        return None


def _text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _processes_of(directory: Path) -> list[str]:
    """Every process still running from the copy (its command line or its working directory)."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline", "cwd"]):
        try:
            texts = [*(process.info["cmdline"] or []), process.info["cwd"] or ""]
        except psutil.Error:
            continue
        if process.pid != os.getpid() and any(str(directory) in text for text in texts):
            found.append(f"{process.pid} {' '.join(process.info['cmdline'] or [])}")
    return found


@pytest.fixture
def home():
    """A directory of the test's own outside pytest's /tmp/pytest-of-<user>: run as root, the trial's
    PostgreSQL runs as another user that must traverse the path, and every pytest session (other runs
    share the machine) makes pytest's directory private again."""
    directory = Path(tempfile.mkdtemp(prefix="portal-trial-test-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def _month_start(today: date) -> str:
    return today.replace(day=1).isoformat()


def test_make_run_from_a_fresh_copy_runs_the_portal_and_its_jobs_and_ctrl_c_stops_everything(tmp_path, home):
    copy = home / "portal"
    copy.mkdir()
    _fresh_copy(copy)
    pgdata = copy / ".trial" / "postgres"
    port = _free_port()
    log_path = tmp_path / "make-run.log"
    log = open(log_path, "w")
    run = subprocess.Popen(["make", "run", f"PORT={port}"], cwd=copy, env=_environment(), stdout=log,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        checks = {
            "seal": "SELECT count(*) FROM audit_seal",
            # Every month of the sample history that has ended has its reports (one audit event a month).
            "past_reports": "SELECT count(*) = least(3, (SELECT count(DISTINCT date_trunc('month', day)) FROM "
                            "compliance_unitsnapshot WHERE day < date_trunc('month', current_date))) AND count(*) > 0 "
                            "FROM audit_securityevent WHERE kind = 'compliance_reports'",
            "reminder": "SELECT count(*) FROM notifications_notice WHERE kind = 'password_expiry'",
            "it_daily": "SELECT count(*) FROM notifications_notice WHERE kind = 'it_daily'",
            "digest": "SELECT count(*) FROM notifications_notice WHERE kind = 'leader_digest'",
            "flag_recorded": "SELECT count(*) FROM lookups_anomalyflag WHERE processed_at IS NOT NULL",
        }
        deadline = time.monotonic() + DEADLINE_SECONDS
        seen = {}
        while time.monotonic() < deadline:
            assert run.poll() is None, log_path.read_text()[-3000:]
            seen = {name: _query(pgdata, sql) or 0 for name, sql in checks.items()}
            # The console e-mails (in the worker's log) link to the port asked for.
            seen["email_link"] = f"http://127.0.0.1:{port}/" in _text(copy / ".trial" / "worker.log")
            if all(seen.values()):
                break
            time.sleep(5)
        assert all(seen.values()), (seen, log_path.read_text()[-3000:])
        assert _query(pgdata, "SELECT count(*) FROM lookups_anomalyflag WHERE processed_at IS NULL") == 0
        assert _query(pgdata, "SELECT count(*) FROM compliance_monthlyreport "
                              f"WHERE month >= '{_month_start(date.today())}'") == 0
        reports = _query(pgdata, "SELECT count(*) FROM compliance_monthlyreport")
        # PORT honoured: the server answers there and the frame names it (the e-mails' links: above).
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200
        output = log_path.read_text()
        assert f"|  Open       http://127.0.0.1:{port}" in output
        # The sample one-stop system (a relying party registered by seed_demo) serves its page, whose
        # sign-in button leads to the portal's authorization endpoint.
        assert "Connected  a sample one-stop system on http://127.0.0.1:8001/" in output
        with urllib.request.urlopen("http://127.0.0.1:8001/", timeout=10) as answer:
            assert answer.status == 200
        # The seals verify: the operator's command, beside the running trial (it reuses its server).
        verify = subprocess.run([sys.executable, "manage.py", "audit_verify"], cwd=copy,
                                env={**_environment(), "DEBUG": "1"}, capture_output=True, text=True, timeout=300)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert "Result: every seal and record valid" in verify.stdout

        # Ctrl-C, as a terminal sends it: to the whole foreground process group.
        os.killpg(run.pid, signal.SIGINT)
        run.wait(90)
        assert "The trial stopped: server, worker, Valkey and PostgreSQL." in log_path.read_text()
        assert _processes_of(copy) == []

        # The data stays: a lone command starts the server from it, and stops it again when it ends.
        count = subprocess.run([sys.executable, "manage.py", "shell", "-c",
                                "from compliance.models import MonthlyReport; print(MonthlyReport.objects.count())"],
                               cwd=copy, env={**_environment(), "DEBUG": "1"}, capture_output=True, text=True,
                               timeout=120)
        assert count.returncode == 0, count.stderr
        assert int(count.stdout.strip().splitlines()[-1]) == reports
        assert _processes_of(copy) == []
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait(30)
        postgres_stop(pgdata)
        log.close()


def test_a_database_url_that_is_not_postgresql_is_refused_even_for_a_trial(tmp_path):
    """One engine: SQLite is no longer a way to run the portal, not even with DEBUG=1."""
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
                            env={**_environment(), "DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"},
                            timeout=120)
    assert result.returncode == 1
    assert "DATABASE_URL must name a PostgreSQL database (postgres://…)." in result.stderr
    assert not (tmp_path / "x.sqlite3").exists()
