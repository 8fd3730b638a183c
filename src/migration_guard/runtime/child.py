"""Run the user's command as a child: output streamed live (masked) and kept, events read in-band.

The child's stderr is merged into its stdout so that the order of lines is the order in which
they happened; the bootstrap's event lines ride in the same stream and are taken out here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable

from migration_guard.bootstrap import DIR as BOOTSTRAP_DIR
from migration_guard.bootstrap import EVENT_PREFIX
from migration_guard.db.lock import CHILD_APP_NAME
from migration_guard.errors import UsageError
from migration_guard.runtime import priority

TYPE_CHECKING = False  # typing's own, without importing typing on the way to starting the command
if TYPE_CHECKING:
    from pathlib import Path

KEEP_BYTES = 8 * 1024 * 1024  # the classifier reads the tail; a runaway log must not fill memory
MAX_LINE = 64 * 1024


class ChildResult:
    """A plain class: this module is imported on the way to starting the command (runtime/front.py),
    and `dataclasses` imports `inspect`, most of this module's import time."""

    def __init__(self, exit_code: int, output: str, events: list[dict] | None = None, duration_s: float = 0.0,
                 signalled: int | None = None):
        self.exit_code = exit_code
        self.output = output
        self.events = events if events is not None else []
        self.duration_s = duration_s
        self.signalled = signalled  # the signal the guard received and passed on


def child_env(env: dict, plan_file: str | None) -> dict:
    out = dict(env)
    out["MIGRATION_GUARD_CHILD"] = "1"
    out["PYTHONUNBUFFERED"] = "1"
    out["PYTHONPATH"] = os.pathsep.join(p for p in (BOOTSTRAP_DIR, env.get("PYTHONPATH", "")) if p)
    if plan_file:
        out["MIGRATION_GUARD_PLAN_FILE"] = plan_file
    else:
        out.pop("MIGRATION_GUARD_PLAN_FILE", None)
    return out


class Early:
    """The command started ahead of its attempt, held at a gate before its first database connection.

    Starting Python and importing the tool is most of a short migration's time; done while the guard
    still reads the state and plans, it costs the deploy nothing. The bootstrap holds every
    connection (SQLAlchemy's do_connect, Django's connect) until the guard opens the gate, handing
    over the plan then; a command the guard does not run after all is killed at the gate, having
    touched nothing.

    With `hold`, it is started before the guard holds the lock (runtime/front.py), and waits at a
    first gate, before any of the project's code runs, having imported only the tool's entry module
    (bootstrap, _hold); release_hold() lets it on once the lock is the guard's. So the one-migrator
    rule never depends on the connection gate: the project's code, env.py and the migrations included,
    runs only under the lock."""

    def __init__(self, argv: list[str], cwd: Path, env: dict, hold: bool = False):
        self.opened = False
        read_end, self._gate = os.pipe()
        extra = {GATE_ENV: str(read_end), **({HOLD_ENV: "1"} if hold else {})}
        try:
            self.proc = _spawn(argv, cwd, {**child_env(env, None), **extra}, (read_end,))
        except BaseException:
            os.close(self._gate)
            raise
        finally:
            os.close(read_end)

    def release_hold(self) -> None:
        with contextlib.suppress(OSError):  # a command that died at its hold: run() reads its exit
            os.write(self._gate, b"lock\n")

    def open(self, plan_file: str | None) -> subprocess.Popen:
        if self._gate >= 0:
            self.opened = True
            with contextlib.suppress(OSError):  # a command that died at the gate: run() reads its exit
                os.write(self._gate, f"go {plan_file or ''}\n".encode())
            self.close()
        return self.proc

    def close(self) -> None:
        if self._gate >= 0:
            os.close(self._gate)
            self._gate = -1

    def discard(self, grace: float) -> None:
        """Not run after all. Still at its gate, it made no connection: kill it. Past its gate (the
        guard is being stopped before it began to follow the command), stop it as a run is stopped:
        SIGTERM, then SIGKILL after `grace` seconds."""
        self.close()
        first = signal.SIGTERM if self.opened else signal.SIGKILL
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, first)
        try:
            self.proc.communicate(timeout=grace if self.opened else 10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                self.proc.communicate(timeout=10)


GATE_ENV = "MIGRATION_GUARD_GATE_FD"
HOLD_ENV = "MIGRATION_GUARD_HOLD"


def start_early(argv: list[str], cwd: Path, env: dict, dialect: str, hold: bool = False) -> Early | None:
    """The command started now, held at its gate (and with `hold`, at its first gate: see Early); None
    when the gate could not hold it (can_start_early). `env` gets the application name that marks the
    command's PostgreSQL sessions as a guarded run's."""
    if not can_start_early(argv, cwd, env):
        return None
    if dialect == "postgresql":
        env.setdefault("PGAPPNAME", CHILD_APP_NAME)
    return Early(argv, cwd, env, hold)


def can_start_early(argv: list[str], cwd: Path, env: dict) -> bool:
    """Only a Python program is held by the gate (the bootstrap is a sitecustomize): the command must
    be a Python console script or interpreter run directly, not a shell or a wrapper script."""
    program = argv[0] if argv else ""
    if os.path.basename(program).startswith("python"):
        return not any(a in ("-S", "-I", "-E") for a in argv[1:3])
    import shutil

    path = program if os.sep in program else shutil.which(program, path=env.get("PATH"))
    if not path:
        return False
    try:
        with open(os.path.join(cwd, path), "rb") as fh:  # an absolute path stays itself
            first = fh.readline(256)
    except OSError:
        return False
    words = first[2:].decode("utf-8", "replace").split() if first.startswith(b"#!") else []
    return len(words) == 1 and os.path.basename(words[0]).startswith("python")


def _spawn(argv: list[str], cwd: Path, env: dict, pass_fds: tuple = ()) -> subprocess.Popen:
    # A replica that yielded the CPU while it waited (runtime/priority.py) and migrates after all: its
    # command is not to inherit the low priority. Every command starts here, so this is the one place.
    priority.reclaim_cpu()
    try:
        # Its own process group, so a stop reaches `sh -c` wrappers' children too.
        return subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent,
                                pass_fds=pass_fds)
    except FileNotFoundError:
        raise UsageError(f"command not found: {argv[0]}") from None
    except PermissionError:
        raise UsageError(f"command is not executable: {argv[0]}") from None


def run(argv: list[str], cwd: Path, env: dict, plan: dict | None, secrets: list[str],
        on_event: Callable[[dict], None], echo=None, grace: float = 30.0, early: Early | None = None) -> ChildResult:
    echo = echo or sys.stdout
    plan_file = None
    if plan and plan.get("skip"):
        import json
        import tempfile

        fd, plan_file = tempfile.mkstemp(prefix="migration-guard-plan-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(plan, fh)
    began = time.monotonic()
    try:
        proc = early.open(plan_file) if early else _spawn(argv, cwd, child_env(env, plan_file))
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
    import json

    from migration_guard.db.url import mask_text  # not on the way to starting the command (typing)

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
