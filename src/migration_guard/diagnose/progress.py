"""Where the migration command is: which step runs, which dialect, which driver the frames show.

Carried through the log in one pass, `LogState` remembers what a later error needs from earlier
lines: the alembic revision or Django migration last started (alembic prints `Running upgrade a ->
b` when b starts and nothing when it ends; Django prints `Applying app.0012_x...` and ` OK` when it
is done), the dialect alembic announced (`Context impl PostgresqlImpl.`), and the driver named by
the traceback frames just above (`site-packages/MySQLdb/connections.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .drivers import driver_name
from .normalize import FRAME, Line

# How far above an error a traceback frame may name the driver, in logical lines.
FRAME_REACH = 60

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
                driver = driver_name(m.group("driver"))
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
