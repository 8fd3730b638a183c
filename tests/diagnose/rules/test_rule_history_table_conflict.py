"""history_table_conflict: unique violations on alembic_version / django_migrations."""

# ruff: noqa: E501 - log lines are quoted as databases print them, unwrapped

from __future__ import annotations


def test_django_migrations_pkey(one) -> None:
    failure = one(
        """\
        Running migrations:
          Applying shop.0003_x...Traceback (most recent call last):
        psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint "django_migrations_pkey"
        DETAIL:  Key (id)=(67) already exists.
        """
    )
    assert (failure.kind, failure.table, failure.constraint, failure.key, failure.revision) == (
        "history_table_conflict",
        "django_migrations",
        "django_migrations_pkey",
        "(id)=(67)",
        "shop.0003_x",
    )


def test_alembic_custom_version_table_keys_on_version_num(one) -> None:
    failure = one(
        """\
        sqlalchemy.exc.IntegrityError: (psycopg2.errors.UniqueViolation) duplicate key value violates unique constraint "my_versions_pkc"
        DETAIL:  Key (version_num)=(ab12) already exists.
        [SQL: INSERT INTO my_versions (version_num) VALUES ('ab12')]
        """
    )
    assert (failure.kind, failure.table, failure.constraint) == (
        "history_table_conflict",
        "alembic_version",
        "my_versions_pkc",
    )


def test_mysql_and_sqlite(one) -> None:
    failure = one(
        """\
        pymysql.err.IntegrityError: (1062, "Duplicate entry 'ab12' for key 'PRIMARY'")
        [SQL: INSERT INTO alembic_version (version_num) VALUES ('ab12')]
        """
    )
    assert (failure.kind, failure.errno, failure.table, failure.key) == (
        "history_table_conflict",
        1062,
        "alembic_version",
        "ab12",
    )
    failure = one("sqlite3.IntegrityError: UNIQUE constraint failed: alembic_version.version_num\n")
    assert (failure.kind, failure.table, failure.dialect) == (
        "history_table_conflict",
        "alembic_version",
        "sqlite",
    )


def test_user_table_violation_is_not_history(kinds) -> None:
    log = (
        'psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint "users_email_key"\n'
    )
    assert kinds(log) == ["unknown"]
