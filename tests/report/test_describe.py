from __future__ import annotations

import pytest

from migration_guard.diagnose.failure import KINDS, Failure
from migration_guard.report.describe import (
    HEADLINES,
    MARKERS,
    describe,
    error_code,
    headline,
    marker,
)
from migration_guard.report.model import STATUSES


def _rich_failure(kind: str) -> Failure:
    # No object_type: duplicate_relation and duplicate_object on the same index read the same, rightly.
    return Failure(
        kind=kind,
        sqlstate="42P07",
        object_name="ix_users_email",
        table="users",
        statement="CREATE UNIQUE INDEX ix_users_email ON users (email)",
        revision="5d4c3b2a1f0e",
        dialect="postgresql",
        message="the error line as the log had it",
    )


def test_every_status_has_a_headline_and_an_ascii_marker():
    assert set(HEADLINES) == set(STATUSES) == set(MARKERS)
    for status in STATUSES:
        assert marker(status).isascii()
    assert headline("recovered") == "Migrated after recovery"
    assert headline("refused") == "Refused: a human must decide"


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_its_own_plain_words(kind):
    sentence = describe(_rich_failure(kind))
    assert sentence and kind not in sentence  # words, not the identifier
    others = {describe(_rich_failure(k)) for k in KINDS if k != kind}
    assert sentence not in others


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_reads_with_nothing_but_its_kind(kind):
    assert describe(Failure(kind=kind))


def test_duplicate_column_sentence_names_column_code_revision_and_statement():
    f = Failure(
        kind="duplicate_column",
        sqlstate="42701",
        table="settings",
        column="google_calendar_client_id",
        revision="abc123",
        statement="ALTER TABLE settings ADD COLUMN google_calendar_client_id VARCHAR(255)",
        dialect="postgresql",
    )
    assert describe(f) == (
        "Column `settings.google_calendar_client_id` already exists (PostgreSQL 42701) while revision "
        "`abc123` ran `ALTER TABLE settings ADD COLUMN google_calendar_client_id VARCHAR(255)`"
    )
    assert describe(f, predicted=True).endswith(
        "; revision `abc123` would run "
        "`ALTER TABLE settings ADD COLUMN google_calendar_client_id VARCHAR(255)`"
    )
    assert "ALTER" not in describe(f, with_statement=False)


def test_long_statements_are_shortened_inside_the_sentence():
    f = Failure(
        kind="duplicate_type", object_name="mood", statement="CREATE TYPE mood AS ENUM (" + "'x', " * 50
    )
    assert "..." in describe(f)
    assert len(describe(f)) < 160


def test_error_code_names_the_server():
    assert error_code(Failure(kind="duplicate_column", errno=1060, dialect="mysql")) == "MySQL/MariaDB 1060"
    assert error_code(Failure(kind="duplicate_column", sqlstate="42701")) == "SQLSTATE 42701"
    assert error_code(Failure(kind="duplicate_column", dialect="sqlite")) == ""


def test_duplicate_data_names_the_duplicated_key():
    f = Failure(
        kind="duplicate_data", constraint="uq_accounts_slug", table="accounts", key="Key (slug)=(acme)"
    )
    assert (
        describe(f)
        == "Unique index `uq_accounts_slug` on `accounts` cannot be built: rows share `Key (slug)=(acme)`"
    )


def test_unknown_says_no_action_was_taken_and_quotes_the_error():
    f = Failure(
        kind="unknown", errno=1829, dialect="mysql", revision="orders.0007", message="Cannot drop `x`"
    )
    sentence = describe(f)
    assert sentence.startswith("Revision `orders.0007` failed")
    assert "(MySQL/MariaDB 1829)" in sentence
    assert "`` Cannot drop `x` ``" in sentence
    assert sentence.endswith("migration-guard took no action")


def test_names_with_backticks_stay_inside_their_code_span():
    f = Failure(kind="duplicate_relation", object_type="table", object_name="we`ird")
    assert describe(f) == "Table ``we`ird`` already exists"
