"""Echo merging: one failure per error, the richest reading kept, different errors kept apart."""

from __future__ import annotations

from migration_guard.diagnose import Failure, diagnose_text
from migration_guard.diagnose.merge import Collector, combine, core, same


def test_core_strips_classes_and_levels() -> None:
    a = 'sqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedTable) relation "x" does not exist'
    b = 'ERROR:  relation "x" does not exist'
    assert core(a) == core(b) == 'relation "x" does not exist'


def test_same_needs_agreeing_identity() -> None:
    a = Failure("duplicate_column", column="c", object_name="c", revision="r1")
    assert same(a, Failure("duplicate_column", column="c", object_name="c", table="t"))
    assert not same(a, Failure("duplicate_column", column="c", object_name="c", revision="r2"))
    assert not same(a, Failure("duplicate_column", column="d", object_name="d"))
    assert not same(a, Failure("duplicate_relation", object_name="c"))
    assert same(Failure("multiple_heads"), Failure("multiple_heads"))


def test_combine_prefers_the_statement_but_keeps_the_first_position() -> None:
    first = Failure(
        "duplicate_relation",
        object_type="relation",
        object_name="ix",
        table="ix",
        line=3,
        message="first",
        driver="psycopg2",
    )
    later = Failure(
        "duplicate_relation",
        object_type="index",
        object_name="ix",
        table="t",
        line=9,
        message="later",
        statement="CREATE INDEX ix ON t (a)",
    )
    merged = combine(first, later)
    assert (merged.object_type, merged.table, merged.statement, merged.driver) == (
        "index",
        "t",
        "CREATE INDEX ix ON t (a)",
        "psycopg2",
    )
    assert (merged.line, merged.message) == (3, "first")


def test_collector_caps_quiet_failures_but_not_the_real_one() -> None:
    collected = Collector(max_failures=10, max_quiet=3)
    for i in range(20):
        unknown = Failure("unknown", message=f"ValueError: e{i}")
        assert collected.wants(unknown) == (i < 3)
        collected.add(unknown)
    collected.add(Failure("duplicate_column", column="c", object_name="c", message="x"))
    assert [f.kind for f in collected.failures] == ["unknown"] * 3 + ["duplicate_column"]


def test_repeated_traceback_in_the_log_is_one_failure() -> None:
    block = (
        "Traceback (most recent call last):\n"
        'psycopg2.errors.DuplicateTable: relation "t" already exists\n'
        "The above exception was the direct cause of the following exception:\n"
        'django.db.utils.ProgrammingError: relation "t" already exists\n'
    )
    failures = diagnose_text(block * 3)
    assert [(f.kind, f.object_name, f.line) for f in failures] == [("duplicate_relation", "t", 2)]
