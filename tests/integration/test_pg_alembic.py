"""Guarded Alembic runs on a real PostgreSQL database broken the ways the seed stories were.

Each test: a real Alembic project, a fresh database prepared with real DDL, the real
`alembic upgrade head` under `migration-guard run`, then the outcome read from the database.
"""

from __future__ import annotations

import contextlib

import pytest

from tests.support.guard import bare, columns, execute, guard, rows, tool, version
from tests.support.projects import Rev, alembic_project

UPGRADE = [tool("alembic"), "upgrade", "head"]

SETTINGS = [
    Rev("a1", "create settings", """
        op.create_table("settings", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("name", sa.String(50), nullable=False))
        op.create_table("audit_log", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("note", sa.Text, nullable=False))
        op.execute("INSERT INTO settings (name) VALUES ('alpha'), ('beta')")
    """),
    Rev("b2", "add google id", """
        op.add_column("settings", sa.Column("google_id", sa.String(255), nullable=True))
        op.execute("UPDATE settings SET google_id = 'g-' || id")
        op.execute("INSERT INTO audit_log (note) VALUES ('b2 ran')")
        op.create_index("ix_settings_google_id", "settings", ["google_id"])
    """),
    Rev("c3", "create teams", """
        op.create_table("teams", sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.String(80)))
    """),
]


@pytest.fixture
def settings_project(tmp_path, pg_url):
    project = alembic_project(tmp_path / "app", SETTINGS)
    env = {"DATABASE_URL": pg_url}
    return project, env


def test_hotfix_column_skips_the_add_and_runs_the_data_step(settings_project, pg_url):
    project, env = settings_project
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    # The hotfix: someone added the column by hand on production, and a row since.
    execute(pg_url, "ALTER TABLE settings ADD COLUMN google_id VARCHAR(255)",
            "INSERT INTO settings (name) VALUES ('gamma')")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(pg_url) == {"c3"}
    assert rows(pg_url, "SELECT id, name, google_id FROM settings ORDER BY id") == [
        (1, "alpha", "g-1"), (2, "beta", "g-2"), (3, "gamma", "g-3")]  # the data step ran, every row kept
    assert rows(pg_url, "SELECT count(*) FROM audit_log WHERE note = 'b2 ran'") == [(1,)]
    assert rows(pg_url, "SELECT indexname FROM pg_indexes WHERE indexname = 'ix_settings_google_id'")
    assert "title" in columns(pg_url, "teams")
    assert report["status"] == "recovered"
    # Predicted before the first attempt and recovered up front: the run never met the failure.
    assert report["failures"] == []
    assert [f["kind"] for f in report["predicted"]] == ["duplicate_column"]
    assert report["predicted"][0]["table"] == "settings"
    assert report["predicted"][0]["column"] == "google_id"
    assert report["predicted"][0]["revision"] == "b2"
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]
    assert any("google_id" in line for line in report["actions"][0]["evidence"])
    assert "[2/2] b2 ... ok" in proc.stderr or "b2 ... ok" in proc.stderr


def test_history_lost_records_revisions_without_running_them_again(settings_project, pg_url):
    project, env = settings_project
    bare(project, UPGRADE, env)
    # Restored from an old dump of the history table: the schema is at c3, the record says a1.
    execute(pg_url, "UPDATE alembic_version SET version_num = 'a1'")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(pg_url) == {"c3"}
    assert rows(pg_url, "SELECT count(*) FROM audit_log WHERE note = 'b2 ran'") == [(1,)]  # not twice
    assert rows(pg_url, "SELECT count(*) FROM settings") == [(2,)]
    assert report["status"] == "recovered"
    assert [f["kind"] for f in report["predicted"]] == ["duplicate_column"]
    assert report["failures"] == []
    assert [a["kind"] for a in report["actions"]] == ["mark_applied"]
    assert "b2..c3" in report["actions"][0]["target"]


def test_whole_history_table_emptied(settings_project, pg_url):
    project, env = settings_project
    bare(project, UPGRADE, env)
    execute(pg_url, "DELETE FROM alembic_version")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(pg_url) == {"c3"}
    assert rows(pg_url, "SELECT count(*) FROM settings") == [(2,)]  # a1's insert did not run again
    assert rows(pg_url, "SELECT count(*) FROM audit_log") == [(1,)]
    assert [f["kind"] for f in report["predicted"]] == ["duplicate_relation"]
    assert report["failures"] == []
    assert [a["kind"] for a in report["actions"]] == ["mark_applied"]


def test_column_with_another_type_is_refused_and_nothing_changes(settings_project, pg_url):
    project, env = settings_project
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(pg_url, "ALTER TABLE settings ADD COLUMN google_id INTEGER")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 1
    assert version(pg_url) == {"a1"}
    assert columns(pg_url, "settings")["google_id"] == "integer"
    assert rows(pg_url, "SELECT count(*) FROM settings") == [(2,)]
    assert report["status"] == "refused"
    assert report["actions"] == []
    reason = report["refusals"][0]["reason"]
    assert "integer" in reason and "character varying(255)" in reason


POSTS = [
    Rev("p1", "create posts", """
        op.create_table("posts", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("state", sa.Enum("draft", "review", "published", name="post_state"),
                                  nullable=False))
        op.execute("INSERT INTO posts (state) VALUES ('review')")
    """),
]


def _labels(url):
    return [r[0] for r in rows(url, "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
                                    "WHERE t.typname = 'post_state' ORDER BY e.enumsortorder")]


def test_enum_made_elsewhere_with_the_same_labels_is_skipped(tmp_path, pg_url):
    project = alembic_project(tmp_path / "app", POSTS)
    execute(pg_url, "CREATE TYPE post_state AS ENUM ('draft', 'review', 'published')")

    proc, report = guard(project, UPGRADE, {"DATABASE_URL": pg_url})

    assert proc.returncode == 0, proc.stderr
    assert version(pg_url) == {"p1"}
    assert rows(pg_url, "SELECT state::text FROM posts") == [("review",)]
    assert [f["kind"] for f in report["predicted"]] == ["duplicate_type"]
    assert report["failures"] == []
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]


def test_enum_with_a_subset_of_labels_is_completed_in_order(tmp_path, pg_url):
    project = alembic_project(tmp_path / "app", POSTS)
    execute(pg_url, "CREATE TYPE post_state AS ENUM ('draft', 'published')")

    proc, report = guard(project, UPGRADE, {"DATABASE_URL": pg_url})

    assert proc.returncode == 0, proc.stderr
    assert _labels(pg_url) == ["draft", "review", "published"]
    assert rows(pg_url, "SELECT state::text FROM posts") == [("review",)]
    assert [a["kind"] for a in report["actions"]] == ["complete_enum", "skip_satisfied"]
    assert any("ADD VALUE" in s and "'review'" in s for s in report["actions"][0]["statements"])


def test_enum_with_other_labels_is_refused(tmp_path, pg_url):
    project = alembic_project(tmp_path / "app", POSTS)
    execute(pg_url, "CREATE TYPE post_state AS ENUM ('published', 'draft')")

    proc, report = guard(project, UPGRADE, {"DATABASE_URL": pg_url})

    assert proc.returncode == 1
    assert _labels(pg_url) == ["published", "draft"]
    assert not rows(pg_url, "SELECT 1 FROM pg_tables WHERE tablename = 'posts'")
    assert report["status"] == "refused"
    assert report["actions"] == []


def test_existing_index_and_check_constraint_are_skipped(tmp_path, pg_url):
    revs = [
        Rev("i1", "members", """
            op.create_table("members", sa.Column("id", sa.Integer, primary_key=True),
                            sa.Column("email", sa.String(200), nullable=False),
                            sa.Column("age", sa.Integer))
        """),
        Rev("i2", "index and check", """
            op.create_index("ix_members_email", "members", ["email"], unique=True)
            op.create_check_constraint("ck_members_age", "members", "age >= 0")
            op.execute("INSERT INTO members (email, age) VALUES ('x@example.com', 3)")
        """),
        Rev("i3", "tags", """
            op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True))
        """),
    ]
    project = alembic_project(tmp_path / "app", revs)
    env = {"DATABASE_URL": pg_url}
    bare(project, [tool("alembic"), "upgrade", "i1"], env)
    execute(pg_url, "CREATE UNIQUE INDEX ix_members_email ON members (email)",
            "ALTER TABLE members ADD CONSTRAINT ck_members_age CHECK (age >= 0)")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(pg_url) == {"i3"}
    assert rows(pg_url, "SELECT email FROM members") == [("x@example.com",)]
    assert [f["kind"] for f in report["predicted"]] == ["duplicate_relation"]
    assert report["failures"] == []
    action = report["actions"][0]
    assert action["kind"] == "skip_satisfied"
    assert any("ck_members_age" in s for s in action["statements"])  # both satisfied statements, one attempt
    assert len(report["attempts"]) == 1  # recovered before the first attempt


def test_last_revision_with_all_objects_present_and_a_data_step_is_refused(tmp_path, pg_url):
    """Nothing after the revision says whether it ran: its data step must neither run twice nor be lost."""
    revs = [
        Rev("i1", "members", """
            op.create_table("members", sa.Column("id", sa.Integer, primary_key=True),
                            sa.Column("email", sa.String(200), nullable=False))
        """),
        Rev("i2", "index and data", """
            op.create_index("ix_members_email", "members", ["email"], unique=True)
            op.execute("INSERT INTO members (email) VALUES ('x@example.com')")
        """),
    ]
    project = alembic_project(tmp_path / "app", revs)
    env = {"DATABASE_URL": pg_url}
    bare(project, [tool("alembic"), "upgrade", "i1"], env)
    execute(pg_url, "CREATE UNIQUE INDEX ix_members_email ON members (email)")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 1
    assert version(pg_url) == {"i1"}
    assert rows(pg_url, "SELECT count(*) FROM members") == [(0,)]
    assert report["status"] == "refused"
    assert "data steps" in report["refusals"][0]["reason"]
    assert any("stamp i2" in step for step in report["refusals"][0]["human_steps"])


def test_index_with_another_definition_is_refused(tmp_path, pg_url):
    revs = [Rev("i1", "members", """
        op.create_table("members", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("email", sa.String(200), nullable=False))
        op.create_index("ix_members_email", "members", ["email"], unique=True)
    """)]
    project = alembic_project(tmp_path / "app", revs)
    execute(pg_url, "CREATE TABLE members (id SERIAL PRIMARY KEY, email VARCHAR(200) NOT NULL)",
            "CREATE INDEX ix_members_email ON members (email)")  # not unique

    proc, report = guard(project, UPGRADE, {"DATABASE_URL": pg_url})

    assert proc.returncode == 1
    assert report["status"] == "refused"
    assert "ix_members_email" in report["refusals"][0]["reason"]
    assert rows(pg_url, "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_members_email'")[0][0] \
        .startswith("CREATE INDEX")


def test_stale_standalone_type_blocking_create_table_is_dropped_and_recorded(tmp_path, pg_url):
    revs = [Rev("w1", "widgets", """
        op.create_table("widgets", sa.Column("id", sa.Integer, primary_key=True), sa.Column("size", sa.Integer))
    """)]
    project = alembic_project(tmp_path / "app", revs)
    execute(pg_url, "CREATE TYPE widgets AS (a integer, b text)")

    proc, report = guard(project, UPGRADE, {"DATABASE_URL": pg_url})

    assert proc.returncode == 0, proc.stderr
    assert version(pg_url) == {"w1"}
    assert "size" in columns(pg_url, "widgets")
    action = report["actions"][0]
    assert action["kind"] == "drop_stale_type"
    assert action["recorded"]["definition"] == "CREATE TYPE widgets AS (a integer, b text)"


def test_type_used_by_a_column_is_not_dropped(tmp_path, pg_url):
    revs = [Rev("w1", "widgets", """
        op.create_table("widgets", sa.Column("id", sa.Integer, primary_key=True))
    """)]
    project = alembic_project(tmp_path / "app", revs)
    execute(pg_url, "CREATE TYPE widgets AS (a integer)", "CREATE TABLE holder (w widgets)")

    proc, report = guard(project, UPGRADE, {"DATABASE_URL": pg_url})

    assert proc.returncode == 1
    assert rows(pg_url, "SELECT count(*) FROM pg_type WHERE typname = 'widgets'") == [(1,)]
    assert report["actions"] == []


def test_dry_run_predicts_and_plans_but_changes_nothing(settings_project, pg_url):
    project, env = settings_project
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(pg_url, "ALTER TABLE settings ADD COLUMN google_id VARCHAR(255)")

    proc, report = guard(project, UPGRADE, env, "--dry-run")

    assert proc.returncode == 1
    assert report["status"] == "predicted_failure"
    predicted = report["predicted"][0]
    assert (predicted["kind"], predicted["table"], predicted["column"], predicted["revision"]) == (
        "duplicate_column", "settings", "google_id", "b2")
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]
    assert not report["actions"][0]["applied"]
    assert report["attempts"] == []
    assert version(pg_url) == {"a1"}
    assert rows(pg_url, "SELECT google_id FROM settings ORDER BY id") == [(None,), (None,)]
    assert not rows(pg_url, "SELECT 1 FROM pg_tables WHERE tablename = 'teams'")


def test_dry_run_on_a_database_that_will_migrate_is_clean(settings_project, pg_url):
    project, env = settings_project

    proc, report = guard(project, UPGRADE, env, "--dry-run")

    assert proc.returncode == 0, proc.stderr
    assert report["status"] == "clean"
    assert report["predicted"] == []
    assert not rows(pg_url, "SELECT 1 FROM pg_tables WHERE tablename = 'settings'")


def test_invalid_index_left_by_a_failed_concurrent_build_is_not_taken_as_satisfied(tmp_path, pg_url):
    revs = [
        Rev("v1", "members", """
            op.create_table("members", sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.Text))
            op.execute("INSERT INTO members (email) VALUES ('a'), ('a')")
        """),
        Rev("v2", "unique email", """
            op.create_index("ix_members_email", "members", ["email"], unique=True)
        """),
        Rev("v3", "later", """
            op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True))
        """),
    ]
    project = alembic_project(tmp_path / "app", revs)
    env = {"DATABASE_URL": pg_url}
    bare(project, [tool("alembic"), "upgrade", "v1"], env)
    # What a failed CREATE INDEX CONCURRENTLY leaves: an index of the right shape, marked invalid.
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(pg_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn, contextlib.suppress(Exception):  # fails on the duplicate 'a' rows
        conn.execute(text("CREATE UNIQUE INDEX CONCURRENTLY ix_members_email ON members (email)"))
    engine.dispose()
    execute(pg_url, "DELETE FROM members WHERE id = 2")
    assert rows(pg_url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_members_email'::regclass") == [
        (False,)]

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 1
    assert report["status"] == "refused"
    assert "INVALID" in report["refusals"][0]["reason"]
    assert version(pg_url) == {"v1"}


# Without the prediction up front (--no-preflight) the guard meets each failure for real, reads it
# from the command's output and the driver's error, and recovers after it: the reactive path.
def test_reactive_hotfix(settings_project, pg_url):
    project, env = settings_project
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(pg_url, "ALTER TABLE settings ADD COLUMN google_id VARCHAR(255)")

    proc, report = guard(project, UPGRADE, env, "--no-preflight")

    assert proc.returncode == 0, proc.stderr
    assert version(pg_url) == {"c3"}
    assert rows(pg_url, "SELECT google_id FROM settings ORDER BY id") == [("g-1",), ("g-2",)]
    assert rows(pg_url, "SELECT count(*) FROM audit_log WHERE note = 'b2 ran'") == [(1,)]
    assert report["predicted"] == []
    assert [(f["kind"], f["table"], f["column"], f["revision"]) for f in report["failures"]] == [
        ("duplicate_column", "settings", "google_id", "b2")]
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]
    assert len(report["attempts"]) == 2


def test_reactive_history_lost(settings_project, pg_url):
    project, env = settings_project
    bare(project, UPGRADE, env)
    execute(pg_url, "UPDATE alembic_version SET version_num = 'a1'")

    proc, report = guard(project, UPGRADE, env, "--no-preflight")

    assert proc.returncode == 0, proc.stderr
    assert version(pg_url) == {"c3"}
    assert rows(pg_url, "SELECT count(*) FROM audit_log WHERE note = 'b2 ran'") == [(1,)]
    assert [f["kind"] for f in report["failures"]] == ["duplicate_column"]
    assert [a["kind"] for a in report["actions"]] == ["mark_applied"]


def test_reactive_enum_subset(tmp_path, pg_url):
    project = alembic_project(tmp_path / "app", POSTS)
    execute(pg_url, "CREATE TYPE post_state AS ENUM ('draft', 'published')")

    proc, report = guard(project, UPGRADE, {"DATABASE_URL": pg_url}, "--no-preflight")

    assert proc.returncode == 0, proc.stderr
    assert _labels(pg_url) == ["draft", "review", "published"]
    assert [f["kind"] for f in report["failures"]] == ["duplicate_type"]
    assert [a["kind"] for a in report["actions"]] == ["complete_enum", "skip_satisfied"]
