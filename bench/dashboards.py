"""Dashboards at nationwide volume: 3,000 units, 200,000 accounts and two years of daily snapshots,
p50/p95 and the query count of every dashboard page for a province-wide reader (an inspector) and a
district leader, against a baseline measured in the same run.

docs/architecture.md, "Numbers it must reach": dashboards answer in under 300 ms (p95) for a province-wide reader
at nationwide data volume, from pre-aggregated daily figures, never by scanning lookups or all
accounts. Timings are printed, never asserted.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_compliance_bench \\
        REDIS_URL=redis://127.0.0.1:6379/7 .venv/bin/python bench/dashboards.py

What it does:
  1. creates the database named in DATABASE_URL when missing and migrates it; when its unit table is
     empty, generates the volume in bulk with INSERT … SELECT generate_series (a few minutes): a root,
     --districts units below it and wards under each (3,000 units in all), --accounts officers spread
     over the wards with password ages from 0 to 200 days, sign-ins up to 90 days back, and --days
     days of snapshots for every unit (2,193,000 rows for two years), then VACUUM (ANALYZE);
  2. times the daily snapshot job over the 200,000 accounts once (services.snapshot_take), as the
     job would run it tonight (its rows for today are removed first, so it always runs in full);
  3. with Django's test client in this process (the whole middleware stack, sessions in PostgreSQL,
     the policy cached in Redis), requests each page --requests times after a warm-up and prints
     p50, p95 and the number of SQL queries per request; the baseline is GET /healthz (a database and
     a Redis round trip), so the ratio says what a dashboard costs over the lightest page.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


def ensure_database(url: str) -> None:
    from urllib.parse import urlparse

    import psycopg2

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = psycopg2.connect(host=parsed.hostname, port=parsed.port or 5432, user=parsed.username or "postgres",
                             dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def generate(*, districts: int, wards: int, accounts: int, days: int) -> None:
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("""INSERT INTO accounts_unit (code, name, kind, path, state, created_at, change_basis)
                          VALUES ('000.00.00.B01', 'Toàn quốc (bench)', 'province', '', 'active', now(), '')
                          RETURNING id""")
        root = cursor.fetchone()[0]
        cursor.execute("UPDATE accounts_unit SET path = '/' || lpad(id::text, 8, '0') || '/' WHERE id = %s", [root])
        cursor.execute("""INSERT INTO accounts_unit (code, name, kind, path, state, created_at, change_basis, parent_id)
                          SELECT lpad(n::text, 3, '0') || '.00.01.B01', 'Huyện ' || n, 'district', '', 'active',
                                 now(), '', %s FROM generate_series(1, %s) AS n""", [root, districts])
        cursor.execute("""UPDATE accounts_unit u SET path = p.path || lpad(u.id::text, 8, '0') || '/'
                          FROM accounts_unit p WHERE u.parent_id = p.id AND p.id = %s""", [root])
        cursor.execute("""INSERT INTO accounts_unit (code, name, kind, path, state, created_at, change_basis, parent_id)
                          SELECT lpad((w %% 1000)::text, 3, '0') || '.' || lpad((w / 1000)::text, 2, '0') || '.02.B01',
                                 'Xã ' || w, 'commune', '', 'active', now(), '', d.id
                          FROM (SELECT id, row_number() OVER (ORDER BY id) AS k FROM accounts_unit
                                WHERE parent_id = %s) d,
                               generate_series((d.k - 1) * %s + 1, d.k * %s) AS w""", [root, wards, wards])
        cursor.execute("""UPDATE accounts_unit u SET path = p.path || lpad(u.id::text, 8, '0') || '/'
                          FROM accounts_unit p WHERE u.parent_id = p.id AND u.path = ''""")
        print(f"  units: {time.monotonic() - started:.1f} s")
        cursor.execute("""INSERT INTO accounts_user (password, last_login, username, full_name, email, phone, role,
                              can_lookup, is_active, disabled_reason, password_changed_at, password_change_reason,
                              created_at, unit_id, password_set_by_self)
                          SELECT '!', now() - (random() * 90) * interval '1 day', 'bench.' || n, 'Cán bộ ' || n,
                                 '', '', 'officer', n %% 3 = 0, n %% 50 <> 0, '',
                                 CASE WHEN n %% 40 = 0 THEN NULL
                                      ELSE now() - (random() * 200) * interval '1 day' END,
                                 '', now() - interval '400 days', w.id, true
                          FROM generate_series(1, %s) AS n
                          JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS c
                                FROM accounts_unit WHERE kind = 'commune') w ON w.k = n %% w.c""", [accounts])
        print(f"  accounts: {time.monotonic() - started:.1f} s")
        cursor.execute("""INSERT INTO compliance_unitsnapshot (day, unit_id, unit_code, unit_name, unit_path, depth,
                              accounts_total, accounts_compliant, accounts_own, password_expired, one_time_unused,
                              dormant, uncertified, turnover_overdue, lookup_quota, lookup_anomaly, second_factor,
                              expiring_week, lookups_allowed, lookups_refused, lockouts, rules_not_judged, taken_at)
                          SELECT d::date, u.id, u.code, u.name, u.path,
                                 greatest(length(u.path) - length(replace(u.path, '/', '')) - 2, 0),
                                 t.total, (t.total * (0.5 + random() * 0.5))::int, t.total, (t.total * random() * 0.3)::int,
                                 0, (t.total * random() * 0.1)::int, 0, 0, 0, 0, 0, (t.total * random() * 0.05)::int,
                                 (t.total * random() * 3)::int, (t.total * random() * 0.1)::int, (random() * 2)::int,
                                 '["lookup_anomaly"]', d + interval '23 hours 40 minutes'
                          FROM accounts_unit u
                          JOIN LATERAL (SELECT CASE WHEN u.parent_id IS NULL THEN %s
                                                    WHEN u.kind = 'district' THEN %s ELSE 67 END AS total) t ON true
                          CROSS JOIN generate_series(current_date - (%s - 1), current_date, interval '1 day') AS d""",
                       [accounts, accounts // max(districts, 1), days])
        print(f"  snapshots: {time.monotonic() - started:.1f} s")
    connection.connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    print(f"  vacuum: {time.monotonic() - started:.1f} s")


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(client, path, requests):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert client.get(path).status_code == 200, path  # warm-up (and the policy into the cache)
    timings, queries = [], 0
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        queries = len(captured)
    return statistics.median(timings), percentile(timings, 0.95), queries


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--districts", type=int, default=30)
    parser.add_argument("--wards", type=int, default=99, help="wards under each district")
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=731)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"], check=True)
    from django.test import Client
    from django.utils import timezone

    from accounts.models import Unit, User
    from compliance.models import UnitSnapshot
    from compliance.services import snapshot_take
    from portal.actors import SystemActor

    if not Unit.objects.exists():
        print("Generating the volume…")
        generate(districts=args.districts, wards=args.wards, accounts=args.accounts, days=args.days)
    root = Unit.objects.filter(parent__isnull=True).order_by("path").first()
    district = Unit.objects.filter(parent=root).order_by("path").first()
    ward = Unit.objects.filter(parent=district).order_by("path").first()
    print(f"Volume: {Unit.objects.count()} units, {User.objects.count()} accounts, "
          f"{UnitSnapshot.objects.count()} snapshots")

    UnitSnapshot.objects.filter(day=timezone.localdate()).delete()
    start = time.perf_counter()
    written = snapshot_take(actor=SystemActor("command_line"))
    print(f"Daily snapshot job: {written} units over {User.objects.count()} accounts in "
          f"{time.perf_counter() - start:.1f} s")

    inspector, _ = User.objects.get_or_create(username="bench.inspector", defaults={
        "full_name": "Thanh tra bench", "unit": root, "role": "inspector", "password": "!",
        "password_changed_at": timezone.now()})
    leader, _ = User.objects.get_or_create(username="bench.leader", defaults={
        "full_name": "Lãnh đạo bench", "unit": district, "role": "unit_leader", "password": "!",
        "password_changed_at": timezone.now()})
    pages = [
        ("baseline: /healthz", inspector, "/healthz"),
        ("inspector: / (province dashboard)", inspector, "/"),
        ("inspector: province, a past month", inspector,
         f"/compliance/units/{root.pk}/?month={(timezone.localdate().replace(day=1) - timezone.timedelta(days=200)):%Y-%m}"),
        ("inspector: province chart.json", inspector, f"/compliance/units/{root.pk}/chart.json"),
        ("inspector: a district", inspector, f"/compliance/units/{district.pk}/"),
        ("leader: / (district dashboard)", leader, "/"),
        ("leader: a ward", leader, f"/compliance/units/{ward.pk}/"),
        ("leader: a ward's failing accounts", leader, f"/compliance/units/{ward.pk}/accounts/?reason=password_expired"),
    ]
    rows = []
    for name, user, path in pages:
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        rows.append((name, *measure(client, path, args.requests)))
    baseline_p50 = rows[0][1]
    print()
    print("| page | p50 ms | p95 ms | queries | p50 / baseline |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, p50, p95, queries in rows:
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {queries} | {p50 / baseline_p50:.1f}× |")
    worst = max(p95 for name, _p50, p95, _q in rows if name.startswith("inspector"))
    print()
    print(f"Province-wide reader, worst p95: {worst:.1f} ms (goal < 300 ms): {'met' if worst < 300 else 'NOT met'}")


if __name__ == "__main__":
    main()
