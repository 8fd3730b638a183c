"""multiple_heads: alembic's revision graph has more than one head, so `upgrade head` is ambiguous.

Reads alembic's `Multiple head revisions are present for given argument 'head'; please specify ...`
(the CLI's CommandError, printed as `ERROR [alembic.util.messaging]` and again as `FAILED:`) and the
other MultipleHeads texts, `Multiple heads are present for given argument 'x'; a, b` and `Multiple
heads are present; please specify ...`. When the message lists the heads they go to `object_name`.

Raised before any migration runs: no statement or step applies. Not not_up_to_date: the database
may be anywhere; the scripts themselves need a merge revision, which is a code change.
"""

from __future__ import annotations

import re

from ..context import LineContext
from ..failure import Failure

KIND = "multiple_heads"
PRIORITY = 52
TRIGGERS = ("are present",)
STEP_LEVEL = False

_ALEMBIC = re.compile(r"Multiple head(?: revision)?s are present")
_HEADS = re.compile(
    r"Multiple heads are present for given argument '[^'\n]{0,200}'; (?P<heads>[\w\-, ]{1,2000})$"
)


def match(ctx: LineContext) -> Failure | None:
    text = ctx.message
    if not _ALEMBIC.search(text):
        return None
    m = _HEADS.search(text)
    heads = m.group("heads").strip() if m else None
    return Failure(KIND, object_type="revision" if heads else None, object_name=heads)
