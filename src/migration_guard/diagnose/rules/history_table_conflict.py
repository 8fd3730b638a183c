"""history_table_conflict: the migration tool could not record a step in its own history table.

Reads a unique violation on `alembic_version` or `django_migrations` itself:
- PostgreSQL 23505 `duplicate key value violates unique constraint "django_migrations_pkey"` (or
  `alembic_version_pkc`, or any constraint whose key is alembic's `version_num`, or whose statement
  inserts into a history table);
- MySQL 1062 `Duplicate entry 'x' for key 'PRIMARY'` when the statement writes a history table (or
  MySQL 8 names the key `alembic_version.PRIMARY`);
- SQLite `UNIQUE constraint failed: alembic_version.version_num` / `django_migrations.id`.
Typical causes: the id sequence of django_migrations is behind its rows (a restored dump), or two
migrators recorded the same revision.

Not duplicate_data: no index is being built; the tool's bookkeeping insert failed. Runs before it.
Not duplicate_relation: `relation "django_migrations" already exists` (the table itself created
twice, a search_path problem) is a 42P07 and stays duplicate_relation.
"""

from __future__ import annotations

import re

from ..context import LineContext
from ..failure import Failure
from . import _names

KIND = "history_table_conflict"
PRIORITY = 6
TRIGGERS = ("duplicate key value", "Duplicate entry", "UNIQUE constraint failed")

_PG = re.compile(rf"duplicate key value violates unique constraint {_names.pg('constraint')}")
_MYSQL = re.compile(r"Duplicate entry '(?P<value>[^\n]{0,500}?)' for key " + _names.my("key"))
_SQLITE = re.compile(r"UNIQUE constraint failed: (?P<table>[\w$]{1,300})\.")


def _history_table(name: str | None) -> str | None:
    """The history table a constraint or key name belongs to (`django_migrations_pkey`)."""
    for table in _names.HISTORY_TABLES:
        if name and (
            name.casefold() == table
            or name.casefold().startswith(table + "_")
            or name.casefold().startswith(table + ".")
        ):
            return table
    return None


def match(ctx: LineContext) -> Failure | None:
    if not ctx.is_error:
        return None
    text, stmt = ctx.message, ctx.stmt
    stmt_table = stmt.table if stmt is not None and _names.is_history_table(stmt.table) else None
    if m := _PG.search(text):
        constraint, key = m.group("constraint"), ctx.key
        table = _history_table(constraint) or stmt_table
        if not table and key and key.startswith("(version_num)"):
            table = "alembic_version"  # a custom version_table still keys on version_num
        if not table:
            return None
        return Failure(
            KIND,
            sqlstate="23505",
            object_type="table",
            object_name=table,
            table=table,
            constraint=constraint,
            key=key,
            dialect="postgresql",
        )
    if m := _MYSQL.search(text):
        table = _history_table(m.group("key")) or stmt_table
        if not table:
            return None
        return Failure(
            KIND,
            errno=1062,
            object_type="table",
            object_name=table,
            table=table,
            constraint=m.group("key").rsplit(".", 1)[-1],
            key=m.group("value"),
            dialect="mysql",
        )
    if m := _SQLITE.search(text):
        table = _history_table(m.group("table"))
        if not table:
            return None
        return Failure(KIND, object_type="table", object_name=table, table=table, dialect="sqlite")
    return None
