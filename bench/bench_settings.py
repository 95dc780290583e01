"""Settings for bench/lookups.py's gunicorn: the portal's own, with a URLconf that adds the bench's
baseline view (bench/bench_urls.py). Nothing in the app tree knows about it.

The bench runs with DEBUG=1 for the trial's secrets and plain HTTP, but Django's own DEBUG is turned
off as in production: with it on, every SQL statement goes through Django's debug cursor and its query
log, a cost production never pays (and which falls twice as often on a decision as on the baseline)."""
from portal.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.bench_urls"
DEBUG = False
