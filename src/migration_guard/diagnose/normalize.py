"""Turn a raw deploy log into clean logical lines the rules can read.

What a migration prints reaches us through layers that each add noise: docker-compose puts
`service  | ` in front, CI runners and log shippers glue timestamps on (sometimes with no space:
`2023-02-20 01:39:43.486762+00:00File ...`), Python logging adds `INFO  [logger] `, terminals add ANSI
colours and `\\r` progress redraws, and SQLAlchemy prints a statement as a multi-line `[SQL: ...]`
block. Everything here is undone line by line, with bounded work per line, so that a rule sees the
text the program meant to print and the line number it had in the log.

Bounds: only the last MAX_CHARS characters and MAX_LINES lines are read (a failing migration
command fails at the end of its output), every physical line is cut to MAX_LINE characters before
any regex touches it, and no regex here has nested unbounded quantifiers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CHARS = 8 * 1024 * 1024
MAX_LINES = 100_000
MAX_LINE = 32 * 1024
# A joined block (SQL statement, wrapped message) stops growing here; statements longer than this
# are kept truncated rather than letting one block swallow the log.
MAX_BLOCK_LINES = 400
MAX_BLOCK_CHARS = 64 * 1024


@dataclass
class Line:
    text: str
    lineno: int  # 1-based line of the original log where this logical line starts
    level: str | None = None  # logging level taken off the front (ERROR, INFO, ...), upper case
    stamped: bool = False  # a timestamp or logger prefix was removed: a new log record starts here
    code: bool = False  # a traceback frame or its source line: never read as an error message


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x1b]")
_ANSI = re.compile(
    r"\x1b\[[0-?]{0,32}[ -/]{0,8}[@-~]"  # CSI: colours, cursor moves
    r"|\x1b\][^\x07\x1b]{0,512}(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks
    r"|\x1b[@-_]?"
    r"|[\x00-\x08\x0b-\x1f\x7f]"
)
# ISO-ish timestamps, optionally bracketed, possibly glued to the text that follows.
_TIMESTAMP = re.compile(
    r"^\[?\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?"
    r"(?: ?(?:Z|[+-]\d\d:?\d\d|UTC|GMT|[A-Z]{3,4}\b))?\]?(?::\s|\s{1,8})?"
)
_CLOCK = re.compile(r"^\d\d:\d\d:\d\d[.,]\d{1,6}\s{1,8}")
_COMPOSE = re.compile(r"^[A-Za-z0-9][\w.\-]{0,80}\s{1,40}\|(?: |$)")
_PID = re.compile(r"^\[\d{1,10}(?:-\d{1,10})?\]:?\s{0,8}(?:[\w.\-]{0,63}@[\w.\-]{0,63}\s{1,8})?")
_LEVEL_WORDS = "DEBUG|INFO|NOTICE|WARNING|WARN|ERROR|CRITICAL|FATAL"
_LEVEL_BRACKET = re.compile(rf"^\[(?P<lvl>{_LEVEL_WORDS})\]:?\s{{0,8}}", re.IGNORECASE)
# `INFO  [alembic.runtime.migration] msg` (alembic's and Flask-Migrate's format)
_LOGGER_BRACKET = re.compile(rf"^(?P<lvl>{_LEVEL_WORDS})\s{{1,8}}\[[^\]\s]{{1,200}}\]\s?")
# `ERROR:alembic.env:msg` (logging.basicConfig's format; no space after the colons)
_LOGGER_COLON = re.compile(rf"^(?P<lvl>{_LEVEL_WORDS}):[\w.]{{1,200}}:")
# `__main__: msg` after a timestamp: an all-lower-case logger name, never an exception class
_LOGGER_NAME = re.compile(r"^:?\s{0,4}[a-z_][a-z0-9_]{0,60}(?:\.[a-z_][a-z0-9_]{0,60}){0,8}: ")

FRAME = re.compile(r'^\s{0,16}File "[^"]{0,2000}", line \d{1,9}')
_CARET = re.compile(r"^\s{1,200}[\^~]{1,2000}\s*$")
# A line that starts a Python exception report: `pkg.mod.SomeError: message` or a bare class.
EXCEPTION_LINE = re.compile(r"^(?P<cls>(?:[A-Za-z_]\w{0,100}\.){0,10}[A-Za-z_]\w{0,100})(?::\s|:?$)")
_SQL_OPEN = "[SQL:"
_BLOCK_STOP = re.compile(
    r"^(?:Traceback \(|The above exception|During handling|\(Background on this error|\[parameters:"
    rf"|\s{{0,16}}File \"|(?:{_LEVEL_WORDS})\s)"
)
_RECORD_START = re.compile(
    rf"^(?:\s|$|Traceback|The above|During handling|File |[\[(${{}}#>+]|(?:{_LEVEL_WORDS}|STATEMENT|DETAIL"
    r"|HINT|CONTEXT|LOG|FAILED)\b|Running |Operations |Applying )"
)
_WRAP_MIN = 70  # lines shorter than a terminal or issue renderer's width are never hard-wrapped
_TERMINAL = ".:)]}'\">"


def is_exception_line(text: str) -> bool:
    """`psycopg2.errors.DuplicateColumn: ...`, `django.db.utils.IntegrityError: ...`, `CommandError: ...`."""
    m = EXCEPTION_LINE.match(text)
    if not m:
        return False
    cls = m.group("cls")
    name = cls.rsplit(".", 1)[-1]
    if name.endswith(("Error", "Exception")) or name == "InconsistentMigrationHistory":
        return True
    modules = cls.split(".")[:-1]
    return any(part in ("errors", "exceptions", "exc", "err", "_exceptions") for part in modules)


def _window(text: str) -> tuple[str, int]:
    """The tail of the log that is read, and how many lines were dropped before it."""
    if len(text) <= MAX_CHARS:
        return text, 0
    start = len(text) - MAX_CHARS
    newline = text.find("\n", start)
    # A window inside one enormous line: keep it, the line cap below bounds the work.
    if newline != -1:
        start = newline + 1
    return text[start:], text.count("\n", 0, start)


def _clean(raw: str) -> tuple[str, str | None, bool]:
    """One physical line without control codes and prefixes: (text, level, stamped)."""
    line = raw[:MAX_LINE]
    if "\r" in line:
        # A carriage return redraws the line: what stayed on screen is the last non-empty part.
        parts = [p for p in line.split("\r") if p.strip()]
        line = parts[-1] if parts else ""
    if _CONTROL.search(line):
        line = _ANSI.sub("", line)
    level: str | None = None
    stamped = False
    for _ in range(6):  # prefixes nest (CI timestamp, compose service, app timestamp, logger)
        before = line
        for pattern in (_TIMESTAMP, _CLOCK):
            m = pattern.match(line)
            if m and m.end():
                line, stamped = line[m.end() :], True
        m = _COMPOSE.match(line)
        if m:
            line = line[m.end() :]
        m = _PID.match(line) if stamped else None
        if m and m.end():
            line = line[m.end() :]
        for pattern in (_LEVEL_BRACKET, _LOGGER_BRACKET, _LOGGER_COLON):
            m = pattern.match(line)
            if m:
                level, stamped, line = m.group("lvl").upper(), True, line[m.end() :]
        m = _LOGGER_NAME.match(line) if stamped else None
        if m:
            line = line[m.end() :]
        if line == before:
            break
    return line, level, stamped


def _sql_block_open(text: str) -> bool:
    """A `[SQL:` whose statement goes on past this line (SQLAlchemy 1.3+ prints it raw)."""
    at = text.find(_SQL_OPEN)
    if at == -1:
        return False
    rest = text[at + len(_SQL_OPEN) :].strip()
    if rest[:2] in ("u'", 'u"') or rest[:1] in ("'", '"'):
        return False  # the legacy repr form is always on one line
    return not rest.endswith("]")


def _block_closes(line: Line, following: Line | None) -> bool:
    stripped = line.text.strip()
    if stripped == "]":
        return True
    if not stripped.endswith("]"):
        return False
    # `tags TEXT[]` inside a statement also ends in "]": it closes only if nothing SQL-like follows.
    return following is None or not following.text.strip() or bool(_BLOCK_STOP.match(following.text))


def _join_blocks(lines: list[Line]) -> list[Line]:
    """Join `[SQL: ...]` blocks and server-log STATEMENT continuations into one logical line each."""
    out: list[Line] = []
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if _sql_block_open(line.text):
            parts, size, j = [line.text], len(line.text), i + 1
            closed = False
            while j < n and j - i < MAX_BLOCK_LINES and size < MAX_BLOCK_CHARS:
                nxt = lines[j]
                if _BLOCK_STOP.match(nxt.text) or nxt.level:
                    break
                parts.append(nxt.text)
                size += len(nxt.text)
                j += 1
                if _block_closes(nxt, lines[j] if j < n else None):
                    closed = True
                    break
            if not closed:
                while len(parts) > 1 and not parts[-1].strip():
                    parts.pop()  # blank lines after an unclosed block belong to the log, not the SQL
                    j -= 1
            out.append(Line("\n".join(parts), line.lineno, line.level, line.stamped))
            i = j
            continue
        if line.text.startswith("STATEMENT:"):
            parts, j = [line.text], i + 1
            # The server log prints a multi-line statement raw: its continuation lines carry no
            # timestamp of their own.
            while j < n and j - i < MAX_BLOCK_LINES and not lines[j].stamped and lines[j].text.strip():
                if not (lines[j].text[:1].isspace() or lines[j].text.lstrip().startswith(")")):
                    break
                parts.append(lines[j].text)
                j += 1
            out.append(Line("\n".join(parts), line.lineno, line.level, line.stamped))
            i = j
            continue
        out.append(line)
        i += 1
    return out


def _wrapped(first: str, nxt: Line) -> bool:
    """Is `nxt` the rest of `first`, cut by a terminal or an issue renderer at a fixed width?"""
    if len(first) < _WRAP_MIN or first[-1:] in _TERMINAL or nxt.stamped or nxt.code:
        return False
    text = nxt.text
    if not text or _RECORD_START.match(text) or is_exception_line(text):
        return False
    return len(text) <= len(first)


def _join_wraps(lines: list[Line]) -> list[Line]:
    """Join an exception message hard-wrapped mid-word (`... dependency c` / `p_users.0001 ...`).

    Only exception and ERROR lines are joined, only when long enough to have been wrapped, and only
    with a next line that cannot start a record of its own; the join adds no character, because a
    fixed-width wrap cuts the text without removing any.
    """
    out: list[Line] = []
    for line in lines:
        prev = out[-1] if out else None
        if (
            prev is not None
            and not prev.code
            and (prev.level == "ERROR" or is_exception_line(prev.text))
            and _wrapped(prev.text.rsplit("\n", 1)[-1], line)
            and len(prev.text) < MAX_BLOCK_CHARS
        ):
            prev.text += line.text
            continue
        out.append(line)
    return out


def _mark_code(lines: list[Line]) -> None:
    """Mark traceback frames and the source lines printed under them: code, not messages."""
    after_frame = False
    for line in lines:
        text = line.text
        if FRAME.match(text):
            line.code, after_frame = True, True
            continue
        source = text[:1].isspace() or _CARET.match(text) or not (is_exception_line(text) or line.level)
        if after_frame and text.strip() and source:
            line.code = True
            # carets under an indented source line are code too; an unindented one ends the frame
            after_frame = bool(text[:1].isspace())
            continue
        after_frame = False


def normalize(text: str) -> list[Line]:
    """The log as logical lines: prefixes stripped, SQL blocks and wrapped messages joined."""
    text, dropped = _window(text)
    raw = text.replace("\r\n", "\n").split("\n")
    if len(raw) > MAX_LINES:
        dropped += len(raw) - MAX_LINES
        raw = raw[-MAX_LINES:]
    lines = []
    for offset, physical in enumerate(raw):
        cleaned, level, stamped = _clean(physical)
        lines.append(Line(cleaned, dropped + offset + 1, level, stamped))
    _mark_code(lines)
    return _join_wraps(_join_blocks(lines))
