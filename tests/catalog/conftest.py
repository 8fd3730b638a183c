"""Fixtures of the catalog tests: a fresh, empty database per test on each real server.

Kept local to tests/catalog on purpose (the project-wide conftest comes later). Servers are found
through MG_TEST_POSTGRES_URL / MG_TEST_MYSQL_URL; a server that does not answer skips its tests
with the reason, it does not fail them. Each database is dropped when its test ends.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

POSTGRES_URL = os.environ.get("MG_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MYSQL_URL = os.environ.get("MG_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/")


def _admin(url: str, what: str) -> tuple[URL, Engine]:
    parsed = sa.make_url(url)
    admin = sa.create_engine(parsed, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with admin.connect():
            pass
    except Exception as exc:  # any driver's "cannot connect" means: no server here
        admin.dispose()
        reason = str(exc).splitlines()[0]
        pytest.skip(f"{what} not reachable at {parsed.render_as_string(hide_password=True)}: {reason}")
    return parsed, admin


@pytest.fixture
def fresh_database() -> Iterator:
    """Factory: `fresh_database(server_url, what)` -> Engine on a new mg_test_<random> database."""
    made: list[tuple[Engine, Engine, str, str]] = []

    def make(url: str, what: str) -> Engine:
        parsed, admin = _admin(url, what)
        name = f"mg_test_{secrets.token_hex(6)}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        engine = sa.create_engine(parsed.set(database=name))
        made.append((engine, admin, name, parsed.get_backend_name()))
        return engine

    yield make
    for engine, admin, name, backend in made:
        engine.dispose()
        force = " WITH (FORCE)" if backend == "postgresql" else ""
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{force}")
        admin.dispose()


@pytest.fixture
def postgres_url() -> str:
    return POSTGRES_URL


@pytest.fixture
def mysql_url() -> str:
    return MYSQL_URL


@pytest.fixture
def pg_engine(fresh_database) -> Engine:
    return fresh_database(POSTGRES_URL, "PostgreSQL")


@pytest.fixture
def mysql_engine(fresh_database) -> Engine:
    return fresh_database(MYSQL_URL, "MariaDB/MySQL")


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'catalog.db'}")
    yield engine
    engine.dispose()


def _run_ddl(engine: Engine, script: str) -> None:
    statements = [s.strip() for s in script.split(";\n") if s.strip()]
    # Autocommit: a new enum label must be committed before a later statement may use it.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for statement in statements:
            conn.exec_driver_sql(statement.rstrip(";"))


@pytest.fixture
def run_ddl():
    """`run_ddl(engine, script)`: run a script statement by statement (split at ';' + newline)."""
    return _run_ddl


@contextlib.contextmanager
def _counting(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def listener(conn, cursor, statement, *rest) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)


@pytest.fixture
def count_queries():
    """`with count_queries(engine) as seen:` collects the statements the engine sends."""
    return _counting
