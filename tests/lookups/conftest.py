"""Quota fixtures: each test counts under a key prefix of its own in the test Redis database and
deletes only those keys (never FLUSHDB: the broker and the cache share the database)."""
import socket
import subprocess
import time
import uuid

import pytest
import redis

from lookups.quotas import quota_redis_reset
from tests.helpers import redis_keys_delete


@pytest.fixture(autouse=True)
def quota_redis(settings):
    prefix = f"lqtest-{uuid.uuid4().hex[:10]}"
    settings.QUOTA_KEY_PREFIX = prefix
    settings.QUOTA_REDIS_URL = settings.REDIS_URL
    settings.QUOTA_REDIS_RETRY_SECONDS = 0.0
    quota_redis_reset()
    yield prefix
    quota_redis_reset()
    redis_keys_delete(settings.REDIS_URL, prefix)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of the test's own, that the test stops and starts again (no persistence: a
    restart comes back empty, as a Redis that lost its data)."""

    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--maxmemory-policy", "noeviction"],
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

    def stop(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def client(self):
        return redis.Redis.from_url(self.url)


@pytest.fixture
def private_redis(settings):
    server = PrivateRedis()
    server.start()
    settings.QUOTA_REDIS_URL = server.url
    quota_redis_reset()
    yield server
    server.stop()
    quota_redis_reset()


@pytest.fixture
def closed_port_url():
    return f"redis://127.0.0.1:{_free_port()}/0"




@pytest.fixture
def long_khanh_client(units):
    """An API client of Long Khánh city (its subtree: Xuân An ward) and its token."""
    from lookups.services import api_client_create
    from portal.actors import COMMAND_LINE

    return api_client_create(actor=COMMAND_LINE, name="Một cửa Long Khánh", unit=units["long_khanh"])


@pytest.fixture
def province_client(units):
    """An API client of the whole province and its token."""
    from lookups.services import api_client_create
    from portal.actors import COMMAND_LINE

    return api_client_create(actor=COMMAND_LINE, name="Hệ thống một cửa tỉnh", unit=units["province"])
