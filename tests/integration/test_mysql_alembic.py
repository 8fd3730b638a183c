"""Guarded Alembic and Flask-Migrate runs on a real MariaDB/MySQL database, broken the ways deploys break.

MySQL commits before every DDL statement, so a revision that fails part-way leaves its earlier DDL
applied (and the data steps before it committed). The half-applied tests make that happen for real
with the bare tool first, then run the guard on what it left.
"""

from __future__ import annotations

import pytest

from tests.support.guard import bare, execute, guard, rows, tool, version
from tests.support.projects import Rev, alembic_project, flask_project
from tests.support.schema import columns, indexes, tables

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
        op.execute("UPDATE settings SET google_id = CONCAT('g-', id)")
        op.execute("INSERT INTO audit_log (note) VALUES ('b2 ran')")
        op.create_index("ix_settings_google_id", "settings", ["google_id"])
    """),
    Rev("c3", "create teams", """
        op.create_table("teams", sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.String(80)))
    """),
]


@pytest.fixture
def settings_project(tmp_path, mysql_url):
    return alembic_project(tmp_path / "app", SETTINGS), {"DATABASE_URL": mysql_url}


def test_hotfix_column_skips_the_add_and_runs_the_data_steps(settings_project, mysql_url):
    project, env = settings_project
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(mysql_url, "ALTER TABLE settings ADD COLUMN google_id VARCHAR(255)",
            "INSERT INTO settings (name) VALUES ('gamma')")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(mysql_url) == {"c3"}
    assert rows(mysql_url, "SELECT id, name, google_id FROM settings ORDER BY id") == [
        (1, "alpha", "g-1"), (2, "beta", "g-2"), (3, "gamma", "g-3")]
    assert rows(mysql_url, "SELECT count(*) FROM audit_log WHERE note = 'b2 ran'") == [(1,)]
    assert "ix_settings_google_id" in indexes(mysql_url, "settings")
    assert "title" in columns(mysql_url, "teams")
    assert report["status"] == "recovered"
    assert report["database"]["dialect"] == "mysql"
    failure = report["failures"][0]
    assert [f["kind"] for f in report["failures"]] == ["duplicate_column"]
    assert (failure["table"], failure["column"], failure["revision"], failure["errno"]) == (
        "settings", "google_id", "b2", 1060)
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]
    assert any("varchar(255)" in line for line in report["actions"][0]["evidence"])


@pytest.mark.parametrize("recorded", ["a1", None], ids=["history-restored-to-a1", "history-emptied"])
def test_history_lost_records_revisions_without_running_them_again(settings_project, mysql_url, recorded):
    project, env = settings_project
    bare(project, UPGRADE, env)
    execute(mysql_url, f"UPDATE alembic_version SET version_num = '{recorded}'" if recorded
            else "DELETE FROM alembic_version")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(mysql_url) == {"c3"}
    assert rows(mysql_url, "SELECT count(*) FROM settings") == [(2,)]  # a1's insert did not run again
    assert rows(mysql_url, "SELECT count(*) FROM audit_log WHERE note = 'b2 ran'") == [(1,)]
    assert report["status"] == "recovered"
    assert [f["kind"] for f in report["failures"]] == ["duplicate_column" if recorded else "duplicate_relation"]
    assert [a["kind"] for a in report["actions"]] == ["mark_applied"]
    assert report["actions"][0]["target"] == ("revisions b2..c3" if recorded else "revisions a1..c3")


def test_column_with_another_type_is_refused_and_nothing_changes(settings_project, mysql_url):
    project, env = settings_project
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(mysql_url, "ALTER TABLE settings ADD COLUMN google_id INTEGER")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 1
    assert version(mysql_url) == {"a1"}
    assert columns(mysql_url, "settings")["google_id"] == "int(11)"
    assert rows(mysql_url, "SELECT count(*) FROM settings") == [(2,)]
    assert "teams" not in tables(mysql_url)
    assert report["status"] == "refused"
    assert report["actions"] == []
    reason = report["refusals"][0]["reason"]
    assert "int(11)" in reason and "varchar(255)" in reason


MEMBERS = [
    Rev("i1", "members", """
        op.create_table("members", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("email", sa.String(200), nullable=False), sa.Column("age", sa.Integer))
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


def test_existing_index_and_check_constraint_are_skipped(tmp_path, mysql_url):
    project = alembic_project(tmp_path / "app", MEMBERS)
    env = {"DATABASE_URL": mysql_url}
    bare(project, [tool("alembic"), "upgrade", "i1"], env)
    execute(mysql_url, "INSERT INTO members (email, age) VALUES ('old@example.com', 40)",
            "CREATE UNIQUE INDEX ix_members_email ON members (email)",
            "ALTER TABLE members ADD CONSTRAINT ck_members_age CHECK (age >= 0)")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(mysql_url) == {"i3"}
    assert rows(mysql_url, "SELECT email FROM members ORDER BY id") == [("old@example.com",), ("x@example.com",)]
    assert [f["kind"] for f in report["failures"]] == ["duplicate_relation"]
    assert report["failures"][0]["errno"] == 1061
    action = report["actions"][0]
    assert action["kind"] == "skip_satisfied"
    assert any("ck_members_age" in s for s in action["statements"])  # both satisfied statements, one attempt
    assert len(report["attempts"]) == 2


def test_existing_check_constraint_first_is_a_duplicate_object(tmp_path, mysql_url):
    revs = [MEMBERS[0], Rev("i2", "check", """
        op.create_check_constraint("ck_members_age", "members", "age >= 0")
        op.create_index("ix_members_email", "members", ["email"], unique=True)
    """), MEMBERS[2]]
    project = alembic_project(tmp_path / "app", revs)
    env = {"DATABASE_URL": mysql_url}
    bare(project, [tool("alembic"), "upgrade", "i1"], env)
    execute(mysql_url, "ALTER TABLE members ADD CONSTRAINT ck_members_age CHECK (age>=0)")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(mysql_url) == {"i3"}
    assert indexes(mysql_url, "members") == {"ix_members_email": True}
    assert [(f["kind"], f["errno"]) for f in report["failures"]] == [("duplicate_object", 1826)]
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]


def test_check_constraint_with_another_condition_is_refused(tmp_path, mysql_url):
    revs = [MEMBERS[0], Rev("i2", "check", """
        op.create_check_constraint("ck_members_age", "members", "age >= 0")
    """)]
    project = alembic_project(tmp_path / "app", revs)
    env = {"DATABASE_URL": mysql_url}
    bare(project, [tool("alembic"), "upgrade", "i1"], env)
    execute(mysql_url, "ALTER TABLE members ADD CONSTRAINT ck_members_age CHECK (age > 17)")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 1
    assert version(mysql_url) == {"i1"}
    assert report["status"] == "refused"
    assert "> 17" in report["refusals"][0]["reason"]


def test_index_with_another_definition_is_refused(tmp_path, mysql_url):
    project = alembic_project(tmp_path / "app", MEMBERS)
    env = {"DATABASE_URL": mysql_url}
    bare(project, [tool("alembic"), "upgrade", "i1"], env)
    execute(mysql_url, "CREATE INDEX ix_members_email ON members (email)")  # not unique

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 1
    assert version(mysql_url) == {"i1"}
    assert indexes(mysql_url, "members") == {"ix_members_email": False}
    assert report["status"] == "refused"
    assert report["actions"] == []
    reason = report["refusals"][0]["reason"]
    assert "ix_members_email" in reason and "UNIQUE" in reason


def test_table_with_another_column_type_is_refused(tmp_path, mysql_url):
    project = alembic_project(tmp_path / "app", SETTINGS)
    execute(mysql_url, "CREATE TABLE settings (id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY, name TEXT NOT NULL)",
            "INSERT INTO settings (name) VALUES ('kept')")

    proc, report = guard(project, UPGRADE, {"DATABASE_URL": mysql_url})

    assert proc.returncode == 1
    assert rows(mysql_url, "SELECT name FROM settings") == [("kept",)]
    assert report["status"] == "refused"
    assert [f["kind"] for f in report["failures"]] == ["duplicate_relation"]
    assert "column name is text" in report["refusals"][0]["reason"]


HALF = [
    SETTINGS[0],
    Rev("h2", "profile", """
        op.add_column("settings", sa.Column("locale", sa.String(10)))
        op.add_column("settings", sa.Column("timezone", sa.String(40)))
        op.create_index("ix_settings_timezone", "settings", ["timezone"])
        op.execute("INSERT INTO audit_log (note) VALUES ('h2 ran')")
    """),
    Rev("h3", "teams", """
        op.create_table("teams", sa.Column("id", sa.Integer, primary_key=True))
    """),
]


def test_half_applied_revision_is_completed_and_recorded(tmp_path, mysql_url):
    project = alembic_project(tmp_path / "app", HALF)
    env = {"DATABASE_URL": mysql_url}
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(mysql_url, "ALTER TABLE settings ADD COLUMN timezone VARCHAR(40)",
            "UPDATE settings SET timezone = 'UTC'")
    # The deploy before the guard: h2 fails on its second statement, and MySQL has already committed the first.
    first = bare(project, UPGRADE, env, check=False)
    assert first.returncode == 1 and "1060" in first.stderr
    assert "locale" in columns(mysql_url, "settings") and version(mysql_url) == {"a1"}

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(mysql_url) == {"h3"}
    assert rows(mysql_url, "SELECT name, locale, timezone FROM settings ORDER BY id") == [
        ("alpha", None, "UTC"), ("beta", None, "UTC")]
    assert "ix_settings_timezone" in indexes(mysql_url, "settings")
    assert rows(mysql_url, "SELECT count(*) FROM audit_log WHERE note = 'h2 ran'") == [(1,)]
    assert "teams" in tables(mysql_url)
    assert report["status"] == "recovered"
    assert [(f["kind"], f["column"]) for f in report["failures"]] == [("duplicate_column", "locale")]
    action = report["actions"][0]
    assert action["kind"] == "skip_satisfied"
    assert len(action["statements"]) == 2  # locale and timezone; the index and the data step ran


def test_half_applied_revision_whose_data_step_may_have_run_is_refused(tmp_path, mysql_url):
    revs = [SETTINGS[0], Rev("h2", "profile", """
        op.add_column("settings", sa.Column("locale", sa.String(10)))
        op.execute("INSERT INTO audit_log (note) VALUES ('h2 ran')")
        op.add_column("settings", sa.Column("timezone", sa.String(40)))
        op.create_index("ix_settings_timezone", "settings", ["timezone"])
    """)]
    project = alembic_project(tmp_path / "app", revs)
    env = {"DATABASE_URL": mysql_url}
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(mysql_url, "ALTER TABLE settings ADD COLUMN timezone VARCHAR(40)")
    first = bare(project, UPGRADE, env, check=False)
    assert first.returncode == 1
    # MySQL committed the INSERT when the failing ALTER TABLE began: running h2's data step again would repeat it.
    assert rows(mysql_url, "SELECT count(*) FROM audit_log WHERE note = 'h2 ran'") == [(1,)]

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 1
    assert version(mysql_url) == {"a1"}
    assert rows(mysql_url, "SELECT count(*) FROM audit_log WHERE note = 'h2 ran'") == [(1,)]
    assert "ix_settings_timezone" not in indexes(mysql_url, "settings")
    assert report["status"] == "refused"
    assert report["actions"] == []
    assert "half-applied" in report["refusals"][0]["reason"]
    assert any("stamp h2" in step for step in report["refusals"][0]["human_steps"])


def test_dry_run_predicts_the_hotfix_and_changes_nothing(settings_project, mysql_url):
    project, env = settings_project
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(mysql_url, "ALTER TABLE settings ADD COLUMN google_id VARCHAR(255)")

    proc, report = guard(project, UPGRADE, env, "--dry-run")

    assert proc.returncode == 1
    assert report["status"] == "predicted_failure"
    predicted = report["predicted"][0]
    assert (predicted["kind"], predicted["table"], predicted["column"], predicted["revision"]) == (
        "duplicate_column", "settings", "google_id", "b2")
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]
    assert version(mysql_url) == {"a1"}
    assert "teams" not in tables(mysql_url)


# -- Flask-Migrate ----------------------------------------------------------------------------------
FLASK_REVS = [
    Rev("f1", "users", """
        op.create_table("users", sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(200)))
        op.execute("INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com')")
    """),
    Rev("f2", "add display name", """
        op.add_column("users", sa.Column("display_name", sa.String(100)))
        op.execute("UPDATE users SET display_name = SUBSTRING_INDEX(email, '@', 1)")
        op.create_index("ix_users_email", "users", ["email"], unique=True)
    """),
    Rev("f3", "projects", """
        op.create_table("projects", sa.Column("id", sa.Integer, primary_key=True))
    """),
]


def flask(*args: str) -> list[str]:
    return [tool("flask"), "--app", "app:create_app", "db", *args]


def test_flask_hotfix_column_with_url_from_app_config(tmp_path, mysql_url):
    project = flask_project(tmp_path / "app", FLASK_REVS)
    env = {"APP_DATABASE_URL": mysql_url}
    bare(project, flask("upgrade", "f1"), env)
    execute(mysql_url, "ALTER TABLE users ADD COLUMN display_name VARCHAR(100)")

    proc, report = guard(project, flask("upgrade"), env)

    assert proc.returncode == 0, proc.stderr
    assert report["framework"] == "flask-migrate"
    assert version(mysql_url) == {"f3"}
    assert rows(mysql_url, "SELECT email, display_name FROM users ORDER BY id") == [
        ("a@example.com", "a"), ("b@example.com", "b")]
    assert [f["kind"] for f in report["failures"]] == ["duplicate_column"]
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]


def test_flask_history_lost(tmp_path, mysql_url):
    project = flask_project(tmp_path / "app", FLASK_REVS)
    env = {"APP_DATABASE_URL": mysql_url}
    bare(project, flask("upgrade"), env)
    execute(mysql_url, "DELETE FROM alembic_version")

    proc, report = guard(project, flask("upgrade"), env)

    assert proc.returncode == 0, proc.stderr
    assert version(mysql_url) == {"f3"}
    assert rows(mysql_url, "SELECT count(*) FROM users") == [(2,)]
    assert [a["kind"] for a in report["actions"]] == ["mark_applied"]


def test_flask_existing_index_with_another_definition_is_refused(tmp_path, mysql_url):
    project = flask_project(tmp_path / "app", FLASK_REVS)
    env = {"APP_DATABASE_URL": mysql_url}
    bare(project, flask("upgrade", "f1"), env)
    execute(mysql_url, "CREATE INDEX ix_users_email ON users (email(20))")

    proc, report = guard(project, flask("upgrade"), env)

    assert proc.returncode == 1
    assert version(mysql_url) == {"f1"}
    assert rows(mysql_url, "SELECT count(*) FROM users") == [(2,)]
    assert report["status"] == "refused"
    assert "ix_users_email" in report["refusals"][0]["reason"]


def test_existing_foreign_key_is_skipped(tmp_path, mysql_url):
    revs = [
        Rev("k1", "teams and members", """
            op.create_table("teams", sa.Column("id", sa.Integer, primary_key=True))
            op.create_table("members", sa.Column("id", sa.Integer, primary_key=True), sa.Column("team_id", sa.Integer))
        """),
        Rev("k2", "member team", """
            op.create_foreign_key("fk_members_team", "members", "teams", ["team_id"], ["id"])
            op.execute("INSERT INTO teams (id) VALUES (7)")
        """),
        Rev("k3", "tags", """
            op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True))
        """),
    ]
    project = alembic_project(tmp_path / "app", revs)
    env = {"DATABASE_URL": mysql_url}
    bare(project, [tool("alembic"), "upgrade", "k1"], env)
    execute(mysql_url, "ALTER TABLE members ADD CONSTRAINT fk_members_team FOREIGN KEY (team_id) REFERENCES teams (id)")

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(mysql_url) == {"k3"}
    assert rows(mysql_url, "SELECT id FROM teams") == [(7,)]
    assert [(f["kind"], f["constraint"]) for f in report["failures"]] == [("duplicate_object", "fk_members_team")]
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]
