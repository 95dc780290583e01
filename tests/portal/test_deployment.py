"""`manage.py check_deployment` says what is misconfigured, asking the services themselves: the quota
Redis and the broker must not evict and must persist; keys must be set; the portal must not run as a
superuser or as the owner of the append-only tables. `manage.py grant_app_role` leaves the application
role without UPDATE, DELETE or TRUNCATE on every append-only table, found by its trigger."""
import uuid
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from portal.deployment import (
    OK,
    PROBLEM,
    app_role_grant_statements,
    append_only_tables,
    check_database,
    check_redis,
    check_settings,
)
from tests.helpers import PrivateRedisServer


def _problems(findings, what=None):
    return [finding.text for finding in findings if finding.level == PROBLEM and (what is None or what in finding.what)]


@pytest.fixture
def evicting_redis():
    server = PrivateRedisServer("--maxmemory-policy", "allkeys-lru", "--save", "", "--appendonly", "no")
    yield server
    server.stop()


@pytest.fixture
def sound_redis():
    server = PrivateRedisServer("--maxmemory-policy", "noeviction", "--appendonly", "yes")
    yield server
    server.stop()


APPEND_ONLY = ["audit_seal", "audit_sealverification", "audit_securityevent", "compliance_monthlyreport",
               "incidents_evidence", "incidents_timelineentry", "lookups_lookuprecord"]


def test_it_refuses_an_evicting_quota_redis_and_a_broker_without_persistence(settings, evicting_redis):
    settings.QUOTA_REDIS_URL = evicting_redis.url
    settings.CELERY_BROKER_URL = evicting_redis.url
    findings = check_redis()
    quota = _problems(findings, "QUOTA_REDIS_URL")
    broker = _problems(findings, "CELERY_BROKER_URL")
    assert len(quota) == 2 and len(broker) == 2
    assert "maxmemory-policy is allkeys-lru: it must be noeviction" in quota[0]
    assert "no persistence" in broker[1]


def test_it_accepts_a_non_evicting_persistent_redis(settings, sound_redis):
    settings.QUOTA_REDIS_URL = sound_redis.url
    settings.CELERY_BROKER_URL = sound_redis.url
    findings = check_redis()
    assert _problems(findings, "QUOTA_REDIS_URL") == [] and _problems(findings, "CELERY_BROKER_URL") == []
    assert [finding.level for finding in findings if "QUOTA" in finding.what] == [OK]


def test_it_says_when_a_redis_cannot_be_reached(settings):
    settings.QUOTA_REDIS_URL = "redis://127.0.0.1:1/0"
    assert "cannot be reached" in _problems(check_redis(), "QUOTA_REDIS_URL")[0]


def test_it_names_missing_keys_and_debug(settings, tmp_path):
    settings.DEBUG = True
    settings.CITIZEN_ID_KEY = ""
    settings.STATIC_ROOT = str(tmp_path)
    problems = _problems(check_settings())
    assert "DEBUG is on: production runs with DEBUG=0." in problems
    assert "CITIZEN_ID_KEY is missing or shorter than 32 characters." in problems
    for name in ("AUDIT_SEAL_KEY", "AUDIT_SIGNING_KEY"):  # a trial machine's built-in seal keys
        assert f"{name} is the trial machine's built-in key: set the deployment's own (manage.py audit_keygen)." in problems
    settings.AUDIT_SEAL_KEY = ""
    assert "AUDIT_SEAL_KEY is missing or shorter than 32 characters." in _problems(check_settings())
    assert any("staticfiles.json is missing" in problem for problem in problems)


def test_the_command_exits_non_zero_and_lists_each_problem(db, settings, evicting_redis):
    settings.QUOTA_REDIS_URL = evicting_redis.url
    out = StringIO()
    with pytest.raises(CommandError, match=r"problem\(s\) found"):
        call_command("check_deployment", stdout=out)
    assert "PROBLEM quota counters (QUOTA_REDIS_URL): maxmemory-policy is allkeys-lru" in out.getvalue()


def test_it_finds_every_append_only_table_by_its_trigger(db):
    assert append_only_tables() == APPEND_ONLY


def test_it_refuses_to_run_as_a_superuser(db):
    assert any("a superuser" in problem for problem in _problems(check_database()))


@pytest.fixture
def app_role(db):
    role = f"portal_app_test_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')
    yield role
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{role}"')
        cursor.execute(f'DROP ROLE "{role}"')


@contextmanager
def _as_role(role):
    """The test's connection acts as the role (SET ROLE), as the portal's own connections would."""
    with connection.cursor() as cursor:
        cursor.execute(f'SET ROLE "{role}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def _may(role, table, privilege) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, table, privilege])
        return cursor.fetchone()[0]


def test_the_application_role_may_only_read_and_append_the_append_only_tables(app_role):
    call_command("grant_app_role", app_role, stdout=StringIO())
    for table in ("audit_securityevent", "lookups_lookuprecord"):
        assert (_may(app_role, table, "SELECT"), _may(app_role, table, "INSERT")) == (True, True)
        assert (_may(app_role, table, "UPDATE"), _may(app_role, table, "DELETE"),
                _may(app_role, table, "TRUNCATE")) == (False, False, False)
    assert _may(app_role, "accounts_user", "UPDATE") and _may(app_role, "accounts_accountsession", "DELETE")
    assert not _may(app_role, "accounts_user", "TRUNCATE")


def test_the_check_passes_the_database_for_the_application_role(app_role):
    call_command("grant_app_role", app_role, stdout=StringIO())
    with _as_role(app_role):
        findings = check_database()
    assert _problems(findings) == []
    assert [finding.text for finding in findings if finding.level == OK] == [
        f"{table}: append-only for {app_role} (owner postgres)." for table in APPEND_ONLY]


def test_the_check_catches_an_application_role_that_may_delete_records(app_role):
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT SELECT, DELETE ON ALL TABLES IN SCHEMA public TO "{app_role}"')
    with _as_role(app_role):
        problems = _problems(check_database())
    assert f"the role {app_role} may DELETE on the append-only table audit_securityevent: run " \
           f"`manage.py grant_app_role {app_role}` as the owner." in problems


def test_the_grants_are_statements_an_operator_can_read(db):
    statements = app_role_grant_statements("portal_app")
    revoked = [statement for statement in statements if statement.startswith("REVOKE UPDATE, DELETE, TRUNCATE ON ")]
    parents = [f'REVOKE UPDATE, DELETE, TRUNCATE ON "{table}" FROM "portal_app"' for table in APPEND_ONLY]
    assert [statement for statement in revoked if statement in parents] == parents
    from audit.partitions import partition_name

    this_month = partition_name("lookups_lookuprecord", timezone.localdate().replace(day=1))
    assert f'REVOKE UPDATE, DELETE, TRUNCATE ON "{this_month}" FROM "portal_app"' in revoked  # each partition too


def test_it_asks_for_the_seal_heads_to_be_kept_off_the_checkout(settings, tmp_path):
    from portal.deployment import NOTE, OK, check_seal_heads

    settings.AUDIT_HEADS_FILE, settings.AUDIT_HEADS_SYSLOG = "", ""
    assert _problems(check_seal_heads()) == [
        "Neither AUDIT_HEADS_FILE nor AUDIT_HEADS_SYSLOG is set: nothing outside the database catches a seal chain "
        "cut and re-grown."]
    settings.AUDIT_HEADS_FILE = str(tmp_path / "missing" / "heads.jsonl")
    assert _problems(check_seal_heads()) == [f"The folder of AUDIT_HEADS_FILE ({tmp_path / 'missing'}) does not exist."]
    settings.AUDIT_HEADS_FILE = str(settings.BASE_DIR / "audit-heads.jsonl")  # the trial's default lies in var/
    [finding] = check_seal_heads()
    assert finding.level == NOTE and "lies in the checkout" in finding.text
    settings.AUDIT_HEADS_FILE = str(tmp_path / "heads.jsonl")
    assert [finding.level for finding in check_seal_heads()] == [OK]
