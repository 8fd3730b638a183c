"""Where the database stands, read on the lock's own plain session before anything heavy is imported.

Most replicas of a deploy wait while one migrates, then find nothing to do. They answer that here,
from the version table and the revisions the files name (frameworks/revision_files.py), before
SQLAlchemy or the tool is imported. "At head" needs every sign to agree: the version table holds
exactly the heads, no killed run left journal rows open, and no session of a killed run's command is
still in the database. The same reading tells the replica that migrates whether it may let its
command go at once: nothing left by a killed run, and (PostgreSQL, where `run` predicts before the
first attempt) nothing in the database that a prediction could find in the way. Any doubt answers
"no", and the guard goes the full way, which reads the same state through the tool itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from migration_guard.db.lock import CHILD_APP_NAME, Lock
from migration_guard.db.target import Target

JOURNAL = "migration_guard_journal"  # recovery/journal.py's table, named here to keep SQLAlchemy out

# Anything in a PostgreSQL database but the version table: relations (tables, views, sequences, ...)
# and types a migration could collide with. Counted wide on purpose: a false "something" only costs
# the prediction; a false "nothing" would skip it.
_PG_SOMETHING = """
SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c') AND c.oid <> coalesce(to_regclass(%s), 0)
          AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
          AND n.nspname NOT LIKE 'pg\\_temp\\_%%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%%')
     + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.typtype IN ('e', 'd', 'r', 'm')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
          AND n.nspname NOT LIKE 'pg\\_temp\\_%%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%%')
"""


@dataclass
class State:
    versions: set[str] | None  # the version table's rows (empty: no table yet); None: could not read
    clear: bool  # no journal row left open and no session of a killed run's command

    def at_head(self, heads: set[str]) -> bool:
        return self.clear and self.versions == heads


def read(lock: Lock, target: Target, version_table: str) -> State:
    if target.dialect == "sqlite":
        return _sqlite(target, version_table)
    if target.dialect == "postgresql":
        exists = "SELECT to_regclass(%s) IS NOT NULL"
        table, journal = _quote(version_table, '"'), _quote(JOURNAL, '"')
        names = (table, journal)
    else:
        exists = ("SELECT COUNT(*) > 0 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                  "AND TABLE_NAME = %s")
        table, journal = _quote(version_table, "`"), _quote(JOURNAL, "`")
        names = (version_table, JOURNAL)
    unknown = State(None, False)
    has_table, has_journal = lock.rows(exists, names[0]), lock.rows(exists, names[1])
    if not has_table or not has_journal:
        return unknown
    clear = True
    if has_journal[0][0]:
        open_rows = lock.rows(f"SELECT COUNT(*) FROM {journal} WHERE state <> 'closed'")
        clear = open_rows is not None and not open_rows[0][0]
    if target.dialect == "postgresql":
        orphans = lock.rows("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = %s "
                            "AND datname = current_database() AND pid <> pg_backend_pid()", CHILD_APP_NAME)
        clear = clear and orphans is not None and not orphans[0][0]
    if not has_table[0][0]:
        return State(set(), clear)
    versions = lock.rows(f"SELECT version_num FROM {table}")
    if versions is None or len({row[0] for row in versions}) != len(versions):
        return unknown
    return State({row[0] for row in versions}, clear)


def empty(lock: Lock, version_table: str) -> bool:
    """PostgreSQL: nothing in the database but the version table (asked only of the replica that
    migrates, to know whether a prediction could find anything in the way)."""
    something = lock.rows(_PG_SOMETHING, _quote(version_table, '"'))
    return something is not None and not something[0][0]


def _sqlite(target: Target, version_table: str) -> State:
    import sqlite3

    path = Path(target.database or "").resolve()
    if not path.is_file():
        return State(set(), True)
    try:
        # Read-only: this is a question, and a write here would take the database's own lock.
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return State(None, False)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        clear = JOURNAL not in tables or not conn.execute(
            f"SELECT COUNT(*) FROM {_quote(JOURNAL, chr(34))} WHERE state <> 'closed'").fetchone()[0]
        if version_table not in tables:
            return State(set(), clear)
        versions = [r[0] for r in conn.execute(f"SELECT version_num FROM {_quote(version_table, chr(34))}")]
    except sqlite3.Error:
        return State(None, False)
    finally:
        conn.close()
    if len(set(versions)) != len(versions):
        return State(None, False)
    return State(set(versions), clear)


def _quote(name: str, mark: str) -> str:
    """Identifier quoting as each dialect defines it (the mark doubled inside); the name comes from a
    literal in the project's env.py, never from a log."""
    return mark + name.replace(mark, mark * 2) + mark
