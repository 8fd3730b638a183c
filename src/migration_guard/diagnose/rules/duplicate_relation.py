"""duplicate_relation: a table, index, sequence or view the migration creates already exists.

Reads
- PostgreSQL 42P07 `relation "x" already exists` (DuplicateTable / DuplicateTableError and its
  wrappers): PostgreSQL says "relation" for tables, indexes, sequences and views alike;
- MySQL / MariaDB 1050 `Table 'x' already exists` (tables and views) and 1061 `Duplicate key name
  'x'` (indexes);
- SQLite `table x already exists`, `index x already exists`, `view x already exists`.

What x is comes from the statement when it creates x (`CREATE INDEX x ON t`), or when x is an
implicit part of it (the `t_id_seq` of a SERIAL column, the index of `CONSTRAINT x UNIQUE`). With
no statement a PostgreSQL relation stays `object_type="relation"`, and its name is taken for the
table only if it does not look like an index or sequence name: the catalog will say which it is.
The migration-history table itself (`relation "django_migrations" already exists`, a recorder or
search_path problem) is still this kind; a unique violation *inside* it is history_table_conflict.

Not duplicate_column: `column "c" of relation "t" already exists` is skipped here.
Not duplicate_object: constraints and triggers have their own 42710 messages.
Not a duplicate when a MySQL CREATE TABLE names one index twice (1061 on CREATE TABLE): that is a
bug in the migration, left to `unknown`.
"""

from __future__ import annotations

import re

from ..context import LineContext
from ..failure import Failure
from ..sql import Statement, same_name, unquote
from . import _names

KIND = "duplicate_relation"
PRIORITY = 30
TRIGGERS = ("already exists", "Duplicate key name")

_PG = re.compile(rf"(?<!of )(?<!for )\brelation {_names.pg('name')} already exists")
_MYSQL_TABLE = re.compile(rf"\bTable {_names.my('name')} already exists")
_MYSQL_INDEX = re.compile(rf"Duplicate key name {_names.my('name')}")
_SQLITE = re.compile(
    rf"(?<!for )(?<![\w\"])(?P<otype>table|index|view) {_names.sqlite('name')} already exists"
)


def _implicit(stmt: Statement, name: str) -> str:
    """What `name` is to a statement that does not create it by name."""
    head = (stmt.name or "").casefold()
    low = name.casefold()
    if low.endswith("_seq"):
        return "sequence"
    if low in (head + "_pkey", head + "_key") or low.endswith(("_pkey", "_key")):
        return "index"
    return "relation"


def _from_statement(failure: Failure, stmt: Statement | None, name: str) -> None:
    if stmt is None:
        return
    if stmt.creates(name) and stmt.object_type in ("table", "index", "sequence", "view"):
        failure.object_type = stmt.object_type
        failure.table = stmt.table
    elif stmt.creates(name) and stmt.object_type == "constraint":
        failure.object_type, failure.table = "index", stmt.table  # a unique constraint's index
    elif stmt.verb in ("create", "alter") and stmt.table:
        failure.object_type, failure.table = _implicit(stmt, name), stmt.table


def match(ctx: LineContext) -> Failure | None:
    if not ctx.is_error:
        return None
    text, stmt = ctx.message, ctx.stmt
    if m := _PG.search(text):
        name = m.group("name")
        failure = Failure(
            KIND, sqlstate="42P07", object_type="relation", object_name=name, dialect="postgresql"
        )
        if stmt is None:
            failure.table = name if _names.looks_like_table(name) else None
        _from_statement(failure, stmt, name)
        return failure
    if m := _MYSQL_TABLE.search(text):
        name = m.group("name")
        otype = "view" if stmt is not None and stmt.object_type == "view" and stmt.creates(name) else "table"
        return Failure(KIND, errno=1050, object_type=otype, object_name=name, table=name, dialect="mysql")
    if m := _MYSQL_INDEX.search(text):
        if stmt is not None and stmt.verb == "create" and stmt.object_type == "table":
            return None
        return Failure(
            KIND,
            errno=1061,
            object_type="index",
            object_name=m.group("name"),
            table=stmt.table if stmt is not None else None,
            dialect="mysql",
        )
    if m := _SQLITE.search(text):
        name, otype = unquote(m.group("name")) or "", m.group("otype")
        table = name if otype in ("table", "view") else None
        if otype == "index" and stmt is not None and same_name(stmt.name, name):
            table = stmt.table
        return Failure(KIND, object_type=otype, object_name=name, table=table, dialect="sqlite")
    return None
