"""The first milliseconds of `migration-guard run`: ask for the lock before the CLI is even imported.

Every replica of a deploy starts the guard at once, and on a small machine their start-up shares the
cores: whoever asks for the lock first migrates, and the others only wait. So the question comes
before anything else is imported (the CLI, the runner, the reports): a plain driver connection and
one non-blocking try. The one that gets the lock lets its command go on to its gate (runtime/child.py,
Early), so the command's own start-up overlaps the guard's. One that does not get it will most likely
find nothing to do: it yields the CPU (nice 19) to the one that migrates before it imports the rest,
and when the database is at head it finishes here (runtime/waiter.py). Replicas on one machine tell
each other apart even sooner, before the driver is imported (runtime/priority.py); the first one starts its
command before it even asks, held before any of the project's code runs until the lock is its own.

Only a plain case is tried: `run` with the URL in `--database-url`, MIGRATION_GUARD_DATABASE_URL or
DATABASE_URL (and no pyproject.toml settings that could name another), not a dry run. The runner
adopts what was found here only if the URL it resolves by the full rules is the same string; else it
lets go of it and starts over, so this can never lock one database and migrate another.
"""

from __future__ import annotations

import contextlib
import os
import time

from migration_guard.runtime import priority

TYPE_CHECKING = False  # typing's own; this module must not import what it does not use (module doc)
if TYPE_CHECKING:
    from migration_guard.db.lock import Lock
    from migration_guard.db.target import Target


class Front:
    def __init__(self, raw: str, target: Target, lock: Lock):
        self.raw = raw  # the URL string this was done for; the runner compares it with the one it resolves
        self.target = target
        self.lock = lock  # held unless `lock.contended`; its session stays open either way
        self.early = None  # runtime.child.Early: the command, waiting at its gate
        self.error: Exception | None = None  # the wait for the lock failed (runtime/waiter.py)
        self.began = time.monotonic()
        self.env: dict | None = None  # the environment the early command was started with

    def discard(self) -> None:
        if self.early is not None:
            self.early.discard(0)
            self.early = None
        self.lock.release()


_taken: Front | None = None


def start(argv: list[str], env: dict, cwd: str | None = None) -> None:
    """Try the lock for `run` (see the module's words); never raises, never prints."""
    global _taken
    with contextlib.suppress(Exception):
        _taken = _try(argv, dict(env), cwd or os.getcwd())


def take() -> Front | None:
    global _taken
    found, _taken = _taken, None
    return found


def _try(argv: list[str], env: dict, cwd: str) -> Front | None:
    if not argv or argv[0] != "run" or "--" not in argv:
        return None
    cut = argv.index("--")
    options, command = argv[1:cut], argv[cut + 1:]
    if not command or any(o in ("--dry-run", "-h", "--help") for o in options):
        return None
    if env.get("MIGRATION_GUARD_DRY_RUN", "").strip().lower() in ("1", "true", "yes", "on"):
        return None
    raw = _flag(options, "--database-url") or env.get("MIGRATION_GUARD_DATABASE_URL") or None
    if raw is None:
        if "migration-guard" in _text(os.path.join(cwd, "pyproject.toml")):
            return None  # its settings may name the URL: the full rules decide
        raw = env.get("DATABASE_URL")
    if not raw:
        return None
    first = priority.first_here(raw, env)
    if not first:
        priority.yield_cpu()
    from migration_guard.db.target import read

    target = read(raw)
    if target is None or target.dialect == "sqlite":
        return None  # SQLite's lock is a file beside the database: nothing to gain from this
    # The first here will most likely migrate: its command starts now, held before any of the project's
    # code runs, while this process imports the driver and asks for the lock.
    early = _start(command, cwd, env, target.dialect, hold=True) if first else None
    try:
        from migration_guard.db.lock import Lock

        lock = Lock.on(target, connect_timeout=0.1)  # one connection attempt: the runner waits for a slow server
        got = lock.try_acquire()
    except BaseException:
        if early is not None:
            early.discard(0)
        raise
    front = Front(raw, target, lock)
    if not got:
        if early is not None:
            early.discard(0)  # another migrator has the lock: the command dies at its hold, having run nothing
        priority.yield_cpu()
        from migration_guard.runtime import waiter

        waiter.finish_if_current(front, options, command, cwd, env)  # exits when there is nothing to do
        return front
    if early is not None:
        early.release_hold()
    else:
        early = _start(command, cwd, env, target.dialect)
    front.early, front.env = early, env
    return front


def _start(command: list[str], cwd: str, env: dict, dialect: str, hold: bool = False):
    from migration_guard.runtime import child

    try:
        return child.start_early(command, cwd, env, dialect, hold)
    except Exception:
        return None  # the runner says why the command cannot start


def _text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def _flag(options: list[str], name: str) -> str | None:
    found = None
    for i, opt in enumerate(options):
        if opt == name and i + 1 < len(options):
            found = options[i + 1]
        elif opt.startswith(name + "="):
            found = opt[len(name) + 1:]
    return found
