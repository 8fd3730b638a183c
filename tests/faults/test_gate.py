"""The command starts early but waits at its gate: a guard killed while the plan is made leaves the
database exactly as the plan left it, with not one statement of the command run."""

from __future__ import annotations

import os
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


def test_a_command_started_before_the_lock_runs_none_of_the_project_until_it_is_let_on(tmp_path, pg_url):
    """The first replica on a machine starts its command before it holds the lock (runtime/front.py).
    Held there, the command imports the tool and nothing of the project: env.py, which would have run
    within the seconds waited here, runs only once the guard lets it on; killed at its hold, never."""
    from migration_guard.runtime.child import ChildResult, Early, run

    project = alembic_project(tmp_path / "app", ENUM)
    env_py = project / "migrations" / "env.py"
    ran = project / "env-py-ran"
    env_py.write_text(f"open({str(ran)!r}, 'a').write('ran\\n')\n" + env_py.read_text())
    env = {"PATH": str(Path(tool("alembic")).parent), "DATABASE_URL": pg_url}

    held = Early(UPGRADE, project, env, hold=True)
    time.sleep(3)
    assert held.proc.poll() is None and not ran.exists()
    held.discard(0)
    assert held.proc.returncode == -9 and not ran.exists()

    let_on = Early(UPGRADE, project, env, hold=True)
    time.sleep(3)
    assert not ran.exists()
    let_on.release_hold()
    with open(os.devnull, "w") as quiet:
        result: ChildResult = run(UPGRADE, project, env, None, [], lambda _e: None, echo=quiet, early=let_on)
    assert result.exit_code == 0, result.output
    assert ran.read_text() == "ran\n" and version(pg_url) == {"e2"}
