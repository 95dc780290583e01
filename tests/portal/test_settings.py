"""Configuration: production settings pass `check --deploy`, refuse weak secrets, hash with Argon2 at
its full cost (the test run at a cheap one); each Redis role has its setting; /healthz reports the
services."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, get_hasher
from django.urls import reverse

from tests.helpers import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, env_overrides):
    env = {key: value for key, value in os.environ.items()
           if key not in ("DEBUG", "SECRET_KEY", "CITIZEN_ID_KEY", "AUDIT_SEAL_KEY", "AUDIT_SIGNING_KEY", "ALLOWED_HOSTS", "CELERY_BROKER_URL",
                          "QUOTA_REDIS_URL", "CACHE_KEY_PREFIX")}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_it_passes_the_deployment_check_without_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (1 silenced)." in result.stdout


def test_it_silences_no_security_check():
    assert settings.SILENCED_SYSTEM_CHECKS == ["axes.W006"]


@pytest.mark.parametrize("missing,value", [
    ("SECRET_KEY", ""), ("SECRET_KEY", "django-insecure-short"), ("CITIZEN_ID_KEY", ""), ("AUDIT_SEAL_KEY", ""),
    ("AUDIT_SEAL_KEY", "too-short-for-a-key"), ("AUDIT_SIGNING_KEY", ""), ("ALLOWED_HOSTS", ""),
    ("DATABASE_URL", ""), ("REDIS_URL", ""), ("CELERY_BROKER_URL", ""), ("CELERY_BROKER_URL", "memory://"),
    ("QUOTA_REDIS_URL", ""), ("LOOKUP_REGISTRY", ""),
])
def test_it_refuses_to_start_in_production_without_real_secrets(missing, value):
    result = _manage("check", env_overrides={**PRODUCTION_ENV, missing: value})
    assert result.returncode == 1
    assert "ImproperlyConfigured" in result.stderr and missing in result.stderr


def test_it_hashes_with_django_argon2_at_its_default_cost_in_production():
    # The test run hashes cheaply (tests/hashers.py); a production process must not.
    script = ("import json; from django.conf import settings; from django.contrib.auth.hashers import get_hasher, "
              "make_password; hasher = get_hasher(); print(json.dumps({'hashers': settings.PASSWORD_HASHERS, "
              "'class': f'{type(hasher).__module__}.{type(hasher).__qualname__}', "
              "'hash': make_password('Quat-Mua-But-Chi-7!')}))")
    result = _manage("shell", "--no-imports", "-c", script, env_overrides=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    production = json.loads(result.stdout)
    assert production["hashers"][0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert production["class"] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    cost = Argon2PasswordHasher().decode(production["hash"])
    # Django 5.2's defaults: time_cost 2, memory_cost 102400 KiB, parallelism 8.
    assert (cost["variety"], cost["time_cost"], cost["memory_cost"], cost["parallelism"]) == (
        "argon2id", Argon2PasswordHasher.time_cost, Argon2PasswordHasher.memory_cost, Argon2PasswordHasher.parallelism)
    # The same algorithm as in tests: a production hash verifies under the test run's hasher too.
    assert check_password("Quat-Mua-But-Chi-7!", production["hash"])


def test_it_hashes_the_test_run_with_a_cheap_argon2(db):
    from tests.factories import UserFactory
    from tests.hashers import CheapArgon2PasswordHasher

    assert type(get_hasher()) is CheapArgon2PasswordHasher and get_hasher().algorithm == "argon2"
    cost = get_hasher().decode(UserFactory().password)
    assert (cost["variety"], cost["time_cost"], cost["memory_cost"], cost["parallelism"]) == ("argon2id", 1, 64, 1)
    assert settings.PASSWORD_HASHERS == ["tests.hashers.CheapArgon2PasswordHasher",
                                         "django.contrib.auth.hashers.PBKDF2PasswordHasher",
                                         "federation.hashers.ClientSecretHasher"]


@pytest.mark.parametrize("overrides,expected", [
    ({}, {"cache": "redis://127.0.0.1:6379/1", "broker": "redis://127.0.0.1:6379/1",
          "quotas": "redis://127.0.0.1:6379/1"}),
    ({"CELERY_BROKER_URL": "redis://10.0.0.5:6379/0", "QUOTA_REDIS_URL": "redis://10.0.0.6:6379/0"},
     {"cache": "redis://127.0.0.1:6379/1", "broker": "redis://10.0.0.5:6379/0", "quotas": "redis://10.0.0.6:6379/0"}),
])
def test_it_gives_the_cache_the_broker_and_the_quota_counters_each_a_setting(overrides, expected):
    # docs/architecture.md: CELERY_BROKER_URL and QUOTA_REDIS_URL default to REDIS_URL; each can point elsewhere.
    script = ("import json; from django.conf import settings; print(json.dumps({'cache': "
              "settings.CACHES['default']['LOCATION'], 'broker': settings.CELERY_BROKER_URL, "
              "'quotas': settings.QUOTA_REDIS_URL}))")
    result = _manage("shell", "--no-imports", "-c", script, env_overrides={**PRODUCTION_ENV, **overrides})
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == expected


def test_it_runs_in_the_province_time_zone():
    assert settings.TIME_ZONE == "Asia/Ho_Chi_Minh" and settings.USE_TZ


def test_it_reports_healthy_services(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up", "redis": "up", "broker": "up"}


def test_it_answers_503_when_redis_is_down(client, db, settings):
    # A port nothing listens on: the real client fails to connect, as when Redis is down.
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["redis"] == "down"


def test_it_reports_a_separate_quota_redis_and_answers_503_when_it_is_down(client, db, settings):
    settings.QUOTA_REDIS_URL = "redis://127.0.0.1:1/0"  # its own Redis, and nothing listens there
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {"status": "fail", "database": "up", "redis": "up", "broker": "up",
                               "quota_redis": "down"}


def test_it_has_a_migration_for_every_model_change():
    result = _manage("makemigrations", "--check", "--dry-run", env_overrides={"DEBUG": "1"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_answers_503_when_the_broker_is_down(client, db):
    from portal.celery import app

    reachable = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there, as when the broker is down
    try:
        response = client.get(reverse("healthz"))
    finally:
        app.conf.broker_url = reachable
    assert response.status_code == 503
    assert response.json()["broker"] == "down" and response.json()["database"] == "up"


PRODUCTION_COOKIES_SCRIPT = """
import json
from django.conf import settings
from django.test import Client, override_settings

client = Client(HTTP_HOST="antoan.dongnai.gov.vn")
# Without `collectstatic` there is no manifest: only the static storage differs from production here.
plain_static = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
with override_settings(STORAGES=plain_static):
    login_page = client.get("/accounts/login/", secure=True)
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, secure=True)
assert login_page.status_code == 200, login_page.status_code
cookies = {**login_page.cookies, **switched.cookies}
print(json.dumps({
    "session_cookie": [settings.SESSION_COOKIE_NAME, settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_PATH,
                       settings.SESSION_COOKIE_DOMAIN],
    "set": {name: {"secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"]),
                   "samesite": morsel["samesite"], "path": morsel["path"], "domain": morsel["domain"]}
            for name, morsel in cookies.items()},
}))
"""


def test_it_gives_production_cookies_the_host_prefix_and_every_flag():
    """DEBUG=0: `__Host-` names (the browser then refuses them without Secure, with a Domain or another
    Path, so a sibling sub-domain cannot plant or overwrite them), and the language cookie is Secure,
    HttpOnly and SameSite too."""
    import json

    result = _manage("shell", "-c", PRODUCTION_COOKIES_SCRIPT, env_overrides=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["session_cookie"] == ["__Host-sessionid", True, "/", None]
    host_only = {"secure": True, "path": "/", "domain": ""}
    assert answer["set"] == {
        "__Host-csrftoken": {**host_only, "httponly": True, "samesite": "Lax"},
        "django_language": {**host_only, "httponly": True, "samesite": "Lax"},
    }


def test_it_keeps_plain_cookie_names_for_the_http_trial(settings, client, db):
    """`make run` is plain http on 127.0.0.1: a Secure or `__Host-` cookie would never come back."""
    assert (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME) == ("sessionid", "csrftoken")
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    morsel = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert (bool(morsel["secure"]), bool(morsel["httponly"]), morsel["samesite"]) == (False, True, "Lax")
