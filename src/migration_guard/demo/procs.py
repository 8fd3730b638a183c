"""The programs the demo runs, as a deploy would: bare `alembic`, and `migration-guard run -- alembic ...`.

Every child is tracked, so Ctrl-C or a failure never leaves one running. The children run this very
migration-guard (its folder goes first on PYTHONPATH) and the `alembic` installed beside this Python.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import site
import subprocess
import sys
import threading
from pathlib import Path

import migration_guard
from migration_guard.db.url import mask_text
from migration_guard.demo import console


def _alembic() -> tuple[list[str], str | None]:
    """(argv prefix for alembic, folder to put first on PATH)."""
    beside = Path(sys.executable).parent
    if (beside / "alembic").is_file():
        return ["alembic"], str(beside)
    if shutil.which("alembic"):
        return ["alembic"], None
    return [sys.executable, "-m", "alembic"], None


def _base_env() -> dict[str, str]:
    # MIGRATION_GUARD_* settings of the person's own shell (a dry run, a short lock timeout) would
    # change what the stories show; the demo's database URL is set per run.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_GUARD_") and k != "DATABASE_URL"}
    env["PYTHONUNBUFFERED"] = "1"
    root = str(Path(migration_guard.__file__).resolve().parent.parent)
    installed = {*site.getsitepackages(), site.getusersitepackages()}
    if root not in installed:  # a source checkout: make `python -m migration_guard` find this one
        rest = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != root]
        env["PYTHONPATH"] = os.pathsep.join([root, *rest])
    return env


class Children:
    def __init__(self, project: Path) -> None:
        self.project = project
        self.alembic, bin_dir = _alembic()
        self.env = _base_env()
        if bin_dir:
            self.env["PATH"] = os.pathsep.join(p for p in (bin_dir, self.env.get("PATH", "")) if p)
        self._running: list[subprocess.Popen] = []
        self.secrets: list[str] = []

    def guard(self, *options: str) -> list[str]:
        # --no-github: run inside a GitHub Actions job, the demo must not comment on the job's pull request.
        return [sys.executable, "-m", "migration_guard", "run", "--no-github", *options, "--",
                *self.alembic, "upgrade", "head"]

    def bare(self, target: str = "head") -> list[str]:
        return [*self.alembic, "upgrade", target]

    def shown(self, argv: list[str]) -> str:
        """The command as a person would type it."""
        if argv[:3] == [sys.executable, "-m", "migration_guard"]:
            argv = ["migration-guard", *argv[3:]]
        return " ".join(argv)

    def start(self, argv: list[str], database_url: str) -> subprocess.Popen:
        proc = subprocess.Popen(argv, cwd=self.project, env={**self.env, "DATABASE_URL": database_url},
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, encoding="utf-8", errors="replace")
        self._running.append(proc)
        return proc

    def stream(self, argv: list[str], database_url: str, label: str = "") -> tuple[int, str]:
        """Run, showing the output as it comes (traceback frames folded); return (exit code, output)."""
        proc = self.start(argv, database_url)
        return self._pump(proc, label)

    def stream_all(self, argvs: list[list[str]], database_url: str, labels: list[str]) -> list[tuple[int, str]]:
        """Start all at once (replicas of one deploy), show their output interleaved, each line labelled."""
        procs = [self.start(argv, database_url) for argv in argvs]
        results: list[tuple[int, str]] = [(-1, "")] * len(procs)

        def pump(i: int) -> None:
            results[i] = self._pump(procs[i], labels[i])

        threads = [threading.Thread(target=pump, args=(i,), daemon=True) for i in range(len(procs))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    def quiet_all(self, argvs: list[list[str]], database_url: str) -> list[tuple[int, str]]:
        """Start all at once and wait; output is kept, not shown."""
        procs = [self.start(argv, database_url) for argv in argvs]
        outputs = [proc.communicate()[0] or "" for proc in procs]
        return [(proc.returncode, mask_text(out, self.secrets)) for proc, out in zip(procs, outputs, strict=True)]

    def quiet(self, argv: list[str], database_url: str) -> tuple[int, str]:
        return self.quiet_all([argv], database_url)[0]

    def _pump(self, proc: subprocess.Popen, label: str) -> tuple[int, str]:
        kept: list[str] = []
        folder = console.TracebackFolder()
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = mask_text(raw.rstrip("\n"), self.secrets)
            kept.append(line)
            console.quoted(folder.feed(line), label)
        console.quoted(folder.close(), label)
        return proc.wait(), "\n".join(kept)

    def stop_all(self) -> None:
        """End whatever is still running: on Ctrl-C the terminal signalled them too, but not on a failure."""
        for proc in self._running:
            if proc.poll() is None:
                proc.terminate()
        for proc in self._running:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
        self._running.clear()
