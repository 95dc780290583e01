"""What `manage.py check_deployment` checks, and the database grants of the application role
(`manage.py grant_app_role`): the production settings as they are on this server, against what
the portal needs of its services (docs/architecture.md "The public contract", README "Deployment").

Each check returns Findings: a problem (the command exits 1) or a note. They ask the services
themselves (Redis's INFO and CONFIG, PostgreSQL's catalogue), never only the settings."""
import base64
import binascii
from dataclasses import dataclass
from pathlib import Path

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from redis.exceptions import RedisError

PROBLEM = "problem"
NOTE = "note"
OK = "ok"


@dataclass(frozen=True)
class Finding:
    level: str
    what: str
    text: str


# ----- PostgreSQL: the append-only tables and the application role ------------------------------------

def append_only_tables() -> list[str]:
    """Every table that audit.operations.MakeAppendOnly made append-only, found by its trigger: a new
    append-only table (a later migration using MakeAppendOnly) is covered without changing anything."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE NOT t.tgisinternal AND t.tgname = c.relname || '_no_update'
              AND p.proname = c.relname || '_append_only' AND n.nspname = current_schema()
            ORDER BY c.relname""")
        return [row[0] for row in cursor.fetchall()]


def app_role_grant_statements(role: str) -> list[str]:
    """What the owner runs after every `migrate`: the application role may read and write the portal's
    tables, and only read and append to the append-only ones (no UPDATE, DELETE or TRUNCATE, so even
    with the portal's own credentials a record cannot be changed; only the owner could drop triggers)."""
    quoted = connection.ops.quote_name(role)
    statements = [
        f"GRANT USAGE ON SCHEMA {connection.ops.quote_name(_schema())} TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {connection.ops.quote_name(_schema())} TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {connection.ops.quote_name(_schema())} TO {quoted}",
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {connection.ops.quote_name(_schema())} FROM {quoted}",
    ]
    for table in append_only_tables():
        # A partitioned table's partitions are tables of their own, with their own grants (the cloned
        # triggers refuse changes there too; the grants are the second wall).
        for name in [table, *_partitions_of(table)]:
            statements.append(f"REVOKE UPDATE, DELETE, TRUNCATE ON {connection.ops.quote_name(name)} FROM {quoted}")
    return statements


def _partitions_of(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relid::regclass::text FROM pg_partition_tree(%s::regclass) WHERE level > 0"
                       " ORDER BY 1", [table])
        return [row[0] for row in cursor.fetchall()]


def _schema() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return cursor.fetchone()[0]


def check_database() -> list[Finding]:
    findings = []
    try:
        connection.ensure_connection()
    except DatabaseError as error:  # reported; the other checks go on
        return [Finding(PROBLEM, "database", f"PostgreSQL cannot be reached: {error}")]
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        findings.append(Finding(PROBLEM, "database", f"{len(pending)} migrations not applied: run `manage.py migrate` "
                                                     "as the owner role, then `manage.py grant_app_role`."))
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        user, superuser = cursor.fetchone()
    if superuser:
        findings.append(Finding(PROBLEM, "database", f"the portal connects as {user}, a superuser: it could switch "
                                                     "off the append-only triggers. Use the application role."))
    for table in append_only_tables():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = %s "
                           "AND relnamespace = current_schema()::regnamespace", [table])
            owner = cursor.fetchone()[0]
            cursor.execute("SELECT has_table_privilege(current_user, %s, 'UPDATE'), "
                           "has_table_privilege(current_user, %s, 'DELETE'), "
                           "has_table_privilege(current_user, %s, 'TRUNCATE')", [table, table, table])
            update, delete, truncate = cursor.fetchone()
        if owner == user:
            findings.append(Finding(PROBLEM, "database", f"the portal's role {user} owns {table}: an owner can drop "
                                                         "its append-only triggers. Run the portal as the application role."))
        elif update or delete or truncate:
            allowed = ", ".join(name for name, flag in (("UPDATE", update), ("DELETE", delete),
                                                         ("TRUNCATE", truncate)) if flag)
            findings.append(Finding(PROBLEM, "database", f"the role {user} may {allowed} on the append-only table "
                                                         f"{table}: run `manage.py grant_app_role {user}` as the owner."))
        else:
            findings.append(Finding(OK, "database", f"{table}: append-only for {user} (owner {owner})."))
    return findings


# ----- Redis: the cache, the broker and the quota counters --------------------------------------------

def _redis_info(url: str) -> tuple[dict | None, dict | None, str]:
    """(INFO, the CONFIG answers we need or None when CONFIG is disabled, an error text)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        info = client.info()
        try:
            config = {**client.config_get("maxmemory-policy"), **client.config_get("save"),
                      **client.config_get("appendonly")}
        except RedisError:
            config = None  # CONFIG renamed or disabled (a managed Redis): INFO still says most of it
        return info, config, ""
    except (RedisError, OSError) as error:
        return None, None, str(error)
    finally:
        client.close()


def _persistent(info: dict, config: dict | None) -> bool:
    if int(info.get("aof_enabled", 0)) == 1:
        return True
    if config is not None:
        return bool((config.get("save") or "").strip())
    return int(info.get("rdb_last_save_time", 0)) > 0 and info.get("rdb_last_bgsave_status") == "ok"


def _display(url: str) -> str:
    """The URL without a password."""
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url


def check_redis() -> list[Finding]:
    findings = []
    roles = [("quota counters (QUOTA_REDIS_URL)", settings.QUOTA_REDIS_URL, True, True),
             ("Celery broker (CELERY_BROKER_URL)", settings.CELERY_BROKER_URL, True, True),
             ("cache (REDIS_URL)", settings.REDIS_URL, False, False)]
    for what, url, must_not_evict, must_persist in roles:
        if not url or not url.startswith(("redis://", "rediss://", "unix://")):
            findings.append(Finding(PROBLEM, what, f"not a Redis URL: {_display(url or '(empty)')}"))
            continue
        info, config, error = _redis_info(url)
        if info is None:
            findings.append(Finding(PROBLEM, what, f"cannot be reached at {_display(url)}: {error}"))
            continue
        policy = (config or {}).get("maxmemory-policy") or info.get("maxmemory_policy", "")
        if must_not_evict and policy != "noeviction":
            findings.append(Finding(PROBLEM, what, f"maxmemory-policy is {policy or 'unknown'}: it must be noeviction "
                                                   "(an evicted key is a lost task or a quota window handed back)."))
        if must_persist and not _persistent(info, config):
            findings.append(Finding(PROBLEM, what, "has no persistence (neither appendonly nor save): a restart "
                                                   "loses queued tasks and quota windows. Set appendonly yes."))
        if not must_not_evict and policy == "noeviction" and url == settings.QUOTA_REDIS_URL:
            findings.append(Finding(NOTE, what, "shares the quota Redis; cache entries all expire (TIMEOUT), but a "
                                                "full Redis then refuses writes instead of evicting."))
        if not [finding for finding in findings if finding.what == what and finding.level == PROBLEM]:
            findings.append(Finding(OK, what, f"{_display(url)}: maxmemory-policy {policy or 'unknown'}, "
                                              f"redis {info.get('redis_version', '?')}."))
    return findings


# ----- settings and files ------------------------------------------------------------------------------


TRIAL_KEY_PREFIX = b"dev-only-"  # the seal keys portal/settings.py gives a DEBUG=1 trial machine


def _is_trial_key(value: str) -> bool:
    """The built-in keys of a trial machine (in clear, or base64 for the signing key): public knowledge."""
    if value.encode().startswith(TRIAL_KEY_PREFIX):
        return True
    try:
        return base64.b64decode(value, validate=True).startswith(TRIAL_KEY_PREFIX)
    except (binascii.Error, ValueError):
        return False

def check_settings() -> list[Finding]:
    findings = []
    if settings.DEBUG:
        findings.append(Finding(PROBLEM, "settings", "DEBUG is on: production runs with DEBUG=0."))
    for name in ("SECRET_KEY", "CITIZEN_ID_KEY", "AUDIT_SEAL_KEY"):
        value = getattr(settings, name, "")
        if not value or len(str(value)) < 32:
            findings.append(Finding(PROBLEM, "settings", f"{name} is missing or shorter than 32 characters."))
    for name in ("AUDIT_SEAL_KEY", "AUDIT_SIGNING_KEY"):
        value = getattr(settings, name, "")
        if not value:
            findings.append(Finding(PROBLEM, "settings", f"{name} is missing."))
        elif _is_trial_key(str(value)):
            findings.append(Finding(PROBLEM, "settings", f"{name} is the trial machine's built-in key: set the "
                                                         "deployment's own (manage.py audit_keygen)."))
    if settings.TRUSTED_PROXY_COUNT < 1:
        findings.append(Finding(PROBLEM, "settings", "TRUSTED_PROXY_COUNT is 0: behind nginx it is 1 (the address "
                                                     "nginx appends to X-Forwarded-For), else every client looks alike."))
    if settings.EMAIL_BACKEND.endswith(("console.EmailBackend", "locmem.EmailBackend", "dummy.EmailBackend")):
        findings.append(Finding(PROBLEM, "settings", "EMAIL_URL is not set: notices would go to the console."))
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists():
        findings.append(Finding(PROBLEM, "static files", f"{manifest} is missing: run `manage.py collectstatic`."))
    private = Path(settings.PRIVATE_MEDIA_ROOT)
    if not private.is_dir():
        findings.append(Finding(PROBLEM, "private files", f"PRIVATE_MEDIA_ROOT {private} does not exist."))
    elif private.stat().st_mode & 0o007:
        findings.append(Finding(PROBLEM, "private files", f"{private} is readable by other users (chmod o-rwx)."))
    if not findings:
        findings.append(Finding(OK, "settings", "DEBUG off, keys set, proxy count, e-mail, static manifest, private files."))
    return findings


def check_seal_heads() -> list[Finding]:
    """The seals' heads kept outside the database (audit/heads.py): somewhere, and not on the checkout's
    own volume (where whoever restores or rewrites the server rewrites them too)."""
    path = Path(settings.AUDIT_HEADS_FILE) if settings.AUDIT_HEADS_FILE else None
    if path is None and not settings.AUDIT_HEADS_SYSLOG:
        return [Finding(PROBLEM, "seal heads", "Neither AUDIT_HEADS_FILE nor AUDIT_HEADS_SYSLOG is set: nothing "
                                               "outside the database catches a seal chain cut and re-grown.")]
    findings = []
    if path is not None:
        if not path.parent.is_dir():
            findings.append(Finding(PROBLEM, "seal heads", f"The folder of AUDIT_HEADS_FILE ({path.parent}) does not "
                                                           "exist."))
        elif Path(settings.BASE_DIR).resolve() in (path.resolve(), *path.resolve().parents):
            findings.append(Finding(NOTE, "seal heads", f"AUDIT_HEADS_FILE ({path}) lies in the checkout: put it on "
                                                        "another volume or host, append-only (chattr +a)."))
    return findings or [Finding(OK, "seal heads", "kept outside the database.")]


def deployment_findings() -> list[Finding]:
    return check_settings() + check_seal_heads() + check_database() + check_redis()
