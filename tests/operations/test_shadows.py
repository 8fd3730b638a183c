"""Shadows on real MariaDB and SQLite databases: the statement's object, read the way the live one is read."""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool
from tests.support.guard import execute, rows
from tests.support.schema import tables

from migration_guard.db.catalog import snapshot
from migration_guard.db.shadow import open_shadow
from migration_guard.operations import effects_of
from migration_guard.recovery.evidence import check


def _verdicts(url: str, dialect: str, statement: str) -> list:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            catalog = snapshot(conn)
            with open_shadow(conn, dialect) as shadow:
                return [check(e, catalog, shadow) for e in effects_of(statement, dialect) if e.checkable]
    finally:
        engine.dispose()


def _states(url: str, dialect: str, statement: str) -> list[str]:
    return [v.state for v in _verdicts(url, dialect, statement)]


def test_mysql_columns_compare_as_the_server_stores_them(mysql_url) -> None:
    execute(mysql_url, "CREATE TABLE t (id INT PRIMARY KEY, flag TINYINT(1), n INT, code VARCHAR(10) "
                       "COLLATE utf8mb4_bin, note VARCHAR(10))")
    assert _states(mysql_url, "mysql", "ALTER TABLE t ADD COLUMN flag BOOL") == ["satisfied"]
    assert _states(mysql_url, "mysql", "ALTER TABLE t ADD COLUMN n INTEGER NULL") == ["satisfied"]
    assert _states(mysql_url, "mysql", "ALTER TABLE t ADD COLUMN n INTEGER NOT NULL") == ["differs"]
    assert _states(mysql_url, "mysql", "ALTER TABLE t ADD COLUMN code VARCHAR(10)") == ["differs"]  # collation
    assert _states(mysql_url, "mysql", "ALTER TABLE t ADD COLUMN note VARCHAR(10) DEFAULT 'x'") == ["differs"]
    assert _states(mysql_url, "mysql", "ALTER TABLE t ADD COLUMN missing INT, ADD COLUMN note VARCHAR(10)") == [
        "missing", "satisfied"]
    assert tables(mysql_url) == {"t"}  # the copies were temporary and are gone


def test_mysql_tables_and_indexes(mysql_url) -> None:
    execute(mysql_url, "CREATE TABLE o (id INT PRIMARY KEY)",
            "CREATE TABLE t (id INTEGER NOT NULL AUTO_INCREMENT, o_id INT, body TEXT, PRIMARY KEY (id), "
            "CONSTRAINT fk FOREIGN KEY (o_id) REFERENCES o (id))",
            "CREATE INDEX ix_body ON t (body(20) DESC)", "INSERT INTO o VALUES (1)", "INSERT INTO t (o_id) VALUES (1)")
    wanted = ("CREATE TABLE t (id INTEGER NOT NULL AUTO_INCREMENT, o_id INTEGER, body TEXT, PRIMARY KEY (id), "
              "FOREIGN KEY(o_id) REFERENCES o (id))")
    assert _states(mysql_url, "mysql", wanted) == ["satisfied"]
    assert _states(mysql_url, "mysql", "CREATE TABLE t (id BIGINT NOT NULL, PRIMARY KEY (id))") == ["differs"]
    assert _states(mysql_url, "mysql", "CREATE INDEX ix_body ON t (body(20) DESC)") == ["satisfied"]
    assert _states(mysql_url, "mysql", "CREATE INDEX ix_body ON t (body(30))") == ["differs"]
    assert _states(mysql_url, "mysql", "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (o_id) REFERENCES o (id)") == [
        "satisfied"]
    assert _states(mysql_url, "mysql", "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (o_id) REFERENCES t (id)") == [
        "differs"]
    execute(mysql_url, "ALTER TABLE t ADD CONSTRAINT uq_t UNIQUE (o_id)")
    assert _states(mysql_url, "mysql", "ALTER TABLE t ADD CONSTRAINT uq_t UNIQUE (o_id)") == ["satisfied"]
    assert _states(mysql_url, "mysql", "ALTER TABLE t ADD CONSTRAINT uq_t UNIQUE (o_id, id)") == ["differs"]
    assert rows(mysql_url, "SELECT count(*) FROM t") == [(1,)]
    assert tables(mysql_url) == {"o", "t"}


def test_sqlite_declared_types_nullability_defaults_and_collation(sqlite_url) -> None:
    execute(sqlite_url, "CREATE TABLE t (id INTEGER PRIMARY KEY, a varchar( 20 ), b INT, c TEXT NOT NULL DEFAULT 'x', "
                        "d TEXT COLLATE NOCASE)")
    assert _states(sqlite_url, "sqlite", "ALTER TABLE t ADD COLUMN a VARCHAR(20)") == ["satisfied"]
    assert _states(sqlite_url, "sqlite", "ALTER TABLE t ADD COLUMN b INTEGER") == ["differs"]
    assert _states(sqlite_url, "sqlite", "ALTER TABLE t ADD COLUMN c TEXT NOT NULL DEFAULT 'x'") == ["satisfied"]
    assert _states(sqlite_url, "sqlite", "ALTER TABLE t ADD COLUMN c TEXT NOT NULL DEFAULT 'y'") == ["differs"]
    assert _states(sqlite_url, "sqlite", "ALTER TABLE t ADD COLUMN d TEXT") == ["differs"]
    reason = _verdicts(sqlite_url, "sqlite", "ALTER TABLE t ADD COLUMN b INTEGER")[0].reason
    assert "INT" in reason and "INTEGER" in reason
    assert tables(sqlite_url) == {"t"}


def test_sqlite_indexes_compare_keys_order_collation_and_predicate(sqlite_url) -> None:
    execute(sqlite_url, "CREATE TABLE m (id INTEGER PRIMARY KEY, email TEXT, deleted INT)",
            "CREATE UNIQUE INDEX ix_live ON m (lower(email)) WHERE deleted IS NULL",
            "CREATE INDEX ix_desc ON m (email DESC)")
    assert _states(sqlite_url, "sqlite",
                   "CREATE UNIQUE INDEX ix_live ON m (LOWER(email))  WHERE deleted IS NULL") == ["satisfied"]
    assert _states(sqlite_url, "sqlite", "CREATE UNIQUE INDEX ix_live ON m (lower(email))") == ["differs"]
    assert _states(sqlite_url, "sqlite", "CREATE INDEX ix_desc ON m (email DESC)") == ["satisfied"]
    assert _states(sqlite_url, "sqlite", "CREATE INDEX ix_desc ON m (email)") == ["differs"]
    assert _states(sqlite_url, "sqlite", "CREATE INDEX ix_desc ON m (email COLLATE NOCASE)") == ["differs"]
