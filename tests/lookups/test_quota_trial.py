"""A trial machine without Redis (DEBUG=1, no DATABASE_URL nor REDIS_URL: the embedded PostgreSQL of
portal/embedded.py, here in a data directory of the test's own) counts quotas in its database: a lookup
there is decided, not refused as "quota_unavailable"; and its anomaly rules (one hand-written
statement) run there too."""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
from lookups.quotas import Limits, quota_consume
limits = Limits(officer_minute=2, officer_day=300, unit_minute=200, unit_day=20000)
print([quota_consume(officer_id=1, unit_id=1, limits=limits).allowed for _ in range(3)])
"""

ANOMALIES = """
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
from accounts.models import Unit, User, unit_path_below
from lookups.anomalies import anomaly_flags_write
from lookups.models import LookupRecord
from lookups.services import citizen_id_hash
night = datetime(2026, 12, 1, 22, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
unit = Unit.objects.create(code="000.01.31.H19", name="UBND phường Tân Phong", kind="ward", path="/")
unit.path = unit_path_below(None, unit.pk)
unit.save(update_fields=["path"])
kinds = []
for n in range(6):
    officer = User.objects.create(username=f"cb{n}", full_name="Cán bộ", unit=unit, can_lookup=True)
    citizen = f"0750950{n:05d}" if n else "001095001234"
    record = LookupRecord.objects.create(
        decided_at=night + timedelta(minutes=n), officer=officer, officer_username=officer.username,
        unit_id_then=unit.pk, unit_code_then=unit.code, dossier_code="000.00.31.H19-210708-0032", purpose="Thử",
        decision="allow", citizen_id_hash=citizen_id_hash(citizen), citizen_id_masked=citizen[:3] + "*******34")
    kinds.append(sorted(str(flag.kind) for flag in anomaly_flags_write(record=record, officer=officer, quota=None)))
print(kinds)
"""

SEAL_PAGE = """
from audit.selectors import seal_chain_states
print(sorted((state["table"], state["unsealed"] > 0, state["lag_ok"]) for state in seal_chain_states()))
"""


@pytest.fixture
def home():
    """Outside pytest's /tmp/pytest-of-<user>, which other pytest sessions make private again: run as
    root, the trial's PostgreSQL runs as another user that must traverse the path."""
    directory = Path(tempfile.mkdtemp(prefix="portal-trial-test-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_the_trial_counts_quotas_in_its_database_without_redis(home):
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("REDIS_URL", "CELERY_BROKER_URL", "QUOTA_REDIS_URL", "DATABASE_URL")}
    # Each command starts the trial's PostgreSQL from this directory and stops it when it ends.
    environment.update(DEBUG="1", TRIAL_DATA_DIR=str(home / "trial"))
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=environment, check=True, timeout=300)
    result = subprocess.run([*manage, "shell", "-c", SCRIPT], cwd=ROOT, env=environment, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[True, True, False]"
    result = subprocess.run([*manage, "shell", "-c", ANOMALIES], cwd=ROOT, env=environment, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    night, sixth = "'outside_office_hours'", "'dossier_many_citizens', 'outside_office_hours'"
    assert result.stdout.strip().splitlines()[-1] == (
        f"[['citizen_other_province', {night}], [{night}], [{night}], [{night}], [{night}], [{sixth}]]")
    # The inspector's seals page before the first seal reads the unsealed tail's age.
    result = subprocess.run([*manage, "shell", "-c", SEAL_PAGE], cwd=ROOT, env=environment, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "[('audit_securityevent', False, True), ('lookups_lookuprecord', True, False)]")
