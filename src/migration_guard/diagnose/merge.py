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
_QUIET = ("unknown", "unrelated")  # kinds never acted on


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
    if a.kind in _QUIET and (a.object_name, a.table, a.key) == (None, None, None):
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


class Collector:
    """Failures in log order, echoes folded in; bounded however noisy the log is.

    Failures that are never acted on (unknown, unrelated) are capped lower than the kinds a rule
    reads, so that a log full of other exceptions cannot crowd out the failure that matters at its
    end; `wants` lets the engine skip reading the context of one that would be dropped.
    """

    def __init__(self, max_failures: int = 200, max_quiet: int = 50) -> None:
        self.failures: list[Failure] = []
        self._max, self._max_quiet = max_failures, max_quiet
        self._quiet_at: dict[tuple[str, str], int] = {}  # (kind, message core) -> index: O(1) echoes

    def _room(self) -> bool:
        return len(self.failures) < self._max

    def wants(self, new: Failure) -> bool:
        if new.kind not in _QUIET:
            return True
        text = core(new.message)
        known = any((kind, text) in self._quiet_at for kind in _QUIET)
        return known or (len(self._quiet_at) < self._max_quiet and self._room())

    def add(self, new: Failure) -> None:
        if new.kind in _QUIET:
            key = (new.kind, core(new.message))
            at = self._quiet_at.get(key)
            if at is not None and same(self.failures[at], new):
                self.failures[at] = combine(self.failures[at], new)
            elif len(self._quiet_at) < self._max_quiet and self._room():
                self._quiet_at[key] = len(self.failures)
                self.failures.append(new)
            return
        # Fold into the latest earlier failure it echoes.
        for i in range(len(self.failures) - 1, -1, -1):
            if self.failures[i].kind == new.kind and same(self.failures[i], new):
                self.failures[i] = combine(self.failures[i], new)
                return
        if self._room():
            self.failures.append(new)
