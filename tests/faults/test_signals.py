"""A platform stopping the deploy: the migration hears it, the lock is released, the report says so."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.support.cli import clean_env
from tests.support.guard import guard, rows, tool, version
from tests.support.projects import Rev, alembic_project

SLOW = [Rev("z1", "slow", """
    op.create_table("big", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("SELECT pg_sleep(60)")
""")]


def _start(project, pg_url, report):
    return subprocess.Popen([sys.executable, "-m", "migration_guard", "run", "--report-json", str(report), "--",
                             tool("alembic"), "upgrade", "head"], cwd=project, env=clean_env({"DATABASE_URL": pg_url}),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_sleep(pg_url, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if rows(pg_url, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' "
                        "AND datname = current_database()")[0][0]:
            return
        time.sleep(0.1)
    raise AssertionError("the migration never started")


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_stop_signal_reaches_the_migration_and_releases_the_lock(tmp_path, pg_url, sig, code):
    project = alembic_project(tmp_path / "app", SLOW)
    report_path = project / "stopped.json"
    proc = _start(project, pg_url, report_path)
    _wait_for_sleep(pg_url)

    began = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)

    assert proc.returncode == code, err
    assert time.monotonic() - began < 30
    assert "Traceback" not in err
    report = json.loads(report_path.read_text())
    assert report["status"] == "failed"
    assert f"signal {int(sig)}" in report["summary"]
    # The migration's transaction died with it: nothing half-made, no session left sleeping.
    assert not rows(pg_url, "SELECT 1 FROM pg_tables WHERE tablename = 'big'")
    assert rows(pg_url, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' "
                        "AND datname = current_database() AND state = 'active'") == [(0,)]
    # The lock is free: the next deploy proceeds at once.
    fast = alembic_project(tmp_path / "next", [Rev("z1", "quick", """
        op.create_table("big", sa.Column("id", sa.Integer, primary_key=True))
    """)])
    proc2, report2 = guard(fast, [tool("alembic"), "upgrade", "head"], {"DATABASE_URL": pg_url}, "--lock-timeout", "5")
    assert proc2.returncode == 0, proc2.stderr
    assert report2["lock_wait_s"] < 1
    assert version(pg_url) == {"z1"}


def test_stop_while_waiting_for_the_lock(tmp_path, pg_url):
    project = alembic_project(tmp_path / "app", SLOW)
    first = _start(project, pg_url, project / "first.json")
    _wait_for_sleep(pg_url)
    second = _start(project, pg_url, project / "second.json")
    time.sleep(2)  # the second is now waiting for the lock

    first_alive = first.poll() is None
    second.send_signal(signal.SIGTERM)
    _, err = second.communicate(timeout=30)
    first.send_signal(signal.SIGTERM)
    _, first_err = first.communicate(timeout=60)

    assert first_alive, f"the first run ended before the second was stopped:\n{first_err}"

    assert second.returncode == 143, err
    report = json.loads((project / "second.json").read_text())
    assert report["status"] == "failed"
    assert "waiting for the migration lock" in report["summary"]
    assert report["attempts"] == []


def test_child_that_ignores_the_signal_is_killed_after_the_grace_period(tmp_path, pg_url, monkeypatch):
    project = alembic_project(tmp_path / "app", [Rev("q1", "stubborn", """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        op.create_table("stubborn", sa.Column("id", sa.Integer, primary_key=True))
        print("ignoring SIGTERM", flush=True)
        time.sleep(120)
    """)])
    env = clean_env({"DATABASE_URL": pg_url, "MIGRATION_GUARD_STOP_GRACE": "2"})
    proc = subprocess.Popen([sys.executable, "-m", "migration_guard", "run", "--report-json", str(project / "r.json"),
                             "--", tool("alembic"), "upgrade", "head"], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not rows(
            pg_url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name <> 'migration-guard' AND pid <> pg_backend_pid()")[0][0]:
        time.sleep(0.1)
    time.sleep(1)
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)

    assert proc.returncode == 143, err
    assert time.monotonic() - began < 20
    assert not rows(pg_url, "SELECT 1 FROM pg_tables WHERE tablename = 'stubborn'")
