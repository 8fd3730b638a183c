"""The database goes away under a running migration: a cut connection, a server restart.

The guard says so plainly, records nothing it cannot prove applied, and the next deploy completes.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from migration_guard.db.lock import CHILD_APP_NAME
from tests.support.cli import clean_env
from tests.support.guard import guard, rows, tool
from tests.support.projects import Rev, alembic_project

REVS = [
    Rev("c1", "first", """
        op.create_table("accounts", sa.Column("id", sa.Integer, primary_key=True))
        op.execute("INSERT INTO accounts (id) VALUES (1), (2)")
    """),
    Rev("c2", "slow", """
        op.create_table("events", sa.Column("id", sa.Integer, primary_key=True))
        op.execute("SELECT pg_sleep(20)")
    """),
]


def _when_sleeping(url, action):
    def run():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if rows(url, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' "
                             "AND state = 'active'")[0][0]:
                    action()
                    return
            except Exception:
                pass
            time.sleep(0.1)
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _versions(url):
    if not rows(url, "SELECT count(*) FROM pg_tables WHERE tablename = 'alembic_version'")[0][0]:
        return set()
    return {r[0] for r in rows(url, "SELECT version_num FROM alembic_version")}


def test_connection_cut_mid_migration(tmp_path, pg_url):
    project = alembic_project(tmp_path / "app", REVS)
    cut = _when_sleeping(pg_url, lambda: rows(
        pg_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :a", a=CHILD_APP_NAME))
    proc, report = guard(project, [tool("alembic"), "upgrade", "head"], {"DATABASE_URL": pg_url})
    cut.join()

    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr.split("migration-guard [")[-1]
    assert report["status"] == "failed"
    assert "connection to the database was lost" in report["summary"]
    assert _versions(pg_url) == set()  # one transaction, rolled back: nothing recorded
    assert not rows(pg_url, "SELECT 1 FROM pg_tables WHERE tablename IN ('accounts', 'events')")

    (project / "migrations" / "versions" / "c2_slow.py").write_text(
        (project / "migrations" / "versions" / "c2_slow.py").read_text().replace("pg_sleep(20)", "pg_sleep(0)"))
    proc2, _ = guard(project, [tool("alembic"), "upgrade", "head"], {"DATABASE_URL": pg_url})
    assert proc2.returncode == 0, proc2.stderr
    assert _versions(pg_url) == {"c2"}
    assert rows(pg_url, "SELECT count(*) FROM accounts") == [(2,)]


@pytest.fixture
def restartable(tmp_path):
    from migration_guard.db.throwaway import start_throwaway_postgres

    try:
        server = start_throwaway_postgres()
    except RuntimeError as exc:
        pytest.skip(f"no throwaway PostgreSQL to restart: {exc}")
    with server:
        yield server


def test_server_restart_mid_migration(tmp_path, restartable):
    url = restartable.url
    project = alembic_project(tmp_path / "app", REVS)
    restart = _when_sleeping(url, restartable.restart)
    proc = subprocess.run([sys.executable, "-m", "migration_guard", "run", "--report-json", str(project / "r.json"),
                           "--", tool("alembic"), "upgrade", "head"], cwd=project,
                          env=clean_env({"DATABASE_URL": url}), capture_output=True, text=True, timeout=180)
    restart.join()

    assert proc.returncode == 1, proc.stderr
    assert "lost" in proc.stderr
    assert _versions(url) == set()
    assert not rows(url, "SELECT 1 FROM pg_tables WHERE tablename IN ('accounts', 'events')")

    (project / "migrations" / "versions" / "c2_slow.py").write_text(
        (project / "migrations" / "versions" / "c2_slow.py").read_text().replace("pg_sleep(20)", "pg_sleep(0)"))
    proc2, _ = guard(project, [tool("alembic"), "upgrade", "head"], {"DATABASE_URL": url})
    assert proc2.returncode == 0, proc2.stderr
    assert _versions(url) == {"c2"}
