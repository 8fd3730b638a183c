"""Shadows: what a failing statement would create, read the way the database reads the live object.

One module per dialect, each stating how it builds the wanted definition:
- postgresql: the statement replayed on a TEMP copy in a transaction always rolled back, described by
  PostgreSQL's own format_type / pg_get_indexdef / pg_get_constraintdef;
- mysql: the statement replayed on a TEMPORARY TABLE copy (`CREATE TEMPORARY TABLE ... LIKE`), read
  with SHOW FULL COLUMNS / SHOW INDEX / SHOW CREATE TABLE like the live table;
- sqlite: the statement replayed on a TEMP table, read with the table_info / index_list pragmas like
  the live table.
`open_shadow(conn, dialect)` picks one; the evidence (recovery/evidence.py) only compares.
"""

from __future__ import annotations

from migration_guard.db.shadow.base import BaseShadow, ColumnShape
from migration_guard.db.shadow.postgresql import Shadow, comparable_index, normalize_default

__all__ = ["BaseShadow", "ColumnShape", "Shadow", "comparable_index", "normalize_default", "open_shadow"]


def open_shadow(conn, dialect: str) -> BaseShadow:
    """The shadow for `dialect` on `conn`, to be used as a context manager."""
    if dialect == "postgresql":
        return Shadow(conn)
    if dialect in ("mysql", "mariadb"):
        from migration_guard.db.shadow.mysql import MySQLShadow

        return MySQLShadow(conn)
    if dialect == "sqlite":
        from migration_guard.db.shadow.sqlite import SQLiteShadow

        return SQLiteShadow(conn)
    return BaseShadow(conn)  # answers None to everything: the evidence refuses
