"""What a rule sees of one error line: its message and what surrounds it.

`LineContext` carries the facts progress.py gathered from earlier lines (revision, phase, dialect,
driver frames) and reads, only when a rule asks, what follows the error: the `[SQL: ...]` block, a
server `STATEMENT:` line or a legacy `'...' {}` line, and the `DETAIL: Key (a, b)=(1, 2)` line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from . import sql
from .drivers import DIALECT_OF_DRIVER, DRIVER, driver_name, sqlstate_of
from .normalize import Line, is_exception_line

# How far after an error its [SQL: ...] / DETAIL / STATEMENT lines may be, in logical lines.
LOOKAHEAD = 8

# `(1060, "Duplicate ...")` from every Python driver; `ERROR 1060 (42S21)` from the mysql client.
_MYSQL_ERRNO = re.compile(r"\((?P<errno>\d{4}), ['\"]|\bERROR (?P<cli>\d{4}) \(\w{5}\)")
SERVER_LINE = re.compile(
    r"^(?P<level>ERROR|FATAL|PANIC|STATEMENT|DETAIL|HINT|CONTEXT|NOTICE|WARNING|LOG|INFO"
    r"|DEBUG\d?):\s"
)
ERROR_MARK = re.compile(
    r"Error\b|Exception\b|ERROR|FATAL|FAILED|Violation|errors\.|exceptions\.|Duplicate[A-Z]|\(\d{4}, ['\"]"
)
_SKIPPING = re.compile(r"already exists, skipping")
_QUIET_LEVELS = ("DEBUG", "INFO", "NOTICE", "WARNING", "WARN")
_AUX_LINE = re.compile(
    r"^\s{0,8}(?:DETAIL|HINT|CONTEXT|LINE \d{1,9}|\(Background on this error|\[parameters)|^\s*\^"
)
_LEGACY_SQL = re.compile(
    r"^\s{0,8}u?(?P<q>['\"])\s*(?:ALTER|CREATE|INSERT|UPDATE|DELETE|DROP)\b", re.IGNORECASE
)


def _unrepr(text: str) -> str | None:
    """The content of a Python string repr at the start of `text` (`u'...\\n...'`), or None."""
    text = text.lstrip()
    if text[:1] in ("u", "b") and text[1:2] in ("'", '"'):
        text = text[1:]
    if text[:1] not in ("'", '"'):
        return None
    quote, out, i = text[0], [], 1
    escapes = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(escapes.get(text[i + 1], "\\" + text[i + 1]))
            i += 2
            continue
        if ch == quote:
            return "".join(out)
        out.append(ch)
        i += 1
    return "".join(out)  # cut off in the log: keep what there is


def statement_of(text: str) -> str | None:
    """The SQL of a `[SQL: ...]` block, a server `STATEMENT:` line or a legacy `'...' {}` line."""
    at = text.find("[SQL:")
    if at != -1:
        rest = text[at + 5 :].strip()
        legacy = _unrepr(rest) if rest[:1] in ("'", '"', "u") else None
        if legacy is not None:
            return legacy.strip() or None
        if rest.endswith("]"):
            rest = rest[:-1]
        return rest.strip() or None
    m = SERVER_LINE.match(text)
    if m and m.group("level") == "STATEMENT":
        return text[m.end() :].strip() or None
    if _LEGACY_SQL.match(text):
        return (_unrepr(text) or "").strip() or None
    return None


def parse_key(text: str) -> str | None:
    """`Key (a, b)=(1, 2) is duplicated.` -> `(a, b)=(1, 2)`; plain finds, no regex backtracking."""
    at = text.find("Key (")
    if at == -1:
        return None
    eq = text.find(")=(", at)
    if eq == -1:
        return None
    ends = [
        e
        for e in (text.find(t, eq) for t in (") already exists", ") is duplicated", ") conflicts"))
        if e != -1
    ]
    end = min(ends) if ends else len(text.rstrip(". \n")) - 1
    return text[at + 4 : end + 1]


@dataclass
class LineContext:
    """One candidate error line and what the log says around it."""

    lines: list[Line]
    index: int
    revision: str | None = None
    phase: str | None = None
    dialect_hint: str | None = None
    frame_driver: str | None = None
    frame_dialect: str | None = None

    @property
    def line(self) -> Line:
        return self.lines[self.index]

    @cached_property
    def message(self) -> str:
        """The error text itself: without a statement printed on the same line."""
        text = self.line.text.split("\n", 1)[0]
        at = text.find("[SQL:")
        if at != -1:
            text = text[:at]
        at = text.find("(Background on this error")
        if at != -1:
            text = text[:at]
        return text.strip()

    @cached_property
    def server_level(self) -> str | None:
        m = SERVER_LINE.match(self.message)
        return m.group("level") if m else None

    @cached_property
    def is_error(self) -> bool:
        """Printed as an error (not a NOTICE, an INFO log line or `IF NOT EXISTS ... skipping`)."""
        if self.line.code or _SKIPPING.search(self.message):
            return False
        if self.server_level in ("ERROR", "FATAL", "PANIC"):
            return True
        if self.server_level or self.line.level in _QUIET_LEVELS:
            return False
        return self.line.level in ("ERROR", "CRITICAL", "FATAL") or bool(ERROR_MARK.search(self.message))

    @cached_property
    def exception(self) -> tuple[str, str] | None:
        """(driver, exception class) named on the line, e.g. ("psycopg2", "DuplicateColumn")."""
        m = DRIVER.search(self.message)
        return (driver_name(m.group("driver")), m.group("cls")) if m else None

    @property
    def driver(self) -> str | None:
        return self.exception[0] if self.exception else self.frame_driver

    @property
    def dialect(self) -> str | None:
        if self.driver:
            return DIALECT_OF_DRIVER.get(self.driver)
        return self.frame_dialect or self.dialect_hint

    @property
    def class_sqlstate(self) -> str | None:
        return sqlstate_of(self.exception[1]) if self.exception else None

    @cached_property
    def errno(self) -> int | None:
        m = _MYSQL_ERRNO.search(self.message)
        if not m:
            return None
        return int(m.group("errno") or m.group("cli"))

    def _following(self) -> Iterator[str]:
        """The logical lines after the error that may still belong to it."""
        own = self.line.text
        if "\n" in own or "[SQL:" in own:
            yield own[own.find("[SQL:") :] if "[SQL:" in own else own.split("\n", 1)[1]
        server = self.server_level is not None
        for line in self.lines[self.index + 1 : self.index + 1 + LOOKAHEAD]:
            text = line.text
            level = SERVER_LINE.match(text)
            if level and level.group("level") in ("ERROR", "FATAL", "PANIC"):
                return  # the next error's STATEMENT is not this one's
            if not text.strip() or level or _AUX_LINE.match(text) or statement_of(text):
                yield text
                continue
            if server and not (is_exception_line(text) or text.startswith("Traceback")):
                continue  # another service's line interleaved with the server log
            return

    @cached_property
    def statement(self) -> str | None:
        for text in self._following():
            found = statement_of(text)
            if found:
                return found
        return None

    @cached_property
    def stmt(self) -> sql.Statement | None:
        return sql.parse(self.statement)

    @cached_property
    def key(self) -> str | None:
        found = parse_key(self.line.text.split("\n", 1)[0])
        if found:
            return found
        for text in self._following():
            if "Key (" in text:
                return parse_key(text)
        return None
