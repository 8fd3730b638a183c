"""Guarded Alembic and Flask-Migrate runs on a SQLite file, broken the ways deploys break, batch mode included.

Python's sqlite3 commits a DDL statement at once until a revision's first data step opens a transaction,
so a revision that fails part-way keeps its leading DDL and loses everything from its first data step on.
"""

from __future__ import annotations

import pytest

from tests.support.guard import bare, execute, guard, rows, tool, version
from tests.support.projects import Rev, alembic_project, flask_project
from tests.support.schema import batch_env, columns, indexes, tables

UPGRADE = [tool("alembic"), "upgrade", "head"]

SETTINGS = [
    Rev("a1", "create settings", """
        op.create_table("settings", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("name", sa.String(50), nullable=True))
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
def settings_project(tmp_path, sqlite_url):
    return alembic_project(tmp_path / "app", SETTINGS), {"DATABASE_URL": sqlite_url}


def test_hotfix_column_skips_the_add_and_runs_the_data_steps(settings_project, sqlite_url):
    project, env = settings_project
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(sqlite_url, "ALTER TABLE settings ADD COLUMN google_id varchar( 255 )",
            "INSERT INTO settings (name) VALUES ('gamma')")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(sqlite_url) == {"c3"}
    assert rows(sqlite_url, "SELECT id, name, google_id FROM settings ORDER BY id") == [
        (1, "alpha", "g-1"), (2, "beta", "g-2"), (3, "gamma", "g-3")]
    assert rows(sqlite_url, "SELECT count(*) FROM audit_log WHERE note = 'b2 ran'") == [(1,)]
    assert "ix_settings_google_id" in indexes(sqlite_url, "settings")
    assert report["status"] == "recovered"
    assert report["database"]["dialect"] == "sqlite"
    failure = report["failures"][0]
    assert (failure["kind"], failure["table"], failure["column"], failure["revision"]) == (
        "duplicate_column", "settings", "google_id", "b2")
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]
    assert any("VARCHAR(255)" in line for line in report["actions"][0]["evidence"])


@pytest.mark.parametrize("recorded", ["a1", None], ids=["history-restored-to-a1", "history-emptied"])
def test_history_lost_records_revisions_without_running_them_again(settings_project, sqlite_url, recorded):
    project, env = settings_project
    bare(project, UPGRADE, env)
    execute(sqlite_url, f"UPDATE alembic_version SET version_num = '{recorded}'" if recorded
            else "DELETE FROM alembic_version")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(sqlite_url) == {"c3"}
    assert rows(sqlite_url, "SELECT count(*) FROM settings") == [(2,)]
    assert rows(sqlite_url, "SELECT count(*) FROM audit_log WHERE note = 'b2 ran'") == [(1,)]
    assert [f["kind"] for f in report["failures"]] == ["duplicate_column" if recorded else "duplicate_relation"]
    assert [a["kind"] for a in report["actions"]] == ["mark_applied"]


def test_column_with_another_type_is_refused_and_nothing_changes(settings_project, sqlite_url):
    project, env = settings_project
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(sqlite_url, "ALTER TABLE settings ADD COLUMN google_id INTEGER")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 1
    assert version(sqlite_url) == {"a1"}
    assert columns(sqlite_url, "settings")["google_id"] == "INTEGER"
    assert rows(sqlite_url, "SELECT count(*) FROM settings") == [(2,)]
    assert report["status"] == "refused"
    assert report["actions"] == []
    reason = report["refusals"][0]["reason"]
    assert "INTEGER" in reason and "VARCHAR(255)" in reason


MEMBERS = [
    Rev("i1", "members", """
        op.create_table("members", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("email", sa.String(200), nullable=False))
    """),
    Rev("i2", "index", """
        op.create_index("ix_members_email", "members", ["email"], unique=True)
        op.execute("INSERT INTO members (email) VALUES ('x@example.com')")
    """),
    Rev("i3", "tags", """
        op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True))
    """),
]


def test_existing_index_is_skipped(tmp_path, sqlite_url):
    project = alembic_project(tmp_path / "app", MEMBERS)
    env = {"DATABASE_URL": sqlite_url}
    bare(project, [tool("alembic"), "upgrade", "i1"], env)
    execute(sqlite_url, "INSERT INTO members (email) VALUES ('old@example.com')",
            "CREATE UNIQUE INDEX ix_members_email ON members (email)")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(sqlite_url) == {"i3"}
    assert rows(sqlite_url, "SELECT email FROM members ORDER BY id") == [("old@example.com",), ("x@example.com",)]
    assert [f["kind"] for f in report["failures"]] == ["duplicate_relation"]
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]


def test_index_with_another_definition_is_refused(tmp_path, sqlite_url):
    project = alembic_project(tmp_path / "app", MEMBERS)
    env = {"DATABASE_URL": sqlite_url}
    bare(project, [tool("alembic"), "upgrade", "i1"], env)
    execute(sqlite_url, "CREATE INDEX ix_members_email ON members (email DESC)")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 1
    assert version(sqlite_url) == {"i1"}
    assert indexes(sqlite_url, "members") == {"ix_members_email": False}
    assert report["status"] == "refused"
    assert "email DESC" in report["refusals"][0]["reason"]


HALF = [
    SETTINGS[0],
    Rev("h2", "profile", """
        op.add_column("settings", sa.Column("locale", sa.String(10)))
        op.add_column("settings", sa.Column("timezone", sa.String(40)))
        op.execute("INSERT INTO audit_log (note) VALUES ('h2 ran')")
        op.create_index("ix_settings_timezone", "settings", ["timezone"])
    """),
    Rev("h3", "teams", """
        op.create_table("teams", sa.Column("id", sa.Integer, primary_key=True))
    """),
]


def test_half_applied_revision_is_completed_and_recorded(tmp_path, sqlite_url):
    project = alembic_project(tmp_path / "app", HALF)
    env = {"DATABASE_URL": sqlite_url}
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(sqlite_url, "ALTER TABLE settings ADD COLUMN timezone VARCHAR(40)", "UPDATE settings SET timezone = 'UTC'")
    first = bare(project, UPGRADE, env, check=False)
    assert first.returncode == 1 and "duplicate column name: timezone" in first.stderr
    assert "locale" in columns(sqlite_url, "settings")  # committed at once, before the failure

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(sqlite_url) == {"h3"}
    assert rows(sqlite_url, "SELECT name, timezone FROM settings ORDER BY id") == [("alpha", "UTC"), ("beta", "UTC")]
    assert rows(sqlite_url, "SELECT count(*) FROM audit_log WHERE note = 'h2 ran'") == [(1,)]
    assert "ix_settings_timezone" in indexes(sqlite_url, "settings")
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]
    assert len(report["actions"][0]["statements"]) == 2


def test_data_step_before_an_applied_statement_runs_on_sqlite(tmp_path, sqlite_url):
    """Unlike MySQL, SQLite rolls back a data step with the rest of the failed revision: it must run again."""
    revs = [SETTINGS[0], Rev("h2", "profile", """
        op.add_column("settings", sa.Column("locale", sa.String(10)))
        op.execute("INSERT INTO audit_log (note) VALUES ('h2 ran')")
        op.add_column("settings", sa.Column("timezone", sa.String(40)))
        op.create_index("ix_settings_timezone", "settings", ["timezone"])
    """)]
    project = alembic_project(tmp_path / "app", revs)
    env = {"DATABASE_URL": sqlite_url}
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(sqlite_url, "ALTER TABLE settings ADD COLUMN timezone VARCHAR(40)")
    assert bare(project, UPGRADE, env, check=False).returncode == 1
    assert rows(sqlite_url, "SELECT count(*) FROM audit_log") == [(0,)]

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(sqlite_url) == {"h2"}
    assert rows(sqlite_url, "SELECT count(*) FROM audit_log WHERE note = 'h2 ran'") == [(1,)]
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]


# -- batch mode -------------------------------------------------------------------------------------
BATCH_ADD = [SETTINGS[0], Rev("b2", "google id in a batch", """
    with op.batch_alter_table("settings") as batch:
        batch.add_column(sa.Column("google_id", sa.String(255)))
    op.execute("UPDATE settings SET google_id = 'g-' || id")
"""), SETTINGS[2]]
BATCH_REBUILD = [SETTINGS[0], Rev("b2", "google id and a rebuild", """
    with op.batch_alter_table("settings") as batch:
        batch.add_column(sa.Column("google_id", sa.String(255)))
        batch.alter_column("name", existing_type=sa.String(50), nullable=False)
""")]


def test_batch_that_only_adds_a_hotfixed_column_is_skipped(tmp_path, sqlite_url):
    project = alembic_project(tmp_path / "app", BATCH_ADD)
    batch_env(project)
    env = {"DATABASE_URL": sqlite_url}
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(sqlite_url, "ALTER TABLE settings ADD COLUMN google_id VARCHAR(255)")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(sqlite_url) == {"c3"}
    assert rows(sqlite_url, "SELECT google_id FROM settings ORDER BY id") == [("g-1",), ("g-2",)]
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]


def test_bare_batch_rebuild_discards_a_hotfixed_column(tmp_path, sqlite_url):
    """The baseline the guard prevents: alembic rebuilds the table and the hotfix column's values are gone."""
    project = alembic_project(tmp_path / "app", BATCH_REBUILD)
    batch_env(project)
    env = {"DATABASE_URL": sqlite_url}
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(sqlite_url, "ALTER TABLE settings ADD COLUMN google_id VARCHAR(255)",
            "UPDATE settings SET google_id = 'hot'")

    bare(project, UPGRADE, env)

    assert rows(sqlite_url, "SELECT google_id FROM settings") == [(None,), (None,)]


def test_batch_rebuild_over_a_hotfixed_column_with_values_is_refused(tmp_path, sqlite_url):
    project = alembic_project(tmp_path / "app", BATCH_REBUILD)
    batch_env(project)
    env = {"DATABASE_URL": sqlite_url}
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(sqlite_url, "ALTER TABLE settings ADD COLUMN google_id VARCHAR(255)",
            "UPDATE settings SET google_id = 'hot'")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 1
    assert version(sqlite_url) == {"a1"}
    assert rows(sqlite_url, "SELECT name, google_id FROM settings ORDER BY id") == [("alpha", "hot"), ("beta", "hot")]
    assert not any(t.startswith("_alembic_tmp_") for t in tables(sqlite_url))
    assert report["status"] == "refused"
    assert [(f["kind"], f["column"]) for f in report["failures"]] == [("duplicate_column", "google_id")]
    reason = report["refusals"][0]["reason"]
    assert "batch" in reason and "2 value(s)" in reason


def test_batch_rebuild_over_an_empty_hotfixed_column_runs(tmp_path, sqlite_url):
    """Nothing to lose: the guard lets alembic rebuild the table with the migration's definition."""
    project = alembic_project(tmp_path / "app", BATCH_REBUILD)
    batch_env(project)
    env = {"DATABASE_URL": sqlite_url}
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(sqlite_url, "ALTER TABLE settings ADD COLUMN google_id TEXT")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert report["status"] == "succeeded"
    assert version(sqlite_url) == {"b2"}
    assert columns(sqlite_url, "settings")["google_id"] == "VARCHAR(255)"
    assert rows(sqlite_url, "SELECT count(*) FROM settings") == [(2,)]


NOT_NULL = [SETTINGS[0], Rev("n2", "name required", """
    with op.batch_alter_table("settings") as batch:
        batch.alter_column("name", existing_type=sa.String(50), nullable=False)
""")]


def test_empty_leftover_of_an_interrupted_batch_is_dropped_and_recorded(tmp_path, sqlite_url):
    project = alembic_project(tmp_path / "app", NOT_NULL)
    env = {"DATABASE_URL": sqlite_url}
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(sqlite_url, "INSERT INTO settings (name) VALUES (NULL)")
    first = bare(project, UPGRADE, env, check=False)  # the copy meets the NULL; the scratch table stays
    assert first.returncode == 1 and "_alembic_tmp_settings" in tables(sqlite_url)
    execute(sqlite_url, "UPDATE settings SET name = 'gamma' WHERE name IS NULL")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(sqlite_url) == {"n2"}
    assert rows(sqlite_url, "SELECT name FROM settings ORDER BY id") == [("alpha",), ("beta",), ("gamma",)]
    assert "_alembic_tmp_settings" not in tables(sqlite_url)
    assert [f["kind"] for f in report["failures"]] == ["duplicate_relation"]
    action = report["actions"][0]
    assert action["kind"] == "drop_empty_leftover"
    assert action["recorded"]["definition"].startswith("CREATE TABLE _alembic_tmp_settings")
    assert report["status"] == "recovered"


def test_leftover_holding_rows_is_refused(tmp_path, sqlite_url):
    project = alembic_project(tmp_path / "app", NOT_NULL)
    env = {"DATABASE_URL": sqlite_url}
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(sqlite_url, "CREATE TABLE _alembic_tmp_settings (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50))",
            "INSERT INTO _alembic_tmp_settings (name) VALUES ('copied')")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 1
    assert rows(sqlite_url, "SELECT name FROM _alembic_tmp_settings") == [("copied",)]
    assert version(sqlite_url) == {"a1"}
    assert report["status"] == "refused"
    assert "holds 1 row(s)" in report["refusals"][0]["reason"]


# -- Flask-Migrate ----------------------------------------------------------------------------------
FLASK_REVS = [
    Rev("f1", "users", """
        op.create_table("users", sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(200)))
        op.execute("INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com')")
    """),
    Rev("f2", "add display name", """
        op.add_column("users", sa.Column("display_name", sa.String(100)))
        op.execute("UPDATE users SET display_name = substr(email, 1, instr(email, '@') - 1)")
        op.create_index("ix_users_email", "users", ["email"], unique=True)
    """),
    Rev("f3", "projects", """
        op.create_table("projects", sa.Column("id", sa.Integer, primary_key=True))
    """),
]


def flask(*args: str) -> list[str]:
    return [tool("flask"), "--app", "app:create_app", "db", *args]


def test_flask_hotfix_column_with_url_from_app_config(tmp_path, sqlite_url):
    project = flask_project(tmp_path / "app", FLASK_REVS)
    env = {"APP_DATABASE_URL": sqlite_url}
    bare(project, flask("upgrade", "f1"), env)
    execute(sqlite_url, "ALTER TABLE users ADD COLUMN display_name VARCHAR(100)")

    proc, report = guard(project, flask("upgrade"), env)

    assert proc.returncode == 0, proc.stderr
    assert report["framework"] == "flask-migrate"
    assert version(sqlite_url) == {"f3"}
    assert rows(sqlite_url, "SELECT email, display_name FROM users ORDER BY id") == [
        ("a@example.com", "a"), ("b@example.com", "b")]
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]


def test_flask_history_lost(tmp_path, sqlite_url):
    project = flask_project(tmp_path / "app", FLASK_REVS)
    env = {"APP_DATABASE_URL": sqlite_url}
    bare(project, flask("upgrade"), env)
    execute(sqlite_url, "DELETE FROM alembic_version")

    proc, report = guard(project, flask("upgrade"), env)

    assert proc.returncode == 0, proc.stderr
    assert version(sqlite_url) == {"f3"}
    assert rows(sqlite_url, "SELECT count(*) FROM users") == [(2,)]
    assert [a["kind"] for a in report["actions"]] == ["mark_applied"]


def test_flask_existing_index_with_another_definition_is_refused(tmp_path, sqlite_url):
    project = flask_project(tmp_path / "app", FLASK_REVS)
    env = {"APP_DATABASE_URL": sqlite_url}
    bare(project, flask("upgrade", "f1"), env)
    execute(sqlite_url, "CREATE INDEX ix_users_email ON users (email)")

    proc, report = guard(project, flask("upgrade"), env)

    assert proc.returncode == 1
    assert version(sqlite_url) == {"f1"}
    assert rows(sqlite_url, "SELECT count(*) FROM users") == [(2,)]
    assert report["status"] == "refused"
    assert "ix_users_email" in report["refusals"][0]["reason"]
