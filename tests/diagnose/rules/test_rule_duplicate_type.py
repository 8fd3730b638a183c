"""duplicate_type: PostgreSQL 42710 on CREATE TYPE."""



from __future__ import annotations


def test_enum_with_statement(one) -> None:
    failure = one(
        """\
        INFO  [alembic.runtime.migration] Running upgrade 01 -> 02, status
        sqlalchemy.exc.ProgrammingError: (psycopg2.errors.DuplicateObject) type "status" already exists
        [SQL: CREATE TYPE status AS ENUM ('a', 'b')]
        """
    )
    assert (failure.kind, failure.object_type, failure.object_name, failure.sqlstate) == (
        "duplicate_type",
        "type",
        "status",
        "42710",
    )
    assert (failure.statement, failure.revision) == ("CREATE TYPE status AS ENUM ('a', 'b')", "02")


def test_django_wrapper_without_driver(one) -> None:
    failure = one('django.db.utils.ProgrammingError: type "mood" already exists\n')
    assert (failure.kind, failure.object_name, failure.dialect) == ("duplicate_type", "mood", "postgresql")


def test_row_type_clash_on_create_table_is_not_a_type(kinds) -> None:
    log = """\
        psycopg2.errors.DuplicateObject: type "mood" already exists
        HINT:  A relation has an associated type of the same name, so you must use a name that doesn't conflict.
        [SQL: CREATE TABLE mood (id INTEGER)]
        """
    assert kinds(log) == ["unknown"]


def test_constraint_is_not_a_type(kinds) -> None:
    log = 'psycopg2.errors.DuplicateObject: constraint "ck" for relation "t" already exists\n'
    assert kinds(log) == ["duplicate_object"]
