"""The command starts early but waits at its gate: a guard killed while the plan is made leaves the
database exactly as the plan left it, with not one statement of the command run."""

from __future__ import annotations

import time
from pathlib import Path

from migration_guard.faults import AT_GATE
from tests.faults.test_crash_points import ENUM, UPGRADE, _labels
from tests.support.guard import bare, execute, guard, rows, tool, version
from tests.support.projects import alembic_project


def _commands_alive(url: str, wait_s: float = 5.0) -> list[int]:
    """Processes started by a guard (MIGRATION_GUARD_CHILD=1) for this test's database."""
    marks = (b"MIGRATION_GUARD_CHILD=1", f"DATABASE_URL={url}".encode())
    deadline = time.monotonic() + wait_s
    while True:
        alive = []
        for environ in Path("/proc").glob("[0-9]*/environ"):
            try:
                entries = environ.read_bytes().split(b"\0")
            except OSError:
                continue
            if all(mark in entries for mark in marks):
                alive.append(int(environ.parent.name))
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def test_killed_at_the_gate(tmp_path, pg_url):
    project = alembic_project(tmp_path / "app", ENUM)
    env = {"DATABASE_URL": pg_url}
    bare(project, [tool("alembic"), "upgrade", "e0"], env)
    execute(pg_url, "CREATE TYPE post_state AS ENUM ('draft', 'published')")

    killed, _ = guard(project, UPGRADE, {**env, "MIGRATION_GUARD_FAULT": AT_GATE})

    # The plan (completing the enum) was applied before the gate; the command, long since started and
    # ready to connect, ran nothing and died with the guard.
    assert killed.returncode == -9, killed.stderr
    assert _labels(pg_url) == ["draft", "review", "published"]
    assert version(pg_url) == {"e0"} and rows(pg_url, "SELECT count(*) FROM deploy_log") == [(0,)]
    assert "Running upgrade" not in killed.stdout + killed.stderr
    assert _commands_alive(pg_url) == [], "the command outlived its guard"

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 0, proc.stderr
    assert version(pg_url) == {"e2"} and rows(pg_url, "SELECT note FROM deploy_log") == [("e1 ran",)]
    assert any("an earlier run" in note and "complete_enum" in note for note in report["notes"]), report["notes"]
