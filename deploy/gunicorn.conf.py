"""gunicorn for the portal (deploy/systemd/portal-web.service):
    gunicorn -c deploy/gunicorn.conf.py portal.wsgi:application
Behind nginx on the same host (deploy/nginx/portal.conf), which terminates TLS; every value can be
overridden from the environment file (/etc/portal/portal.env)."""
import multiprocessing
import os

# Only nginx talks to gunicorn: a loopback address (or a unix socket: GUNICORN_BIND=unix:/run/portal/web.sock).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: a request is the password hash (~0.2 s of CPU) or a few queries; 2 × cores + 1 is
# gunicorn's rule of thumb, measured in bench/login.py and bench/lookups.py (README, "Benchmarks").
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5
# A worker is replaced now and then (a slow leak never grows for ever); the jitter keeps them from
# restarting all at once.
max_requests = 2000
max_requests_jitter = 200
# Heartbeat files in memory, not on a disk that may stall.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# Request limits before Django sees anything (nginx refuses bodies over 12 MB first).
limit_request_line = 8190
limit_request_fields = 100
# gunicorn's own reading of X-Forwarded-*: only from nginx on this host. Django decides the client
# address itself (portal.client_ip, TRUSTED_PROXY_COUNT) and https from SECURE_PROXY_SSL_HEADER.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Logs to the journal (stdout/stderr). The access log has no Authorization header, no cookie and no
# query string: the lookup API's bearer tokens and nothing a person typed are ever written.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%({x-forwarded-for}i)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms "%(a)s" %({x-request-id}o)s'
proc_name = "portal-web"
