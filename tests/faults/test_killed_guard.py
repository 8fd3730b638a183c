"""A guard killed with SIGKILL: its lock goes with its session, its command dies with it, and the
next replica ends whatever the dead run left open, then migrates."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from tests.support.cli import clean_env
from tests.support.guard import guard, rows, tool, version
from tests.support.projects import Rev, alembic_project

SLOW = [
    Rev("k1", "slow", """
        op.create_table("big", sa.Column("id", sa.Integer, primary_key=True))
        op.execute("SELECT pg_sleep(120)")
    """),
]
QUICK = [
    Rev("k1", "quick", """
        op.create_table("big", sa.Column("id", sa.Integer, primary_key=True))
        op.execute("INSERT INTO big (id) VALUES (1)")
    """),
]


def test_killed_guard_releases_everything_and_the_next_replica_proceeds(tmp_path, pg_url):
    project = alembic_project(tmp_path / "slow", SLOW)
    proc = subprocess.Popen([sys.executable, "-m", "migration_guard", "run", "--", tool("alembic"), "upgrade",
                             "head"], cwd=project, env=clean_env({"DATABASE_URL": pg_url}),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not rows(pg_url, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' "
                           "AND datname = current_database()")[0][0]:
        assert time.monotonic() < deadline, "the slow migration never started"
        time.sleep(0.1)

    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)

    began = time.monotonic()
    proc2, report = guard(alembic_project(tmp_path / "next", QUICK), [tool("alembic"), "upgrade", "head"],
                          {"DATABASE_URL": pg_url}, "--lock-timeout", "30")
    took = time.monotonic() - began

    assert proc2.returncode == 0, proc2.stderr
    assert took < 30  # not the 120 s the dead run's statement would have held its locks
    assert version(pg_url) == {"k1"}
    assert rows(pg_url, "SELECT id FROM big") == [(1,)]
    assert any("left by an earlier guarded run" in note for note in report["notes"]), report["notes"]
