"""The platform hooks, run for real: a guarded migration on a real PostgreSQL database, then the app.

railway-start.sh and docker-entrypoint.sh must become the app (exec: same PID, the app's exit code) so the
platform's SIGTERM reaches it, and must pass a SIGTERM that arrives during the migration on to the
migration itself; docker-entrypoint.sh waits for a database that is not up yet, but not forever.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.github import scenarios
from tests.support.cli import clean_env
from tests.support.guard import rows, version
from tests.support.projects import Rev, alembic_project

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MIGRATE = f"{BIN / 'alembic'} upgrade head"

# Writes its PID when ready; on SIGTERM records the signal and exits 7, so the test can tell the app's
# own exit code from the wrapper's.
APP = """
import os, signal, sys, time
ready, record = sys.argv[1:3]
def stop(signum, frame):
    with open(record, "w") as fh:
        fh.write(f"{signal.Signals(signum).name} {os.getpid()}")
    sys.exit(7)
signal.signal(signal.SIGTERM, stop)
with open(ready, "w") as fh:
    fh.write(str(os.getpid()))
while True:
    time.sleep(0.05)
"""


def hook_env(url: str, **extra: str) -> dict:
    return clean_env({"DATABASE_URL": url, "MIGRATION_GUARD_COMMAND": MIGRATE,
                      "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **extra})


def start(hook: str, project: Path, env: dict, *app: str) -> subprocess.Popen:
    return subprocess.Popen(["sh", str(ROOT / "hook" / hook), *app], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(predicate, timeout: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode} early:\n{proc.stdout.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"timed out:\n{proc.stdout.read()}")
        time.sleep(0.1)


@pytest.fixture
def app(tmp_path):
    script = tmp_path / "app.py"
    script.write_text(APP)
    return [sys.executable, str(script), str(tmp_path / "ready"), str(tmp_path / "record")]


@pytest.mark.parametrize("hook", ["railway-start.sh", "docker-entrypoint.sh"])
def test_after_the_migration_the_hook_becomes_the_app_and_the_app_gets_sigterm(tmp_path, pg_url, app, hook):
    project = scenarios.project(tmp_path / "app", pg_url, "hotfix")
    proc = start(hook, project, hook_env(pg_url), *app)

    wait_for((tmp_path / "ready").exists, 120, proc)
    assert version(pg_url) == {"c3"}  # migrated, with the recovery, before the app started
    assert int((tmp_path / "ready").read_text()) == proc.pid  # exec'd: the platform signals the app itself
    proc.send_signal(signal.SIGTERM)

    assert proc.wait(timeout=20) == 7
    assert (tmp_path / "record").read_text() == f"SIGTERM {proc.pid}"
    assert "[RECOVERED]" in proc.stdout.read()


@pytest.mark.parametrize("hook", ["railway-start.sh", "docker-entrypoint.sh"])
def test_sigterm_during_the_migration_stops_the_migration_and_the_app_never_starts(tmp_path, pg_url, app, hook):
    project = alembic_project(tmp_path / "app", [
        Rev("s1", "slow backfill", """
            op.create_table("events", sa.Column("id", sa.Integer, primary_key=True))
            op.execute("SELECT pg_sleep(60)")
        """)])
    # The server notices a vanished client within 0.2 s, instead of when the sleep ends: so whether the
    # query goes on tells whether the migration process itself was stopped or left behind, orphaned.
    proc = start(hook, project, hook_env(pg_url, PGOPTIONS="-c client_connection_check_interval=200"), *app)
    sleeping = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND datname = :db"
    db = pg_url.rsplit("/", 1)[1]
    wait_for(lambda: rows(pg_url, sleeping, db=db) == [(1,)], 120, proc)

    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)

    assert proc.wait(timeout=30) == 143
    assert time.monotonic() - began < 20  # not the 60 s the migration would have slept
    deadline = time.monotonic() + 10
    while rows(pg_url, sleeping, db=db) != [(0,)]:  # the migration heard it too: nothing left running
        assert time.monotonic() < deadline, "the migration went on after the hook exited"
        time.sleep(0.1)
    assert not (tmp_path / "ready").exists()
    assert not rows(pg_url, "SELECT 1 FROM pg_tables WHERE tablename = 'events'")  # rolled back


@pytest.mark.parametrize("hook", ["railway-start.sh", "docker-entrypoint.sh"])
def test_a_refused_migration_keeps_the_app_from_starting(tmp_path, pg_url, app, hook):
    project = scenarios.project(tmp_path / "app", pg_url, "other_type")
    proc = start(hook, project, hook_env(pg_url), *app)

    assert proc.wait(timeout=120) == 1
    assert not (tmp_path / "ready").exists()
    assert "[REFUSED]" in proc.stdout.read()


def test_render_build_passes_the_command_and_the_exit_code(tmp_path, pg_url):
    project = scenarios.project(tmp_path / "app", pg_url, "other_type")
    env = hook_env(pg_url)
    del env["MIGRATION_GUARD_COMMAND"]

    refused = subprocess.run(["sh", str(ROOT / "hook" / "render-build.sh"), *scenarios.UPGRADE], cwd=project,
                             env=env, capture_output=True, text=True, timeout=120)
    usage = subprocess.run(["sh", str(ROOT / "hook" / "render-build.sh")], cwd=project, env=env,
                           capture_output=True, text=True, timeout=60)

    assert refused.returncode == 1 and "[REFUSED]" in refused.stderr
    assert usage.returncode == 2 and "MIGRATION_GUARD_COMMAND" in usage.stderr


class LateDatabase:
    """A port that starts forwarding to PostgreSQL only after `delay` seconds: a database still booting."""

    def __init__(self, target_port: int, delay: float):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.target_port, self.delay = target_port, delay
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        if self.stop.wait(self.delay):
            return
        with socket.create_server(("127.0.0.1", self.port)) as server:
            server.settimeout(0.2)
            while not self.stop.is_set():
                try:
                    client, _ = server.accept()
                except TimeoutError:
                    continue
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


def test_docker_entrypoint_waits_for_a_database_that_comes_up_late(tmp_path, pg_url):
    from sqlalchemy.engine import make_url

    url = make_url(pg_url)
    late = LateDatabase(url.port or 5432, delay=2.5)
    late_url = url.set(port=late.port).render_as_string(hide_password=False)
    project = scenarios.project(tmp_path / "app", pg_url, "none")
    try:
        proc = subprocess.run(["sh", str(ROOT / "hook" / "docker-entrypoint.sh"), sys.executable, "-c",
                               "import os; print('app', os.getpid())"], cwd=project, capture_output=True, text=True,
                              env=hook_env(late_url, MIGRATION_GUARD_CONNECT_TIMEOUT="1"), timeout=120)
    finally:
        late.stop.set()

    assert proc.returncode == 0, proc.stderr
    assert "database not ready (try 1 of 5); trying again in 1s" in proc.stderr
    assert version(pg_url) == {"c3"}
    assert proc.stdout.strip().startswith("app ")


def test_docker_entrypoint_gives_up_after_its_bounded_tries(tmp_path, app):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        nowhere = f"postgresql://postgres@127.0.0.1:{s.getsockname()[1]}/app"
    project = scenarios.project(tmp_path / "app", "", "none")
    began = time.monotonic()

    proc = subprocess.run(["sh", str(ROOT / "hook" / "docker-entrypoint.sh"), *app], cwd=project,
                          env=hook_env(nowhere, MIGRATION_GUARD_CONNECT_TIMEOUT="1", MIGRATION_GUARD_WAIT_ATTEMPTS="3"),
                          capture_output=True, text=True, timeout=120)

    assert proc.returncode == 3
    assert [line for line in proc.stderr.splitlines() if "trying again" in line] == [
        "migration-guard: database not ready (try 1 of 3); trying again in 1s",
        "migration-guard: database not ready (try 2 of 3); trying again in 2s"]
    assert time.monotonic() - began < 60
    assert not (tmp_path / "ready").exists()
