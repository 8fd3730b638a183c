"""Read a migration log and say what failed (see failure.py for the vocabulary).

    failures = diagnose_text(log)   # every failure, in log order, echoes merged
    failure = primary(failures)     # the one to act on

The pipeline is normalize (prefixes, ANSI, SQL blocks) -> engine (one pass; for each error line,
context.py reads what surrounds it and the modules in rules/ decide the kind) -> merge (one
failure per error however many layers printed it).
"""

from __future__ import annotations

from .failure import KINDS, Failure

__all__ = ["KINDS", "Failure", "diagnose_text", "primary"]

_NOT_ACTIONABLE = ("unrelated", "unknown")


def diagnose_text(text: str | bytes) -> list[Failure]:
    """All failures the log shows, in the order they occur; bounded in time and memory."""
    # Imported here: the report and the runner need Failure on every run, the rules only on a failure.
    from . import engine
    from .normalize import normalize

    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    return engine.run(normalize(text))


def primary(failures: list[Failure]) -> Failure | None:
    """The failure to act on: the first migration failure of a known kind, else the first at all."""
    for failure in failures:
        if failure.kind not in _NOT_ACTIONABLE:
            return failure
    return failures[0] if failures else None
