"""duplicate_data: a unique index or constraint meets duplicate rows."""

# ruff: noqa: E501 - log lines are quoted as databases print them, unwrapped

from __future__ import annotations


def test_pg_index_build(one) -> None:
    failure = one(
        """\
        INFO  [alembic.runtime.migration] Running upgrade a -> b, uniq
        sqlalchemy.exc.IntegrityError: (psycopg2.errors.UniqueViolation) could not create unique index "uq_tag"
        DETAIL:  Key (name, event_id)=(free, 498) is duplicated.

        [SQL: ALTER TABLE tag ADD CONSTRAINT uq_tag UNIQUE (name, event_id)]
        """
    )
    assert (failure.kind, failure.object_type, failure.constraint, failure.table) == (
        "duplicate_data",
        "constraint",
        "uq_tag",
        "tag",
    )
    assert (failure.key, failure.revision, failure.sqlstate) == ("(name, event_id)=(free, 498)", "b", "23505")


def test_pg_expression_index_key(one) -> None:
    failure = one(
        """\
        psycopg2.errors.UniqueViolation: could not create unique index "users_lower_email"
        DETAIL:  Key (lower(email::text))=(a@b.c) is duplicated.
        """
    )
    assert (failure.object_type, failure.key) == ("index", "(lower(email::text))=(a@b.c)")


def test_mysql_1062_while_altering(one) -> None:
    failure = one(
        """\
        pymysql.err.IntegrityError: (1062, "Duplicate entry 'a@b.c' for key 'users.uq_email'")
        [SQL: ALTER TABLE users ADD CONSTRAINT uq_email UNIQUE (email)]
        """
    )
    assert (failure.kind, failure.constraint, failure.key, failure.table, failure.errno) == (
        "duplicate_data",
        "uq_email",
        "a@b.c",
        "users",
        1062,
    )


def test_mysql_1062_on_insert_is_a_data_step(one) -> None:
    failure = one(
        """\
        pymysql.err.IntegrityError: (1062, "Duplicate entry 'x' for key 'PRIMARY'")
        [SQL: INSERT INTO users (id) VALUES ('x')]
        """
    )
    assert (failure.kind, failure.errno) == ("unknown", 1062)


def test_sqlite_inside_a_migration(one) -> None:
    failure = one(
        """\
        INFO  [alembic.runtime.migration] Running upgrade a -> b, uniq
        sqlite3.IntegrityError: UNIQUE constraint failed: users.email
        """
    )
    assert (failure.kind, failure.table, failure.column, failure.key, failure.revision) == (
        "duplicate_data",
        "users",
        "email",
        "(email)",
        "b",
    )


def test_sqlite_batch_copy(one) -> None:
    failure = one(
        """\
        sqlalchemy.exc.IntegrityError: (sqlite3.IntegrityError) UNIQUE constraint failed: _alembic_tmp_users.a, _alembic_tmp_users.b
        [SQL: INSERT INTO _alembic_tmp_users (a, b) SELECT users.a, users.b FROM users]
        """
    )
    assert (failure.kind, failure.key) == ("duplicate_data", "(a, b)")


def test_sqlite_outside_any_migration_is_unknown(one) -> None:
    failure = one("sqlite3.IntegrityError: UNIQUE constraint failed: users.email\n")
    assert (failure.kind, failure.table) == ("unknown", "users")


def test_pg_insert_violation_is_not_duplicate_data(kinds) -> None:
    log = """\
        INFO  [alembic.runtime.migration] Running upgrade a -> b, seed
        psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint "users_email_key"
        DETAIL:  Key (email)=(a@b.c) already exists.
        """
    assert kinds(log) == ["unknown"]
