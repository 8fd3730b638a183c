"""duplicate_data: a unique index or constraint cannot be built because rows already collide.

Reads
- PostgreSQL 23505 `could not create unique index "x"` with `DETAIL: Key (a, b)=(1, 2) is
  duplicated.` (UniqueViolation, IntegrityError, the SQLAlchemy 0.9-era `(IntegrityError)` form and
  Django's wrapper). The message itself proves an index build, so no context is needed. `key` is
  `(a, b)=(1, 2)`; `object_type` is "constraint" for `ADD CONSTRAINT x UNIQUE`, else "index";
- MySQL / MariaDB 1062 `Duplicate entry 'v' for key 'x'` when the statement is an ALTER or CREATE
  (building the index); `key` is the duplicated value;
- SQLite `UNIQUE constraint failed: t.a, t.b` (or `index 'x'`) when it happens inside a migration:
  the statement builds a unique index or copies a batch table (`INSERT INTO _alembic_tmp_t ...`),
  or, with no statement printed, a migration step is running. `key` is the column list `(a, b)`.

Not history_table_conflict (runs first): the failing table is the tool's own history table.
Not type_catalog_conflict (runs first): `pg_type_typname_nsp_index` is a catalog index.
Not a plain `duplicate key value violates unique constraint` on a user table, nor a MySQL 1062 or
SQLite violation from an INSERT/UPDATE (or with no sign of a migration step): that is a data step
hitting an existing constraint, not a constraint meeting existing rows. Those are returned as
`unknown`, with the table and key read, so a report can still name them. A SQLite violation after
all migrations reported OK becomes `unrelated` (see unrelated.py).
"""

from __future__ import annotations

import re

from ..context import LineContext
from ..failure import Failure
from ..sql import Statement
from . import _names

KIND = "duplicate_data"
PRIORITY = 40
TRIGGERS = ("could not create unique index", "Duplicate entry", "UNIQUE constraint failed")

_PG = re.compile(rf"could not create unique index {_names.pg('name')}")
_MYSQL = re.compile(r"Duplicate entry '(?P<value>[^\n]{0,500}?)' for key " + _names.my("key"))
_SQLITE_INDEX = re.compile(r"UNIQUE constraint failed: index " + _names.my("name"))
_SQLITE = re.compile(r"UNIQUE constraint failed: (?P<columns>[\w$.\"`, ]{1,2000})")


def _builds_index(stmt: Statement | None) -> bool:
    if stmt is None:
        return False
    if stmt.verb == "insert":
        return (stmt.table or "").startswith("_alembic_tmp_")  # alembic batch copy into the new table
    return stmt.verb in ("create", "alter")


def _sqlite(ctx: LineContext) -> Failure:
    stmt = ctx.stmt
    # No statement printed: inside a migration step, SQLite's violation is the index build the kind
    # is about ("finished" too, so that unrelated.py can say it came after the steps); with no sign
    # of a step it is some other write.
    builds = _builds_index(stmt) if stmt is not None else ctx.phase in ("migrating", "finished")
    failure = Failure(
        KIND if builds else "unknown", dialect="sqlite", table=stmt.table if stmt is not None else None
    )
    if m := _SQLITE_INDEX.search(ctx.message):
        failure.object_type, failure.object_name = "index", m.group("name")
        failure.constraint = m.group("name")
        return failure
    m = _SQLITE.search(ctx.message)
    if not m:
        return failure
    pairs = [c.strip().strip('"`').split(".", 1) for c in m.group("columns").split(",") if c.strip()]
    columns = [p[-1] for p in pairs]
    if pairs and len(pairs[0]) == 2:
        failure.table = pairs[0][0]
    failure.key = "(" + ", ".join(columns) + ")"
    failure.column = columns[0] if len(columns) == 1 else None
    if stmt is not None and stmt.object_type == "index" and stmt.name:
        failure.object_type, failure.object_name, failure.constraint = "index", stmt.name, stmt.name
    return failure


def match(ctx: LineContext) -> Failure | None:
    if not ctx.is_error:
        return None
    text, stmt = ctx.message, ctx.stmt
    if m := _PG.search(text):
        name = m.group("name")
        is_constraint = stmt is not None and stmt.object_type == "constraint" and stmt.creates(name)
        return Failure(
            KIND,
            sqlstate="23505",
            object_type="constraint" if is_constraint else "index",
            object_name=name,
            constraint=name,
            key=ctx.key,
            table=stmt.table if stmt is not None else None,
            dialect="postgresql",
        )
    if m := _MYSQL.search(text):
        builds = stmt is not None and stmt.verb in ("alter", "create")
        name = m.group("key").rsplit(".", 1)[-1]  # MySQL 8 says 'table.key'
        return Failure(
            KIND if builds else "unknown",
            errno=1062,
            object_type="index",
            object_name=name,
            constraint=name,
            key=m.group("value"),
            table=stmt.table if stmt is not None else None,
            dialect="mysql",
        )
    if "UNIQUE constraint failed" in text:
        return _sqlite(ctx)
    return None
