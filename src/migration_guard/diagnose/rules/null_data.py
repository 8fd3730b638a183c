"""null_data: NOT NULL cannot be set because rows hold NULL in the column.

Reads
- PostgreSQL 23502 `column "c" of relation "t" contains null values` (NotNullViolation and its
  wrappers): raised only while a table is checked against a new NOT NULL (SET NOT NULL, ADD COLUMN
  ... NOT NULL without a default, ADD PRIMARY KEY), so the message alone proves the kind;
- MySQL / MariaDB 1138 `Invalid use of NULL value` when the statement is an ALTER TABLE (MODIFY ...
  NOT NULL over NULLs); the table comes from the statement.

Not a data step writing NULL into a NOT NULL column: PostgreSQL says `null value in column "c" ...
violates not-null constraint` then, which is not read here (it stays `unknown`), and a MySQL 1138
outside an ALTER is left alone too.
"""

from __future__ import annotations

import re

from ..context import LineContext
from ..failure import Failure
from . import _names

KIND = "null_data"
PRIORITY = 42
TRIGGERS = ("contains null values", "Invalid use of NULL value")

_PG = re.compile(rf"column {_names.pg('column')} of relation {_names.pg('table')} contains null values")


def match(ctx: LineContext) -> Failure | None:
    if not ctx.is_error:
        return None
    if m := _PG.search(ctx.message):
        column = m.group("column")
        return Failure(KIND, sqlstate="23502", object_type="column", object_name=column, column=column,
                       table=m.group("table"), dialect="postgresql")
    if "Invalid use of NULL value" in ctx.message:
        stmt = ctx.stmt
        if stmt is None or stmt.verb != "alter":
            return None
        return Failure(KIND, errno=1138, object_type="column", table=stmt.table, dialect="mysql")
    return None
