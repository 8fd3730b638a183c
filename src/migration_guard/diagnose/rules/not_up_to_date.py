"""not_up_to_date: alembic refuses to autogenerate (or a check) because the database lags behind.

Reads alembic's `Target database is not up to date.` (CommandError from `revision --autogenerate`
/ `flask db migrate` / `check`), whether printed by `ERROR [alembic.env]`, by Flask-Migrate's root
logger as `ERROR [root] Error: ...` or as `FAILED: ...`; the echoes are one failure.

Raised before any migration runs: no statement or step applies. Not multiple_heads or
unknown_revision: the graph and the stamp are fine; the database simply needs `upgrade` first.
"""

from __future__ import annotations

import re

from ..context import LineContext
from ..failure import Failure

KIND = "not_up_to_date"
PRIORITY = 53
TRIGGERS = ("not up to date",)
STEP_LEVEL = False

_ALEMBIC = re.compile(r"Target database is not up to date")


def match(ctx: LineContext) -> Failure | None:
    if not _ALEMBIC.search(ctx.message):
        return None
    return Failure(KIND)
