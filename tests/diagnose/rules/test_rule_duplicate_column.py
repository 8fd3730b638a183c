"""duplicate_column: PostgreSQL 42701, MySQL 1060, SQLite, and what is not one."""

from __future__ import annotations


def test_postgres_server_log_and_driver_are_one_failure(one) -> None:
    failure = one(
        """\
        app      | INFO  [alembic.runtime.migration] Running upgrade a1 -> b2, add
        postgres | 2024-01-01 10:00:00.000 UTC [70] ERROR:  column "uuid" of relation "chat" already exists
        postgres | 2024-01-01 10:00:00.000 UTC [70] STATEMENT:  ALTER TABLE chat ADD COLUMN uuid VARCHAR(36)
        app      | psycopg2.errors.DuplicateColumn: column "uuid" of relation "chat" already exists
        """
    )
    assert (failure.kind, failure.table, failure.column, failure.object_type) == (
        "duplicate_column",
        "chat",
        "uuid",
        "column",
    )
    assert failure.statement == "ALTER TABLE chat ADD COLUMN uuid VARCHAR(36)"
    assert (failure.revision, failure.driver, failure.sqlstate, failure.line) == (
        "b2",
        "psycopg2",
        "42701",
        2,
    )


def test_asyncpg(one) -> None:
    failure = one('asyncpg.exceptions.DuplicateColumnError: column "c" of relation "t" already exists\n')
    assert (failure.driver, failure.dialect, failure.sqlstate, failure.table) == (
        "asyncpg",
        "postgresql",
        "42701",
        "t",
    )


def test_mysql_1060_takes_table_from_statement(one) -> None:
    failure = one(
        """\
        sqlalchemy.exc.OperationalError: (MySQLdb.OperationalError) (1060, "Duplicate column name 'c'")
        [SQL: ALTER TABLE `orders` ADD COLUMN c INTEGER]
        """
    )
    assert (failure.errno, failure.driver, failure.dialect, failure.table, failure.column) == (
        1060,
        "mysqlclient",
        "mysql",
        "orders",
        "c",
    )


def test_mysql_client_format(one) -> None:
    failure = one("ERROR 1060 (42S21) at line 1: Duplicate column name 'c'\n")
    assert (failure.kind, failure.errno, failure.column) == ("duplicate_column", 1060, "c")


def test_sqlite_batch_table_names_the_real_table(one) -> None:
    failure = one(
        """\
        sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) duplicate column name: c
        [SQL: CREATE TABLE _alembic_tmp_orders (id INTEGER NOT NULL, c INTEGER, c INTEGER)]
        """
    )
    assert (failure.kind, failure.table, failure.column, failure.dialect) == (
        "duplicate_column",
        "orders",
        "c",
        "sqlite",
    )


def test_create_table_naming_a_column_twice_is_not_one(kinds) -> None:
    # A bug in the migration: nothing in the catalog explains it.
    log = """\
        pymysql.err.OperationalError: (1060, "Duplicate column name 'c'")
        [SQL: CREATE TABLE t (c INT, c INT)]
        """
    assert kinds(log) == ["unknown"]


def test_specified_more_than_once_is_not_one(kinds) -> None:
    assert kinds('psycopg2.errors.DuplicateColumn: column "c" specified more than once\n') == ["unknown"]


def test_notice_if_not_exists_is_not_a_failure(kinds) -> None:
    log = """\
        NOTICE:  column "c" of relation "t" already exists, skipping
        psql:x.sql:1: NOTICE:  column "c" of relation "t" already exists, skipping
        """
    assert kinds(log) == []
