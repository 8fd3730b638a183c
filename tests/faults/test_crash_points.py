"""SIGKILL the guard at every step boundary of a recovery, and inside one: the next run completes,
the database ends as a clean run leaves it, no row is lost, no data step runs twice, and the next
run's report says what the killed one left behind."""

from __future__ import annotations

import pytest

from migration_guard.faults import POINTS
from tests.support.guard import bare, execute, guard, rows, tool, version
from tests.support.projects import Rev, alembic_project

UPGRADE = [tool("alembic"), "upgrade", "head"]

ENUM = [
    Rev("e0", "log", """
        op.create_table("deploy_log", sa.Column("id", sa.Integer, primary_key=True), sa.Column("note", sa.Text))
    """),
    Rev("e1", "posts", """
        op.create_table("posts", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("state", sa.Enum("draft", "review", "published", name="post_state")))
        op.execute("INSERT INTO deploy_log (note) VALUES ('e1 ran')")
    """),
    Rev("e2", "later", """
        op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True))
    """),
]

HISTORY = [
    Rev("h1", "accounts", """
        op.create_table("accounts", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text))
        op.create_table("deploy_log", sa.Column("id", sa.Integer, primary_key=True), sa.Column("note", sa.Text))
        op.execute("INSERT INTO accounts (name) VALUES ('a'), ('b'), ('c')")
    """),
    Rev("h2", "email", """
        op.add_column("accounts", sa.Column("email", sa.String(200)))
        op.execute("INSERT INTO deploy_log (note) VALUES ('h2 ran')")
    """),
    Rev("h3", "teams", """
        op.create_table("teams", sa.Column("id", sa.Integer, primary_key=True))
    """),
]


def _labels(url):
    return [r[0] for r in rows(url, "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
                                    "WHERE t.typname = 'post_state' ORDER BY e.enumsortorder")]


@pytest.mark.parametrize("point", POINTS)
def test_enum_completion_killed_at(point, tmp_path, pg_url):
    project = alembic_project(tmp_path / "app", ENUM)
    env = {"DATABASE_URL": pg_url}
    bare(project, [tool("alembic"), "upgrade", "e0"], env)
    execute(pg_url, "CREATE TYPE post_state AS ENUM ('draft', 'published')")

    killed, _ = guard(project, UPGRADE, {**env, "MIGRATION_GUARD_FAULT": point})
    assert killed.returncode == -9, killed.stderr
    assert _labels(pg_url) in (["draft", "published"], ["draft", "review", "published"])  # before or after

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(pg_url) == {"e2"}
    assert _labels(pg_url) == ["draft", "review", "published"]
    assert rows(pg_url, "SELECT note FROM deploy_log") == [("e1 ran",)]
    if point in ("before-apply", "mid-apply", "after-apply", "before-rerun"):
        assert any("an earlier run" in note and "complete_enum" in note for note in report["notes"]), report["notes"]


# Recording revisions is one `alembic stamp` transaction in a child process: there is no inside of it
# for the guard to be killed in, so "mid-apply" does not exist for this recovery.
@pytest.mark.parametrize("point", [p for p in POINTS if p != "mid-apply"])
def test_history_lost_killed_at(point, tmp_path, pg_url):
    project = alembic_project(tmp_path / "app", HISTORY)
    env = {"DATABASE_URL": pg_url}
    bare(project, UPGRADE, env)
    execute(pg_url, "UPDATE alembic_version SET version_num = 'h1'")

    killed, _ = guard(project, UPGRADE, {**env, "MIGRATION_GUARD_FAULT": point})
    assert killed.returncode == -9, killed.stderr
    assert version(pg_url) in ({"h1"}, {"h3"})

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(pg_url) == {"h3"}
    assert rows(pg_url, "SELECT count(*) FROM accounts") == [(3,)]
    assert rows(pg_url, "SELECT note FROM deploy_log") == [("h2 ran",)]  # never twice
    if point in ("before-apply", "after-apply", "before-rerun"):
        assert any("an earlier run" in note and "mark_applied" in note for note in report["notes"]), report["notes"]
