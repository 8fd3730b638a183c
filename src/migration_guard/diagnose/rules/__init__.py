"""One rule per failure kind, one module per rule.

A rule module defines:
- `KIND`: the kind it diagnoses (a member of `failure.KINDS`);
- `TRIGGERS` (optional): plain substrings, one of which a message must contain for `match` to be
  tried at all; it keeps a log of a hundred thousand error lines cheap;
- `PRIORITY`: rules are tried in ascending order and the first match wins, so a narrower reading
  of a message (a unique violation on `pg_type_typname_nsp_index`) runs before a wider one;
- `match(ctx: LineContext) -> Failure | None` (optional): read one candidate error line. A rule
  that recognises a message but finds too little evidence for its kind returns its reading with
  kind "unknown" rather than None, so the fields it read are not lost;
- `amend(failure, ctx) -> Failure` (optional): reconsider any failure in its context;
- `STEP_LEVEL` (optional, default True): False for failures raised before any migration step runs
  (alembic's revision-map errors, Django's history check), which take no statement or revision
  from the lines around them.

Modules are found by name, so a new kind is a new module here plus its tests, nothing else.
Modules whose name starts with an underscore are helpers, not rules.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType

from ..failure import KINDS


@cache
def load() -> tuple[ModuleType, ...]:
    rules = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if module.KIND not in KINDS:
            raise ValueError(f"rule {info.name} declares unknown kind {module.KIND!r}")
        rules.append(module)
    return tuple(sorted(rules, key=lambda m: (m.PRIORITY, m.__name__)))
