"""What the fault tests start and break (docs/faults.md): the portal served by gunicorn under production
settings (tests/portal/test_production_smoke.py's Production, web only), reaching PostgreSQL through a
TCP proxy the test can cut and restore, and a private redis-server the test can SIGKILL and restart on
the same port. The shared PostgreSQL and Redis of the machine are never stopped."""
import socket
import subprocess
import sys
import tempfile
import threading
import time

import redis
from django.db import connection
from django.test import override_settings

from tests.portal.test_production_smoke import SECRET_KEY, Browser, Production, _wait_for


class TcpProxy:
    """127.0.0.1:<port> forwarded to `target`. `cut()` closes the listening socket and every open
    connection (PostgreSQL unreachable, connections dropped); `restore()` listens again on the same port."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = None
        self.listener = None
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.restore()

    def restore(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port or 0))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self):
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread (close alone would not)
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            for end in self.sockets:
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()
            self.sockets.clear()


class KillableRedis:
    """A redis-server of the test's own (`--save ''`), on a free port: `kill()` is SIGKILL (what it held
    is gone, as after a crash), `start()` brings a new, empty one up on the same port."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def kill(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


_STATIC_ROOT = None


class PortalWeb(Production):
    """gunicorn under production settings (two sync workers), its database through `proxy` and every
    Redis role (cache, broker, rate limits) on `redis_server`."""

    def __init__(self, proxy: TcpProxy, redis_server: KillableRedis):
        super().__init__()
        database = connection.settings_dict
        self.environment.update({
            "DATABASE_URL": f"postgres://{database['USER']}@127.0.0.1:{proxy.port}/{database['NAME']}",
            "REDIS_URL": redis_server.url, "CELERY_BROKER_URL": redis_server.url, "QUOTA_REDIS_URL": redis_server.url,
            # A connection kept between requests: the proxy's cut drops it, as a PostgreSQL restart would.
            "DB_CONN_MAX_AGE": "60", "GUNICORN_LOG_LEVEL": "warning", "EMAIL_URL": "smtp://127.0.0.1:9",
        })

    def start_web(self):
        global _STATIC_ROOT
        if _STATIC_ROOT is None:  # collectstatic under production settings is slow: once per run
            _STATIC_ROOT = tempfile.mkdtemp(prefix="faults-static-")
            self.environment["STATIC_ROOT"] = _STATIC_ROOT
            self.manage("collectstatic", "--noinput", "-v", "0")
        self.environment["STATIC_ROOT"] = _STATIC_ROOT
        self.start("web", sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "portal.wsgi:application")
        browser = Browser(self.port)
        _wait_for(lambda: browser.request("GET", "/healthz")[0] in (200, 503), "gunicorn", self)
        return browser


def api_client_for_web(unit):
    """An API client and its token as the web server checks it (keyed from its SECRET_KEY)."""
    from lookups.services import api_client_create
    from portal.actors import COMMAND_LINE

    with override_settings(SECRET_KEY=SECRET_KEY):
        return api_client_create(actor=COMMAND_LINE, name="Hệ thống một cửa tỉnh", unit=unit)
