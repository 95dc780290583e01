"""A pytest plugin (pytest.ini `-p tests.parallel`), loaded before Django's settings: what each test
process keeps to itself when the suite runs in parallel (`pytest -n N`, pytest-xdist).

pytest-django gives each process a test database of its own (test_<name>_gw0, _gw1, …); the cache, the
rate limits and the quotas count under prefixes of their own already. What remains shared is the Celery
broker: every process's worker (tests/worker.py) would read the one default queue and run another
process's tasks against the wrong database. So each process gets a default queue of its own, through
the setting CELERY_TASK_DEFAULT_QUEUE that its workers inherit."""
import os

_process = os.environ.get("PYTEST_XDIST_WORKER")
if _process:
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"celery-tests-{_process}"
