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


def _rebuild_verdict(url: str, create: str, table: str, filled: dict) -> object:
    from migration_guard.operations.rebuild import Rebuild

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            catalog = snapshot(conn)
            with open_shadow(conn, "sqlite") as shadow:
                effect = Rebuild(table, f"new__{table}", [create], filled=filled).effect(create)
                return check(effect, catalog, shadow)
    finally:
        engine.dispose()


def test_sqlite_table_rebuild_compares_the_whole_table(sqlite_url) -> None:
    """A Django rebuild (new__t) is satisfied only by the whole definition: columns in any order, keys,
    a foreign key of the table to itself, CHECKs and AUTOINCREMENT."""
    wanted = ('CREATE TABLE "new__node" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "code" varchar(20) NOT NULL, '
              '"age" integer unsigned NOT NULL CHECK ("age" >= 0), "parent_id" bigint NULL REFERENCES "new__node" '
              '("id") DEFERRABLE INITIALLY DEFERRED, "name" varchar(50) NOT NULL UNIQUE)')
    execute(sqlite_url, 'CREATE TABLE node (id integer NOT NULL PRIMARY KEY AUTOINCREMENT, name varchar(50) NOT NULL '
                        'UNIQUE, age integer unsigned NOT NULL CHECK (age >= 0), parent_id bigint NULL REFERENCES node '
                        '(id) DEFERRABLE INITIALLY DEFERRED, code varchar(20) NOT NULL)')
    assert _rebuild_verdict(sqlite_url, wanted, "node", {"code": "''"}).state == "satisfied"
    assert "foreign keys" in _rebuild_verdict(sqlite_url, wanted.replace(" DEFERRABLE INITIALLY DEFERRED", ""),
                                              "node", {"code": "''"}).reason
    execute(sqlite_url, "CREATE TABLE other (id integer NOT NULL PRIMARY KEY, name varchar(50) NOT NULL, "
                        "code varchar(20) NOT NULL DEFAULT '')")
    other = wanted.replace("new__node", "new__other")
    verdict = _rebuild_verdict(sqlite_url, other, "other", {"code": "''"})
    assert verdict.state == "differs"
    for part in ("column code is VARCHAR(20) NOT NULL DEFAULT '', wanted VARCHAR(20) NOT NULL", "column age is missing",
                 "AUTOINCREMENT off, wanted on", "UNIQUE constraints none"):
        assert part in verdict.reason
    assert _rebuild_verdict(sqlite_url, other, "other", {"age": "0"}).state == "missing"  # what it adds is not there
    assert tables(sqlite_url) == {"node", "other", "sqlite_sequence"}


def test_mysql_shadow_gives_the_session_back_as_it_found_it(mysql_url) -> None:
    """The guard's sessions are pooled: the short lock wait a shadow sets must not outlive it."""
    execute(mysql_url, "CREATE TABLE t (id INT PRIMARY KEY, n INT)")
    engine = create_engine(mysql_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            before = conn.exec_driver_sql("SELECT @@SESSION.lock_wait_timeout").scalar()
            catalog = snapshot(conn)
            with open_shadow(conn, "mysql") as shadow:
                during = conn.exec_driver_sql("SELECT @@SESSION.lock_wait_timeout").scalar()
                verdicts = [check(e, catalog, shadow) for e in effects_of("ALTER TABLE t ADD COLUMN n INT", "mysql")]
            after = conn.exec_driver_sql("SELECT @@SESSION.lock_wait_timeout").scalar()
    finally:
        engine.dispose()
    assert [v.state for v in verdicts] == ["satisfied"]
    assert during == 3 and after == before != 3
