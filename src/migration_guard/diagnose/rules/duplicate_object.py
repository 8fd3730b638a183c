"""duplicate_object: a constraint, trigger or other named non-relation object already exists.

Reads
- PostgreSQL 42710 `constraint "x" for relation "t" already exists`, `trigger "x" for relation "t"
  already exists`, `policy "x" for table "t" ...`, `extension "x" already exists` and the other
  42710 object words listed below (DuplicateObject and its wrappers);
- MySQL 1826 `Duplicate foreign key constraint name 'x'`, MariaDB 1826 `Duplicate CHECK constraint name
  'x'`, and MariaDB's 1005 `Can't create table ... (errno: 121 "Duplicate key on write or update")` when
  the statement adds a named constraint (how InnoDB says a foreign key name is taken);
- SQLite `trigger x already exists`.
`constraint` is filled for constraints, `table` from the message or the statement.

Not duplicate_type: `type "x" already exists` is also 42710 but has its own rule (run first),
because a type's definition can be compared and completed; these objects are only named here.
Not duplicate_relation: an index is a relation (42P07) even when a constraint created it.
"""

from __future__ import annotations

import re

from ..context import LineContext
from ..failure import Failure
from ..sql import unquote
from . import _names

KIND = "duplicate_object"
PRIORITY = 20
TRIGGERS = ("already exists", "Duplicate foreign key", "Duplicate CHECK", "Duplicate key on write")

_PG_WORDS = (
    "event trigger|constraint|trigger|policy|rule|extension|role|publication|subscription|server"
    "|user mapping|foreign-data wrapper|language|collation|conversion|statistics object"
    "|operator class|operator family|access method|transform"
)
_PG = re.compile(
    rf"(?<![\w\"])(?P<otype>{_PG_WORDS}) {_names.pg('name')}"
    rf"(?: for (?:relation|table|domain) {_names.pg('table')})? already exists"
)
_MYSQL_FK = re.compile(rf"Duplicate (?:foreign key|CHECK) constraint name {_names.my('name')}")
_MYSQL_ERRNO_121 = re.compile(r"\(errno: 121 \W{0,3}Duplicate key on write or update")
_SQLITE = re.compile(rf"(?<![\w\"])trigger {_names.sqlite('name')} already exists")


def match(ctx: LineContext) -> Failure | None:
    if not ctx.is_error:
        return None
    text, stmt = ctx.message, ctx.stmt
    stmt_table = stmt.table if stmt is not None else None
    if m := _PG.search(text):
        otype, name = m.group("otype"), m.group("name")
        # `for domain "d"` names a type, not a table
        table = m.group("table") if m.group("table") and " for domain " not in m.group(0) else None
        return Failure(
            KIND,
            sqlstate="42710",
            object_type=otype,
            object_name=name,
            constraint=name if otype == "constraint" else None,
            table=table or stmt_table,
            dialect="postgresql",
        )
    if m := _MYSQL_FK.search(text):
        name = m.group("name")
        return Failure(
            KIND,
            errno=1826,
            object_type="constraint",
            object_name=name,
            constraint=name,
            table=stmt_table,
            dialect="mysql",
        )
    if _MYSQL_ERRNO_121.search(text) and stmt is not None and stmt.object_type == "constraint" and stmt.name:
        name = unquote(stmt.name)
        return Failure(KIND, errno=1005, object_type="constraint", object_name=name, constraint=name,
                       table=stmt_table, dialect="mysql")
    if m := _SQLITE.search(text):
        return Failure(
            KIND,
            object_type="trigger",
            object_name=unquote(m.group("name")),
            table=stmt_table,
            dialect="sqlite",
        )
    return None
