"""A replica that waited: it finishes before the CLI loads when it finds nothing to do and nothing else is
asked of it; it goes the full way otherwise; and it says what the full way says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from migration_guard.db.lock import PG_LOCK_KEY
from migration_guard.runtime import waiter
from tests.support.cli import clean_env
from tests.support.guard import bare, rows, tool
from tests.support.projects import Rev, alembic_project

REVS = [
    Rev("w1", "things", 'op.create_table("things", sa.Column("id", sa.Integer, primary_key=True))'),
    Rev("w2", "more", 'op.add_column("things", sa.Column("name", sa.Text))'),
]


def _behind_a_held_lock(project: Path, url: str, *options: str, hold_s: float = 1.0,
                        importtime: bool = False) -> subprocess.CompletedProcess:
    """The guard started while another session holds the lock for `hold_s` seconds."""
    engine = create_engine(url, poolclass=NullPool)
    argv = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "migration_guard", "run",
            *options, "--", tool("alembic"), "upgrade", "head"]
    with engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PG_LOCK_KEY})
        proc = subprocess.Popen(argv, cwd=project, env=clean_env({"DATABASE_URL": url}), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=hold_s)
        except subprocess.TimeoutExpired:
            holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
            out, err = proc.communicate(timeout=120)
    engine.dispose()
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _imported(stderr: str) -> set[str]:
    return {line.split("|")[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def test_a_waiter_that_finds_nothing_to_do_finishes_without_the_cli(tmp_path: Path, pg_url: str) -> None:
    project = alembic_project(tmp_path / "app", REVS)
    bare(project, [tool("alembic"), "upgrade", "head"], {"DATABASE_URL": pg_url})

    done = _behind_a_held_lock(project, pg_url, "--no-github", hold_s=2.0, importtime=True)

    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if not line.startswith("import time:")]
    assert said[0].startswith("migration-guard: took the migration lock after waiting ")
    assert said[1] == "migration-guard: database is at head (w2): nothing to do"
    assert said[2].startswith("migration-guard [OK] Nothing to do (")
    assert said[2].endswith("the database is already at head (w2).")
    assert said[3].startswith("  database: PostgreSQL postgresql://")
    assert said[4].startswith("  waited 1.") and said[4].endswith("for the migration lock")
    imported = _imported(done.stderr)
    assert "migration_guard.runtime.waiter" in imported
    assert not {"click", "migration_guard.cli", "migration_guard.runner", "sqlalchemy"} & imported
    assert rows(pg_url, "SELECT version_num FROM alembic_version") == [("w2",)]


def test_a_waiter_asked_for_a_report_goes_the_full_way_and_writes_it(tmp_path: Path, pg_url: str) -> None:
    project = alembic_project(tmp_path / "app", REVS)
    bare(project, [tool("alembic"), "upgrade", "head"], {"DATABASE_URL": pg_url})
    report = tmp_path / "r.json"

    done = _behind_a_held_lock(project, pg_url, "--no-github", "--report-json", str(report), importtime=True)

    assert done.returncode == 0, done.stderr
    assert "database is at head (w2): nothing to do" in done.stderr
    assert '"status": "succeeded"' in report.read_text()
    assert "migration_guard.runner" in _imported(done.stderr)


def test_a_waiter_that_finds_work_migrates(tmp_path: Path, pg_url: str) -> None:
    """The holder let go without migrating: the waiter goes on from its shared hold to the lock itself."""
    project = alembic_project(tmp_path / "app", REVS)

    done = _behind_a_held_lock(project, pg_url, "--no-github", hold_s=0.5)

    assert done.returncode == 0, done.stderr
    assert "[2/2] w2" in done.stderr
    assert rows(pg_url, "SELECT version_num FROM alembic_version") == [("w2",)]


def test_a_waiter_out_of_time_exits_3_with_one_line(tmp_path: Path, pg_url: str) -> None:
    project = alembic_project(tmp_path / "app", REVS)

    done = _behind_a_held_lock(project, pg_url, "--no-github", "--lock-timeout", "1", hold_s=4)

    assert done.returncode == 3, done.stderr
    assert done.stderr.count("could not take the migration lock within 1s") == 1
    assert "Traceback" not in done.stderr
    assert not rows(pg_url, "SELECT 1 FROM pg_tables WHERE tablename = 'things'")


@pytest.mark.parametrize(("options", "env", "expected"), [
    ([], {}, (600.0, None)),
    (["--no-github", "--lock-timeout", "5", "--framework=flask"], {}, (5.0, "flask")),
    (["--database-url", "postgresql://x@h/d", "--no-preflight"], {"MIGRATION_GUARD_LOCK_TIMEOUT": "9"}, (9.0, None)),
    (["--report-json", "r.json"], {}, None),
    (["--report-md=r.md"], {}, None),
    (["--dedupe", "keep-oldest"], {}, None),
    (["--lock-timeout"], {}, None),
    (["--lock-timeout", "soon"], {}, None),
    (["--framework", "django"], {}, None),
    ([], {"MIGRATION_GUARD_REPORT_JSON": "r.json"}, None),
    ([], {"GITHUB_ACTIONS": "true"}, None),
    (["--no-github"], {"GITHUB_ACTIONS": "true"}, (600.0, None)),
    ([], {"GITHUB_ACTIONS": "true", "MIGRATION_GUARD_GITHUB": "false"}, (600.0, None)),
    ([], {"RENDER_GIT_COMMIT": "abc"}, None),
    ([], {"RAILWAY_GIT_COMMIT_SHA": "abc"}, None),
])
def test_only_a_run_that_asks_for_nothing_but_stderr_finishes_early(options, env, expected) -> None:
    assert waiter._plain_flags(options, env) == expected
