"""Connected systems (DESIGN "Numbers it must reach"), two figures measured in one run:

1. A sign-in through a connected system (login form → authorize → token exchange → ID token) against
   the portal's own sign-in (the login form alone), alternated in one process with the real Argon2
   cost; prints the ratio (own / through).
2. Disabling 1,000 accounts each signed in to 5 systems (one session each): the time from the start of
   the disabling to each logout token's arrival at 5 real HTTP receivers, delivered by real Celery
   worker processes; prints p50/p99/last against the 60 s goal.

Run (its own database and Redis db):
    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_oidc_bench \
        REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/oidc.py [--accounts 1000] [--workers 2]
"""
import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


def _database_ensure():
    from urllib.parse import urlsplit

    import psycopg2

    url = urlsplit(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    connection = psycopg2.connect(host=url.hostname, port=url.port or 5432, user=url.username or "postgres",
                                  dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--systems", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    _database_ensure()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", password="Bench#Oidc-2026-Dong-Nai", verbosity=0, stdout=open(os.devnull, "w"))
    sign_in_ratio(options)
    disable_at_scale(options)


def sign_in_ratio(options):
    from django.test import Client

    from accounts.models import Unit, User
    from federation.models import ConnectedSystem
    from tests.helpers import oidc_authorize, oidc_code_from, oidc_system_register, oidc_token

    password = "Bench#Oidc-2026-Dong-Nai"
    officer = User.objects.get(username="demo.officer")
    system = ConnectedSystem.objects.filter(name="bench-signin").first()
    if system is not None:
        system.delete()
    system, secret = oidc_system_register(Unit.objects.get(code="000.00.00.H19"), name="bench-signin")
    own, through = [], []
    for _round in range(options.rounds):
        client = Client()
        start = time.perf_counter()
        assert client.post("/accounts/login/", {"username": officer.username, "password": password}).status_code == 302
        own.append(time.perf_counter() - start)
        client = Client()
        start = time.perf_counter()
        client.post("/accounts/login/", {"username": officer.username, "password": password})
        response, verifier = oidc_authorize(client, system)
        answer = oidc_token(client, system, secret, grant_type="authorization_code",
                            code=oidc_code_from(response)["code"], redirect_uri=system.application.redirect_uris,
                            code_verifier=verifier)
        assert answer.status_code == 200 and "id_token" in answer.json()
        through.append(time.perf_counter() - start)
    own_median, through_median = percentile(own, 0.5), percentile(through, 0.5)
    print("\n| sign-in | median ms | p95 ms |\n| --- | --- | --- |")
    print(f"| portal's own (login form) | {own_median * 1000:.0f} | {percentile(own, 0.95) * 1000:.0f} |")
    print(f"| through a system (login + authorize + token + ID token) | {through_median * 1000:.0f} | "
          f"{percentile(through, 0.95) * 1000:.0f} |")
    print(f"\nratio own / through: {own_median / through_median:.2f} ({options.rounds} rounds each, alternated)")


def disable_at_scale(options):
    from django.db import connection
    from django.utils import timezone

    from accounts.choices import Role
    from accounts.models import Unit, User
    from accounts.services.lifecycle import account_disable
    from federation.models import ConnectedSystem, Delivery, SystemSignIn
    from portal.actors import COMMAND_LINE
    from tests.helpers import LogoutReceiver, oidc_system_register

    ward = Unit.objects.get(code="000.01.31.H19") if Unit.objects.filter(code="000.01.31.H19").exists() \
        else Unit.objects.exclude(parent=None).order_by("-path").first()
    User.objects.filter(username__startswith="bench.oidc.").delete()
    Delivery.objects.all().delete()
    ConnectedSystem.objects.filter(name__startswith="bench-bcl-").delete()
    receivers = [LogoutReceiver().start() for _ in range(options.systems)]
    arrivals = []
    for receiver in receivers:
        receiver.arrivals = arrivals
    systems = [oidc_system_register(ward.parent or ward, name=f"bench-bcl-{index}", backchannel_logout_uri=receiver.url,
                                    redirect_uri=f"https://rp{index}.example.vn/cb")[0]
               for index, receiver in enumerate(receivers)]
    accounts = User.objects.bulk_create([
        User(username=f"bench.oidc.{index:05d}", full_name=f"Cán bộ {index}", unit=ward, role=Role.OFFICER,
             password="!", email="") for index in range(options.accounts)])
    now = timezone.now()
    SystemSignIn.objects.bulk_create([
        SystemSignIn(system=system, account=account, sid=uuid.uuid4().hex, code_hash=uuid.uuid4().hex + uuid.uuid4().hex,
                     amr=["pwd"], auth_time=now, created_at=now)
        for account in accounts for system in systems])
    connection.close()
    environment = {**os.environ, "DB_CONN_MAX_AGE": "0"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", f"--concurrency={options.workers}",
         "-Q", "celery", "--hostname", f"bench-oidc-{uuid.uuid4().hex[:6]}@%h", "--without-gossip",
         "--without-mingle", "--without-heartbeat", "--loglevel=WARNING"],
        cwd=ROOT, env=environment)
    try:
        time.sleep(8)  # the worker is up
        expected = options.accounts * options.systems * 2  # one per session plus one "all sessions"
        start = time.monotonic()
        for account in accounts:
            account_disable(actor=COMMAND_LINE, account=account, reason="bench")
        enqueued = time.monotonic() - start
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and sum(len(receiver.tokens) for receiver in receivers) < expected:
            time.sleep(0.2)
        total = time.monotonic() - start
        received = sum(len(receiver.tokens) for receiver in receivers)
        delivered = list(Delivery.objects.filter(state="delivered").values_list("created_at", "delivered_at"))
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        for receiver in receivers:
            receiver.stop()
    latencies = [(done - queued).total_seconds() for queued, done in delivered]
    print(f"\n{options.accounts} accounts × {options.systems} systems, {options.workers} worker processes: "
          f"{received}/{expected} logout tokens received")
    print("\n| figure | seconds |\n| --- | --- |")
    print(f"| disabling all accounts (enqueued, {options.accounts} transactions) | {enqueued:.1f} |")
    print(f"| queued → delivered, p50 | {percentile(latencies, 0.5):.2f} |")
    print(f"| queued → delivered, p99 (goal ≤ 60) | {percentile(latencies, 0.99):.2f} |")
    print(f"| start of disabling → last token received | {total:.1f} |")


if __name__ == "__main__":
    main()
