"""The single-machine trial (`make run`: SQLite, no Redis) counts quotas in its database too: a lookup
there is decided, not refused as "quota_unavailable" (PostgreSQL's advisory locks do not exist)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
from lookups.quotas import Limits, quota_consume
limits = Limits(officer_minute=2, officer_day=300, unit_minute=200, unit_day=20000)
print([quota_consume(officer_id=1, unit_id=1, limits=limits).allowed for _ in range(3)])
"""


def test_the_trial_counts_quotas_in_sqlite(tmp_path):
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("REDIS_URL", "CELERY_BROKER_URL", "QUOTA_REDIS_URL", "DATABASE_URL")}
    environment.update(DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'trial.sqlite3'}")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=environment, check=True, timeout=300)
    result = subprocess.run([*manage, "shell", "-c", SCRIPT], cwd=ROOT, env=environment, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[True, True, False]"
