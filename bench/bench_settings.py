"""Settings for bench/lookups.py's gunicorn: the portal's own, with a URLconf that adds the bench's
baseline view (bench/bench_urls.py). Nothing in the app tree knows about it."""
from portal.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.bench_urls"
