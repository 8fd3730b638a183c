"""What surrounds an error line: statement, DETAIL key, driver, dialect, revision, migration phase.

`LogState` is carried through the log in one pass and remembers what a later error needs to know
from earlier lines: the alembic revision or Django migration last started (alembic prints `Running
upgrade a -> b` when b starts and nothing when it ends; Django prints `Applying app.0012_x...` and
` OK` when it is done), the dialect alembic announced (`Context impl PostgresqlImpl.`), and the
driver seen in the traceback frames just above. `LineContext` is what a rule sees for one error
line; the statement and DETAIL that follow it are read only when a rule asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from . import sql
from .normalize import FRAME, Line, is_exception_line

# How far after an error its [SQL: ...] / DETAIL / STATEMENT lines may be, in logical lines.
LOOKAHEAD = 8
# How far above an error a traceback frame may name the driver.
FRAME_REACH = 60

_DRIVER = re.compile(
    r"\b(?P<driver>psycopg2|psycopg|asyncpg|pymysql|MySQLdb|_mysql_exceptions|sqlite3|aiosqlite|pg8000"
    r"|mysql\.connector)\.(?:[\w.]{0,80}\.)?(?P<cls>[A-Z]\w{0,80})"
)
_DRIVER_NAMES = {
    "MySQLdb": "mysqlclient",
    "_mysql_exceptions": "mysqlclient",
    "aiosqlite": "sqlite3",
    "mysql.connector": "mysql-connector",
}
DIALECT_OF_DRIVER = {
    "psycopg2": "postgresql",
    "psycopg": "postgresql",
    "asyncpg": "postgresql",
    "pg8000": "postgresql",
    "pymysql": "mysql",
    "mysqlclient": "mysql",
    "mysql-connector": "mysql",
    "sqlite3": "sqlite",
}
# psycopg2.errors / psycopg.errors class names and asyncpg's (same names + "Error") -> SQLSTATE
_SQLSTATE_OF_CLASS = {
    "DuplicateColumn": "42701",
    "DuplicateTable": "42P07",
    "DuplicateObject": "42710",
    "UniqueViolation": "23505",
    "DuplicateSchema": "42P06",
    "DuplicateFunction": "42723",
    "DuplicateDatabase": "42P04",
    "UndefinedTable": "42P01",
    "UndefinedColumn": "42703",
    "UndefinedObject": "42704",
    "NotNullViolation": "23502",
    "ForeignKeyViolation": "23503",
    "CheckViolation": "23514",
    "SyntaxError": "42601",
    "InsufficientPrivilege": "42501",
    "LockNotAvailable": "55P03",
    "DeadlockDetected": "40P01",
    "QueryCanceled": "57014",
}
_FRAME_DRIVER = re.compile(r"[/\\](?P<driver>psycopg2|psycopg|asyncpg|pymysql|MySQLdb)[/\\]")
_FRAME_DJANGO = re.compile(
    r"django[/\\]db[/\\]backends[/\\](?P<backend>postgresql|mysql|sqlite3|oracle)[/\\]"
)
_DJANGO_DIALECT = {"postgresql": "postgresql", "mysql": "mysql", "sqlite3": "sqlite", "oracle": "oracle"}
_CONTEXT_IMPL = re.compile(r"Context impl (?P<impl>\w{1,40})Impl\b")
_IMPL_DIALECT = {
    "postgresql": "postgresql",
    "mysql": "mysql",
    "sqlite": "sqlite",
    "mssql": "mssql",
    "oracle": "oracle",
}
_ALEMBIC_STEP = re.compile(
    r"Running (?P<direction>upgrade|downgrade) (?P<src>[^>\n]{0,400}?)\s?-> (?P<dst>[\w\-]{1,200})"
)
_DJANGO_STEP = re.compile(r"\b(?:Un)?[Aa]pplying (?P<name>[\w.\-]{1,300}?)\.\.\.(?P<rest>[^\n]{0,200})")
_DJANGO_DONE = re.compile(r"^\s{0,4}(?:OK|FAKED)\b")
_PROMPT = re.compile(
    r"^(?:\([\w.\-]{1,60}\)\s)?(?:[\w.\-]{1,60}@[\w.\-]{1,100}(?::[^\s#$]{0,200})?\s?[#$]|[$#])\s+\S"
)
_MYSQL_ERRNO = re.compile(r"\((?P<errno>\d{4}), ['\"]|\bERROR (?P<cli>\d{4}) \((?P<state>\w{5})\)")
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


@dataclass
class LogState:
    """Facts from earlier lines of the log, updated line by line."""

    revision: str | None = None
    phase: str | None = None  # "migrating" once a step started, "finished" when Django said OK to all
    dialect: str | None = None
    frame_driver: tuple[int, str] | None = None  # (index, driver) of the last frame naming one
    frame_dialect: tuple[int, str] | None = None

    def update(self, index: int, line: Line) -> None:
        text = line.text
        if line.code:
            m = _FRAME_DRIVER.search(text) if FRAME.match(text) else None
            if m:
                driver = _DRIVER_NAMES.get(m.group("driver"), m.group("driver"))
                self.frame_driver = (index, driver)
            m = _FRAME_DJANGO.search(text) if FRAME.match(text) else None
            if m:
                self.frame_dialect = (index, _DJANGO_DIALECT[m.group("backend")])
                if m.group("backend") == "sqlite3":
                    self.frame_driver = (index, "sqlite3")
            return
        if _PROMPT.match(text):
            # A new shell command: what an earlier command was migrating says nothing about this one.
            self.revision, self.phase = None, None
            return
        if "Running " in text:
            m = _ALEMBIC_STEP.search(text)
            if m:
                src = m.group("src").split(",")[0].strip()
                # Downgrading b -> a runs b's downgrade(): b is the revision that can fail.
                self.revision = m.group("dst") if m.group("direction") == "upgrade" else (src or None)
                self.phase = "migrating"
                return
            if text.startswith("Running migrations:"):
                self.revision, self.phase = None, "migrating"
                return
        if "pplying " in text:
            m = _DJANGO_STEP.search(text)
            if m:
                done = bool(_DJANGO_DONE.match(m.group("rest")))
                self.revision = None if done else m.group("name")
                self.phase = "finished" if done else "migrating"
                return
        if self.phase == "migrating" and self.revision and _DJANGO_DONE.match(text) and "pplying" not in text:
            self.revision, self.phase = None, "finished"  # ` OK` printed on its own line
            return
        if "No migrations to apply" in text:
            self.revision, self.phase = None, "finished"
            return
        if "Context impl " in text:
            m = _CONTEXT_IMPL.search(text)
            if m:
                self.dialect = _IMPL_DIALECT.get(m.group("impl").lower(), self.dialect)


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
    extra: dict = field(default_factory=dict)

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
        m = _DRIVER.search(self.message)
        if not m:
            return None
        driver = m.group("driver")
        return _DRIVER_NAMES.get(driver, driver), m.group("cls")

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
        if not self.exception:
            return None
        cls = self.exception[1]
        return _SQLSTATE_OF_CLASS.get(cls[:-5] if cls.endswith("Error") else cls)

    @cached_property
    def errno(self) -> int | None:
        m = _MYSQL_ERRNO.search(self.message)
        if not m:
            return None
        return int(m.group("errno") or m.group("cli"))

    def _following(self):
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
