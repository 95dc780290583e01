"""The lookup quota check alone (lookups.quotas.quota_consume), on Redis and on its PostgreSQL twin,
against a bare round trip to each measured in the same run.

docs/architecture.md, "Numbers it must reach": the quota check is one Redis round trip (p99 ≤ 2 ms here) and
≤ 15 ms on the PostgreSQL fallback. Phases alternate (baseline, quota, baseline, quota, …) for
--rounds rounds so that a noisy neighbour hits both sides alike; p50/p99 are taken over all the
calls of a kind. Timings are printed, never asserted.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \\
        REDIS_URL=redis://127.0.0.1:6379/2 .venv/bin/python bench/quotas.py

What is timed, one call at a time from one thread, outside any transaction (as the decision service
will call it):
  redis PING            a bare round trip on a client with the quota client's timeouts (baseline)
  quota script alone    the Lua script's EVALSHA only (no PostgreSQL)
  quota on Redis        quota_consume with Redis up, in a transaction of its own: the unit's shared
                        advisory lock, the twin's "does the database count this unit?" probe, the
                        script, the grant INSERT and the COMMIT (an fsync)
  … in the caller's transaction  the same inside a transaction that the decision service commits
                        anyway for its lookup record: the commit is not timed (the record pays it)
  SELECT 1              a bare PostgreSQL round trip through Django's connection (baseline)
  quota on PostgreSQL   quota_consume with no quota Redis: exclusive unit lock, four counter rows
                        FOR UPDATE, their increment and the grant INSERT, one transaction
Calls spread over --officers officers in --units units with roomy limits, so every call is allowed
(an allow costs the most: it writes). The bench's keys have a prefix of their own and are deleted at
the end; the grant and counter tables of the bench database are emptied before and after.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

DEFAULT_ENV = {
    "DEBUG": "1",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal_bench",
    "REDIS_URL": "redis://127.0.0.1:6379/2",
}
for _name, _value in DEFAULT_ENV.items():
    os.environ.setdefault(_name, _value)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ["QUOTA_KEY_PREFIX"] = f"lqbench-{os.getpid()}"

GOALS_MS = {"quota on Redis": 2.0, "quota on Redis, in the caller's transaction": 2.0, "quota on PostgreSQL": 15.0}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000, help="calls per phase (default 1000)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--officers", type=int, default=500)
    parser.add_argument("--units", type=int, default=50)
    return parser.parse_args()


def database_ensure():
    import environ
    import psycopg2

    config = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    if "postgresql" not in config["ENGINE"]:
        sys.exit(f"bench/quotas.py needs PostgreSQL (DATABASE_URL is {os.environ['DATABASE_URL']!r}).")
    connection = psycopg2.connect(dbname="postgres", user=config.get("USER") or None,
                                  password=config.get("PASSWORD") or None, host=config.get("HOST") or None,
                                  port=config.get("PORT") or None)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{config["NAME"]}"')
    finally:
        connection.close()


def timed(call, count) -> list[float]:
    samples = []
    for index in range(count):
        started = time.perf_counter()
        call(index)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def percentile(samples, fraction) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    args = parse_args()
    print(f"DATABASE_URL={os.environ['DATABASE_URL']} REDIS_URL={os.environ['REDIS_URL']}")
    database_ensure()
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR, check=True,
                   env=os.environ.copy())

    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.db import connection

    from lookups import quotas
    from lookups.models import QuotaCounter, QuotaGrant
    from lookups.quotas import WINDOWS, Limits, quota_consume, quota_redis_reset, redis_key

    if not settings.QUOTA_REDIS_URL:
        sys.exit("bench/quotas.py needs a quota Redis (QUOTA_REDIS_URL or REDIS_URL).")
    redis_url = settings.QUOTA_REDIS_URL
    limits = Limits(officer_minute=10**6, officer_day=10**7, unit_minute=10**6, unit_day=10**7)

    def subject(index, base=900_000):
        officer = index % args.officers
        return {"officer_id": base + officer, "unit_id": base + officer % args.units}

    ping_client = redis.Redis.from_url(redis_url, socket_timeout=settings.QUOTA_REDIS_SOCKET_TIMEOUT,
                                       socket_connect_timeout=settings.QUOTA_REDIS_SOCKET_TIMEOUT)

    def ping(_index):
        ping_client.ping()

    def select_one(_index):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    def on_redis(index):
        settings.QUOTA_REDIS_URL = redis_url
        assert quota_consume(limits=limits, **subject(index)).backend == "redis"

    in_caller = []

    def on_redis_in_callers_transaction(index):
        # The decision service commits its lookup record anyway: time the check inside that
        # transaction, the commit (which the record pays) outside the timed call.
        from django.db import transaction

        with transaction.atomic():
            started = time.perf_counter()
            assert quota_consume(limits=limits, **subject(index)).backend == "redis"
            in_caller.append((time.perf_counter() - started) * 1000)

    def script_alone(index):
        ids = subject(index)
        state = quotas._redis.get()
        keys = [redis_key(ids["unit_id"], quotas._subject_key(window, ids["officer_id"], ids["unit_id"]))
                for window in WINDOWS]
        # ARGV as quota_consume sends it in production: the limits, Redis's own TIME, Vietnam's offset.
        state.consume(keys=keys, args=[*(limits.of(window) for window in WINDOWS), "", 25200, "", "", "", "", "", ""])

    def on_database(index):
        # Subjects of their own: the twin's counter rows would (rightly) send those units to the
        # database until it hands them back to Redis.
        assert quota_consume(limits=limits, **subject(index, base=1_900_000)).backend == "database"

    def empty_tables():
        QuotaGrant.objects.all().delete()
        QuotaCounter.objects.all().delete()

    samples = {name: [] for name in ("redis PING", "quota script alone", "quota on Redis",
                                     "quota on Redis, in the caller's transaction", "SELECT 1",
                                     "quota on PostgreSQL")}
    empty_tables()
    try:
        # Warm-up: connections, the script loaded, every subject's day keys seeded.
        settings.QUOTA_REDIS_URL = redis_url
        quota_redis_reset()
        for index in range(args.officers):
            on_redis(index)
        for round_number in range(args.rounds):
            settings.QUOTA_REDIS_URL = redis_url
            quota_redis_reset()
            samples["redis PING"] += timed(ping, args.calls)
            samples["quota script alone"] += timed(script_alone, args.calls)
            samples["quota on Redis"] += timed(on_redis, args.calls)
            timed(on_redis_in_callers_transaction, args.calls)
            samples["quota on Redis, in the caller's transaction"] += in_caller
            in_caller.clear()
            samples["SELECT 1"] += timed(select_one, args.calls)
            settings.QUOTA_REDIS_URL = ""
            quota_redis_reset()
            samples["quota on PostgreSQL"] += timed(on_database, args.calls)
            print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        settings.QUOTA_REDIS_URL = redis_url
        quota_redis_reset()
        cleaner = redis.Redis.from_url(redis_url)
        keys = list(cleaner.scan_iter(match=f"{settings.QUOTA_KEY_PREFIX}:*", count=1000))
        for start in range(0, len(keys), 500):
            cleaner.delete(*keys[start:start + 500])
        empty_tables()

    baselines = {"quota script alone": "redis PING", "quota on Redis": "redis PING",
                 "quota on Redis, in the caller's transaction": "redis PING",
                 "quota on PostgreSQL": "SELECT 1"}
    print()
    print(f"Quota check, {args.rounds} × {args.calls} calls a kind, {args.officers} officers in {args.units} units")
    print()
    print("| what | p50 ms | p99 ms | p50 / baseline | p99 / baseline | goal p99 |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for name, values in samples.items():
        p50, p99 = statistics.median(values), percentile(values, 0.99)
        if name in baselines:
            base = samples[baselines[name]]
            ratio50 = f"{p50 / statistics.median(base):.1f}× {baselines[name]}"
            ratio99 = f"{p99 / percentile(base, 0.99):.1f}×"
        else:
            ratio50 = ratio99 = "baseline"
        goal = f"≤ {GOALS_MS[name]:g} ms ({'met' if p99 <= GOALS_MS[name] else 'NOT met'})" if name in GOALS_MS else ""
        print(f"| {name} | {p50:.3f} | {p99:.3f} | {ratio50} | {ratio99} | {goal} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
