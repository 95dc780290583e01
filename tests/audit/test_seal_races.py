"""Sealing beside live inserts: a lower id committing late, two sealers at once, the beat job."""
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

from audit.models import Seal, SealWatermark
from audit.sealing import chain_lock_key, table_seal
from audit.verification import chain_verify

from .seal_helpers import lookup_records, verify_command

LOOKUPS = "lookups_lookuprecord"
ROOT = Path(__file__).resolve().parents[2]


def _second_connection():
    database = connection.settings_dict
    return psycopg2.connect(dbname=database["NAME"], user=database["USER"], host=database["HOST"],
                            port=database["PORT"])


def _insert_in(other, *, purpose="muộn"):
    with other.cursor() as cursor:
        cursor.execute(f"INSERT INTO {LOOKUPS} (decided_at, officer_username, unit_code_then, dossier_code, purpose,"
                       " decision, reason, citizen_id_hash, citizen_id_masked, request_id)"
                       " VALUES (now(), 'cb.muon', '000.01.31.H19', 'x', %s, 'allow', '', 'h', '075*******34', '')"
                       " RETURNING id", [purpose])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_lower_id_committing_after_a_seal_is_sealed_in_the_next_block():
    [before] = lookup_records(1)
    table_seal(LOOKUPS)
    other = _second_connection()
    try:
        late = _insert_in(other)  # drawn first, not committed
        [early] = lookup_records(1)  # a higher id, committed at once
        assert late < early
        assert table_seal(LOOKUPS) == []  # the block may not pass the open insert
        assert SealWatermark.objects.filter(table_name=LOOKUPS).count() == 1
        assert Seal.objects.filter(table_name=LOOKUPS).latest("position").last_id == before
        other.commit()
    finally:
        other.close()
    [block] = table_seal(LOOKUPS)
    assert (block.first_id, block.last_id, block.row_count, block.gaps) == (before + 1, early, 2, [])
    assert verify_command("--table", LOOKUPS)[1] is None
    assert SealWatermark.objects.filter(table_name=LOOKUPS).count() == 0


@pytest.mark.django_db(transaction=True)
def test_an_insert_rolled_back_after_a_seal_waited_for_it_becomes_a_gap():
    table_seal(LOOKUPS)
    other = _second_connection()
    try:
        late = _insert_in(other)
        [early] = lookup_records(1)
        assert table_seal(LOOKUPS) == []
        other.rollback()
    finally:
        other.close()
    [block] = table_seal(LOOKUPS)
    assert block.gaps[-1] == [late, late] and block.last_id == early
    out, error = verify_command("--table", LOOKUPS)
    assert error is None and "INVALID" not in out


def _sealer_process(env):
    return subprocess.Popen([sys.executable, "manage.py", "audit_seal", "--table", LOOKUPS, "--wait", "0"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.django_db(transaction=True)
def test_two_sealer_processes_at_once_make_one_chain():
    lookup_records(60)
    database = connection.settings_dict
    env = {**os.environ, "DEBUG": "1", "DB_CONN_MAX_AGE": "0", "AUDIT_SEAL_BLOCK_MAX_ROWS": "7",
           "AUDIT_HEADS_FILE": settings.AUDIT_HEADS_FILE,
           "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"}
    holder = _second_connection()
    try:
        with holder.cursor() as cursor:  # hold the chain's lock until both sealers wait for it
            cursor.execute("SELECT pg_advisory_lock(%s)", [chain_lock_key(LOOKUPS)])
        sealers = [_sealer_process(env), _sealer_process(env)]
        deadline = time.monotonic() + 60
        while True:
            with holder.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                               " AND objid = %s", [chain_lock_key(LOOKUPS) & 0xFFFFFFFF])
                if cursor.fetchone()[0] == 2:
                    break
            assert time.monotonic() < deadline, "the two sealers never both waited for the chain's lock"
            time.sleep(0.05)
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [chain_lock_key(LOOKUPS)])
        outputs = [sealer.communicate(timeout=120)[0] for sealer in sealers]
        assert [sealer.returncode for sealer in sealers] == [0, 0], outputs
    finally:
        holder.close()
    seals = list(Seal.objects.filter(table_name=LOOKUPS).order_by("position"))
    assert [seal.position for seal in seals] == list(range(1, 10))  # 60 records in blocks of 7
    assert all(seal.first_id == previous.last_id + 1 for previous, seal in zip(seals, seals[1:]))
    assert sum(seal.row_count for seal in seals) == 60
    assert sorted(output.startswith(f"{LOOKUPS}: nothing new") for output in outputs) == [False, True]
    assert chain_verify(tables=[LOOKUPS], actor_username="test").ok


@pytest.mark.django_db(transaction=True)
def test_the_beat_job_seals_through_a_real_worker(celery_worker):
    from audit.tasks import seal

    assert settings.CELERY_BEAT_SCHEDULE["audit-seal"]["task"] == "audit.seal"
    assert str(settings.CELERY_BEAT_SCHEDULE["audit-seal"]["schedule"]._orig_minute) == "*"
    ids = lookup_records(3)
    done = celery_worker.runs_of(seal)
    celery_worker.send(seal)
    celery_worker.send(seal)  # a doubled run seals nothing twice
    celery_worker.wait_done(seal, done + 2)
    [block] = Seal.objects.filter(table_name=LOOKUPS)
    assert block.last_id == ids[-1] and block.row_count == 3
