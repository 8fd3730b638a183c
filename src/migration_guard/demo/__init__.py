"""`migration-guard demo`: the whole story, on a database nobody needs, in well under a minute.

The demo writes a small Alembic project (four revisions of a shop: accounts, a display_name column
with a backfill, orders with an `order_status` enum, invoices) and breaks its deploy three ways seen
in real production incidents, each on a fresh database:

1. The hotfix: the column was already added by hand. Bare `alembic upgrade head` fails with
   DuplicateColumn; the guard sees in the catalog that the column is exactly what the migration
   wants, skips only that statement (`skip_satisfied`) and the backfill still runs.
2. The enum another migration created, with two of its three labels: the guard adds the missing
   label in its place (`complete_enum`) and the migration, data step included, runs as written.
3. Four replicas deploy at once: the guarded runs take turns on a database lock, the first migrates
   and the others find nothing to do, so every revision ran once; the same four bare runs collide.

It runs on DATABASE_URL's PostgreSQL server if set (in new `mg_demo_*` databases, dropped afterwards),
otherwise on a throwaway PostgreSQL it starts and removes. It prints each run's output and Markdown
report, reads the outcome back from the database, and exits 0 only if every story ended as expected.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from migration_guard.db.connect import first_line
from migration_guard.db.url import mask_text
from migration_guard.demo.console import heading, say, step
from migration_guard.demo.procs import Children
from migration_guard.demo.project import REVISIONS, write_project
from migration_guard.demo.server import DemoServer
from migration_guard.demo.stories import STORIES, Outcome, Stage
from migration_guard.errors import GuardError


def main(keep: bool = False) -> int:
    """Run every story; 0 if each ended as expected, 1 if not, 130 if interrupted."""
    began = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="mg-demo-"))
    server: DemoServer | None = None
    children: Children | None = None
    outcomes: list[tuple[str, Outcome]] = []
    previous = signal.signal(signal.SIGTERM, _interrupt)  # a stopped demo must clean up like Ctrl-C
    try:
        say("migration-guard demo: a sample project's deploy, broken three ways, run with and without the guard")
        url = os.environ.get("DATABASE_URL")
        if not url:
            step("DATABASE_URL is not set: starting a throwaway PostgreSQL")
        server = DemoServer.open(url)
        step(f"database: {server.describe()}")
        project = write_project(workdir)
        step(f"sample project: {project} (alembic.ini, migrations/env.py, revisions {', '.join(REVISIONS)})")
        children = Children(project)
        children.secrets = server.secrets
        stage = Stage(server, children, project)
        for number, (title, story) in enumerate(STORIES, 1):
            heading(f"Story {number} of {len(STORIES)}: {title}")
            outcomes.append((title, _attempt(story, stage)))
    except KeyboardInterrupt:
        say()
        step("interrupted: stopping the demo's processes and cleaning up")
        return 130
    except GuardError:
        raise  # the CLI prints it as one line with its exit code, after the clean-up below
    except Exception as exc:  # a bug, or a database error outside a story: one line that says where
        where = traceback.extract_tb(exc.__traceback__)[-1]
        message = first_line(exc) if isinstance(exc, DBAPIError) else str(exc)
        say(f"migration-guard demo: unexpected error: {type(exc).__name__}: {mask_text(message)} "
            f"(at {Path(where.filename).name}:{where.lineno})")
        return 1
    finally:
        if children:
            children.stop_all()
        _clean_up(server, workdir, keep)
        signal.signal(signal.SIGTERM, previous)
    return _recap(outcomes, time.monotonic() - began)


def _attempt(story: Callable[[Stage], Outcome], stage: Stage) -> Outcome:
    """One story; a database or process error ends that story, not the demo (each has its own database)."""
    try:
        return story(stage)
    except (DBAPIError, OSError, ValueError) as exc:
        line = mask_text(first_line(exc) if isinstance(exc, DBAPIError) else str(exc), stage.server.secrets)
        step(f"this story could not finish: {line}")
        return Outcome(False, f"could not finish: {line}")


def _clean_up(server: DemoServer | None, workdir: Path, keep: bool) -> None:
    if server is None:
        shutil.rmtree(workdir, ignore_errors=True)
        return
    lines = server.close(keep)
    if keep:
        step(f"kept (--keep): the sample project and its reports in {workdir}")
        for line in lines:
            step(f"kept (--keep): {line}")
        return
    shutil.rmtree(workdir, ignore_errors=True)
    for line in lines:
        step(line)
    if server.throwaway:
        done = "stopped the throwaway PostgreSQL and removed its folder"
    else:
        done = f"dropped the demo's databases ({len(server.databases) - len(lines)} of {len(server.databases)})"
    step(f"cleaned up: {done}, removed the sample project")


def _recap(outcomes: list[tuple[str, Outcome]], seconds: float) -> int:
    heading("Recap")
    for title, outcome in outcomes:
        say(f"[{'ok' if outcome.ok else 'UNEXPECTED'}] {title}: {outcome.line}")
    ok = len(outcomes) == len(STORIES) and all(o.ok for _, o in outcomes)
    say(f"{'Every story ended as expected' if ok else 'Not every story ended as expected'} "
        f"({seconds:.1f} s); exit {0 if ok else 1}.")
    return 0 if ok else 1


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
