"""orphan_data: a foreign key cannot be added because rows reference parents that are not there.

Reads
- PostgreSQL 23503 `insert or update on table "t" violates foreign key constraint "fk"` with
  `DETAIL: Key (a)=(7) is not present in table "p".`, when the statement is an ALTER TABLE (the
  constraint being added and checked against the existing rows); `key` is `(a)=(7)`;
- MySQL / MariaDB 1452 `Cannot add or update a child row: a foreign key constraint fails` when the
  statement is an ALTER TABLE.

Not a data step inserting a row whose parent is missing: the same message from an INSERT or UPDATE
is a write meeting an existing constraint, not a constraint meeting existing rows; it stays
`unknown`.
"""

from __future__ import annotations

import re

from ..context import LineContext
from ..failure import Failure
from . import _names

KIND = "orphan_data"
PRIORITY = 43
TRIGGERS = ("violates foreign key constraint", "a foreign key constraint fails")

_PG = re.compile(rf"on table {_names.pg('table')} violates foreign key constraint {_names.pg('name')}")
_DETAIL = re.compile(r"Key (?P<key>\([^\n]{1,2000}?\)=\([^\n]{0,2000}?\)) is not present in table")
_MYSQL_FK = re.compile(r"CONSTRAINT `(?P<name>[^`]{1,300})` FOREIGN KEY \(`(?P<column>[^`]{1,300})`\)")


def _key(ctx: LineContext) -> str | None:
    texts = [ctx.line.text, *ctx._following()]
    for text in texts:
        if m := _DETAIL.search(text):
            return m.group("key")
    return None


def match(ctx: LineContext) -> Failure | None:
    if not ctx.is_error:
        return None
    stmt = ctx.stmt
    if stmt is None or stmt.verb != "alter":
        return None
    if m := _PG.search(ctx.message):
        key = _key(ctx)
        columns = key.split(")=(")[0].lstrip("(").split(", ") if key else []
        return Failure(KIND, sqlstate="23503", object_type="constraint", object_name=m.group("name"),
                       constraint=m.group("name"), table=m.group("table"), key=key,
                       column=columns[0] if len(columns) == 1 else None, dialect="postgresql")
    if "a foreign key constraint fails" in ctx.message:
        m = _MYSQL_FK.search(ctx.message)
        return Failure(KIND, errno=1452, object_type="constraint", object_name=m.group("name") if m else None,
                       constraint=m.group("name") if m else None, column=m.group("column") if m else None,
                       table=stmt.table, dialect="mysql")
    return None
