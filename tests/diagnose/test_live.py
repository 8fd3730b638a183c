"""Real failures, produced now by real migration commands, diagnosed from their output.

Each test runs alembic or Django against a fresh database (PostgreSQL and MariaDB on 127.0.0.1,
or a SQLite file), prepared so that the last migration adds a column that is already there. The
servers are found through MIGRATION_GUARD_TEST_PG / MIGRATION_GUARD_TEST_MYSQL (see live.py); a
test whose server cannot be reached is skipped with the reason.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import live
import pytest

from migration_guard.diagnose import diagnose_text, primary


def _pg_reachable() -> str | None:
    try:
        import psycopg2

        psycopg2.connect(live.PG_ADMIN, connect_timeout=3).close()
    except Exception as exc:  # any failure to connect means: skip, saying why
        return f"PostgreSQL not reachable at {live.PG_ADMIN}: {exc}"
    return None


def _mysql_reachable() -> str | None:
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(live.MYSQL_ADMIN, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:
        return f"MariaDB/MySQL not reachable at {live.MYSQL_ADMIN}: {exc}"
    return None


def _assert_duplicate_column(output: str, table: str, revision: str, driver: str, statement: bool) -> None:
    failures = diagnose_text(output)
    assert len(failures) == 1, output[-2000:]
    failure = primary(failures)
    assert (failure.kind, failure.table, failure.column, failure.revision, failure.driver) == (
        "duplicate_column",
        table,
        "email",
        revision,
        driver,
    )
    if statement:
        assert failure.statement == f"ALTER TABLE {table} ADD COLUMN email VARCHAR(120)"


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("scheme", "driver"), [("postgresql+psycopg2", "psycopg2"), ("postgresql+psycopg", "psycopg")]
)
def test_alembic_postgres(scheme: str, driver: str) -> None:
    if reason := _pg_reachable():
        pytest.skip(reason)
    with live.PgDatabase() as db:
        output = live.alembic_duplicate_column(db.url.replace("postgresql", scheme, 1), db.execute)
    _assert_duplicate_column(output, "account", "9f8e7d6c5b4a", driver, statement=True)
    assert diagnose_text(output)[0].sqlstate == "42701"


@pytest.mark.postgres
def test_django_postgres() -> None:
    if reason := _pg_reachable():
        pytest.skip(reason)
    with live.PgDatabase() as db:
        output = live.django_duplicate_column(db.name, db.execute)
    # Django's default PostgreSQL driver is psycopg 3 when both are installed.
    _assert_duplicate_column(output, "shop_customer", "shop.0002_customer_email", "psycopg", statement=False)


@pytest.mark.mysql
def test_alembic_mariadb_pymysql() -> None:
    if reason := _mysql_reachable():
        pytest.skip(reason)
    with live.MysqlDatabase() as db:
        output = live.alembic_duplicate_column(db.url, db.execute)
    _assert_duplicate_column(output, "account", "9f8e7d6c5b4a", "pymysql", statement=True)
    assert diagnose_text(output)[0].errno == 1060


def test_alembic_sqlite() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "app.db"
        output = live.alembic_duplicate_column(f"sqlite:///{path}", live.sqlite_file_execute(path))
    _assert_duplicate_column(output, "account", "9f8e7d6c5b4a", "sqlite3", statement=True)
