"""The shared fixtures: each test gets its own empty database, and it is gone afterwards."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from migration_guard.db import throwaway
from tests.support import servers
from tests.support.cli import clean_env


def _database_names(admin_url: str) -> set[str]:
    with servers.admin_connection(admin_url) as conn:
        if make_url(admin_url).get_backend_name() == "postgresql":
            rows = conn.exec_driver_sql("SELECT datname FROM pg_database")
        else:
            rows = conn.exec_driver_sql("SHOW DATABASES")
        return {name for (name,) in rows}


def test_pg_url_is_a_fresh_empty_database(pg_url: str, pg_server_url: str) -> None:
    name = make_url(pg_url).database
    assert name is not None and name.startswith("mgt_")
    engine = create_engine(pg_url, poolclass=NullPool)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT current_database()")).scalar() == name
        assert inspect(conn).get_table_names() == []
        conn.execute(text("CREATE TABLE t (id int)"))
    assert name in _database_names(pg_server_url)


def test_mysql_url_is_a_fresh_empty_database(mysql_url: str) -> None:
    name = make_url(mysql_url).database
    assert name is not None and name.startswith("mgt_")
    engine = create_engine(mysql_url, poolclass=NullPool)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT DATABASE()")).scalar() == name
        assert inspect(conn).get_table_names() == []
        conn.execute(text("CREATE TABLE t (id int)"))


def test_sqlite_url_is_a_file_in_tmp_path(sqlite_url: str, tmp_path: Path) -> None:
    path = make_url(sqlite_url).database
    assert path is not None and path.startswith(str(tmp_path))
    sqlite3.connect(path).execute("CREATE TABLE t (id int)")


@pytest.mark.parametrize("server", ["pg_server_url", "mysql_server_url"])
def test_fresh_database_is_dropped_even_with_a_connection_left_open(
    server: str, request: pytest.FixtureRequest
) -> None:
    admin_url = request.getfixturevalue(server)
    with servers.fresh_database(admin_url) as url:
        name = make_url(url).database
        engine = create_engine(url)  # pooled, and never disposed: a test that forgot to clean up
        with engine.connect() as conn:
            conn.execute(text("CREATE TABLE t (id int)"))
            conn.commit()
        leftover = engine.connect()
        leftover.execute(text("SELECT 1"))
        assert name in _database_names(admin_url)
    assert name not in _database_names(admin_url)
    # Discard the killed connection now: left to the garbage collector, its pool's reset-on-return
    # fails and logs at some random later moment (and on Python 3.11.7 that can break pytest: CPython
    # gh-106905, an ast.parse re-entered from a finalizer).
    leftover.invalidate()
    engine.dispose()


def test_clean_env_keeps_path_and_drops_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://x:secret@db/app")
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    env = clean_env({"MIGRATION_GUARD_MAX_ATTEMPTS": "2"})
    assert "DATABASE_URL" not in env and "GITHUB_TOKEN" not in env
    assert env["PATH"] and env["MIGRATION_GUARD_MAX_ATTEMPTS"] == "2"


CLOSED_PORT_URL = "postgresql://postgres@127.0.0.1:9/postgres"


def test_without_a_server_on_5432_a_throwaway_server_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    if throwaway._system_bin_dir() is None and throwaway._embedded_bin_dir() is None:
        pytest.skip("no PostgreSQL binaries for a throwaway server on this machine")
    monkeypatch.delenv("MG_TEST_POSTGRES_URL", raising=False)
    monkeypatch.setattr(servers, "DEFAULT_POSTGRES_URL", CLOSED_PORT_URL)
    with servers.postgres_server() as admin_url:
        assert admin_url != CLOSED_PORT_URL
        assert servers.probe(admin_url) is None
        with servers.fresh_database(admin_url) as url:
            assert servers.probe(url) is None
    assert servers.probe(admin_url) is not None  # stopped with the session


def test_without_any_postgres_the_reason_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_binaries() -> None:
        raise RuntimeError("cannot start a throwaway PostgreSQL (...): install ...")

    monkeypatch.delenv("MG_TEST_POSTGRES_URL", raising=False)
    monkeypatch.delenv("MG_TEST_REQUIRE_SERVERS", raising=False)
    monkeypatch.setattr(servers, "DEFAULT_POSTGRES_URL", CLOSED_PORT_URL)
    monkeypatch.setattr(servers, "start_throwaway_postgres", no_binaries)
    expected = r"no PostgreSQL: 127\.0\.0\.1:5432 does not answer"
    with pytest.raises(servers.NoServer, match=expected) as raised, servers.postgres_server():
        pass
    assert not raised.value.required  # absent, not asked for: the tests skip


def test_a_named_server_that_does_not_answer_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MG_TEST_POSTGRES_URL", "postgresql://u:secret@127.0.0.1:9/postgres")
    with pytest.raises(servers.NoServer) as raised, servers.postgres_server():
        pass
    assert raised.value.required
    assert "secret" not in raised.value.reason


def test_probe_says_why_a_server_does_not_answer() -> None:
    # Port 9 (discard) on loopback is closed on these machines; a refused connection must come back as
    # a one-line reason, quickly, not an exception.
    why = servers.probe("postgresql://postgres@127.0.0.1:9/postgres")
    assert why is not None and "OperationalError" in why and "\n" not in why
