"""deploy/backup.sh and deploy/restore.sh: a backup of the database and the private files restores into
an empty database with every row, the append-only triggers and the application role's grants."""
import os
import subprocess
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from audit.choices import EventKind
from audit.models import SecurityEvent
from audit.services import audit_event_record
from portal.actors import COMMAND_LINE

ROOT = Path(__file__).resolve().parents[2]


def _url(database: str) -> str:
    settings = connection.settings_dict
    return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{database}"


def _admin(sql: str) -> None:
    admin = psycopg2.connect(_url("postgres"))
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(sql)
    finally:
        admin.close()


@pytest.fixture
def restore_target():
    name = f"portal_restore_{uuid.uuid4().hex[:8]}"
    role = f"portal_app_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    _admin(f'CREATE ROLE "{role}" NOLOGIN')
    yield name, role
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_every_row_with_the_append_only_rules(tmp_path, restore_target, it_admin):
    for number in range(3):
        audit_event_record(kind=EventKind.UNLOCK, actor=COMMAND_LINE, target=it_admin, details={"n": number})
    events = SecurityEvent.objects.count()
    private = tmp_path / "private"
    (private / "letters").mkdir(parents=True)
    (private / "letters" / "cv-125.pdf").write_bytes(b"%PDF-1.4 letter")
    backups = tmp_path / "backups"
    environment = {**os.environ, "BACKUP_DIR": str(backups), "PRIVATE_MEDIA_ROOT": str(private),
                   "BACKUP_DATABASE_URL": _url(connection.settings_dict["NAME"])}
    environment.pop("BACKUP_GPG_RECIPIENT", None)
    result = subprocess.run(["sh", "deploy/backup.sh"], cwd=ROOT, env=environment, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    dump = next(backups.glob("portal-*.dump"))
    archive = next(backups.glob("private-*.tar.gz"))
    assert next(backups.glob("SHA256SUMS-*")).read_text().count("\n") == 2
    assert oct(dump.stat().st_mode)[-3:] == "600"

    database, role = restore_target
    restored_private = tmp_path / "restored"
    result = subprocess.run(["sh", "deploy/restore.sh", str(dump), str(archive)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, env={**environment, "MIGRATE_DATABASE_URL": _url(database),
                                                         "APP_ROLE": role, "PRIVATE_MEDIA_ROOT": str(restored_private)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert (restored_private / "letters" / "cv-125.pdf").read_bytes() == b"%PDF-1.4 letter"
    restored = psycopg2.connect(_url(database))
    with restored, restored.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM audit_securityevent")
        assert cursor.fetchone()[0] == events
        cursor.execute("SELECT has_table_privilege(%s, 'audit_securityevent', 'UPDATE'), "
                       "has_table_privilege(%s, 'audit_securityevent', 'INSERT')", [role, role])
        assert cursor.fetchone() == (False, True)
        with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="append-only"):
            cursor.execute("DELETE FROM audit_securityevent")
    restored.close()
