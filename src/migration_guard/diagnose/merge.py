"""One failure per error, however many layers echoed it.

A single PostgreSQL error is typically printed three or four times: the server log's ERROR line,
the driver's exception, SQLAlchemy's or Django's wrapper (with the `[SQL: ...]`), and again in a
repeated traceback or alembic's `FAILED:` line. They describe one failure; each echo knows a
different part of it. Two failures are the same when they have the same kind and no identifying
field disagrees; the merged record keeps the first echo's position (line, message) and, field by
field, the richer echo's reading.
"""

from __future__ import annotations

import re
from dataclasses import fields, replace

from .failure import Failure

# Fields that tell two different errors of one kind apart. `table` is not one: without a statement
# a relation's table is a guess from its name, and the echo that has the statement knows better.
_IDENTITY = ("object_name", "column", "constraint", "errno", "sqlstate", "revision")
_SUBJECT = ("object_name", "column", "constraint", "table", "key")
_CLASS_PREFIX = re.compile(
    r"^(?:(?:ERROR|FAILED|FATAL|Error)\b:?\s{0,8}|\((?:[\w.]{1,200})\)\s{0,4}|<class '[\w.]{1,200}'>:\s{0,4}"
    r"|(?:[A-Za-z_]\w{0,100}\.){0,10}[A-Za-z_]\w{0,100}:\s{1,8})"
)
_CORE_CHARS = 200


def core(message: str | None) -> str:
    """The text of an error without the exception classes and log levels in front of it."""
    text = (message or "").strip()
    for _ in range(6):
        m = _CLASS_PREFIX.match(text)
        if not m or not m.end():
            break
        text = text[m.end() :]
    return " ".join(text.split())[:_CORE_CHARS].casefold()


def same(a: Failure, b: Failure) -> bool:
    if a.kind != b.kind:
        return False
    for name in _IDENTITY:
        va, vb = getattr(a, name), getattr(b, name)
        if va is not None and vb is not None and str(va).casefold() != str(vb).casefold():
            return False
    if a.kind == "unknown":
        return core(a.message) == core(b.message)
    shared = [n for n in _SUBJECT if getattr(a, n) is not None and getattr(b, n) is not None]
    if shared:
        return True
    # Failures about no object at all (alembic's multiple heads, ...) are the same error repeated.
    return not any(getattr(f, n) is not None for f in (a, b) for n in _SUBJECT)


def _richness(f: Failure) -> tuple[bool, bool, int]:
    return (
        f.statement is not None,
        f.object_type not in (None, "relation"),
        sum(getattr(f, x.name) is not None for x in fields(f)),
    )


def combine(first: Failure, later: Failure) -> Failure:
    base, other = (first, later) if _richness(first) >= _richness(later) else (later, first)
    merged = replace(base)
    for f in fields(merged):
        if getattr(merged, f.name) is None:
            setattr(merged, f.name, getattr(other, f.name))
    merged.line, merged.message = first.line, first.message
    return merged


def add(failures: list[Failure], new: Failure) -> None:
    """Append `new`, or fold it into the latest earlier failure it echoes."""
    for i in range(len(failures) - 1, -1, -1):
        if same(failures[i], new):
            failures[i] = combine(failures[i], new)
            return
    failures.append(new)
