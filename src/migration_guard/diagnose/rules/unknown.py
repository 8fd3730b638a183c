"""unknown: an error line that no other rule reads; listed in reports, never acted on.

Reads lines shaped like an error report: a Python exception line (`pkg.errors.SomeError: text`,
`SomeError: text`, `(pkg.SomeError) text`), a logging line at ERROR level, alembic's `FAILED:`, a
PostgreSQL server or psql `ERROR:` / `FATAL:` line and the MySQL client's `ERROR 1234 (HY000)`.
A line that only starts a traceback (`ERROR [alembic.env] Traceback:`) is not an error of its own.

Runs last, so it never takes a message a specific rule understands; its failures merge with their
own echoes by the text after the exception class (see merge.py).
"""

from __future__ import annotations

import re

from ..context import LineContext
from ..failure import Failure
from ..normalize import is_exception_line

KIND = "unknown"
PRIORITY = 1000

_WRAPPED = re.compile(r"^\((?:[A-Za-z_]\w{0,80}\.){0,10}[A-Za-z_]\w{0,80}(?:Error|Exception)\) ")
_OTHER = re.compile(r"^(?:FAILED:|(?:ERROR|FATAL|PANIC):\s|ERROR \d{4} \(\w{5}\))")
_WARNING = re.compile(r"^(?:[\w.]{0,200}\.)?\w{0,100}Warning\b")


def match(ctx: LineContext) -> Failure | None:
    text = ctx.message
    if not text or ctx.line.code or text.startswith("Traceback") or _WARNING.match(text):
        return None
    if ctx.line.level in ("ERROR", "CRITICAL", "FATAL") and not text.rstrip(":").endswith("Traceback"):
        return Failure(KIND)
    if is_exception_line(text) or _WRAPPED.match(text) or _OTHER.match(text):
        return Failure(KIND)
    return None
