"""Who yields the CPU: replicas that will most likely only wait give the cores to the one that migrates.

A deploy starts every replica at once. Where they share a machine, the one that migrates competes for
its cores with all the others, which only wait and then find nothing to do; its command's start-up is
most of a short migration's time. So a replica that waits lowers its priority as soon as it can tell
(first_here on one machine, before it has imported the driver; runtime/front.py once the database's
lock says so), and takes it back when it starts a command after all (runtime/child.py).
"""

from __future__ import annotations

import contextlib
import os

_priority: int | None = None  # the priority this process had before it yielded


def yield_cpu() -> None:
    """A replica that waits gives the cores to the one that migrates: the lowest priority (nice 19),
    since a crowd of waiters at a middle one would still outweigh the migrator together."""
    global _priority
    with contextlib.suppress(OSError, AttributeError):
        now = os.getpriority(os.PRIO_PROCESS, 0)
        _priority = now if _priority is None else _priority
        os.setpriority(os.PRIO_PROCESS, 0, max(now, 19))


def reclaim_cpu() -> None:
    """A replica that waited and then starts a command migrates at its old priority again where it may (root,
    as in most containers, or a RLIMIT_NICE that allows it); elsewhere it stays low, which costs only
    when something else on its machine wants the cores."""
    global _priority
    if _priority is not None:
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, 0, _priority)
            _priority = None


_hint: int | None = None  # the file lock first_here holds, until the process ends


def first_here(raw: str, env: dict) -> bool:
    """Is this the first guard on this machine to run for this database?

    Replicas started together on one machine share its cores, and all but the first will most likely
    only wait. A file lock in the temporary folder tells them apart before each has imported the driver
    and connected, which is most of a replica's start: the others yield the CPU at once. Only a hint:
    the database's own lock decides who migrates, and a replica on another machine never sees the file.
    A file that cannot be opened makes no one yield."""
    global _hint
    try:
        import fcntl
    except ImportError:  # not a POSIX system: no hint, no one yields
        return True
    if _hint is not None:  # an earlier try in this process (tests): let go of it first
        os.close(_hint)
        _hint = None
    try:
        fd = os.open(hint_path(raw, env), os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _hint = fd
    return True


HINT_FILES = 32


def hint_path(raw: str, env: dict) -> str:
    """One of a few files, chosen by where the database is (what follows the URL's `@`: never the
    password): the temporary folder does not fill with a file per database, and two databases that
    share a file only make a replica of one yield to a guard of the other."""
    import zlib

    where = raw.rpartition("@")[2].encode("utf-8", "replace")
    return os.path.join(env.get("TMPDIR") or "/tmp", f"migration-guard-{zlib.crc32(where) % HINT_FILES:02d}.lock")
