"""unknown_revision: the database is stamped with an alembic revision the scripts do not have.

Reads alembic's `Can't locate revision identified by 'x'` (CommandError, printed as
`ERROR [alembic.util.messaging] ...` and `FAILED: ...` by the CLI) and `No such revision or branch
'x'` (ResolutionError). `revision` and `object_name` are x.

Raised while reading the revision map, before any migration runs: no statement or step applies.
Not multiple_heads / not_up_to_date: those are about revisions that exist. Typical causes are a
database migrated by another branch or a revision file deleted after it ran; the fix (restore the
file, or `stamp` after checking the schema) is a human decision.
"""

from __future__ import annotations

import re

from ..context import LineContext
from ..failure import Failure

KIND = "unknown_revision"
PRIORITY = 51
TRIGGERS = ("locate revision", "No such revision")
STEP_LEVEL = False

_ALEMBIC = re.compile(
    r"(?:Can't locate revision identified by|No such revision or branch) '(?P<revision>[^'\n]{1,200})'"
)


def match(ctx: LineContext) -> Failure | None:
    m = _ALEMBIC.search(ctx.message)
    if not m:
        return None
    revision = m.group("revision")
    return Failure(KIND, object_type="revision", object_name=revision, revision=revision)
