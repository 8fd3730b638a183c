"""The shapes real runs print today, captured from real alembic and Django runs (see live.py).

Each log is a real `alembic upgrade head` or `manage.py migrate` whose last migration adds a column
that was already there; paths were replaced by /app and /venv, nothing else changed.
"""



from __future__ import annotations

from pathlib import Path

import pytest

from migration_guard.diagnose import diagnose_text, primary

SHAPES = Path(__file__).parent / "shapes"

ALEMBIC_COMMON = {
    "kind": "duplicate_column",
    "object_type": "column",
    "object_name": "email",
    "column": "email",
    "table": "account",
    "statement": "ALTER TABLE account ADD COLUMN email VARCHAR(120)",
    "revision": "9f8e7d6c5b4a",
}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "alembic_psycopg2_duplicate_column.log",
            {
                **ALEMBIC_COMMON,
                "sqlstate": "42701",
                "driver": "psycopg2",
                "dialect": "postgresql",
                "message": 'psycopg2.errors.DuplicateColumn: column "email" of relation "account" already exists',
            },
        ),
        (
            "alembic_psycopg3_duplicate_column.log",
            {**ALEMBIC_COMMON, "sqlstate": "42701", "driver": "psycopg", "dialect": "postgresql"},
        ),
        (
            "alembic_pymysql_duplicate_column.log",
            {
                **ALEMBIC_COMMON,
                "errno": 1060,
                "driver": "pymysql",
                "dialect": "mysql",
                "message": "pymysql.err.OperationalError: (1060, \"Duplicate column name 'email'\")",
            },
        ),
        (
            "alembic_sqlite3_duplicate_column.log",
            {**ALEMBIC_COMMON, "driver": "sqlite3", "dialect": "sqlite", "sqlstate": None, "errno": None},
        ),
        (
            "django_postgresql_duplicate_column.log",
            {
                "kind": "duplicate_column",
                "sqlstate": "42701",
                "object_type": "column",
                "object_name": "email",
                "column": "email",
                "table": "shop_customer",
                "revision": "shop.0002_customer_email",
                "driver": "psycopg",
                "dialect": "postgresql",
                "statement": None,
            },
        ),
    ],
)
def test_real_run(name: str, expected: dict) -> None:
    log = (SHAPES / name).read_text()
    failures = diagnose_text(log)
    # The driver's exception, SQLAlchemy's or Django's wrapper and the repeated traceback: one failure.
    assert len(failures) == 1, [f.to_dict() for f in failures]
    failure = failures[0]
    assert primary(failures) is failure
    for field, value in expected.items():
        assert getattr(failure, field) == value, field
    # The line is the first echo: the driver's own exception line.
    assert log.splitlines()[failure.line - 1] == failure.message


def test_django_wrapper_alone(one) -> None:
    """Django's wrapper line is enough on its own (psycopg2 shape, no driver line posted)."""
    failure = one(
        """\
        Running migrations:
          Applying shop.0002_customer_email...Traceback (most recent call last):
          File "/venv/lib/python3.11/site-packages/django/db/backends/utils.py", line 105, in _execute
            return self.cursor.execute(sql, params)
        django.db.utils.ProgrammingError: column "email" of relation "shop_customer" already exists
        """
    )
    assert (failure.kind, failure.table, failure.column, failure.revision) == (
        "duplicate_column",
        "shop_customer",
        "email",
        "shop.0002_customer_email",
    )
    assert (failure.sqlstate, failure.dialect, failure.driver, failure.line) == (
        "42701",
        "postgresql",
        None,
        5,
    )


def test_sqlalchemy2_psycopg2_wrapper_with_multiline_sql(one) -> None:
    # SQLAlchemy 2.x prints the statement raw, trailing spaces included, then a lone "]".
    log = "\n".join(
        [
            "INFO  [alembic.runtime.migration] Running upgrade 1a2b -> 3c4d, orders",
            'sqlalchemy.exc.ProgrammingError: (psycopg2.errors.DuplicateTable) relation "orders" already exists',
            "",
            "[SQL: ",
            "CREATE TABLE orders (",
            "\tid SERIAL NOT NULL, ",
            "\tPRIMARY KEY (id)",
            ")",
            "",
            "]",
            "(Background on this error at: https://sqlalche.me/e/20/f405)",
        ]
    )
    failure = one(log)
    assert failure.kind == "duplicate_relation"
    assert (failure.object_type, failure.object_name, failure.table) == ("table", "orders", "orders")
    assert failure.statement == "CREATE TABLE orders (\n\tid SERIAL NOT NULL, \n\tPRIMARY KEY (id)\n)"
    assert (failure.revision, failure.driver, failure.sqlstate) == ("3c4d", "psycopg2", "42P07")
