"""One reminder pass over 200,000 accounts against a bulk insert of as many notice rows, in the same run.

docs/architecture.md, "Numbers it must reach": the reminder job handles 200,000 accounts in one pass with a
constant number of queries, at no less than half the rate of a bulk insert of as many rows. Both sides
write the same table (notifications_notice, with its unique keys and indexes), alternately, --rounds
times, and are compared by their medians; the table is emptied (TRUNCATE) and analysed before each
phase. Timings are printed, never asserted.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_notify_bench \\
        REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/reminders.py

  baseline  Django's bulk_create of N Notice rows built in Python (batches of 5,000): what inserting
            N rows costs through the ORM; and the strictest one, a single INSERT … SELECT of constant
            rows (one per account, no rule at all): what N rows cost PostgreSQL itself;
  pass      notifications.reminders.reminders_send (dispatch off: the e-mails are the delivery job's),
            which chooses the due accounts, computes each one's threshold and inserts the N notices,
            counted in SQL queries too.

Every bench account is due (a threshold of 14, 7, 3, 1 days or expired, spread evenly), so the pass
writes exactly as many rows as the baseline.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

DEFAULT_ENV = {
    "DEBUG": "1",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal_notify_bench",
    "REDIS_URL": "redis://127.0.0.1:6379/5",
}
for _name, _value in DEFAULT_ENV.items():
    os.environ.setdefault(_name, _value)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
GOAL = 0.5
UNIT_CODE = "000.77.99.H19"
DAYS_LEFT = (12.0, 5.0, 2.0, 0.5, -3.0)  # → thresholds 14, 7, 3, 1 and 0 (expired)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=200_000, help="accounts, all due (default 200,000)")
    parser.add_argument("--rounds", type=int, default=3, help="baseline+pass pairs (default 3)")
    return parser.parse_args()


def database_ensure():
    import psycopg2
    from django.conf import settings

    database = settings.DATABASES["default"]
    connection = psycopg2.connect(dbname="postgres", user=database["USER"], host=database["HOST"],
                                  port=database["PORT"] or 5432)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{database["NAME"]}"')
    connection.close()
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR, check=True)


def accounts_ensure(count: int):
    """`count` bench officers in one unit, their passwords due at the five thresholds in turn."""
    from django.utils import timezone

    from accounts.choices import Role, UnitKind
    from accounts.models import Unit, User, unit_path_below

    unit = Unit.objects.filter(code=UNIT_CODE).first()
    if unit is None:
        unit = Unit.objects.create(code=UNIT_CODE, name="Đơn vị đo hiệu năng", kind=UnitKind.COMMUNE)
        unit.path = unit_path_below(None, unit.pk)
        unit.save(update_fields=["path"])
    now = timezone.now()
    have = User.objects.filter(unit=unit).count()
    if have < count:
        print(f"creating {count - have} bench accounts…", flush=True)
        for start in range(have, count, 20_000):
            User.objects.bulk_create([
                User(username=f"bench.reminder{index:06d}", full_name=f"Cán bộ đo {index}", unit=unit,
                     role=Role.OFFICER, password="!", email=f"bench.reminder{index:06d}@example.gov.vn",
                     password_changed_at=now)
                for index in range(start, min(start + 20_000, count))], batch_size=5000)
    # Due now, whatever day this runs: spread over the thresholds by id.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_user SET password_changed_at = %s + CASE id %% 5 "
            + " ".join(f"WHEN {i} THEN interval '{days * 24:.0f} hours'" for i, days in enumerate(DAYS_LEFT))
            + " END WHERE unit_id = %s",
            [now - timedelta(days=90, hours=1), unit.pk])
    return unit


def table_reset():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE notifications_notice")
    with connection.cursor() as cursor:  # autocommit: VACUUM runs outside a transaction
        cursor.execute("VACUUM ANALYZE notifications_notice")
        cursor.execute("VACUUM ANALYZE accounts_user")


def baseline(unit, count: int) -> float:
    from django.utils import timezone

    from accounts.models import User
    from notifications.choices import DeliveryState, NoticeKind
    from notifications.models import Notice

    ids = list(User.objects.filter(unit=unit).order_by("id").values_list("id", flat=True)[:count])
    now = timezone.now()
    started = time.perf_counter()
    Notice.objects.bulk_create([
        Notice(recipient_id=pk, kind=NoticeKind.PASSWORD_EXPIRY, threshold=7, password_version=now,
               deadline=now, created_at=now, email_to="x@example.gov.vn", email_state=DeliveryState.READY)
        for pk in ids], batch_size=5000)
    return time.perf_counter() - started


def baseline_sql(unit, count: int) -> float:
    """The strictest baseline: as many rows inserted by one INSERT … SELECT of constants (no rule)."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO notifications_notice (recipient_id, kind, threshold, password_version, source_key, context,"
            " deadline, created_at, email_to, email_state, attempts, last_error)"
            " SELECT id, 'password_expiry', 7, %s, '', '{}'::jsonb, %s, %s, email, 'ready', 0, ''"
            " FROM accounts_user WHERE unit_id = %s ORDER BY id LIMIT %s RETURNING id",
            [now, now, now, unit.pk, count])
        cursor.fetchall()
    return time.perf_counter() - started


def reminder_pass(count: int) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.reminders import reminders_send
    from policy.selectors import policy_cache_clear

    policy_cache_clear()
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        result = reminders_send(dispatch=False)
    elapsed = time.perf_counter() - started
    if len(result.notice_ids) != count:
        raise SystemExit(f"the pass made {len(result.notice_ids)} notices, not {count}")
    return elapsed, len(queries.captured_queries)


def main():
    args = parse_args()
    import django

    django.setup()
    database_ensure()
    unit = accounts_ensure(args.accounts)
    baselines, sql_baselines, passes, query_counts = [], [], [], []
    for round_number in range(1, args.rounds + 1):
        table_reset()
        baselines.append(baseline(unit, args.accounts))
        table_reset()
        sql_baselines.append(baseline_sql(unit, args.accounts))
        table_reset()
        elapsed, queries = reminder_pass(args.accounts)
        passes.append(elapsed)
        query_counts.append(queries)
        print(f"round {round_number}: bulk_create {baselines[-1]:.2f} s, INSERT … SELECT {sql_baselines[-1]:.2f} s, "
              f"pass {elapsed:.2f} s, {queries} queries", flush=True)
    table_reset()
    base = statistics.median(baselines)
    sql_base = statistics.median(sql_baselines)
    run = statistics.median(passes)
    ratio = base / run
    sql_ratio = sql_base / run
    print()
    print("| side | median time | rows/s |")
    print("| --- | --- | --- |")
    print(f"| bulk insert (bulk_create, {args.accounts:,} rows) | {base:.2f} s | {args.accounts / base:,.0f} |")
    print(f"| bulk insert (one INSERT … SELECT of constants, {args.accounts:,} rows) | {sql_base:.2f} s | "
          f"{args.accounts / sql_base:,.0f} |")
    print(f"| reminder pass ({args.accounts:,} accounts due) | {run:.2f} s | {args.accounts / run:,.0f} |")
    print()
    print(f"ratio pass / bulk_create: {ratio:.2f}; pass / INSERT … SELECT: {sql_ratio:.2f} (goal ≥ {GOAL} for both); "
          f"queries per pass: {', '.join(str(count) for count in query_counts)}")


if __name__ == "__main__":
    main()
