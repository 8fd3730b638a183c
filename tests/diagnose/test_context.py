"""Context read around an error: driver, dialect, revision, statement, SQLSTATE."""

from __future__ import annotations

from migration_guard.diagnose import diagnose_text


def test_driver_from_frames_when_the_wrapper_hides_it(one) -> None:
    failure = one(
        """\
          File "/venv/lib/python3.9/dist-packages/MySQLdb/connections.py", line 254, in query
            _mysql.connection.query(self, query)
        django.db.utils.OperationalError: (1060, "Duplicate column name 'c'")
        """
    )
    assert (failure.driver, failure.dialect, failure.errno) == ("mysqlclient", "mysql", 1060)


def test_dialect_from_alembic_context_impl(one) -> None:
    failure = one(
        """\
        INFO  [alembic.runtime.migration] Context impl SQLiteImpl.
        ERROR [alembic.util.messaging] Can't locate revision identified by 'ab12'
        """
    )
    assert (failure.dialect, failure.driver) == ("sqlite", None)


def test_downgrade_fails_in_the_revision_being_downgraded(one) -> None:
    failure = one(
        """\
        INFO  [alembic.runtime.migration] Running downgrade c3 -> a1, b2, merge
        psycopg2.errors.DuplicateTable: relation "old_t" already exists
        """
    )
    assert failure.revision == "c3"


def test_merge_upgrade_and_django_unapply(one) -> None:
    failure = one(
        """\
        INFO  [alembic.runtime.migration] Running upgrade a1, b2 -> c3, merge heads
        psycopg2.errors.DuplicateTable: relation "t" already exists
        """
    )
    assert failure.revision == "c3"
    failure = one(
        """\
          Unapplying shop.0003_x...Traceback (most recent call last):
        django.db.utils.ProgrammingError: column "c" of relation "t" already exists
        """
    )
    assert failure.revision == "shop.0003_x"


def test_a_new_shell_command_forgets_the_old_revision(one) -> None:
    failure = one(
        """\
        INFO  [alembic.runtime.migration] Running upgrade a1 -> b2, old run
        root@host:/app# alembic upgrade head
        sqlite3.OperationalError: duplicate column name: c
        """
    )
    assert failure.revision is None


def test_statement_is_not_taken_from_the_next_error() -> None:
    failures = diagnose_text(
        """\
(MySQLdb.OperationalError) (1060, "Duplicate column name 'a'")
(MySQLdb.OperationalError) (1061, "Duplicate key name 'ix_b'")
[SQL: CREATE INDEX ix_b ON t (b)]
"""
    )
    assert [(f.object_name, f.statement) for f in failures] == [
        ("a", None),
        ("ix_b", "CREATE INDEX ix_b ON t (b)"),
    ]


def test_sqlstate_from_the_exception_class(one) -> None:
    assert one('psycopg2.errors.SyntaxError: syntax error at or near "x"\n').sqlstate == "42601"
    assert one('asyncpg.exceptions.UndefinedTableError: relation "x" does not exist\n').sqlstate == "42P01"
