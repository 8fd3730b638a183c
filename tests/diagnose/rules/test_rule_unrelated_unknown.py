"""unrelated (after every migration said OK) and unknown (no rule reads it)."""

from __future__ import annotations

from migration_guard.diagnose import diagnose_text, primary


def test_after_all_ok_is_unrelated_and_keeps_its_fields(one) -> None:
    failure = one(
        """\
          Applying sessions.0001_initial... OK
        startup handler: initialize database
        sqlite3.IntegrityError: UNIQUE constraint failed: core_lib.urn, core_lib.locale

        The above exception was the direct cause of the following exception:

        django.db.utils.IntegrityError: UNIQUE constraint failed: core_lib.urn, core_lib.locale
        """
    )
    assert (failure.kind, failure.table, failure.key, failure.revision, failure.line) == (
        "unrelated",
        "core_lib",
        "(urn, locale)",
        None,
        3,
    )


def test_ok_on_its_own_line_and_no_migrations_to_apply(kinds) -> None:
    log = """\
        Running migrations:
          No migrations to apply.
        psycopg2.errors.DuplicateColumn: column "c" of relation "t" already exists
        """
    assert kinds(log) == ["unrelated"]


def test_failure_in_the_step_still_running_is_not_unrelated(kinds) -> None:
    log = """\
          Applying a.0001_initial... OK
          Applying a.0002_more...Traceback (most recent call last):
        django.db.utils.ProgrammingError: relation "a_more" already exists
        """
    assert kinds(log) == ["duplicate_relation"]


def test_unknown_errors_and_primary() -> None:
    failures = diagnose_text(
        """\
ERROR [alembic.env] Traceback:
psycopg2.errors.UndefinedTable: relation "x" does not exist
sqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedTable) relation "x" does not exist
psycopg2.errors.DuplicateColumn: column "c" of relation "t" already exists
SAWarning: this is not an error
"""
    )
    assert [(f.kind, f.line) for f in failures] == [("unknown", 2), ("duplicate_column", 4)]
    assert failures[0].sqlstate == "42P01"
    assert primary(failures) is failures[1]
    assert primary(failures[:1]) is failures[0]
    assert primary([]) is None
