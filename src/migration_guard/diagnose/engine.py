"""Run the rules over a normalized log: one pass, each error line classified in its context."""

from __future__ import annotations

import re

from . import merge, rules
from .context import FRAME_REACH, LineContext, LogState
from .failure import Failure
from .normalize import Line

MAX_FAILURES = 200
MAX_MESSAGE = 2000
MAX_STATEMENT = 64 * 1024

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


def classify(ctx: LineContext) -> Failure | None:
    """The first rule that reads the line, its failure completed and amended; None if none does."""
    loaded = rules.load()
    for rule in loaded:
        match = getattr(rule, "match", None)
        failure = match(ctx) if match else None
        if failure is None:
            continue
        step_level = getattr(rule, "STEP_LEVEL", True)
        failure = _complete(failure, ctx, step_level)
        if step_level:
            for amender in loaded:
                amend = getattr(amender, "amend", None)
                if amend:
                    failure = amend(failure, ctx)
        return failure
    return None


def run(lines: list[Line]) -> list[Failure]:
    state = LogState()
    failures: list[Failure] = []
    for index, line in enumerate(lines):
        state.update(index, line)
        if line.code or not _CANDIDATE.search(line.text):
            continue
        failure = classify(_context(lines, index, state))
        if failure is not None:
            merge.add(failures, failure)
            if len(failures) >= MAX_FAILURES:
                break
    return failures
