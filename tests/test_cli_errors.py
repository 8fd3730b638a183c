"""Bad input gets one clear line and the documented exit code, never a traceback; no password leaks."""

from __future__ import annotations

import time

import pytest

from tests.support.guard import guard, tool
from tests.support.projects import Rev, alembic_project

SECRET = "hunter2-s3cret"


def one_line_error(proc, code: int, *words: str) -> None:
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for word in words:
        assert word in lines[0]
    assert SECRET not in proc.stderr + proc.stdout


@pytest.fixture
def project(tmp_path):
    return alembic_project(tmp_path / "app", [Rev("a1", "t", "op.create_table('t', sa.Column('id', sa.Integer))")])


def test_malformed_url(run_cli, project):
    proc = run_cli(["run", "--database-url", f"postgresql://u:{SECRET}@db:notaport/x", "--",
                    tool("alembic"), "upgrade", "head"], cwd=project)
    one_line_error(proc, 2, "malformed database URL")


def test_unsupported_database(run_cli, project):
    proc = run_cli(["run", "--database-url", "oracle://u@h/x", "--", tool("alembic"), "upgrade", "head"], cwd=project)
    one_line_error(proc, 2, "unsupported database")


def test_unreachable_server_waits_a_bounded_time(run_cli, project):
    began = time.monotonic()
    proc = run_cli(["run", "--database-url", f"postgresql://postgres:{SECRET}@127.0.0.1:1/x",
                    "--connect-timeout", "2", "--", tool("alembic"), "upgrade", "head"], cwd=project)
    one_line_error(proc, 3, "cannot reach the database", "127.0.0.1:1")
    assert time.monotonic() - began < 30


def test_command_not_found(run_cli, project, pg_url):
    proc = run_cli(["run", "--database-url", pg_url, "--", str(project / "no-such" / "alembic"), "upgrade", "head"],
                   cwd=project)
    one_line_error(proc, 2, "command not found")


def test_unknown_framework(run_cli, project, pg_url):
    (project / "alembic.ini").unlink()
    (project / "deploy.sh").write_text("#!/bin/sh\necho migrating\n")
    (project / "deploy.sh").chmod(0o755)
    proc = run_cli(["run", "--database-url", pg_url, "--", "./deploy.sh"], cwd=project)
    one_line_error(proc, 2, "cannot tell which migration tool")


def test_no_command(run_cli):
    proc = run_cli(["run", "--database-url", "postgresql://x@h/db"])
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_no_database_url(run_cli, tmp_path):
    project = alembic_project(tmp_path / "app", [Rev("a1", "t", "pass")])
    proc = run_cli(["run", "--", tool("alembic"), "upgrade", "head"], cwd=project)
    one_line_error(proc, 2, "no database URL")


def test_in_memory_sqlite_is_refused(run_cli, project):
    proc = run_cli(["run", "--database-url", "sqlite://", "--", tool("alembic"), "upgrade", "head"], cwd=project)
    one_line_error(proc, 2, "in-memory SQLite")


def test_bad_option_values(run_cli, project):
    proc = run_cli(["run", "--max-attempts", "0", "--database-url", "postgresql://x@h/db", "--",
                    tool("alembic"), "upgrade", "head"], cwd=project)
    one_line_error(proc, 2, "--max-attempts")


def test_diagnose_empty_log(run_cli, tmp_path):
    empty = tmp_path / "empty.log"
    empty.write_text("")
    one_line_error(run_cli(["diagnose", str(empty)]), 2, "is empty")


def test_diagnose_unreadable_log(run_cli, tmp_path):
    one_line_error(run_cli(["diagnose", str(tmp_path / "missing.log")]), 2, "cannot read")


def test_diagnose_empty_stdin(run_cli):
    one_line_error(run_cli(["diagnose", "-"], input=""), 2, "empty")


def test_password_never_appears_in_output_or_reports(tmp_path, pg_url):
    """The child prints its URL (as careless env.py files and SQLAlchemy errors do) and fails."""
    project = alembic_project(tmp_path / "app", [Rev("a1", "leaky", """
        import os
        print("connecting to", os.environ["DATABASE_URL"])
        print("token", os.environ["GITHUB_TOKEN"], "pg", os.environ["PGPASSWORD"])
        op.execute("SELECT * FROM no_such_table")
    """)])
    leaky = pg_url.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@")
    md = project / "report.md"
    proc, report = guard(project, [tool("alembic"), "upgrade", "head"], {"DATABASE_URL": leaky, "PGPASSWORD": SECRET,
                                                                     "GITHUB_TOKEN": "ghp_" + SECRET},
                         "--report-md", str(md))

    assert proc.returncode == 1
    assert "connecting to postgresql://postgres:***@" in proc.stdout
    assert "token *** pg ***" in proc.stdout
    for text in (proc.stdout, proc.stderr, md.read_text(), str(report)):
        assert SECRET not in text
    assert report["status"] == "failed"
