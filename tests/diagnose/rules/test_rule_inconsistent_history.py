"""inconsistent_history: Django's InconsistentMigrationHistory, whole or hard-wrapped."""

from __future__ import annotations

PREFIX = "django.db.migrations.exceptions.InconsistentMigrationHistory: "


def test_one_line(one) -> None:
    failure = one(
        PREFIX + "Migration a.0002_x is applied before its dependency b.0001_y on database 'default'.\n"
    )
    assert (failure.kind, failure.revision, failure.object_type, failure.object_name) == (
        "inconsistent_history",
        "a.0002_x",
        "migration",
        "b.0001_y",
    )


def test_wrapped_mid_identifier_with_revision_context_ignored(one) -> None:
    log = (
        "  Applying other.0009_z... OK\n"
        + PREFIX
        + "Migration account.0001_initial is applied before its dependency c\n"
        + "p_users_extension.0001_initial on database 'default'.\n"
    )
    failure = one(log)
    assert (failure.revision, failure.object_name, failure.line) == (
        "account.0001_initial",
        "cp_users_extension.0001_initial",
        2,
    )
