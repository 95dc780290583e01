"""The fault tests' fixtures (docs/faults.md): a PostgreSQL proxy the test cuts, a Redis it kills, and
the portal served by gunicorn through both."""
import pytest
from django.db import connection

from .servers import KillableRedis, PortalWeb, TcpProxy


@pytest.fixture
def pg_proxy():
    database = connection.settings_dict
    proxy = TcpProxy((database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432)))
    yield proxy
    proxy.cut()


@pytest.fixture
def killable_redis():
    server = KillableRedis()
    yield server
    server.kill()


@pytest.fixture
def portal_web(transactional_db, pg_proxy, killable_redis):
    """gunicorn under production settings, on the test database (through `pg_proxy`) and `killable_redis`;
    yields (the server, a Browser on it)."""
    server = PortalWeb(pg_proxy, killable_redis)
    try:
        browser = server.start_web()
        yield server, browser
    finally:
        server.stop()
