"""Flask-Migrate under the guard: the URL comes from the app's config, recoveries work the same."""

from __future__ import annotations

from tests.support.guard import bare, execute, guard, rows, tool, version
from tests.support.projects import Rev, flask_project

REVS = [
    Rev("f1", "users", """
        op.create_table("users", sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.Text))
        op.execute("INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com')")
    """),
    Rev("f2", "add display name", """
        op.add_column("users", sa.Column("display_name", sa.String(100)))
        op.execute("UPDATE users SET display_name = split_part(email, '@', 1)")
    """),
    Rev("f3", "projects", """
        op.create_table("projects", sa.Column("id", sa.Integer, primary_key=True))
    """),
]


def flask(*args: str) -> list[str]:
    return [tool("flask"), "--app", "app:create_app", "db", *args]


def test_flask_db_upgrade_hotfix_with_url_from_app_config(tmp_path, pg_url):
    project = flask_project(tmp_path / "app", REVS)
    env = {"APP_DATABASE_URL": pg_url}  # no DATABASE_URL: the guard must ask the app
    bare(project, flask("upgrade", "f1"), env)
    execute(pg_url, "ALTER TABLE users ADD COLUMN display_name VARCHAR(100)")

    proc, report = guard(project, flask("upgrade"), env)

    assert proc.returncode == 0, proc.stderr
    assert report["framework"] == "flask-migrate"
    assert version(pg_url) == {"f3"}
    assert rows(pg_url, "SELECT email, display_name FROM users ORDER BY id") == [
        ("a@example.com", "a"), ("b@example.com", "b")]
    assert [f["kind"] for f in report["predicted"]] == ["duplicate_column"]
    assert report["failures"] == []
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]
    assert report["database"]["dialect"] == "postgresql"


def test_flask_history_lost_with_migrations_directory_option(tmp_path, pg_url):
    project = flask_project(tmp_path / "app", REVS)
    (project / "migrations").rename(project / "db_migrations")
    env = {"APP_DATABASE_URL": pg_url}
    bare(project, flask("upgrade", "-d", "db_migrations"), env)
    execute(pg_url, "DELETE FROM alembic_version")

    proc, report = guard(project, flask("upgrade", "-d", "db_migrations"), env)

    assert proc.returncode == 0, proc.stderr
    assert version(pg_url) == {"f3"}
    assert rows(pg_url, "SELECT count(*) FROM users") == [(2,)]
    assert [a["kind"] for a in report["actions"]] == ["mark_applied"]


def test_flask_index_already_there_is_skipped(tmp_path, pg_url):
    revs = [*REVS[:1], Rev("f2", "index on email", """
        op.create_index("ix_users_email", "users", ["email"], unique=True)
        op.execute("UPDATE users SET email = upper(email)")
    """), REVS[2]]
    project = flask_project(tmp_path / "app", revs)
    env = {"APP_DATABASE_URL": pg_url}
    bare(project, flask("upgrade", "f1"), env)
    execute(pg_url, "CREATE UNIQUE INDEX ix_users_email ON users (email)")

    proc, report = guard(project, flask("upgrade"), env)

    assert proc.returncode == 0, proc.stderr
    assert version(pg_url) == {"f3"}
    assert rows(pg_url, "SELECT email FROM users ORDER BY id") == [("A@EXAMPLE.COM",), ("B@EXAMPLE.COM",)]
    assert [f["kind"] for f in report["predicted"]] == ["duplicate_relation"]
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]


def test_flask_column_of_another_type_is_refused(tmp_path, pg_url):
    project = flask_project(tmp_path / "app", REVS)
    env = {"APP_DATABASE_URL": pg_url}
    bare(project, flask("upgrade", "f1"), env)
    execute(pg_url, "ALTER TABLE users ADD COLUMN display_name INTEGER")

    proc, report = guard(project, flask("upgrade"), env)

    assert proc.returncode == 1
    assert report["status"] == "refused"
    assert version(pg_url) == {"f1"}
    assert rows(pg_url, "SELECT count(*) FROM users") == [(2,)]
    assert rows(pg_url, "SELECT data_type FROM information_schema.columns WHERE table_name = 'users' "
                        "AND column_name = 'display_name'") == [("integer",)]
