"""Run the migration-guard CLI as a child process, the way a deploy runs it."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

DEFAULT_TIMEOUT_S = 120

# Only these come through from the test runner's environment. Anything else (DATABASE_URL,
# MIGRATION_GUARD_*, GITHUB_* in CI, which would make the CLI comment on pull requests) must be given
# by the test itself, so a test means the same on a laptop and in CI.
_PASSED_THROUGH = ("PATH", "HOME", "TMPDIR", "PYTHONPATH", "SYSTEMROOT")


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {key: os.environ[key] for key in _PASSED_THROUGH if key in os.environ}
    env.update({"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"})
    env.update(extra or {})
    return env


def run_cli(
    args: Sequence[str | os.PathLike[str]],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m migration_guard ARGS` with a clean environment plus `env`; never raises on a non-zero
    exit (tests assert on returncode), but does raise subprocess.TimeoutExpired after `timeout` s."""
    if importlib.util.find_spec("migration_guard.__main__") is None:
        raise RuntimeError("`python -m migration_guard` is not available: src/migration_guard/__main__.py "
                           "is missing")
    return subprocess.run(
        [sys.executable, "-m", "migration_guard", *map(str, args)],
        env=clean_env(env),
        cwd=Path(cwd) if cwd is not None else None,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
