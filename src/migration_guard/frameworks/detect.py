"""Which migration tool a command runs, read from the command line itself."""

from __future__ import annotations

import shlex
from pathlib import Path

from migration_guard.errors import UsageError
from migration_guard.frameworks.base import Framework, program_name
from migration_guard.frameworks.command import find_program, segments

KNOWN = ("alembic", "flask", "django")


def detect(argv: list[str], cwd: Path, forced: str | None = None) -> Framework:
    if not argv:
        raise UsageError("no command given: put the migration command after `--`, "
                         "e.g. migration-guard run -- alembic upgrade head")
    if forced and forced not in KNOWN and forced != "flask-migrate":
        raise UsageError(f"unknown framework {forced!r}: use one of {', '.join(KNOWN)}")
    for seg in segments(argv):
        found = _from_segment(argv, seg, cwd, forced)
        if found is not None:
            return found
    if forced == "alembic" or (forced is None and (cwd / "alembic.ini").is_file()):
        from migration_guard.frameworks.alembic import AlembicProject

        return AlembicProject(argv, cwd, ["alembic"], ["upgrade", "head"])
    raise UsageError(f"cannot tell which migration tool `{shlex.join(argv)}` runs: expected "
                     "`alembic upgrade`, `flask db upgrade` or `manage.py migrate` (or pass --framework)")


def _from_segment(argv: list[str], seg: list[str], cwd: Path, forced: str | None) -> Framework | None:
    if forced in (None, "alembic") and (at := find_program(seg, "alembic")) is not None:
        from migration_guard.frameworks.alembic import AlembicProject

        return AlembicProject(argv, cwd, seg[:at], seg[at:])
    if forced in (None, "flask", "flask-migrate") and (at := find_program(seg, "flask")) is not None \
            and "db" in seg[at:]:
        from migration_guard.frameworks.flask import FlaskMigrateProject

        return FlaskMigrateProject(argv, cwd, seg[:at], seg[at:])
    if forced in (None, "django"):
        for i, tok in enumerate(seg):
            name = program_name(tok)
            as_module = tok == "django" and i > 0 and seg[i - 1] == "-m"  # python -m django migrate
            if (name == "manage.py" or name.startswith("django-admin") or as_module) and "migrate" in seg[i + 1:]:
                from migration_guard.frameworks.django import DjangoProject

                return DjangoProject(argv, cwd, seg[: i + 1], seg[i + 1:])
    return None
