"""Run the rules over a normalized log: one pass, each error line classified in its context."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from . import merge, rules
from .context import LineContext
from .failure import Failure
from .normalize import Line
from .progress import FRAME_REACH, LogState

MAX_MESSAGE = 2000
MAX_STATEMENT = 64 * 1024
# Error-like lines read in full, at most: the last ones, where a failed run ends. A log of nothing but
# error lines would otherwise cost tens of microseconds per line (tests/diagnose/test_robustness.py).
MAX_CANDIDATES = 10_000

# Cheap filter before any rule runs: a line with none of these words cannot be an error report.
_CANDIDATE = re.compile(
    r"already exists|[Dd]uplicate|UNIQUE|unique|Inconsistent|revision|heads are|up to date"
    r"|Error|ERROR|Exception|FAILED|FATAL|PANIC|errors\.|exceptions\."
)


def _context(lines: list[Line], index: int, state: LogState) -> LineContext:
    def near(hint: tuple[int, str] | None) -> str | None:
        return hint[1] if hint and index - hint[0] <= FRAME_REACH else None

    return LineContext(
        lines,
        index,
        revision=state.revision,
        phase=state.phase,
        dialect_hint=state.dialect,
        frame_driver=near(state.frame_driver),
        frame_dialect=near(state.frame_dialect),
    )


def _complete(failure: Failure, ctx: LineContext, step_level: bool) -> Failure:
    """Fill what every kind reads the same way: position, driver, dialect, codes, context."""
    failure.line = failure.line or ctx.line.lineno
    failure.message = failure.message or ctx.message[:MAX_MESSAGE]
    failure.driver = failure.driver or ctx.driver
    failure.dialect = failure.dialect or ctx.dialect
    if failure.dialect in (None, "postgresql"):
        failure.sqlstate = failure.sqlstate or ctx.class_sqlstate
    if failure.dialect in (None, "mysql"):
        failure.errno = failure.errno or ctx.errno
    if step_level:
        statement = failure.statement or ctx.statement
        failure.statement = statement[:MAX_STATEMENT] if statement else None
        failure.revision = failure.revision or ctx.revision
        failure.key = failure.key or ctx.key
    return failure


@dataclass(frozen=True)
class _Rule:
    match: Callable[[LineContext], Failure | None]
    triggers: tuple[str, ...]
    step_level: bool


@cache
def _dispatch() -> tuple[tuple[_Rule, ...], tuple[Callable[[Failure, LineContext], Failure], ...]]:
    loaded = rules.load()
    matchers = tuple(
        _Rule(m.match, tuple(getattr(m, "TRIGGERS", ())), getattr(m, "STEP_LEVEL", True))
        for m in loaded
        if hasattr(m, "match")
    )
    return matchers, tuple(m.amend for m in loaded if hasattr(m, "amend"))


def classify(ctx: LineContext, wants: Callable[[Failure], bool] | None = None) -> Failure | None:
    """The first rule that reads the line, its failure completed and amended; None if none does.

    `wants` is asked before the context is read, with the kind the rule gave and the message.
    """
    matchers, amenders = _dispatch()
    message = ctx.message
    for rule in matchers:
        if rule.triggers and not any(t in message for t in rule.triggers):
            continue
        failure = rule.match(ctx)
        if failure is None:
            continue
        failure.message = failure.message or message[:MAX_MESSAGE]
        if wants is not None and not wants(failure):
            return None
        failure = _complete(failure, ctx, rule.step_level)
        if rule.step_level:
            for amend in amenders:
                failure = amend(failure, ctx)
        return failure
    return None


def run(lines: list[Line]) -> list[Failure]:
    state = LogState()
    collected = merge.Collector()
    candidates = [i for i, line in enumerate(lines) if not line.code and _CANDIDATE.search(line.text)]
    chosen = set(candidates[-MAX_CANDIDATES:])
    for index, line in enumerate(lines):
        state.update(index, line)  # every line still tells the revision and phase the later ones are in
        if index not in chosen:
            continue
        failure = classify(_context(lines, index, state), collected.wants)
        if failure is not None:
            collected.add(failure)
    return collected.failures
