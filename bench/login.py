"""Login throughput through the real login view against raw Argon2 verifications, in the same run.

docs/architecture.md, "Numbers it must reach": a login costs the password hash plus little else — throughput at
least 80% of raw hash verifications. The two are measured on the same machine in alternating phases
(baseline, logins, baseline, logins, …) and compared by their medians, so that a noisy neighbour or a
CPU frequency change hits both sides alike. Timings are printed, never asserted.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \
        REDIS_URL=redis://127.0.0.1:6379/2 .venv/bin/python bench/login.py

What it does:
  1. creates the database named in DATABASE_URL when missing, migrates it, seeds the demo unit tree
     (`manage.py seed_demo`) and --accounts bench accounts `bench.user000`… (officers, ready to use);
  2. starts gunicorn (--workers sync workers, 2 by default) on a free local port;
  3. alternates two phases of --seconds each, --rounds times:
       baseline  one process per gunicorn worker calling Django's check_password on a hash from
                 make_password — the project's first hasher, Argon2 — as fast as it can;
       logins    --clients threads, each with its own CSRF cookie and token, POSTing username/password
                 to /accounts/login/ with a fresh session every time (only the csrftoken cookie is
                 sent), cycling over the bench accounts so that no django-axes counter is touched;
                 a success is a 302 to "/", anything else is counted and printed as an error;
     and, alongside the wall-clock rates, the CPU time each side costs: the baseline processes' own,
     and gunicorn's plus its PostgreSQL backends' for the logins — a figure that other jobs on a shared
     machine barely disturb;
  4. prints a markdown table with the medians, the ratios and what they mean; stops gunicorn (and
     any baseline process) on every exit, Ctrl-C and SIGTERM included. Exit status 1 when a login failed.

`--population N` pads the accounts table to N (its own database, <name>_N) to see a nationwide-sized
table; `--profile N` logs in N times in-process through Django's test Client under cProfile and prints
where a login's time goes (hash, each SQL statement, Redis, session, signals, middleware).
"""
import argparse
import contextlib
import cProfile
import http.client
import multiprocessing
import os
import pstats
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

# The documented bench environment, unless the caller's environment says otherwise (`make bench`).
DEFAULT_ENV = {
    "DEBUG": "1",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal_bench",
    "REDIS_URL": "redis://127.0.0.1:6379/2",
    # The bench's clients all come from 127.0.0.1 (or one token): the rate limit (portal.ratelimit) still
    # counts every request — its cost is measured — but never refuses one.
    "RATE_LIMIT_SIGNIN_PER_MINUTE": "100000000",
}
for _name, _value in DEFAULT_ENV.items():
    os.environ.setdefault(_name, _value)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

BENCH_USERNAME = "bench.user{:03d}"
BENCH_UNIT_CODE = "000.01.31.H19"  # a Biên Hòa ward from seed_demo's tree
LOGIN_PATH = "/accounts/login/"
GOAL = 0.8


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=50, help="bench accounts to cycle over (default 50)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent login clients (default 4)")
    parser.add_argument("--workers", type=int, default=2,
                        help="gunicorn workers, and baseline processes (default 2)")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each phase (default 6)")
    parser.add_argument("--rounds", type=int, default=7, help="baseline+logins pairs (default 7)")
    parser.add_argument("--population", type=int, default=0, metavar="N",
                        help="pad the account table to N accounts (idle bench.pad… officers), e.g. 200000 for "
                             "the nationwide scale of docs/architecture.md; uses its own database <name>_N, so that the "
                             "default run keeps a small table")
    parser.add_argument("--password", default="Bench-Quat-Mua-7!", help="password of the bench accounts")
    parser.add_argument("--profile", type=int, metavar="N", default=0,
                        help="instead of the benchmark: profile N in-process logins and print the breakdown")
    args = parser.parse_args()
    if args.accounts < args.clients:
        parser.error("--accounts must be at least --clients: two clients never log in to the same account at once")
    return args


# --------------------------------------------------------------------------------------------------
# Interruptions: Ctrl-C and SIGTERM unwind through `finally` blocks, which stop what was started

_interrupts = {"deferred": False, "pending": False, "raised": False}


def interrupt(signum, frame):
    if _interrupts["raised"]:
        return  # already stopping: a second signal (`timeout` sends two) must not cut the clean-up short
    if _interrupts["deferred"]:
        _interrupts["pending"] = True
        return
    _interrupts["raised"] = True
    raise KeyboardInterrupt


@contextlib.contextmanager
def interrupts_deferred():
    """Hold Ctrl-C/SIGTERM until the block is done (e.g. until a started process is recorded)."""
    _interrupts["deferred"] = True
    try:
        yield
    finally:
        _interrupts["deferred"] = False
        if _interrupts["pending"]:
            _interrupts["pending"] = False
            _interrupts["raised"] = True
            raise KeyboardInterrupt


# --------------------------------------------------------------------------------------------------
# Set-up: database, migrations, unit tree, bench accounts


def database_ensure():
    """CREATE DATABASE <name from DATABASE_URL> when it does not exist (PostgreSQL only)."""
    import environ
    import psycopg2

    config = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    if "postgresql" not in config["ENGINE"]:
        sys.exit(f"bench/login.py needs PostgreSQL (DATABASE_URL is {os.environ['DATABASE_URL']!r}).")
    name = config["NAME"]
    connection = psycopg2.connect(
        dbname="postgres", user=config.get("USER") or None, password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None, port=config.get("PORT") or None,
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
                print(f"Created database {name}.")
    finally:
        connection.close()


def manage(*args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, check=True, env=os.environ.copy())


def bench_accounts_ensure(count: int, password: str) -> list[str]:
    """Bench officers, ready to use: a password set now, nothing forcing a change, no axes history."""
    from axes.models import AccessAttempt
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.choices import Role
    from accounts.models import Unit, User

    unit = Unit.objects.get(code=BENCH_UNIT_CODE)
    encoded = make_password(password)  # one hash for all: each verification costs the same
    usernames = [BENCH_USERNAME.format(index) for index in range(count)]
    for username in usernames:
        User.objects.update_or_create(username=username, defaults={
            "full_name": f"Cán bộ Đo tải {username[-3:]}",
            "email": f"{username}@example.invalid",
            "unit": unit,
            "role": Role.OFFICER,
            "is_active": True,
            "password": encoded,
            "password_changed_at": timezone.now(),
            "password_change_reason": "",
            "one_time_password_expires_at": None,
        })
    AccessAttempt.objects.filter(username__startswith="bench.").delete()
    return usernames


def population_ensure(total: int, password: str):
    """Idle accounts up to `total` in the table, so that per-login queries meet a nationwide-sized
    accounts table (docs/architecture.md: 200,000 accounts). Never logged in; added once, kept between runs."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.choices import Role
    from accounts.models import Unit, User

    missing = total - User.objects.count()
    if missing <= 0:
        return
    print(f"Adding {missing} idle accounts (bench.pad…) to reach {total}…")
    units = list(Unit.objects.values_list("id", flat=True))
    encoded = make_password(password)
    start = User.objects.filter(username__startswith="bench.pad").count()
    now = timezone.now()
    batch = []
    for number in range(start, start + missing):
        batch.append(User(
            username=f"bench.pad{number:06d}", full_name=f"Cán bộ {number}", unit_id=units[number % len(units)],
            role=Role.OFFICER, password=encoded, password_changed_at=now,
        ))
        if len(batch) == 5000:
            User.objects.bulk_create(batch)
            batch = []
    User.objects.bulk_create(batch)


# --------------------------------------------------------------------------------------------------
# Gunicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, workers: int):
        self.workers = workers
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)
        self.process = None

    def start(self):
        gunicorn = Path(sys.executable).with_name("gunicorn")
        # Own session, so that stopping its process group stops the workers too, and Ctrl-C in the
        # terminal reaches only this script (which then stops gunicorn in order). A Ctrl-C during
        # Popen waits until self.process is set, so that stop() always knows what to stop.
        with interrupts_deferred():
            self.process = subprocess.Popen(
                [str(gunicorn), "--workers", str(self.workers), "portal.wsgi:application",
                 "--bind", f"127.0.0.1:{self.port}"],
                cwd=BASE_DIR, env=os.environ.copy(), stdout=self.log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                status, _, _ = http_request(self.port, "GET", LOGIN_PATH)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(Path(self.log.name).read_text(errors="replace").splitlines()[-lines:])

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)  # gunicorn's graceful stop
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        self.log.close()
        os.unlink(self.log.name)


# CPU time, the noise-resistant view: on a shared machine, other jobs stretch wall-clock phases unevenly,
# but the CPU time an operation costs barely changes with load.
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) so far; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14 and 15)


def server_processes(gunicorn_pid: int, database: str) -> list[int]:
    """The processes a login runs in: gunicorn's master and workers, and the PostgreSQL backends
    connected to the bench database (their process title names it). Redis is shared and left out."""
    pids = [gunicorn_pid]
    try:
        pids += [int(pid) for pid in Path(f"/proc/{gunicorn_pid}/task/{gunicorn_pid}/children").read_text().split()]
    except OSError:
        pass
    backend_title = re.compile(rf"^postgres: .*: \S+ {re.escape(database)} ")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            except OSError:
                continue
            if backend_title.match(title):
                pids.append(int(entry.name))
    return pids


class ServerCpu:
    """CPU seconds the server side spent between start() and stop()."""

    def __init__(self, gunicorn_pid: int, database: str):
        self.gunicorn_pid = gunicorn_pid
        self.database = database

    def start(self):
        self.before = {pid: cpu_seconds(pid) for pid in server_processes(self.gunicorn_pid, self.database)}

    def stop(self) -> float:
        after = {pid: cpu_seconds(pid) for pid in server_processes(self.gunicorn_pid, self.database)}
        return sum(seconds - self.before.get(pid, 0.0) for pid, seconds in after.items() if seconds)


# --------------------------------------------------------------------------------------------------
# Login client (http.client: `requests` is not in the project's requirements)

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def http_request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def csrftoken_from(headers) -> str | None:
    for name, value in headers:
        if name.lower() == "set-cookie" and value.startswith("csrftoken="):
            return value.split(";", 1)[0].split("=", 1)[1]
    return None


class LoginClient:
    """One browser: its CSRF cookie and form token, then logins with a fresh session each time."""

    def __init__(self, port: int, usernames: list[str], password: str):
        self.port = port
        self.usernames = usernames
        self.password = password
        self.next_index = 0
        status, headers, body = http_request(port, "GET", LOGIN_PATH)
        match = CSRF_INPUT.search(body.decode("utf-8", "replace"))
        self.csrf_cookie = csrftoken_from(headers)
        if status != 200 or match is None or self.csrf_cookie is None:
            raise RuntimeError(f"GET {LOGIN_PATH} gave {status} without a CSRF cookie and token")
        self.csrf_input = match.group(1)

    def login(self):
        """One login; returns (ok, seconds, error description)."""
        username = self.usernames[self.next_index % len(self.usernames)]
        self.next_index += 1
        body = urllib.parse.urlencode({
            "csrfmiddlewaretoken": self.csrf_input, "username": username, "password": self.password, "next": "",
        })
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            # Only the CSRF cookie: no sessionid, so every login starts a new session.
            "Cookie": f"csrftoken={self.csrf_cookie}",
        }
        started = time.perf_counter()
        status, response_headers, response_body = http_request(self.port, "POST", LOGIN_PATH, body, headers)
        seconds = time.perf_counter() - started
        location = dict((name.lower(), value) for name, value in response_headers).get("location")
        if status == 302 and location == "/":
            return True, seconds, ""
        snippet = re.sub(r"\s+", " ", response_body.decode("utf-8", "replace"))[:160]
        return False, seconds, f"{username}: {status} location={location!r} {snippet}"


def logins_phase(port, usernames, password, clients: int, seconds: float, server_cpu=None):
    """`clients` threads log in until the deadline; the rate counts every finished login over the time
    from the start to the last one's end (a login in flight at the deadline is waited for)."""
    # Client i takes accounts i, i+clients, …: no two concurrent logins ever share an account.
    login_clients = [LoginClient(port, usernames[index::clients], password) for index in range(clients)]
    results = []
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds

    def run(client):
        mine = []
        while time.perf_counter() < deadline:
            try:
                mine.append(client.login())
            except OSError as error:  # refused, reset, timed out: an error to report, not a crash
                mine.append((False, 0.0, f"{type(error).__name__}: {error}"))
        with lock:
            results.extend(mine)

    # Daemon threads: on Ctrl-C the main thread stops gunicorn and exits without waiting for them.
    threads = [threading.Thread(target=run, args=(client,), daemon=True) for client in login_clients]
    if server_cpu:
        server_cpu.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    cpu = server_cpu.stop() if server_cpu else float("nan")
    ok = [seconds for success, seconds, _ in results if success]
    errors = [error for success, _, error in results if not success]
    return {"rate": len(ok) / elapsed, "count": len(ok), "errors": errors,
            "p50_ms": statistics.median(ok) * 1000 if ok else float("nan"),
            "cpu_ms": cpu / len(results) * 1000 if results else float("nan")}


# --------------------------------------------------------------------------------------------------
# Baseline: raw Argon2 verifications with Django's own hasher


def baseline_worker(encoded, password, start_at, seconds, results):
    from django.contrib.auth.hashers import check_password

    try:
        while time.time() < start_at:  # every process starts together
            time.sleep(0.001)
        deadline = time.perf_counter() + (start_at + seconds - time.time())
        cpu_before = process_cpu_seconds()
        count = 0
        while time.perf_counter() < deadline:
            if not check_password(password, encoded):
                raise RuntimeError("check_password refused the right password")
            count += 1
    except KeyboardInterrupt:  # Ctrl-C, or the parent stopping us: the parent reports it
        return
    results.put((count, time.time() - start_at, process_cpu_seconds() - cpu_before))


def process_cpu_seconds() -> float:
    """This process's CPU, Argon2's lane threads included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def baseline_phase(encoded, password, processes: int, seconds: float):
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start_at = time.time() + 0.3
    workers = [context.Process(target=baseline_worker, args=(encoded, password, start_at, seconds, results))
               for _ in range(processes)]
    try:
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=seconds + 60) for _ in workers]
    except BaseException:  # Ctrl-C, SIGTERM, a worker that died: leave no process behind
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
        raise
    finally:
        for worker in workers:
            if worker.pid is not None:
                worker.join()
    count = sum(count for count, _, _ in outcomes)
    elapsed = max(elapsed for _, elapsed, _ in outcomes)
    cpu = sum(cpu for _, _, cpu in outcomes)
    return {"rate": count / elapsed, "count": count, "cpu_ms": cpu / count * 1000}


# --------------------------------------------------------------------------------------------------
# Report


def report(args, rows, errors):
    def median(key):
        return statistics.median(row[key] for row in rows)

    baseline, logins = median("baseline"), median("logins")
    baseline_cpu, login_cpu = median("baseline_cpu_ms"), median("login_cpu_ms")
    for row in rows:
        row["ratio"] = row["logins"] / row["baseline"]
        row["cpu_ratio"] = row["baseline_cpu_ms"] / row["login_cpu_ms"]
    # The headline pairs each login phase with the baseline just before it, so a slow drift of the
    # machine's speed (other jobs, CPU frequency) cancels out within a round.
    ratio, cpu_ratio = median("ratio"), median("cpu_ratio")
    print()
    print(f"Login throughput vs raw Argon2 verification — gunicorn {args.workers} sync workers, {args.clients} "
          f"clients, {args.accounts} accounts cycled ({accounts_total()} in the table), {args.rounds} rounds "
          f"× {args.seconds:g} s a side, {os.cpu_count()} CPUs")
    print()
    print("| round | argon2 verifications/s | logins/s | ratio | CPU ms a verification | server CPU ms a login "
          "| CPU ratio | login p50 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for index, row in enumerate(rows, 1):
        print(f"| {index} | {row['baseline']:.2f} | {row['logins']:.2f} | {row['ratio']:.2f} "
              f"| {row['baseline_cpu_ms']:.0f} | {row['login_cpu_ms']:.0f} | {row['cpu_ratio']:.2f} "
              f"| {row['p50_ms']:.0f} ms |")
    print(f"| **median** | **{baseline:.2f}** | **{logins:.2f}** | **{ratio:.2f}** | {baseline_cpu:.0f} "
          f"| {login_cpu:.0f} | **{cpu_ratio:.2f}** | {median('p50_ms'):.0f} ms |")
    print()
    verdict = "meets" if ratio >= GOAL else "misses"
    print(f"Throughput ratio (median of the rounds' ratios) {ratio:.2f} {verdict} the goal of ≥ {GOAL:.2f} "
          f"(ratio of the medians {logins / baseline:.2f}); CPU ratio {cpu_ratio:.2f}. "
          f"Login errors (non-302): {len(errors)}.")
    print(f"Interpretation: a login costs the server {login_cpu:.0f} ms of CPU (gunicorn worker and its "
          f"PostgreSQL backend), a raw Argon2 verification {baseline_cpu:.0f} ms: everything besides the hash "
          f"(Django, middleware, session, django-axes, audit event, HTTP) adds {login_cpu - baseline_cpu:.0f} ms, "
          f"{(login_cpu - baseline_cpu) / login_cpu:.0%} of a login. On a machine with nothing else running the "
          "throughput ratio comes close to the CPU ratio; when the two differ widely, other jobs disturbed the "
          "wall-clock phases (see the spread of the per-round ratios).")
    ratios = [row["ratio"] for row in rows]
    if (max(ratios) - min(ratios)) / ratio > 0.3:
        print(f"The rounds' throughput ratios disagree ({min(ratios):.2f}–{max(ratios):.2f}): other jobs were "
              "using the CPUs; the CPU ratio is the steadier figure of this run.")
    if min(ratio, cpu_ratio) < GOAL:
        print("Run with --profile 30 to see which parts of a login cost what.")
    if errors:
        print()
        print("First errors:")
        for error in errors[:10]:
            print(f"  {error}")
    return ratio


def accounts_total() -> int:
    from accounts.models import User

    return User.objects.count()


# --------------------------------------------------------------------------------------------------
# Profile: where one login's time goes


def profile_logins(usernames, password, count: int):
    """In-process logins through Django's test Client (CSRF enforced), under cProfile, with every SQL
    statement and Redis command timed. Prints a breakdown per login."""
    from collections import defaultdict

    from django.db import connection
    from django.test import Client
    from redis.client import Redis

    client = Client(enforce_csrf_checks=True)
    page = client.get(LOGIN_PATH)
    token = CSRF_INPUT.search(page.content.decode()).group(1)
    csrf_cookie = client.cookies["csrftoken"].value

    sql = defaultdict(lambda: [0, 0.0])

    def sql_timer(execute, statement, params, many, context):
        started = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            key = re.sub(r"\s+", " ", statement)[:140]
            sql[key][0] += 1
            sql[key][1] += time.perf_counter() - started

    redis_calls = defaultdict(lambda: [0, 0.0])
    original_execute_command = Redis.execute_command

    def redis_timer(self, *args, **options):
        started = time.perf_counter()
        try:
            return original_execute_command(self, *args, **options)
        finally:
            redis_calls[str(args[0])][0] += 1
            redis_calls[str(args[0])][1] += time.perf_counter() - started

    def one_login(index):
        # A fresh session and the first CSRF cookie (a login rotates the one the client keeps).
        client.cookies.clear()
        client.cookies["csrftoken"] = csrf_cookie
        response = client.post(LOGIN_PATH, {"csrfmiddlewaretoken": token, "username": usernames[index % len(usernames)],
                                            "password": password, "next": ""})
        if response.status_code != 302 or response["Location"] != "/":
            raise RuntimeError(f"login answered {response.status_code}")

    for index in range(3):  # warm caches and imports, as a long-running worker would be
        one_login(index)

    Redis.execute_command = redis_timer
    profiler = cProfile.Profile()
    started = time.perf_counter()
    try:
        with connection.execute_wrapper(sql_timer):
            profiler.enable()
            for index in range(count):
                one_login(index)
            profiler.disable()
    finally:
        Redis.execute_command = original_execute_command
    total_ms = (time.perf_counter() - started) / count * 1000

    stats = pstats.Stats(profiler)

    def cumulative_ms(path_end: str, name: str) -> float:
        """Time a login spends in a function (its callees included), by the end of its file path."""
        seconds = 0.0
        for (filename, _, function), (_, _, _, cumulative, _) in stats.stats.items():
            if function == name and filename.replace(os.sep, "/").endswith(path_end):
                seconds += cumulative
        return seconds / count * 1000

    hash_ms = cumulative_ms("django/contrib/auth/hashers.py", "check_password")
    commits = [(calls, seconds) for (filename, _, function), (_, calls, seconds, _, _) in stats.stats.items()
               if "commit' of 'psycopg2" in function]
    parts = [
        ("Argon2 verification (hashers.check_password)", hash_ms),
        ("user lookup (ModelBackend, username__iexact)",
         cumulative_ms("django/contrib/auth/backends.py", "authenticate") - hash_ms),
        ("django-axes lockout check before authenticating", cumulative_ms("axes/backends.py", "authenticate")),
        ("new session key (cycle_key: exists check + INSERT)",
         cumulative_ms("django/contrib/sessions/backends/base.py", "cycle_key")),
        ("django-axes user_logged_in (expire + reset attempts)",
         cumulative_ms("axes/handlers/database.py", "user_logged_in")),
        ("audit LOGIN_SUCCESS event (accounts.receivers → login_record_success)",
         cumulative_ms("accounts/receivers.py", "on_user_logged_in")),
        ("update_last_login (UPDATE accounts_user)",
         cumulative_ms("django/contrib/auth/models.py", "update_last_login")),
        ("session save at response (SessionMiddleware)",
         cumulative_ms("django/contrib/sessions/middleware.py", "process_response")),
    ]
    parts.append(("everything else (handler, middleware, form, CSRF, redirect)",
                  total_ms - sum(value for _, value in parts)))
    print(f"\nProfile of {count} in-process logins (Django test Client, CSRF enforced, under cProfile, which "
          f"inflates pure-Python parts): {total_ms:.1f} ms a login, {total_ms - hash_ms:.1f} ms besides the hash.\n")
    print("| part of a login | ms | share |")
    print("| --- | ---: | ---: |")
    for label, value in parts:
        print(f"| {label} | {value:.2f} | {value / total_ms:.1%} |")
    print(f"| **total** | **{total_ms:.2f}** | 100% |")
    sql_ms = sum(seconds for _, seconds in sql.values()) / count * 1000
    commit_ms = sum(seconds for _, seconds in commits) / count * 1000
    print("\nAcross those parts:\n")
    print(f"- SQL: {sum(calls for calls, _ in sql.values()) / count:.1f} statements, {sql_ms:.2f} ms, plus "
          f"{sum(calls for calls, _ in commits) / count:.1f} explicit COMMITs (transaction.atomic), {commit_ms:.2f} ms")
    print(f"- Redis: {sum(calls for calls, _ in redis_calls.values()) / count:.1f} commands, "
          f"{sum(seconds for _, seconds in redis_calls.values()) / count * 1000:.2f} ms "
          f"({', '.join(f'{name} ×{calls / count:g}' for name, (calls, _) in sorted(redis_calls.items()))})")
    print("\n| statements a login | ms a login | SQL |")
    print("| ---: | ---: | --- |")
    for statement, (calls, seconds) in sorted(sql.items(), key=lambda item: -item[1][1]):
        shown = statement.replace("|", "\\|")
        print(f"| {calls / count:g} | {seconds / count * 1000:.2f} | `{shown}…` |")


# --------------------------------------------------------------------------------------------------


def database_url_for_population(url: str, population: int) -> str:
    """The same server, database <name>_<population>: a padded table never leaks into default runs."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{population}"))


def main():
    args = parse_args()
    if args.population:
        os.environ["DATABASE_URL"] = database_url_for_population(os.environ["DATABASE_URL"], args.population)
    print(f"DATABASE_URL={os.environ['DATABASE_URL']} REDIS_URL={os.environ['REDIS_URL']} "
          f"DEBUG={os.environ['DEBUG']}")
    database_ensure()
    manage("migrate", "--noinput", "-v", "0")
    manage("seed_demo", "--password", args.password)

    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db import connections

    usernames = bench_accounts_ensure(args.accounts, args.password)
    if args.population:
        population_ensure(args.population, args.password)
    if args.profile:
        profile_logins(usernames, args.password, args.profile)
        return 0
    encoded = make_password(args.password)
    database = connections["default"].settings_dict["NAME"]
    connections.close_all()  # nothing open is inherited by the forked baseline processes

    gunicorn = Gunicorn(args.workers)
    try:
        gunicorn.start()
        gunicorn.wait_ready()
        print(f"gunicorn ({args.workers} workers) answers on 127.0.0.1:{gunicorn.port}; warming up…")
        warm = logins_phase(gunicorn.port, usernames, args.password, args.clients, 2.0)
        if warm["errors"]:
            print(f"Warm-up login errors: {warm['errors'][:3]}")
        server_cpu = ServerCpu(gunicorn.process.pid, database)
        rows, errors = [], []
        for round_number in range(1, args.rounds + 1):
            baseline = baseline_phase(encoded, args.password, args.workers, args.seconds)
            logins = logins_phase(gunicorn.port, usernames, args.password, args.clients, args.seconds, server_cpu)
            print(f"  round {round_number}: argon2 {baseline['rate']:.2f}/s ({baseline['count']}), "
                  f"logins {logins['rate']:.2f}/s ({logins['count']}, {len(logins['errors'])} errors)", flush=True)
            rows.append({"baseline": baseline["rate"], "logins": logins["rate"], "p50_ms": logins["p50_ms"],
                         "baseline_cpu_ms": baseline["cpu_ms"], "login_cpu_ms": logins["cpu_ms"]})
            errors.extend(logins["errors"])
        report(args, rows, errors)
    finally:
        gunicorn.stop()
    return 1 if errors else 0


if __name__ == "__main__":
    # SIGTERM (e.g. `timeout`, a cancelled CI job) unwinds like Ctrl-C, so `finally` stops gunicorn.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\nInterrupted; everything this run started is stopped.", file=sys.stderr)
        sys.exit(130)
