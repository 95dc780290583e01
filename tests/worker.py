"""A real Celery worker for the tests that are about jobs (docs/conventions.md: eager mode is for `make run`
only). It runs as its own process against the test database and the test Redis, consuming a queue
of its own so that no other worker on the machine takes the tests' tasks, and stops with the session."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


class Worker:
    def __init__(self, private_media_root=None, pool="solo"):
        # "solo" runs each task in the worker process itself; "prefork" (one child) runs it in a pool
        # process that a test can SIGKILL while the worker lives on (pool_pids(); docs/faults.md).
        self.pool = pool
        self.queue = f"tests-{uuid.uuid4().hex[:12]}"
        self.process = None
        # Files the portal hands to a job (a large roster) go through the private folder: the worker
        # and the tests that use it share one (tests set settings.PRIVATE_MEDIA_ROOT to it). A worker
        # that takes over another's jobs shares that one's folder (and leaves it to its owner).
        self.owns_private_media_root = private_media_root is None
        self.private_media_root = private_media_root or tempfile.mkdtemp(prefix="portal-worker-")
        # The seals' heads kept outside the database (audit/heads.py): one file shared with the test that
        # uses the worker, emptied before each such test (tests/conftest.py), as the database is.
        self.heads_file = str(Path(self.private_media_root) / "audit-heads.jsonl")

    def start(self, timeout=60):
        database = connection.settings_dict
        environment = {
            **os.environ,
            "DEBUG": "1",
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "DB_CONN_MAX_AGE": "0",
            "PRIVATE_MEDIA_ROOT": self.private_media_root,
            "AUDIT_HEADS_FILE": self.heads_file,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", f"--pool={self.pool}", "--concurrency=1",
             # Its own queue (send()), and the default one for what services enqueue after commit: the
             # test process's own (tests/parallel.py), so a parallel run's other workers never take it.
             "-Q", f"{self.queue},{settings.CELERY_TASK_DEFAULT_QUEUE}", "--hostname", f"{self.queue}@%h", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "--loglevel=WARNING"],
            cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        from portal.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The Celery worker exited: {self.process.stdout.read()}")
            replies = app.control.ping(destination=[f"{self.queue}@{os.uname().nodename}"], timeout=1)
            if replies:
                return self
        raise RuntimeError("The Celery worker did not answer within a minute.")

    def send(self, task, *args, **kwargs):
        return task.apply_async(args=args, kwargs=kwargs, queue=self.queue)

    def runs_of(self, task) -> int:
        """How many runs of `task` the worker has finished since it started (its own tally)."""
        from portal.celery import app

        name = f"{self.queue}@{os.uname().nodename}"
        stats = app.control.inspect(destination=[name], timeout=1).stats() or {}
        return stats.get(name, {}).get("total", {}).get(task.name, 0)

    def wait_done(self, task, count: int, timeout=60) -> None:
        """Until the worker has finished `count` runs of `task` in all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.runs_of(task) >= count:
                return
            time.sleep(0.2)
        raise TimeoutError(f"The Celery worker did not finish {count} run(s) of {task.name} within a minute.")

    @property
    def name(self) -> str:
        return f"{self.queue}@{os.uname().nodename}"

    def pool_pids(self) -> list[int]:
        """The pids of the pool's processes (prefork): where the tasks run."""
        from portal.celery import app

        stats = app.control.inspect(destination=[self.name], timeout=1).stats() or {}
        return list(stats.get(self.name, {}).get("pool", {}).get("processes", []))

    def wait_idle(self, timeout=60) -> None:
        """Until nothing is running, reserved or waiting in the worker's queues, seen twice in a row."""
        import redis

        from portal.celery import app

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        queues = (self.queue, settings.CELERY_TASK_DEFAULT_QUEUE)
        deadline = time.monotonic() + timeout
        quiet = 0
        try:
            while time.monotonic() < deadline:
                inspector = app.control.inspect(destination=[self.name], timeout=1)
                busy = [*(inspector.active() or {}).get(self.name, [None]),
                        *(inspector.reserved() or {}).get(self.name, [None])]
                waiting = sum(client.llen(queue) for queue in queues)
                quiet = quiet + 1 if not busy and not waiting else 0
                if quiet >= 2:
                    return
                time.sleep(0.3)
        finally:
            client.close()
        raise TimeoutError("The Celery worker did not become idle within a minute.")

    def kill(self):
        """As the kernel's OOM killer or a lost machine would: SIGKILL, no clean-up, no acknowledgement."""
        self.process.kill()
        self.process.wait(timeout=15)

    def stop(self):
        if self.owns_private_media_root:
            shutil.rmtree(self.private_media_root, ignore_errors=True)
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
