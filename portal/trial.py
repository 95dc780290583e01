"""`make run`: the whole portal on one machine that has nothing installed but Python — `python -m
portal.trial --port 8000`.

1. The trial's PostgreSQL (portal/embedded.py, data in .trial/postgres, kept between runs) unless
   DATABASE_URL names one, and a Valkey (Redis-compatible, from a wheel) for the broker, the cache and
   the quota counters unless REDIS_URL names one: the trial runs production's code paths, not eager tasks.
2. migrate, seed_demo --sample-population (its frame says where to open and how to sign in), then
   `manage.py trial_jobs` (the day's jobs and the past months' reports, sent once).
3. A Celery worker with beat (production's schedule, django-celery-beat's database scheduler) and the
   development server on 127.0.0.1:PORT; PORTAL_URL follows the port, so links in notices work.

Ctrl-C (or SIGTERM) stops the server and the worker (its pool and beat: each child runs in a session of
its own, stopped as a group), then Valkey, then PostgreSQL: nothing is left running. On Linux each child
also dies with this process should it be killed outright (PR_SET_PDEATHSIG).

Nothing here imports Django: the children are ordinary `manage.py` and `celery` processes.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

from portal.embedded import PGDATA, ROOT, TRIAL_DIR, postgres_start, postgres_stop, redis_command, redis_stop_wait

WORKER_LOG = TRIAL_DIR / "worker.log"
SAMPLE_LOG = TRIAL_DIR / "sample-rp.log"
# The sample relying party's port, as seed_demo registers it (federation.demo.SAMPLE_PORT).
SAMPLE_PORT = 8001
STOP_GRACE_SECONDS = 20  # a task still running after this is killed (tasks are idempotent, acks are late)


class Stop(Exception):
    """Ctrl-C or SIGTERM: leave the main loop and stop everything."""


def _on_signal(signum, frame):
    raise Stop(signal.Signals(signum).name)


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the launcher dies (Linux; elsewhere a no-op)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_redis(url: str, process: subprocess.Popen, timeout: float = 15) -> None:
    import redis

    deadline = time.monotonic() + timeout
    while True:
        try:
            redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
            return
        except redis.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("The trial's Valkey did not start.") from None
            time.sleep(0.1)


def _spawn(command: list[str], environment: dict, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=environment, start_new_session=True,
                            preexec_fn=_die_with_parent, **kwargs)


def _stop_group(process: subprocess.Popen, grace: float) -> None:
    """SIGTERM to the child's whole session (Celery's pool and beat, too), SIGKILL after `grace`."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the group's stragglers too
    except ProcessLookupError:
        pass
    process.wait(10)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="The portal's trial: database, broker, worker with beat, server.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    environment = dict(os.environ, DEBUG="1", PYTHONUNBUFFERED="1")
    environment.setdefault("PORTAL_URL", f"http://127.0.0.1:{args.port}")
    manage = [sys.executable, str(ROOT / "manage.py")]
    postgres_ours = not environment.get("DATABASE_URL")
    valkey = server = worker = sample = None
    code = 0
    try:
        if postgres_ours:
            postgres_start(PGDATA)  # the children find it running and leave it to us
        if not environment.get("REDIS_URL"):
            port = _free_port()
            environment["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
            valkey = _spawn(redis_command(port=port, directory=TRIAL_DIR / "valkey"), environment,
                            stdout=subprocess.DEVNULL)
            _wait_for_redis(environment["REDIS_URL"], valkey)
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=environment, check=True)
        subprocess.run([*manage, "seed_demo", "--sample-population"], cwd=ROOT, env=environment, check=True)
        subprocess.run([*manage, "trial_jobs"], cwd=ROOT, env=environment, check=True, stdout=subprocess.DEVNULL)
        TRIAL_DIR.mkdir(exist_ok=True)
        with open(WORKER_LOG, "w") as log:
            worker = _spawn([sys.executable, "-m", "celery", "-A", "portal", "worker", "--beat", "--concurrency", "2",
                             "--loglevel", "WARNING", "--without-mingle", "--without-gossip"], environment,
                            stdout=log, stderr=subprocess.STDOUT)
        shown = WORKER_LOG.relative_to(ROOT) if WORKER_LOG.is_relative_to(ROOT) else WORKER_LOG
        print(f"Jobs       a Celery worker with beat; its log (and the console e-mails) in {shown}", flush=True)
        server = _spawn([*manage, "runserver", "--noreload", f"127.0.0.1:{args.port}"], environment)
        # The sample "one-stop system" seed_demo registered (federation/demo.py): single sign-on through
        # the portal, and the back-channel logout arriving when the IT Center disables the officer.
        with open(SAMPLE_LOG, "w") as log:
            sample = _spawn([*manage, "run_sample_rp", "--port", str(SAMPLE_PORT)], environment,
                            stdout=log, stderr=subprocess.STDOUT)
        print(f"Connected  a sample one-stop system on http://127.0.0.1:{SAMPLE_PORT}/ signs in through the portal",
              flush=True)
        sample_reported = False
        while True:
            if sample.poll() is not None and not sample_reported:
                # Its port taken (another trial): the portal goes on without it.
                print(f"The sample one-stop system stopped (see {SAMPLE_LOG.name}); the portal goes on.",
                      file=sys.stderr, flush=True)
                sample_reported = True
            for name, process in (("worker", worker), ("server", server)):
                if process.poll() is not None:
                    print(f"The {name} stopped (exit {process.returncode}): stopping the trial.", file=sys.stderr)
                    code = 1
                    raise Stop(name)
            time.sleep(0.5)
    except Stop:
        pass
    except subprocess.CalledProcessError as error:
        code = error.returncode or 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for process in (sample, server, worker):
            if process is not None:
                _stop_group(process, STOP_GRACE_SECONDS)
        if valkey is not None:
            redis_stop_wait(valkey)
        if postgres_ours:
            postgres_stop(PGDATA)
        print("The trial stopped: server, worker, Valkey and PostgreSQL.", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
