"""The lock asked for before the CLI loads: taken only in the plain case, and never kept for another URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from migration_guard.db.lock import PG_LOCK_KEY
from migration_guard.runner import Runner
from migration_guard.runtime import front, priority
from migration_guard.settings import Settings
from tests.support.guard import tool
from tests.support.projects import Rev, alembic_project

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def lock_is_free(url: str) -> bool:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": PG_LOCK_KEY}).scalar()
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
            return bool(got)
    finally:
        engine.dispose()


def test_takes_the_lock_and_starts_the_command_at_its_gate(tmp_path: Path, pg_url: str) -> None:
    found = front._try(["run", "--no-github", "--", *SLEEPER], {"DATABASE_URL": pg_url, "PATH": ""}, tmp_path)
    try:
        assert found is not None and not found.lock.contended and found.lock.held()
        assert not lock_is_free(pg_url)
        assert found.early is not None and found.early.proc.poll() is None  # waiting, not running
    finally:
        found.discard()
    assert found.early is None and lock_is_free(pg_url)


def test_a_held_lock_is_waited_for_at_low_priority(tmp_path: Path, pg_url: str) -> None:
    holder = create_engine(pg_url, poolclass=NullPool)
    before = os.getpriority(os.PRIO_PROCESS, 0)
    with holder.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PG_LOCK_KEY})
        found = front._try(["run", "--", *SLEEPER], {"MIGRATION_GUARD_DATABASE_URL": pg_url}, tmp_path)
        try:
            assert found is not None and found.lock.contended and not found.lock.held()
            assert found.early is None  # a replica that waits starts nothing
            assert os.getpriority(os.PRIO_PROCESS, 0) == 19
        finally:
            found.discard()
            priority.reclaim_cpu()
    holder.dispose()
    assert os.getpriority(os.PRIO_PROCESS, 0) == (before if os.geteuid() == 0 else 19)


# A guard's first steps in a process of its own, against a server that is not there: the priority it
# ends with shows whether it yielded before it tried to connect.
TRY_FRONT = '''
import os, sys
from migration_guard.runtime import front, priority
try:
    front._try(["run", "--", "true"], {**os.environ, "DATABASE_URL": sys.argv[1]}, sys.argv[2])
except Exception:
    pass
print(os.getpriority(os.PRIO_PROCESS, 0))
'''
HOLD_HINT = '''
import os, sys, time
from migration_guard.runtime import front, priority
print(priority.first_here(sys.argv[1], dict(os.environ)), flush=True)
time.sleep(60)
'''


def _priority_after_front(url: str, env: dict) -> int:
    done = subprocess.run([sys.executable, "-c", TRY_FRONT, url, env["TMPDIR"]], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def test_a_second_guard_on_this_machine_yields_before_it_connects(tmp_path: Path) -> None:
    """Replicas on one machine: the first to start keeps its priority; one that starts while it runs
    yields at once, before its driver is imported (the server here does not even answer). The file that
    tells them apart is chosen by where the database is, not by its password."""
    url = "postgresql://app:s3cret-pw@127.0.0.1:9/shop"
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    assert _priority_after_front(url, env) == os.getpriority(os.PRIO_PROCESS, 0)
    first = subprocess.Popen([sys.executable, "-c", HOLD_HINT, url], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == "True"
        assert _priority_after_front(url, env) == 19
        assert _priority_after_front(url.replace("s3cret-pw", "other"), env) == 19  # same database
        other = next(url.replace("/shop", f"/shop{n}") for n in range(100)
                     if priority.hint_path(url.replace("/shop", f"/shop{n}"), env) != priority.hint_path(url, env))
        assert _priority_after_front(other, env) != 19  # another database
        made = {os.path.basename(priority.hint_path(u, env)) for u in (url, other)}
        assert {p.name for p in tmp_path.iterdir()} == made  # and none for the other password
    finally:
        first.kill()
        first.wait()
    assert _priority_after_front(url, env) != 19  # the first one has gone: the next is first again


@pytest.mark.parametrize("argv", [
    ["check", "--", *SLEEPER],
    ["run", "--dry-run", "--", *SLEEPER],
    ["run", *SLEEPER],
    ["run", "--"],
    ["run", "--database-url", "sqlite:///app.db", "--", *SLEEPER],
    ["run", "--database-url", "mysql+pymysql://root@127.0.0.1/x?charset=utf8mb4", "--", *SLEEPER],
])
def test_only_the_plain_case_is_tried(tmp_path: Path, argv: list[str]) -> None:
    assert front._try(argv, {}, tmp_path) is None


def test_project_settings_leave_it_to_the_full_rules(tmp_path: Path, pg_url: str) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.migration-guard]\ndatabase-url = "sqlite:///other.db"\n')
    assert front._try(["run", "--", *SLEEPER], {"DATABASE_URL": pg_url}, tmp_path) is None


def test_the_runner_lets_go_of_a_lock_for_another_url(tmp_path: Path, pg_url: str, sqlite_url: str) -> None:
    """The front guessed one URL, the full rules resolve another: the guard migrates the one it
    resolved and holds no lock on the other."""
    project = alembic_project(tmp_path / "app", [Rev("f1", "items", 'op.create_table("items", '
                                                               'sa.Column("id", sa.Integer, primary_key=True))')])
    found = front._try(["run", "--", tool("alembic"), "upgrade", "head"], {"DATABASE_URL": pg_url}, project)
    assert found is not None and not lock_is_free(pg_url)
    runner = Runner(Settings(database_url=sqlite_url, github=False), [tool("alembic"), "upgrade", "head"],
                    cwd=project, env={"PATH": str(Path(sys.executable).parent), "DATABASE_URL": sqlite_url},
                    front=found)
    report = runner.run()
    assert report.status == "succeeded" and report.database["dialect"] == "sqlite"
    assert lock_is_free(pg_url)
    assert found.early is None or found.early.proc.poll() is not None


def test_a_command_started_after_yielding_gets_the_old_priority_back(tmp_path: Path) -> None:
    """A replica that yielded while it waited and then migrates: its command is not left at nice 19
    where the system lets the guard take its priority back (root, as in most containers)."""
    from migration_guard.runtime import child

    before = os.getpriority(os.PRIO_PROCESS, 0)
    priority.yield_cpu()
    try:
        assert os.getpriority(os.PRIO_PROCESS, 0) == 19
        argv = [sys.executable, "-c", "import os; print('nice', os.getpriority(os.PRIO_PROCESS, 0))"]
        with open(os.devnull, "w") as quiet:
            result = child.run(argv, tmp_path, {"PATH": os.environ.get("PATH", "")}, None, [], lambda _e: None,
                               echo=quiet)
    finally:
        priority.reclaim_cpu()
    expected = before if os.geteuid() == 0 else 19
    assert result.exit_code == 0 and f"nice {expected}" in result.output
    assert os.getpriority(os.PRIO_PROCESS, 0) == expected
