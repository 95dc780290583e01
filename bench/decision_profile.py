"""Where a lookup decision's time goes: statement by statement, and in Python.

Runs `POST /api/v1/lookups/` and the bench's bare authenticated view (`POST /bench/baseline/`) in this
process through Django's test client (the whole middleware chain, no HTTP server), alternating, and
prints:
  - the wall and CPU time per call of each side, and their ratio;
  - every SQL statement and Redis command a decision sends, in order, with its count per call and its
    median time (Django's execute wrapper; Redis commands through a wrapped connection) — PostgreSQL's
    pg_stat_statements needs a server restart to load, which a shared server does not get;
  - with --pyinstrument, pyinstrument's call tree of the decisions (requirements-test.txt pins it);
  - when the server has pg_stat_statements loaded (shared_preload_libraries; a private server of one's own,
    since the shared one is not restarted for it: see the README), PostgreSQL's own account of the
    decisions: every statement, those inside the server-side functions too (track = all), with its calls
    and execution time per decision.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \\
        REDIS_URL=redis://127.0.0.1:6379/2 .venv/bin/python bench/decision_profile.py

It sets up the bench database as bench/lookups.py does (same officers, raised quotas, a new API client).
Timings are printed, never asserted; on a shared machine read the ratio and the shares, not the
milliseconds.
"""
import argparse
import os
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import lookups as bench_lookups  # noqa: E402  (sets the default environment)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=400, help="calls of each side per round (default 400)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pyinstrument", action="store_true", help="print pyinstrument's tree of the decisions")
    return parser.parse_args()


_LITERALS = re.compile(r"('(?:[^']|'')*'|\b\d+(?:\.\d+)?\b)")
_SAVEPOINT = re.compile(r'"s\d+_x\d+"')


def statement_shape(sql: str) -> str:
    shape = _SAVEPOINT.sub("sp", _LITERALS.sub("?", " ".join(sql.split())))
    return shape if len(shape) <= 150 else shape[:147] + "..."


class StatementLog:
    def __init__(self):
        self.active = False
        self.times = defaultdict(list)
        self.order = []

    def __call__(self, execute, sql, params, many, context):
        if not self.active:
            return execute(sql, params, many, context)
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            shape = statement_shape(sql)
            if shape not in self.times:
                self.order.append(shape)
            self.times[shape].append(time.perf_counter() - began)


def redis_wrapped(log: StatementLog):
    """Time every Redis command the portal sends (the cache, the rate limit, the quota script)."""
    import redis

    original = redis.Redis.execute_command

    def execute_command(self, *args, **options):
        if not log.active:
            return original(self, *args, **options)
        began = time.perf_counter()
        try:
            return original(self, *args, **options)
        finally:
            shape = f"redis {args[0]}" + (f" {str(args[1])[:12]}…" if args[0] in ("EVALSHA", "EVAL") else "")
            if shape not in log.times:
                log.order.append(shape)
            log.times[shape].append(time.perf_counter() - began)

    redis.Redis.execute_command = execute_command


def pg_stat_statements(connection, decide, calls: int) -> None:
    """PostgreSQL's account of `calls` decisions (nested statements included), when the server has the
    extension loaded; a line saying so otherwise."""
    from django.db import DatabaseError

    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            cursor.execute("SELECT pg_stat_statements_reset()")
    except DatabaseError as error:
        print(f"\npg_stat_statements: not available on this server ({str(error).strip().splitlines()[0]}).")
        return
    decide()
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT toplevel, calls, total_exec_time, rows, shared_blks_hit + shared_blks_read + shared_blks_dirtied,
                   regexp_replace(query, '\\s+', ' ', 'g')
              FROM pg_stat_statements
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND query NOT LIKE '%%pg_stat_statements%%'
             ORDER BY toplevel DESC, total_exec_time DESC""")
        rows = cursor.fetchall()
    print(f"\npg_stat_statements over {calls} decisions (execution time in the server; a nested statement's "
          "time is inside its function's):")
    print("| level | statement | calls per decision | ms per decision | rows per call | buffers per call |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for toplevel, count, total, row_count, buffers, query in rows:
        if total / calls < 0.001:
            continue
        shape = query if len(query) <= 140 else query[:137] + "..."
        print(f"| {'top' if toplevel else 'nested'} | `{shape}` | {count / calls:.2f} | {total / calls:.3f} "
              f"| {row_count / count:.1f} | {buffers / count:.1f} |")


def main():
    args = parse_args()
    bench_lookups.database_ensure()
    bench_lookups.manage("migrate", "--noinput", "-v", "0")
    bench_lookups.manage("seed_demo")  # under the portal's settings (DEBUG=1: the demo accounts may be seeded)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bench_settings"  # as the bench's gunicorn: Django's DEBUG off
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    usernames = bench_lookups.officers_ensure(300)
    bench_lookups.quotas_raise()
    token = bench_lookups.api_client_token()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    bodies = bench_lookups.Bodies(usernames, seed=1)
    log = StatementLog()
    redis_wrapped(log)

    def backend_cpu() -> float:
        """CPU seconds of this process's PostgreSQL backend so far (/proc: the server is on this host)."""
        active, log.active = log.active, False  # not one of the decision's statements
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
        finally:
            log.active = active
        return bench_lookups._cpu_of(pid)

    def side(path, count, expect):
        began, cpu, server = time.perf_counter(), time.process_time(), backend_cpu()
        for _ in range(count):
            response = client.post(path, bodies.next(), content_type="application/json")
            if response.status_code != 200 or expect not in response.content:
                sys.exit(f"{path} answered {response.status_code}: {response.content[:200]!r}")
        return ((time.perf_counter() - began) / count, (time.process_time() - cpu) / count,
                (backend_cpu() - server) / count)

    with connection.execute_wrapper(log):
        side(bench_lookups.BASELINE_PATH, 50, b"allow")
        side(bench_lookups.LOOKUP_PATH, 50, b"allow")  # warm: connections, prepared plans, caches
        rows = []
        for _round in range(args.rounds):
            base = side(bench_lookups.BASELINE_PATH, args.calls, b"allow")
            log.active = True
            look = side(bench_lookups.LOOKUP_PATH, args.calls, b"allow")
            log.active = False
            rows.append((base, look))
            print(f"  baseline {base[0] * 1000:.2f} ms ({base[1] * 1000:.2f} CPU, PostgreSQL {base[2] * 1000:.2f}), "
                  f"decision {look[0] * 1000:.2f} ms ({look[1] * 1000:.2f} CPU, PostgreSQL {look[2] * 1000:.2f}), "
                  f"ratio {base[0] / look[0]:.2f}", flush=True)
        calls = args.calls * args.rounds
        print()
        print(f"Per call, median of {args.rounds} rounds × {args.calls} calls, in-process (test client):")
        base_wall = statistics.median(row[0][0] for row in rows) * 1000
        look_wall = statistics.median(row[1][0] for row in rows) * 1000
        base_cpu = statistics.median(row[0][1] for row in rows) * 1000
        look_cpu = statistics.median(row[1][1] for row in rows) * 1000
        base_pg = statistics.median(row[0][2] for row in rows) * 1000
        look_pg = statistics.median(row[1][2] for row in rows) * 1000
        print(f"  bare authenticated view {base_wall:.2f} ms wall, {base_cpu:.2f} ms CPU, its PostgreSQL backend "
              f"{base_pg:.2f} ms CPU")
        print(f"  lookup decision         {look_wall:.2f} ms wall, {look_cpu:.2f} ms CPU, its PostgreSQL backend "
              f"{look_pg:.2f} ms CPU")
        print(f"  ratio (wall) {base_wall / look_wall:.2f}, (CPU) {base_cpu / look_cpu:.2f}, (CPU with PostgreSQL's) "
              f"{(base_cpu + base_pg) / (look_cpu + look_pg):.2f}")
        print()
        print("| # | statement (literals as ?) | per decision | median ms | total ms per decision |")
        print("| ---: | --- | ---: | ---: | ---: |")
        total = 0.0
        for index, shape in enumerate(log.order, 1):
            times = log.times[shape]
            per = len(times) / calls
            share = sum(times) / calls * 1000
            total += share
            print(f"| {index} | `{shape}` | {per:.2f} | {statistics.median(times) * 1000:.3f} | {share:.3f} |")
        print(f"| | **all statements and Redis commands** | {sum(len(t) for t in log.times.values()) / calls:.2f} "
              f"| | **{total:.2f}** |")
        print(f"\nThe rest of a decision's {look_wall:.2f} ms ({look_wall - total:.2f} ms) is Python: the middleware "
              f"chain (shared with the baseline's {base_wall:.2f} ms), django-ninja, the checks and the ORM.")
        pg_stat_statements(connection, lambda: side(bench_lookups.LOOKUP_PATH, args.calls, b"allow"), args.calls)
        if args.pyinstrument:
            try:
                from pyinstrument import Profiler
            except ImportError:
                sys.exit("pyinstrument is not installed (.venv/bin/pip install pyinstrument)")
            profiler = Profiler(interval=0.0002)
            profiler.start()
            side(bench_lookups.LOOKUP_PATH, args.calls, b"allow")
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
