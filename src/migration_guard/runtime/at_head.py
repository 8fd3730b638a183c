"""Is the database already where the command would take it? Asked by a replica that waited for the lock.

Most replicas of a deploy wait while one migrates, then find nothing to do. They answer that here,
on the lock's own plain session, from the version table and the heads the revision files name
(frameworks/revision_files.py), before SQLAlchemy or the tool is imported. The answer is "yes" only
when every sign agrees: the version table holds exactly the heads, no killed run left journal rows
open, and no session of a killed run's command is still in the database. Any doubt answers "no",
and the guard goes the full way, which reads the same state through the tool itself.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from migration_guard.db.lock import CHILD_APP_NAME, Lock
from migration_guard.db.target import Target

JOURNAL = "migration_guard_journal"  # recovery/journal.py's table, named here to keep SQLAlchemy out


def at_head(lock: Lock, target: Target, version_table: str, heads: set[str]) -> bool:
    if target.dialect == "sqlite":
        return _sqlite(target, version_table, heads)
    if target.dialect == "postgresql":
        exists = "SELECT to_regclass(%s) IS NOT NULL"
        table, journal = _quote(version_table, '"'), _quote(JOURNAL, '"')
        names = (table, journal)
    else:
        exists = ("SELECT COUNT(*) > 0 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                  "AND TABLE_NAME = %s")
        table, journal = _quote(version_table, "`"), _quote(JOURNAL, "`")
        names = (version_table, JOURNAL)
    has_table = lock.rows(exists, names[0])
    has_journal = lock.rows(exists, names[1])
    if not has_table or not has_table[0][0] or has_journal is None:
        return False
    if has_journal[0][0]:
        open_rows = lock.rows(f"SELECT COUNT(*) FROM {journal} WHERE state <> 'closed'")
        if open_rows is None or open_rows[0][0]:
            return False
    if target.dialect == "postgresql":
        orphans = lock.rows("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = %s "
                            "AND datname = current_database() AND pid <> pg_backend_pid()", CHILD_APP_NAME)
        if orphans is None or orphans[0][0]:
            return False
    versions = lock.rows(f"SELECT version_num FROM {table}")
    return versions is not None and {row[0] for row in versions} == heads and len(versions) == len(heads)


def _sqlite(target: Target, version_table: str, heads: set[str]) -> bool:
    path = Path(target.database or "").resolve()
    if not path.is_file():
        return False
    try:
        # Read-only: this is a question, and a write here would take the database's own lock.
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return False
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version_table not in tables:
            return False
        if JOURNAL in tables and conn.execute(
                f"SELECT COUNT(*) FROM {_quote(JOURNAL, chr(34))} WHERE state <> 'closed'").fetchone()[0]:
            return False
        versions = [r[0] for r in conn.execute(f"SELECT version_num FROM {_quote(version_table, chr(34))}")]
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return set(versions) == heads and len(versions) == len(heads)


def _quote(name: str, mark: str) -> str:
    """Identifier quoting as each dialect defines it (the mark doubled inside); the name comes from a
    literal in the project's env.py, never from a log."""
    return mark + name.replace(mark, mark * 2) + mark
