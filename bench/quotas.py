"""The quota engine decided by measurement, in one run: the PostgreSQL counter the portal keeps
(lookups.quotas: one call of the database function lookups_quota_consume) against Redis with a
PostgreSQL ledger (the engine the portal had until issue 23, rebuilt here as its hot path ran: the
unit's shared advisory lock, the "does the database count this unit?" probe, the Lua script, the
ledger INSERT, the COMMIT), each against a bare round trip to its server measured alongside.

The numbers it must reach (docs/architecture.md; README, "Benchmarks"): the quota check p99 ≤ 2 ms on
its fast path (≤ 15 ms on a fallback); exact — N concurrent requests against a limit of L allow
exactly min(N, L) — also across a restart; fewer moving parts win when the figures are equal.
Timings are printed, never asserted.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \\
        REDIS_URL=redis://127.0.0.1:6379/2 .venv/bin/python bench/quotas.py

What it measures:
  latency     --rounds × --calls calls of each kind, one at a time from one thread, alternating:
              redis PING, the Redis engine (own transaction), SELECT 1, the PostgreSQL engine (own
              transaction, so its COMMIT is timed too) and the PostgreSQL engine inside a caller's
              transaction (as the decision calls it: the commit is the record's);
  exactness   50 threads at once against a per-minute limit of 10, each engine: how many allowed;
  restart     5 allowed, then the counter's server restarted (PostgreSQL: every connection closed and
              opened again, as a restarted web worker or a PostgreSQL restart leaves committed rows;
              Redis: a private redis-server without persistence killed and started again, as a
              failover to a replica that had not received the last writes), then 10 more asked
              against a limit of 10: how many allowed in all (10 is exact).
The bench's own tables (bench_quota_twin, bench_quota_grant) and Redis keys are dropped at the end.
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from portal.locks import LockClass  # noqa: E402 (after the path: the registry imports nothing of Django)

DEFAULT_ENV = {
    "DEBUG": "1",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal_bench",
    "REDIS_URL": "redis://127.0.0.1:6379/2",
}
for _name, _value in DEFAULT_ENV.items():
    os.environ.setdefault(_name, _value)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
PREFIX = f"lqbench-{os.getpid()}"
GOAL_MS = 2.0
LOCK_CLASS = int(LockClass.LOOKUP_QUOTA)  # portal.locks: the registry of advisory-lock keys

# The Redis engine's script as lookups/quotas.py had it (four windows, all or nothing, Redis's TIME).
CONSUME_LUA = """
local now_us
if ARGV[5] ~= '' then
  now_us = tonumber(ARGV[5])
else
  local t = redis.call('TIME')
  now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local offset = tonumber(ARGV[6])
local function starts_at(us)
  local s = math.floor(us / 1000000)
  local minute = s - (s % 60)
  local day = s - ((s + offset) % 86400)
  return {minute, day, minute, day}
end
local starts = starts_at(now_us)
local lengths = {60, 86400, 60, 86400}
local function write(i, count)
  redis.call('HSET', KEYS[i], 'w', starts[i], 'c', count)
  local ttl_ms = (starts[i] + lengths[i]) * 1000 - math.floor(now_us / 1000)
  if ttl_ms < 1 then ttl_ms = 1 end
  redis.call('PEXPIRE', KEYS[i], ttl_ms)
end
local counts = {}
local valid = {}
for i = 1, 4 do
  local v = redis.call('HMGET', KEYS[i], 'w', 'c')
  valid[i] = tonumber(v[1]) == starts[i]
  counts[i] = valid[i] and tonumber(v[2]) or 0
end
if ARGV[7] == 'seed' then
  -- the counts are the ledger's for the windows at ARGV[12]: a window that has turned since is not seeded
  local seeded_for = starts_at(tonumber(ARGV[12]))
  for i = 1, 4 do
    if ARGV[7 + i] ~= '' and seeded_for[i] ~= starts[i] then
      return {-1, now_us, ARGV[8] ~= '' and 1 or 0, 0, ARGV[10] ~= '' and 1 or 0, 0}
    end
  end
  for i = 1, 4 do
    if ARGV[7 + i] ~= '' then
      counts[i] = tonumber(ARGV[7 + i])
      valid[i] = true
      write(i, counts[i])
    end
  end
end
if not valid[2] or not valid[4] then
  return {-1, now_us, valid[2] and 0 or 1, 0, valid[4] and 0 or 1, 0}
end
for i = 1, 4 do
  if counts[i] + 1 > tonumber(ARGV[i]) then
    return {0, now_us, counts[1], counts[2], counts[3], counts[4]}
  end
end
for i = 1, 4 do
  counts[i] = counts[i] + 1
  write(i, counts[i])
end
return {1, now_us, counts[1], counts[2], counts[3], counts[4]}
"""


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


class PrivateRedis:
    """A redis-server of the bench's own, without persistence: a restart comes back empty."""

    def __init__(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.process = None

    def start(self):
        import redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def stop(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


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
    from django.db import connection, connections, transaction
    from django.utils import timezone

    from lookups.models import QuotaCounter
    from lookups.quotas import QUOTA_TIME_ZONE, WINDOWS, Limits, _subject_key, quota_consume

    roomy = Limits(officer_minute=10**6, officer_day=10**7, unit_minute=10**6, unit_day=10**7)
    tight = Limits(officer_minute=10, officer_day=10**7, unit_minute=10**6, unit_day=10**7)

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_quota_twin (unit_id bigint, window_end timestamptz)")
        cursor.execute("CREATE INDEX IF NOT EXISTS bench_quota_twin_unit ON bench_quota_twin (unit_id, window_end)")
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_quota_grant (id bigserial PRIMARY KEY, officer_id bigint, "
                       "unit_id bigint, granted_at timestamptz, backend varchar(8))")
        cursor.execute("CREATE INDEX IF NOT EXISTS bench_quota_grant_officer "
                       "ON bench_quota_grant (officer_id, granted_at)")
        cursor.execute("CREATE INDEX IF NOT EXISTS bench_quota_grant_unit ON bench_quota_grant (unit_id, granted_at)")

    class RedisEngine:
        """The hot path of the Redis engine with its PostgreSQL ledger, in one transaction."""

        def __init__(self, url):
            self.client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
            self.script = self.client.register_script(CONSUME_LUA)

        def consume(self, *, officer_id, unit_id, limits):
            offset = int(timezone.now().astimezone(QUOTA_TIME_ZONE).utcoffset().total_seconds())
            keys = [f"{PREFIX}:{{unit:{unit_id}}}:{_subject_key(window, officer_id, unit_id)}" for window in WINDOWS]
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", [LOCK_CLASS, unit_id])
                    cursor.execute("SELECT EXISTS (SELECT 1 FROM bench_quota_twin "
                                   "WHERE unit_id = %s AND window_end > %s)", [unit_id, timezone.now()])
                    cursor.fetchone()
                    status, now_us, *_counts = self.script(
                        keys=keys,
                        args=[*(limits.of(window) for window in WINDOWS), "", offset, "", "", "", "", "", ""])
                    if status == -1:  # a new day's keys: seeding from the ledger (not timed apart)
                        status, now_us, *_counts = self.script(keys=keys, args=[
                            *(limits.of(window) for window in WINDOWS), "", offset, "seed", "0", "0", "0", "0",
                            now_us])
                    if status == 1:
                        cursor.execute("INSERT INTO bench_quota_grant (officer_id, unit_id, granted_at, backend) "
                                       "VALUES (%s, %s, now(), 'redis')", [officer_id, unit_id])
            return status == 1

        def delete_keys(self):
            keys = list(self.client.scan_iter(match=f"{PREFIX}:*", count=1000))
            for start in range(0, len(keys), 500):
                self.client.delete(*keys[start:start + 500])

    def subject(index, base=900_000):
        officer = index % args.officers
        return {"officer_id": base + officer, "unit_id": base + officer % args.units}

    shared = RedisEngine(settings.QUOTA_REDIS_URL or settings.REDIS_URL)
    ping_client = redis.Redis.from_url(settings.QUOTA_REDIS_URL or settings.REDIS_URL)
    in_caller = []

    def ping(_index):
        ping_client.ping()

    def select_one(_index):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    def on_redis(index):
        assert shared.consume(limits=roomy, **subject(index))

    def on_postgresql(index):
        assert quota_consume(limits=roomy, **subject(index, base=1_900_000)).allowed

    def on_postgresql_in_callers_transaction(index):
        with transaction.atomic():
            started = time.perf_counter()
            assert quota_consume(limits=roomy, **subject(index, base=1_900_000)).allowed
            in_caller.append((time.perf_counter() - started) * 1000)

    def cleanup():
        QuotaCounter.objects.filter(key__regex=r":(9|19)\d{5}:").delete()
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE bench_quota_grant, bench_quota_twin")
        shared.delete_keys()

    names = ("redis PING", "Redis + ledger engine", "SELECT 1", "PostgreSQL engine",
             "PostgreSQL engine, in the caller's transaction")
    samples = {name: [] for name in names}
    exact, restart = {}, {}
    private = PrivateRedis()
    try:
        cleanup()
        for index in range(args.officers):  # warm-up: connections, scripts, every subject's rows and keys
            on_redis(index)
            on_postgresql(index)
        for round_number in range(args.rounds):
            samples["redis PING"] += timed(ping, args.calls)
            samples["Redis + ledger engine"] += timed(on_redis, args.calls)
            samples["SELECT 1"] += timed(select_one, args.calls)
            samples["PostgreSQL engine"] += timed(on_postgresql, args.calls)
            timed(on_postgresql_in_callers_transaction, args.calls)
            samples["PostgreSQL engine, in the caller's transaction"] += in_caller
            in_caller.clear()
            print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr, flush=True)

        def at_once(call, count=50):
            barrier, outcomes = threading.Barrier(count), []

            def run():
                barrier.wait(30)
                try:
                    outcomes.append(call())
                finally:
                    connections.close_all()

            threads = [threading.Thread(target=run) for _ in range(count)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            return sum(1 for outcome in outcomes if outcome)

        exact["PostgreSQL engine"] = at_once(
            lambda: quota_consume(officer_id=2_900_001, unit_id=2_900_001, limits=tight).allowed)
        exact["Redis + ledger engine"] = at_once(lambda: shared.consume(officer_id=2_900_002, unit_id=2_900_002,
                                                                        limits=tight))

        first = sum(quota_consume(officer_id=2_900_003, unit_id=2_900_003, limits=tight).allowed for _ in range(5))
        connections.close_all()
        restart["PostgreSQL engine"] = first + sum(
            quota_consume(officer_id=2_900_003, unit_id=2_900_003, limits=tight).allowed for _ in range(10))
        private.start()
        engine = RedisEngine(f"redis://127.0.0.1:{private.port}/0")
        first = sum(engine.consume(officer_id=2_900_004, unit_id=2_900_004, limits=tight) for _ in range(5))
        private.stop()
        private.start()
        restart["Redis + ledger engine"] = first + sum(
            engine.consume(officer_id=2_900_004, unit_id=2_900_004, limits=tight) for _ in range(10))
    finally:
        private.stop()
        cleanup()
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_quota_grant, bench_quota_twin")

    baselines = {"Redis + ledger engine": "redis PING", "PostgreSQL engine": "SELECT 1",
                 "PostgreSQL engine, in the caller's transaction": "SELECT 1"}
    print()
    print(f"Quota engines, {args.rounds} × {args.calls} calls a kind alternating, {args.officers} officers in "
          f"{args.units} units, {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print()
    print("| what | p50 ms | p99 ms | p50 / baseline | p99 / baseline | goal p99 ≤ 2 ms | 50 at once, limit 10 "
          "| across a restart, limit 10 |")
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    for name, values in samples.items():
        p50, p99 = statistics.median(values), percentile(values, 0.99)
        if name in baselines:
            base = samples[baselines[name]]
            ratio50 = f"{p50 / statistics.median(base):.1f}× {baselines[name]}"
            ratio99 = f"{p99 / percentile(base, 0.99):.1f}×"
            goal = "met" if p99 <= GOAL_MS else "NOT met"
        else:
            ratio50 = ratio99 = "baseline"
            goal = ""
        engine_name = name.split(",")[0]
        allowed = f"{exact[engine_name]}" if name in exact else ""
        restarted = f"{restart[engine_name]}" if name in restart else ""
        print(f"| {name} | {p50:.3f} | {p99:.3f} | {ratio50} | {ratio99} | {goal} | {allowed} | {restarted} |")
    print()
    print("The Redis engine's restart figure is its hot path alone: without the ~250 lines that re-seeded a "
          "Redis that lost its data from the PostgreSQL ledger, a restarted Redis hands out fresh windows.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
