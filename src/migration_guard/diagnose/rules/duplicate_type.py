"""duplicate_type: the type (an enum, a domain) a migration creates already exists.

Reads PostgreSQL 42710 `type "x" already exists`, raised as psycopg2.errors.DuplicateObject (or
psycopg's / asyncpg's DuplicateObject[Error]) and behind the SQLAlchemy and Django wrappers, usually
from the `CREATE TYPE x AS ENUM (...)` that `sa.Enum` emits before its table.

Not duplicate_object: 42710 covers constraints, triggers, extensions and more; only a type is a
definition the guard can compare label by label (and complete with ADD VALUE).
Not type_catalog_conflict: two migrators creating the same type at the same moment trip the
unique index `pg_type_typname_nsp_index` instead (23505); that rule runs first.
Not a type when the statement creates a table: `CREATE TABLE x` also says `type "x" already exists`
when a type holds the name of the table's row type. That is a name clash between two kinds of
object, not a type to compare, and is left to `unknown`.
"""

from __future__ import annotations

import re

from ..context import LineContext
from ..failure import Failure
from . import _names

KIND = "duplicate_type"
PRIORITY = 15
TRIGGERS = ("already exists",)

_PG = re.compile(rf"(?<![\w\"])type {_names.pg('name')} already exists")


def match(ctx: LineContext) -> Failure | None:
    if not ctx.is_error:
        return None
    m = _PG.search(ctx.message)
    if not m:
        return None
    stmt = ctx.stmt
    if stmt is not None and stmt.object_type not in (None, "type"):
        return None
    return Failure(
        KIND, sqlstate="42710", object_type="type", object_name=m.group("name"), dialect="postgresql"
    )
