"""Find a database server for the integration tests, and make (and drop) a fresh database on it.

Which server, in order:
- PostgreSQL: $MG_TEST_POSTGRES_URL; else postgres@127.0.0.1:5432 if it answers; else a throwaway server
  (migration_guard.db.throwaway) for the session.
- MySQL/MariaDB: $MG_TEST_MYSQL_URL; else root@127.0.0.1:3306 if it answers.
A server that cannot be had raises NoServer; the fixtures turn that into a skip with its reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from migration_guard.db.throwaway import start_throwaway_postgres

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_MYSQL_URL = "mysql+pymysql://root@127.0.0.1:3306/"
CONNECT_TIMEOUT_S = 3


class NoServer(Exception):
    """No server of this kind can be had. `required` is True when someone asked for one explicitly
    (a URL in the environment, or MG_TEST_REQUIRE_SERVERS=1): then tests must fail, not skip."""

    def __init__(self, reason: str, required: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.required = required or os.environ.get("MG_TEST_REQUIRE_SERVERS", "") not in ("", "0")


def masked(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def admin_connection(url: str) -> Iterator[Connection]:
    # NullPool: a pooled admin connection would outlive the test and block DROP DATABASE on MySQL.
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                           connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def probe(url: str) -> str | None:
    """None if the server at `url` answers a query, else why not (one line)."""
    try:
        with admin_connection(url) as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # any driver error means "not usable"; the reason is what matters
        first_line = (str(exc).strip().splitlines() or [""])[0]
        return f"{type(exc).__name__}: {first_line}"
    return None


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield the admin URL of a PostgreSQL server for the whole session."""
    explicit = os.environ.get("MG_TEST_POSTGRES_URL")
    if explicit:
        if (why := probe(explicit)) is not None:
            raise NoServer(f"MG_TEST_POSTGRES_URL={masked(explicit)} does not answer: {why}", required=True)
        yield explicit
        return
    why_default = probe(DEFAULT_POSTGRES_URL)
    if why_default is None:
        yield DEFAULT_POSTGRES_URL
        return
    try:
        server = start_throwaway_postgres()
    except RuntimeError as exc:
        raise NoServer(f"no PostgreSQL: 127.0.0.1:5432 does not answer ({why_default}) "
                       f"and no throwaway server: {exc}") from exc
    with server:
        yield server.url


@contextmanager
def mysql_server() -> Iterator[str]:
    """Yield the admin URL of a MySQL/MariaDB server for the whole session."""
    explicit = os.environ.get("MG_TEST_MYSQL_URL")
    url = explicit or DEFAULT_MYSQL_URL
    if (why := probe(url)) is not None:
        source = "MG_TEST_MYSQL_URL=" if explicit else ""
        raise NoServer(f"no MySQL/MariaDB: {source}{masked(url)} does not answer: {why}",
                       required=bool(explicit))
    yield url


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """Create an empty database `mgt_<hex>` on the server, yield its URL, drop it afterwards
    (even if connections to it are still open)."""
    url = make_url(admin_url)
    name = f"mgt_{uuid.uuid4().hex[:12]}"
    is_mysql = url.get_backend_name() in ("mysql", "mariadb")
    with admin_connection(admin_url) as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}" + (" CHARACTER SET utf8mb4" if is_mysql else ""))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_connection(admin_url) as conn:
            if is_mysql:
                _drop_mysql_database(conn, name)
            else:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _drop_mysql_database(conn: Connection, name: str) -> None:
    # MySQL has no WITH (FORCE): end the sessions still in that database (a test's leftover
    # connection holding a metadata lock would make DROP DATABASE wait forever), then drop.
    conn.exec_driver_sql("SET SESSION lock_wait_timeout = 30")
    rows = conn.exec_driver_sql(
        "SELECT id FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()", (name,)
    ).all()
    for (session_id,) in rows:
        with suppress(Exception):  # the session may have ended on its own meanwhile
            conn.exec_driver_sql(f"KILL {int(session_id)}")
    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
