"""unknown_revision, multiple_heads, not_up_to_date: alembic's revision-map errors, echoes merged."""

# ruff: noqa: E501 - log lines are quoted as databases print them, unwrapped

from __future__ import annotations


def test_unknown_revision_error_and_failed_lines_are_one(one) -> None:
    failure = one(
        """\
        INFO  [alembic.runtime.migration] Running upgrade a -> b, stale context from an earlier command
        $ alembic upgrade head
        ERROR [alembic.util.messaging] Can't locate revision identified by 'fe7656c21eaa'
          FAILED: Can't locate revision identified by 'fe7656c21eaa'
        """
    )
    assert (failure.kind, failure.revision, failure.object_name, failure.line, failure.statement) == (
        "unknown_revision",
        "fe7656c21eaa",
        "fe7656c21eaa",
        3,
        None,
    )


def test_no_such_revision(one) -> None:
    failure = one("alembic.script.revision.ResolutionError: No such revision or branch 'abc1'\n")
    assert (failure.kind, failure.revision) == ("unknown_revision", "abc1")


def test_multiple_heads_cli_and_exception(one) -> None:
    failure = one(
        """\
        ERROR [alembic.util.messaging] Multiple head revisions are present for given argument 'head'; please specify a specific target revision, '<branchname>@head' to narrow to a specific head, or 'heads' for all heads
          FAILED: Multiple head revisions are present for given argument 'head'; please specify a specific target revision, '<branchname>@head' to narrow to a specific head, or 'heads' for all heads
        """
    )
    assert (failure.kind, failure.object_name, failure.revision) == ("multiple_heads", None, None)
    failure = one(
        "alembic.script.revision.MultipleHeads: Multiple heads are present for given argument 'head'; a1, b2\n"
    )
    assert (failure.kind, failure.object_name) == ("multiple_heads", "a1, b2")


def test_not_up_to_date_root_logger_echo(one) -> None:
    failure = one(
        """\
        ERROR [alembic.env] Target database is not up to date.
        ERROR [root] Error: Target database is not up to date.
        """
    )
    assert (failure.kind, failure.line) == ("not_up_to_date", 1)


def test_not_up_to_date_with_basic_logging_format(one) -> None:
    failure = one("ERROR:alembic.env:Target database is not up to date.\n")
    assert failure.kind == "not_up_to_date"
