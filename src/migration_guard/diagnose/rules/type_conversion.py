"""type_conversion: a column's type change fails on the column's values, or on its type.

Reads, when the failing statement changes a column's type (PostgreSQL `ALTER TABLE t ALTER COLUMN
c TYPE ...`, read by PostgreSQL's own parser; MySQL `MODIFY` / `CHANGE`):
- PostgreSQL 42804 `column "c" cannot be cast automatically to type x`, 42846 `cannot cast type x
  to y`, and any data exception (class 22) the conversion raises: `invalid input syntax for type
  x: "v"`, `value too long for type character varying(n)`, `integer out of range`, `numeric field
  overflow`, `invalid input value for enum e: "v"`;
- MySQL / MariaDB 1265 `Data truncated for column 'c'`, 1366 `Incorrect ... value`, 1264 `Out of
  range value for column 'c'`.
The table and column come from the statement.

Not a data step writing a bad value: the same messages from an INSERT or UPDATE stay `unknown`.
"""

from __future__ import annotations

import re

from ..context import LineContext
from ..failure import Failure
from . import _names

KIND = "type_conversion"
PRIORITY = 44
TRIGGERS = ("cannot be cast automatically", "cannot cast type", "invalid input syntax", "value too long",
            "out of range", "field overflow", "invalid input value", "Data truncated", "Incorrect",
            "Out of range value")

_PG_CAST = re.compile(rf"column {_names.pg('column')} cannot be cast automatically")
_PG_DATA = re.compile(r"cannot cast type |invalid input syntax for |value too long for type |\bout of range\b"
                      r"|numeric field overflow|invalid input value for enum ")
_MYSQL = re.compile(r"(?P<errno>1265|1366|1264)\b|Data truncated for column|Incorrect \w{1,40} value"
                    r"|Out of range value for column")
_MYSQL_MODIFY = re.compile(r"\b(?:MODIFY|CHANGE)\b", re.IGNORECASE)


def _changed_column(statement: str | None) -> tuple[str, str] | None:
    """(table, column) of the first ALTER COLUMN ... TYPE in a PostgreSQL statement."""
    if not statement:
        return None
    from migration_guard.preflight.requirements import postgresql

    for req in postgresql(statement):
        if req.kind == "type_change":
            return req.table, req.columns[0]
    return None


def match(ctx: LineContext) -> Failure | None:
    if not ctx.is_error:
        return None
    text = ctx.message
    if _PG_CAST.search(text) or _PG_DATA.search(text):
        changed = _changed_column(ctx.statement)
        if changed is None:
            return None
        table, column = changed
        return Failure(KIND, object_type="column", object_name=column, column=column, table=table,
                       sqlstate="42804" if _PG_CAST.search(text) else None, dialect="postgresql")
    if _MYSQL.search(text):
        stmt = ctx.stmt
        if stmt is None or stmt.verb != "alter" or not _MYSQL_MODIFY.search(ctx.statement or ""):
            return None
        return Failure(KIND, object_type="column", table=stmt.table, dialect="mysql")
    return None
