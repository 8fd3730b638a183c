"""What the guard needs to know of any migration tool."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

    from sqlalchemy.engine import Engine  # the guard's own: imported before this is used


@dataclass
class Revision:
    id: str  # alembic revision id, or Django "app.0012_name"
    description: str = ""
    path: str | None = None  # the migration file
    down: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return f"{self.id} {self.description}".strip()


@dataclass
class ToolRun:
    argv: list[str]
    exit_code: int
    stdout: str
    stderr: str = ""
    summary: list[str] = field(default_factory=list)  # what it did, for the report; else its command line

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Framework:
    name = "unknown"

    def __init__(self, argv: list[str], cwd: Path):
        self.argv = argv
        self.cwd = cwd

    # -- configuration --------------------------------------------------------------------------
    def config_url(self, env: dict) -> str | None:
        """The database URL from the tool's own configuration, when DATABASE_URL and flags give none."""
        return None

    def prepare(self) -> None:
        """Work that needs no lock (reading the project's files), done before waiting for it."""

    # Whether the command must run even with nothing pending (Django's post_migrate handlers).
    runs_when_current = False
    # Where the statements of a pending revision come from (revision_sql), as a refusal names it.
    statements_from = "the tool's offline mode"

    @property
    def upgrades_to_head(self) -> bool:
        """True when the command asks for every pending revision (so 'nothing pending' is knowable)."""
        return False

    def plain_files(self) -> tuple[str, Path] | None:
        """(version table, script folder) read from the project's config without importing the tool, when
        that is plain to read (revision_files); None sends the guard the full way (the tool, under the lock)."""
        return None

    # -- state ----------------------------------------------------------------------------------
    def pending(self, engine: Engine) -> list[Revision] | None:
        """Revisions the command will apply, in order; None when that cannot be known beforehand."""
        return None

    def applied(self, engine: Engine) -> set[str]:
        return set()

    # -- tooling ---------------------------------------------------------------------------------
    def revision_sql(self, env: dict, revisions: list[Revision], engine: Engine) -> dict[str, list[str] | None]:
        """The statements each revision will run, where the tool can say without running it."""
        return {r.id: None for r in revisions}

    def early_print(self, engine: Engine) -> tuple[tuple[str, ...], list[str]] | None:
        """(heads, argv of the tool printing every pending revision), when the tool can be started before
        the project's revisions are read; None when it cannot (preflight/early.py)."""
        return None

    def mark_applied(self, revision: Revision, env: dict) -> ToolRun:
        raise NotImplementedError

    def record_applied(self, revisions: list[Revision], env: dict) -> ToolRun:
        """Record a run of revisions as applied without running them. A tool that records only where
        the database stands (Alembic's stamp) marks the last; Django records each one."""
        return self.mark_applied(revisions[-1], env)

    def mark_hint(self, revision_id: str) -> str:
        """The command a person runs to record one revision as applied."""
        return f"{self.name} stamp {revision_id}"

    def tool(self, argv: list[str], env: dict, timeout: float = 600, started=None, line=None) -> ToolRun:
        """Run the user's own tool (stamp, --sql) with the user's environment, never the bootstrap.
        `started(process)` is called once it runs, for a caller that may have to stop it; `line(text)`
        with each line of its output as it comes, for a caller that reads it meanwhile."""
        import subprocess  # here: a replica that only waits and finds nothing to do never runs a tool

        clean = {k: v for k, v in env.items() if not k.startswith("MIGRATION_GUARD_PLAN")}
        try:
            with subprocess.Popen(argv, cwd=self.cwd, env=clean, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, errors="replace") as proc:
                if started is not None:
                    started(proc)
                try:
                    if line is None:
                        stdout, stderr = proc.communicate(timeout=timeout)
                    else:
                        stdout, stderr = _streamed(proc, line, timeout)
                except subprocess.TimeoutExpired as exc:
                    proc.kill()
                    proc.communicate()
                    return ToolRun(argv, 127, "", str(exc))
        except OSError as exc:
            return ToolRun(argv, 127, "", str(exc))
        return ToolRun(argv, proc.returncode, stdout or "", stderr or "")


def _streamed(proc: subprocess.Popen, line, timeout: float) -> tuple[str, str]:
    """communicate(), handing each line of standard output to `line` as it arrives."""
    import subprocess
    import threading

    errors: list[str] = []
    drain = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
    drain.start()
    expired = threading.Event()
    timer = threading.Timer(timeout, lambda: (expired.set(), proc.kill()))
    timer.start()
    out: list[str] = []
    try:
        for text in proc.stdout:
            out.append(text)
            if line is not None:
                try:
                    line(text)
                except Exception:  # the reader's trouble must not cost the output
                    line = None
        proc.wait()
    finally:
        timer.cancel()
    drain.join()
    if expired.is_set():
        raise subprocess.TimeoutExpired(proc.args, timeout)
    return "".join(out), "".join(errors)


def program_name(token: str) -> str:
    return os.path.basename(token).lower().removesuffix(".exe")
