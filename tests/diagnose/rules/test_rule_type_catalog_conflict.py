"""type_catalog_conflict: 23505 on pg_type_typname_nsp_index, in all its printed shapes."""

# ruff: noqa: E501 - log lines are quoted as databases print them, unwrapped

from __future__ import annotations


def test_uniqueviolation_with_detail_and_statement(one) -> None:
    failure = one(
        """\
        sqlalchemy.exc.IntegrityError: (psycopg2.errors.UniqueViolation) duplicate key value violates unique constraint "pg_type_typname_nsp_index"
        DETAIL:  Key (typname, typnamespace)=(mood, 2200) already exists.

        [SQL: CREATE TYPE mood AS ENUM ('a')]
        """
    )
    assert (failure.kind, failure.object_type, failure.object_name, failure.constraint) == (
        "type_catalog_conflict",
        "type",
        "mood",
        "pg_type_typname_nsp_index",
    )
    assert (failure.key, failure.sqlstate, failure.statement) == (
        "(typname, typnamespace)=(mood, 2200)",
        "23505",
        "CREATE TYPE mood AS ENUM ('a')",
    )


def test_server_log_only(one) -> None:
    failure = one(
        """\
        2023-09-20 17:51:30.331 UTC [71] ERROR:  duplicate key value violates unique constraint "pg_type_typname_nsp_index"
        2023-09-20 17:51:30.331 UTC [71] DETAIL:  Key (typname, typnamespace)=(t_id_seq, 2200) already exists.
        2023-09-20 17:51:30.331 UTC [71] STATEMENT:  CREATE TABLE t (
        \t\tid SERIAL NOT NULL
        \t)
        """
    )
    assert (failure.object_name, failure.table, failure.dialect, failure.driver) == (
        "t_id_seq",
        "t",
        "postgresql",
        None,
    )
    assert failure.statement == "CREATE TABLE t (\n\t\tid SERIAL NOT NULL\n\t)"


def test_is_not_duplicate_data_or_history(kinds) -> None:
    log = 'psycopg2.IntegrityError: duplicate key value violates unique constraint "pg_type_typname_nsp_index"\n'
    assert kinds(log) == ["type_catalog_conflict"]
