"""inconsistent_history: Django's history says a migration ran before one it depends on.

Reads `django.db.migrations.exceptions.InconsistentMigrationHistory: Migration a.0001_x is applied
before its dependency b.0001_y on database 'default'.`, also when a terminal or an issue renderer
hard-wrapped it mid-identifier (the normalizer joins such lines). `revision` is the migration that
is recorded as applied (a.0001_x), `object_name` the dependency that is not (b.0001_y).

Raised by the history check before any migration runs, so no statement or running step applies.
Not unknown_revision: both migrations exist on disk; the recorded order is what is wrong, which
only a human can repair (usually by faking the dependency), never by skipping statements.
"""

from __future__ import annotations

import re

from ..context import LineContext
from ..failure import Failure

KIND = "inconsistent_history"
PRIORITY = 50
TRIGGERS = ("is applied before its dependency",)
STEP_LEVEL = False

_DJANGO = re.compile(
    r"Migration (?P<migration>[\w.\-]{1,300}) is applied before its dependency "
    r"(?P<dependency>[\w.\-]{1,300}?)"
    r"(?: on database '(?P<database>[^'\n]{0,200})')?\.?(?:\s|$)"
)


def match(ctx: LineContext) -> Failure | None:
    m = _DJANGO.search(ctx.message)
    if not m:
        return None
    return Failure(
        KIND, object_type="migration", object_name=m.group("dependency"), revision=m.group("migration")
    )
