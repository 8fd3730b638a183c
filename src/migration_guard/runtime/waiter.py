"""A replica that found the lock held: wait, and when the database is at head, finish before the CLI loads.

All but one replica of a deploy end this way, and on a machine they share, the CPU each one spends is
taken from the one that migrates. Their whole outcome is a few lines on stderr, so when nothing else
is asked of the run (no report file, nothing to tell GitHub or a deploy platform, no project
settings) they write those lines here, without click, the settings, the runner or the reports. Any
other case, or a database not at head, goes on through the CLI and the runner with the lock as it
stands, which decide the same way (Runner._nothing_to_do) and say the same words (the helpers below).
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False  # typing's own: this path imports only what it uses (module doc)
if TYPE_CHECKING:
    from migration_guard.runtime.front import Front

# Options that change nothing in a "nothing to do" outcome, bare and with a value; any other option
# (a report file, dedupe settings, an option added later) sends the replica the full way.
_BARE = ("--no-github", "--no-github-comment", "--no-preflight")
_VALUED = ("--database-url", "--lock-timeout", "--connect-timeout", "--max-attempts", "--stop-grace",
           "--framework")
# Where the full path reports to besides stderr: GitHub Actions, and deploy platforms that post a
# commit status (github/deploy.py). Any sign of one sends the replica the full way.
_REPORTED_ELSEWHERE = ("GITHUB_ACTIONS", "RENDER_GIT_COMMIT", "RAILWAY_GIT_COMMIT_SHA")
_FALSE = ("0", "false", "no", "off")


def waiting_note(waited: float, holder: str) -> str:
    return f"waiting for the migration lock, held by another migrator{holder} ({waited:.0f}s)"


def took_note(waited: float) -> str | None:
    return f"took the migration lock after waiting {waited:.1f}s; reading the state again" if waited >= 0.5 else None


def nothing_to_do(heads: set[str]) -> tuple[str, str]:
    """The progress line and the report's summary of a run that finds the database at head."""
    shown = ", ".join(sorted(heads))
    return (f"database is at head ({shown}): nothing to do",
            f"Nothing to do: the database is already at head ({shown}).")


def finish_if_current(front: Front, options: list[str], command: list[str], cwd: str, env: dict) -> None:
    """Wait for the lock (shared, as the runner waits), then exit 0 with the runner's lines if the
    database is at head. Returns when the full way must decide, with the lock held shared; sets
    `front.error` when the wait itself failed, for the runner to report."""
    flags = _plain_flags(options, env)
    if flags is None:
        return
    timeout, framework = flags
    from pathlib import Path

    from migration_guard.frameworks import detect, revision_files

    try:
        found = detect(command, Path(cwd), framework)
        files = None if found.runs_when_current else found.plain_files()
        graph = revision_files.graph(files[1]) if files else None
    except Exception:  # the runner meets the same trouble, and says it
        return
    if graph is None:
        return
    # Everything the end needs is imported now, while the lock is held by another: once it is released,
    # every waiter is let in at once, and what each does then is all that stands between the migrator's
    # exit and the deploy's.
    from migration_guard.errors import GuardError
    from migration_guard.report.console import human_summary
    from migration_guard.report.model import Report
    from migration_guard.runtime import at_head
    from migration_guard.runtime.progress import Progress

    say = Progress(sys.stderr).say
    lock = front.lock
    try:
        lock.acquire(timeout, lambda waited, holder: say(waiting_note(waited, holder)), share_while_waiting=True)
    except GuardError as exc:
        front.error = exc
        return
    if not at_head.read(lock, front.target, files[0]).at_head(graph.heads):
        return
    took = took_note(lock.waited_s)
    if took:
        say(took)
    line, summary = nothing_to_do(graph.heads)
    say(line)
    report = Report(status="succeeded", command=list(command), summary=summary, framework=found.name,
                    database={"dialect": front.target.dialect, "url": front.target.masked},
                    lock_wait_s=round(lock.waited_s, 3), duration_s=round(time.monotonic() - front.began, 3))
    sys.stderr.write(human_summary(report, secrets=[front.target.password]))
    lock.release()
    sys.stderr.flush()
    sys.stdout.flush()
    os._exit(0)


def _plain_flags(options: list[str], env: dict) -> tuple[float, str | None] | None:
    """(lock timeout, framework) when the options and the environment ask nothing but stderr of a run
    that finds nothing to do; None otherwise, or when a value is one the CLI should complain about."""
    given: dict[str, str | None] = {}
    rest = iter(options)
    for opt in rest:
        name, eq, value = opt.partition("=")
        if name in _BARE and not eq:
            given[name] = None
        elif name in _VALUED:
            given[name] = value if eq else next(rest, None)
            if given[name] is None:
                return None
        else:
            return None
    if any(env.get(f"MIGRATION_GUARD_{k}") for k in ("REPORT_JSON", "REPORT_MD")):
        return None
    quiet = "--no-github" in given or env.get("MIGRATION_GUARD_GITHUB", "").strip().lower() in _FALSE
    if not quiet and any(env.get(k) for k in _REPORTED_ELSEWHERE):
        return None
    framework = given.get("--framework") or env.get("MIGRATION_GUARD_FRAMEWORK") or None
    try:
        timeout = float(given.get("--lock-timeout") or env.get("MIGRATION_GUARD_LOCK_TIMEOUT") or 600.0)
    except ValueError:
        return None
    if timeout < 0 or framework not in (None, "alembic", "flask", "flask-migrate"):
        return None
    return timeout, framework
