"""unrelated: the command failed, but not in a migration step.

Amends, does not match: any failure read from a step-level error (a duplicate, a unique violation,
an unknown exception) becomes `unrelated` when the log shows that every migration had finished
before it: Django printed `Applying app.0012_x... OK` for the last migration it started, or `No
migrations to apply.`, and the error came after (a post_migrate handler, a data load, the app's
startup). The fields read from the error are kept, so a report can still say what failed, but the
guard must not "fix" the schema for it.

Alembic prints no end-of-step line, so an alembic failure is never proven unrelated here: a
failure after `Running upgrade a -> b` counts as b's. Not unknown: unknown is an error inside (or
with no evidence about) a migration step that no rule reads.
"""

from __future__ import annotations

from ..context import LineContext
from ..failure import Failure

KIND = "unrelated"
PRIORITY = 900


def amend(failure: Failure, ctx: LineContext) -> Failure:
    if ctx.phase == "finished":
        failure.kind = KIND
        failure.revision = None
    return failure
