"""A replica that finds the database at head answers from the version table and the revision files,
on the lock's own session, without importing SQLAlchemy or Alembic; and any doubt sends it the full way.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import clean_env
from tests.support.guard import bare, execute, guard, rows, tool, version
from tests.support.projects import Rev, alembic_project, flask_project, write_revisions

REVS = [
    Rev("h1", "items", """
        op.create_table("items", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(50)))
        op.execute("INSERT INTO items (name) VALUES ('first')")
    """),
    Rev("h2", "index", 'op.create_index("ix_items_name", "items", ["name"])'),
]

# The guard's own entry point, in-process, reporting which heavy modules the run imported.
PROBE = """
import json, sys
from migration_guard.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"exit": code, "imported": sorted(m for m in ("sqlalchemy", "alembic") if m in sys.modules)}))
"""


def probe(project: Path, url: str, argv: list[str]) -> tuple[dict, dict]:
    report = project / "probe-report.json"
    proc = subprocess.run([sys.executable, "-c", PROBE, "run", "--no-github", "--report-json", str(report), "--",
                           *argv], cwd=project, env=clean_env({"DATABASE_URL": url}), capture_output=True,
                          text=True, timeout=120)
    return json.loads(proc.stdout.strip().splitlines()[-1]), json.loads(report.read_text())


@pytest.fixture(params=["pg_url", "mysql_url", "sqlite_url"])
def any_url(request):
    return request.getfixturevalue(request.param)


def test_at_head_without_importing_sqlalchemy(tmp_path: Path, any_url: str) -> None:
    project = alembic_project(tmp_path / "app", REVS)
    argv = [tool("alembic"), "upgrade", "head"]
    proc, first = guard(project, argv, {"DATABASE_URL": any_url})
    assert proc.returncode == 0 and first["status"] == "succeeded", proc.stderr
    seen, report = probe(project, any_url, argv)
    assert seen == {"exit": 0, "imported": []}
    assert report["status"] == "succeeded" and "already at head (h2)" in report["summary"]
    assert report["attempts"] == [] and version(any_url) == {"h2"}
    assert rows(any_url, "SELECT name FROM items") == [("first",)]


def test_a_new_revision_is_run(tmp_path: Path, any_url: str) -> None:
    project = alembic_project(tmp_path / "app", REVS)
    argv = [tool("alembic"), "upgrade", "head"]
    assert guard(project, argv, {"DATABASE_URL": any_url})[0].returncode == 0
    write_revisions(project / "migrations" / "versions", [Rev("h3", "more", """
        op.add_column("items", sa.Column("note", sa.String(20)))
        op.execute("UPDATE items SET note = 'h3 ran'")
    """, down="h2")])
    seen, report = probe(project, any_url, argv)
    assert seen["exit"] == 0 and report["status"] == "succeeded" and len(report["attempts"]) == 1
    assert version(any_url) == {"h3"} and rows(any_url, "SELECT name, note FROM items") == [("first", "h3 ran")]


def test_doubt_goes_the_full_way(tmp_path: Path, pg_url: str) -> None:
    """The version table at head, but a killed run left a journal row open: the full way reports it."""
    project = alembic_project(tmp_path / "app", REVS)
    argv = [tool("alembic"), "upgrade", "head"]
    assert guard(project, argv, {"DATABASE_URL": pg_url})[0].returncode == 0
    execute(pg_url, "CREATE TABLE migration_guard_journal (action_id varchar(80) PRIMARY KEY, run_id varchar(80) "
                    "NOT NULL, kind varchar(40) NOT NULL, target text NOT NULL, state varchar(20) NOT NULL, "
                    "evidence text, updated_at timestamptz NOT NULL)",
            "INSERT INTO migration_guard_journal VALUES ('mg-1', 'run-killed', 'complete_enum', 'record_state', "
            "'applying', '[]', now())")
    seen, report = probe(project, pg_url, argv)
    assert seen == {"exit": 0, "imported": ["alembic", "sqlalchemy"]}
    assert any("run-killed" in note for note in report["notes"]) and "already at head" in report["summary"]
    assert rows(pg_url, "SELECT state FROM migration_guard_journal") == [("closed",)]


def test_a_version_the_files_do_not_know_goes_the_full_way(tmp_path: Path, pg_url: str) -> None:
    """A newer deploy ran first: this replica's files stop at h1. Alembic itself must say so."""
    project = alembic_project(tmp_path / "app", REVS)
    argv = [tool("alembic"), "upgrade", "head"]
    assert guard(project, argv, {"DATABASE_URL": pg_url})[0].returncode == 0
    old = alembic_project(tmp_path / "old", REVS[:1])
    proc, report = guard(old, argv, {"DATABASE_URL": pg_url})
    assert proc.returncode == 1 and report["failures"][0]["kind"] == "unknown_revision"
    assert version(pg_url) == {"h2"}


def test_flask_migrate_at_head(tmp_path: Path, pg_url: str) -> None:
    project = flask_project(tmp_path / "app", REVS, env={"APP_DATABASE_URL": pg_url})
    argv = [tool("flask"), "--app", "app:create_app", "db", "upgrade"]
    bare(project, argv, {"APP_DATABASE_URL": pg_url})
    seen, report = probe(project, pg_url, argv)
    assert seen == {"exit": 0, "imported": []} and "already at head (h2)" in report["summary"]
