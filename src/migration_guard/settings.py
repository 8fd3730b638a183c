"""Settings: flags > MIGRATION_GUARD_* environment > [tool.migration-guard] in pyproject.toml > defaults."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, fields
from pathlib import Path

from migration_guard.errors import UsageError


@dataclass
class Settings:
    database_url: str | None = None
    framework: str | None = None  # alembic, flask, django; detected from the command when unset
    report_json: str | None = None
    report_md: str | None = None
    dry_run: bool = False
    rehearse: bool = False  # check: also run the pending migrations in a transaction that never commits
    rehearse_timeout: float = 60.0  # check --rehearse: the longest the rehearsal may run (and hold its locks)
    preflight: bool = True  # run: plan, before the first attempt, the recoveries a prediction proves
    dedupe: str = "off"
    dedupe_order: str | None = None  # the column that says which row of a duplicate group is oldest
    dedupe_repoint: bool = False  # point references to a removed duplicate at the kept row
    lock_timeout: float = 600.0
    connect_timeout: float = 30.0
    max_attempts: int = 5
    stop_grace: float = 30.0  # seconds a stopped command gets before it is killed
    github: bool = True
    github_comment: bool = True  # the pull-request comment only; the job summary and outputs stay


DEDUPE = ("off", "keep-oldest", "keep-newest")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _coerce(name: str, kind: type, value, origin: str):
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            low = str(value).strip().lower()
            if low in _TRUE | _FALSE:
                return low in _TRUE
            raise ValueError(value)
        if kind is int:
            return int(value)
        if kind is float:
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise UsageError(f"{origin}: {name} must be a {kind.__name__}, got {value!r}") from None


def _pyproject(cwd: Path) -> dict:
    path = cwd / "pyproject.toml"
    if not path.is_file():
        return {}
    if sys.version_info >= (3, 11):  # imported here: most deploys have no settings in a pyproject.toml
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    return data.get("tool", {}).get("migration-guard", {}) or {}


def load(flags: dict, cwd: Path | None = None, env: dict | None = None) -> Settings:
    """Resolve each setting from the first source that names it. `flags` holds only flags given."""
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    project = _pyproject(cwd)
    values = {}
    for f in fields(Settings):
        kind = {"bool": bool, "int": int, "float": float}.get(str(f.type), str)
        env_name = "MIGRATION_GUARD_" + f.name.upper()
        toml_name = f.name.replace("_", "-")
        if flags.get(f.name) is not None:
            values[f.name] = _coerce(f.name, kind, flags[f.name], "option")
        elif env.get(env_name) not in (None, ""):
            values[f.name] = _coerce(f.name, kind, env[env_name], env_name)
        elif toml_name in project or f.name in project:
            raw = project.get(toml_name, project.get(f.name))
            values[f.name] = _coerce(f.name, kind, raw, "[tool.migration-guard] in pyproject.toml")
    settings = Settings(**values)
    if settings.dedupe not in DEDUPE:
        raise UsageError(f"--dedupe must be one of {', '.join(DEDUPE)}, got {settings.dedupe!r}")
    if settings.max_attempts < 1:
        raise UsageError("--max-attempts must be at least 1")
    if settings.lock_timeout < 0:
        raise UsageError("--lock-timeout must not be negative")
    return settings
