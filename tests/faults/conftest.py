"""The fault tests' fixtures (docs/faults.md): a PostgreSQL proxy the test cuts, a Redis it kills, and
the portal served by gunicorn through both."""
import pytest
from django.db import connection

from .servers import KillableRedis, PortalWeb, TcpProxy


# Module-scoped: gunicorn takes a while to start, so the tests of one file share one server (each test
# leaves the proxy and the Redis as it found them: up).
@pytest.fixture(scope="module")
def pg_proxy():
    database = connection.settings_dict
    proxy = TcpProxy((database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432)))
    yield proxy
    proxy.cut()


@pytest.fixture(scope="module")
def killable_redis():
    server = KillableRedis()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def portal_web(django_db_setup, django_db_blocker, pg_proxy, killable_redis):
    """gunicorn under production settings, on the test database (through `pg_proxy`) and `killable_redis`;
    yields (the server, a Browser on it). Its tests use `django_db(transaction=True)`: it sees their rows."""
    server = PortalWeb(pg_proxy, killable_redis)
    try:
        with django_db_blocker.unblock():
            browser = server.start_web()
        yield server, browser
    finally:
        server.stop()
