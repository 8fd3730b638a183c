"""Run the user's command as a child: output streamed live (masked) and kept, events read in-band.

The child's stderr is merged into its stdout so that the order of lines is the order in which
they happened; the bootstrap's event lines ride in the same stream and are taken out here.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from migration_guard.bootstrap import DIR as BOOTSTRAP_DIR
from migration_guard.bootstrap import EVENT_PREFIX
from migration_guard.db.url import mask_text
from migration_guard.errors import UsageError

KEEP_BYTES = 8 * 1024 * 1024  # the classifier reads the tail; a runaway log must not fill memory
MAX_LINE = 64 * 1024


@dataclass
class ChildResult:
    exit_code: int
    output: str
    events: list[dict] = field(default_factory=list)
    duration_s: float = 0.0
    signalled: int | None = None  # the signal the guard received and passed on


def child_env(env: dict, plan_file: str | None) -> dict:
    out = dict(env)
    out["MIGRATION_GUARD_CHILD"] = "1"
    out["PYTHONUNBUFFERED"] = "1"
    out["PYTHONPATH"] = os.pathsep.join(p for p in (str(BOOTSTRAP_DIR), env.get("PYTHONPATH", "")) if p)
    if plan_file:
        out["MIGRATION_GUARD_PLAN_FILE"] = plan_file
    else:
        out.pop("MIGRATION_GUARD_PLAN_FILE", None)
    return out


def run(argv: list[str], cwd: Path, env: dict, plan: dict | None, secrets: list[str],
        on_event: Callable[[dict], None], echo=None, grace: float = 30.0) -> ChildResult:
    echo = echo or sys.stdout
    plan_file = None
    if plan and plan.get("skip"):
        fd, plan_file = tempfile.mkstemp(prefix="migration-guard-plan-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(plan, fh)
    began = time.monotonic()
    try:
        try:
            # Its own process group, so a stop reaches `sh -c` wrappers' children too.
            proc = subprocess.Popen(argv, cwd=cwd, env=child_env(env, plan_file), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                                    preexec_fn=_die_with_parent)
        except FileNotFoundError:
            raise UsageError(f"command not found: {argv[0]}") from None
        except PermissionError:
            raise UsageError(f"command is not executable: {argv[0]}") from None
        received: list[int] = []
        with _forward_signals(proc, received, grace):
            kept, events = _pump(proc, secrets, on_event, echo)
            code = proc.wait()
        return ChildResult(code, "".join(kept), events, time.monotonic() - began,
                           received[0] if received else None)
    finally:
        if plan_file:
            with contextlib.suppress(OSError):
                os.unlink(plan_file)


def _die_with_parent() -> None:
    """Linux: the command is killed if the guard dies. Otherwise a guard killed with SIGKILL would
    release its lock (the server ends its session) while its migration went on, and the next
    replica would migrate beside it."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _pump(proc, secrets, on_event, echo) -> tuple[deque, list[dict]]:
    kept: deque[str] = deque()
    size = 0
    events: list[dict] = []
    prefix = EVENT_PREFIX.encode()
    for raw in iter(proc.stdout.readline, b""):
        if len(raw) > MAX_LINE:
            raw = raw[:MAX_LINE] + b"...\n"
        at = raw.find(prefix)
        if at >= 0:
            before, payload = raw[:at], raw[at + len(prefix):]
            try:
                event = json.loads(payload.decode("utf-8", "replace"))
                events.append(event)
                on_event(event)
            except ValueError:
                pass
            if not before.strip():
                continue
            raw = before + b"\n"
        line = mask_text(raw.decode("utf-8", "replace"), secrets)
        echo.write(line)
        echo.flush()
        kept.append(line)
        size += len(line)
        while size > KEEP_BYTES and kept:
            size -= len(kept.popleft())
    return kept, events


@contextlib.contextmanager
def _forward_signals(proc, received: list[int], grace: float):
    """A platform stopping the deploy signals the guard; the migration must hear it too. A child that
    does not stop within `grace` seconds is killed, so the guard can still release its lock and report
    before the platform's own kill arrives."""
    timers: list[threading.Timer] = []

    def send(signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signum)

    def forward(signum, _frame):
        received.append(signum)
        send(signum)
        if not timers:
            timers.append(threading.Timer(grace, send, (signal.SIGKILL,)))
            timers[0].daemon = True
            timers[0].start()

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(ValueError):  # not the main thread: nothing to forward from
            previous[sig] = signal.signal(sig, forward)
    try:
        yield
    finally:
        for timer in timers:
            timer.cancel()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
