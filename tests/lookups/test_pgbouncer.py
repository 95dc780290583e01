"""Lookup decisions through a real transaction-pooling PgBouncer (the Debian package; a private
instance on a port of its own, two server connections for many clients): the decision keeps no session
state on the hot path — no session advisory lock, no SQL-level PREPARE, no server-side cursor — so
decisions from clients whose transactions land on any server connection are all decided, recorded and
counted exactly."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection

from lookups.choices import QuotaWindow
from lookups.models import LookupRecord, QuotaCounter, QuotaOverride

ROOT = Path(__file__).resolve().parents[2]
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"

pytestmark = pytest.mark.django_db(transaction=True)  # `make test` installs PgBouncer: missing is a failure

# Fifty decisions from twenty threads, each thread its own Django connection to PgBouncer, against an
# officer's day quota of 10 (set by the test). Prints how many were allowed, as JSON.
SCRIPT = """
import json, threading, django
from django.conf import settings
django.setup()
from django.db import connections
from lookups.models import ApiClient
from lookups.services import lookup_decide
from portal.actors import SystemActor
from portal.audit_context import audit_context

client = ApiClient.objects.get(name="Hệ thống một cửa tỉnh")
results, lock = [], threading.Lock()

def run(index):
    try:
        for n in range(index, 50, 20):
            with audit_context(request_id=f"pgbouncer-{n}"):
                decision = lookup_decide(actor=SystemActor("lookup_api"), client=client,
                                         officer_username="cb.tanphong", citizen_id="0750950%05d" % n,
                                         dossier_code="000.00.31.H19-210708-0032", purpose="Qua PgBouncer")
            with lock:
                results.append(decision.reason or "allow")
    finally:
        connections.close_all()

threads = [threading.Thread(target=run, args=(index,)) for index in range(20)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(120)
print(json.dumps(sorted(results)))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def pgbouncer():
    """A private PgBouncer in transaction mode in front of the test server (trust auth, as the test
    server has), run as the postgres user when the tests run as root (PgBouncer refuses root; its
    directory is then one that user can enter, not pytest's private tmp_path)."""
    settings_dict = connection.settings_dict
    tmp_path = Path(tempfile.mkdtemp(prefix="pgbouncer-test-"))
    port = _free_port()
    (tmp_path / "userlist.txt").write_text(f'"{settings_dict["USER"]}" ""\n')
    (tmp_path / "pgbouncer.ini").write_text(f"""
[databases]
* = host={settings_dict["HOST"] or "127.0.0.1"} port={settings_dict["PORT"] or 5432}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {tmp_path / "userlist.txt"}
pool_mode = transaction
default_pool_size = 2
max_client_conn = 100
logfile = {tmp_path / "pgbouncer.log"}
""")
    command = [PGBOUNCER, str(tmp_path / "pgbouncer.ini")]
    if os.geteuid() == 0:
        os.chmod(tmp_path, 0o777)
        for path in tmp_path.iterdir():
            os.chmod(path, 0o666)
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                log = (tmp_path / "pgbouncer.log")
                pytest.fail(f"PgBouncer did not start: {log.read_text() if log.exists() else ''}")
            time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(10)
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_fifty_decisions_from_twenty_clients_over_two_server_connections_are_exact(
        pgbouncer, province_client, officer_bien_hoa):
    QuotaOverride.objects.create(unit=officer_bien_hoa.unit, window=QuotaWindow.OFFICER_DAY, limit=10)
    settings_dict = connection.settings_dict
    url = f"postgres://{settings_dict['USER']}@127.0.0.1:{pgbouncer}/{settings_dict['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DB_DISABLE_SERVER_SIDE_CURSORS": "1", "DB_CONN_MAX_AGE": "60",
           "DJANGO_SETTINGS_MODULE": "portal.settings"}
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    reasons = json.loads(result.stdout.strip().splitlines()[-1])
    assert reasons == ["allow"] * 10 + ["quota_officer_day"] * 40
    assert LookupRecord.objects.count() == 50
    assert LookupRecord.objects.filter(decision="allow").count() == 10
    assert QuotaCounter.objects.get(key=f"officer:{officer_bien_hoa.pk}:day").count == 10
