"""duplicate_relation: PostgreSQL 42P07, MySQL 1050/1061, SQLite table/index/view."""

from __future__ import annotations


def test_pg_without_statement_is_a_relation_named_like_a_table(one) -> None:
    failure = one('psycopg2.errors.DuplicateTable: relation "bundle" already exists\n')
    assert (failure.kind, failure.object_type, failure.object_name, failure.table, failure.sqlstate) == (
        "duplicate_relation",
        "relation",
        "bundle",
        "bundle",
        "42P07",
    )


def test_pg_index_name_is_not_taken_for_a_table(one) -> None:
    failure = one('psycopg2.errors.DuplicateTable: relation "ix_users_email" already exists\n')
    assert (failure.object_type, failure.object_name, failure.table) == ("relation", "ix_users_email", None)


def test_pg_index_from_statement(one) -> None:
    failure = one(
        """\
        sqlalchemy.exc.ProgrammingError: (psycopg.errors.DuplicateTable) relation "by_email" already exists
        [SQL: CREATE UNIQUE INDEX by_email ON users (email)]
        """
    )
    assert (failure.object_type, failure.object_name, failure.table, failure.driver) == (
        "index",
        "by_email",
        "users",
        "psycopg",
    )


def test_raw_echo_and_wrapper_merge_and_statement_wins(one) -> None:
    failure = one(
        """\
        psycopg2.errors.DuplicateTable: relation "by_email" already exists

        The above exception was the direct cause of the following exception:

        sqlalchemy.exc.ProgrammingError: (psycopg2.errors.DuplicateTable) relation "by_email" already exists
        [SQL: CREATE INDEX by_email ON users (email)]
        """
    )
    assert (failure.object_type, failure.table, failure.line) == ("index", "users", 1)


def test_pg_sequence_of_a_serial_column(one) -> None:
    failure = one(
        """\
        sqlalchemy.exc.ProgrammingError: (psycopg2.errors.DuplicateTable) relation "t_id_seq" already exists
        [SQL: CREATE TABLE t (id SERIAL NOT NULL, PRIMARY KEY (id))]
        """
    )
    assert (failure.object_type, failure.object_name, failure.table) == ("sequence", "t_id_seq", "t")


def test_pg_unique_constraint_index_name(one) -> None:
    failure = one(
        """\
        sqlalchemy.exc.ProgrammingError: (psycopg2.errors.DuplicateTable) relation "uq_t_a" already exists
        [SQL: ALTER TABLE t ADD CONSTRAINT uq_t_a UNIQUE (a)]
        """
    )
    assert (failure.object_type, failure.object_name, failure.table) == ("index", "uq_t_a", "t")


def test_history_table_itself_is_a_relation(one) -> None:
    failure = one('psycopg2.errors.DuplicateTable: relation "django_migrations" already exists\n')
    assert (failure.kind, failure.table) == ("duplicate_relation", "django_migrations")


def test_mysql_1050_view(one) -> None:
    failure = one(
        """\
        pymysql.err.OperationalError: (1050, "Table 'v_orders' already exists")
        [SQL: CREATE VIEW v_orders AS SELECT 1]
        """
    )
    assert (failure.errno, failure.object_type, failure.table) == (1050, "view", "v_orders")


def test_mysql_1061_index(one) -> None:
    failure = one(
        """\
        (MySQLdb.OperationalError) (1061, "Duplicate key name 'ix_a'")
        [SQL: ALTER TABLE t ADD INDEX ix_a (a)]
        """
    )
    assert (failure.errno, failure.object_type, failure.object_name, failure.table) == (
        1061,
        "index",
        "ix_a",
        "t",
    )


def test_mysql_1061_inside_create_table_is_not_one(kinds) -> None:
    log = """\
        (pymysql.err.OperationalError) (1061, "Duplicate key name 'ix_a'")
        [SQL: CREATE TABLE t (a INT, KEY ix_a (a), KEY ix_a (a))]
        """
    assert kinds(log) == ["unknown"]


def test_sqlite_quoted_table_and_index(kinds, one) -> None:
    failure = one('sqlite3.OperationalError: table "order" already exists\n')
    assert (failure.object_type, failure.object_name, failure.table) == ("table", "order", "order")
    failure = one(
        """\
        sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) index ix_a already exists
        [SQL: CREATE INDEX ix_a ON t (a)]
        """
    )
    assert (failure.object_type, failure.object_name, failure.table) == ("index", "ix_a", "t")


def test_column_message_is_not_a_relation(kinds) -> None:
    assert kinds('psycopg2.errors.DuplicateColumn: column "c" of relation "t" already exists\n') == [
        "duplicate_column"
    ]
