"""missing_object: a migration drops or alters something that is not there.

Reads, when the failing statement is DDL (DROP, ALTER, CREATE INDEX ... ON):
- PostgreSQL 42P01 `relation "x" does not exist`, `table "x" does not exist`, `view ...`,
  `sequence ...`; 42703 `column "c" of relation "t" does not exist`; 42704 `index "x" does not
  exist`, `type "x" does not exist`, `constraint "x" of relation "t" does not exist`;
- MySQL / MariaDB 1091 `Can't DROP 'x'; check that column/key exists`, 1051 `Unknown table`, 1146
  `Table 'db.x' doesn't exist`;
- SQLite `no such table: x`, `no such column: c`, `no such index: x`.

Not a data step reading a table that is not there (`SELECT ... FROM missing`): that stays `unknown`,
since a migration's data step depending on an object is not a schema change of that object.
"""

from __future__ import annotations

import re

from ..context import LineContext
from ..failure import Failure
from ..sql import unquote
from . import _names

KIND = "missing_object"
PRIORITY = 46
TRIGGERS = ("does not exist", "Can't DROP", "Unknown table", "doesn't exist", "no such ")

_PG = re.compile(
    rf"(?<![\w\"])(?P<otype>relation|table|view|sequence|column|index|type|constraint) {_names.pg('name')}"
    rf"(?: of relation {_names.pg('table')})? does not exist"
)
_MYSQL_DROP = re.compile(r"Can't DROP (?:(?:COLUMN|INDEX|CONSTRAINT|FOREIGN KEY|CHECK) )?'?`?(?P<name>[^'`\n]{1,300})")
_MYSQL_TABLE = re.compile(r"(?:Unknown table|Table) '(?:[^'.\n]{1,300}\.)?(?P<name>[^'\n]{1,300})'"
                          r"(?: doesn't exist)?")
_SQLITE = re.compile(rf"no such (?P<otype>table|column|index|view): {_names.sqlite('name')}")
_DDL = ("drop", "alter", "create")


def match(ctx: LineContext) -> Failure | None:
    if not ctx.is_error:
        return None
    stmt = ctx.stmt
    if stmt is None or stmt.verb not in _DDL:
        return None
    text = ctx.message
    if m := _PG.search(text):
        otype, name = m.group("otype"), m.group("name")
        otype = "table" if otype == "relation" else otype
        table = m.group("table") or (name if otype in ("table", "view") else stmt.table)
        return Failure(KIND, object_type=otype, object_name=name, table=table,
                       column=name if otype == "column" else None,
                       constraint=name if otype == "constraint" else None, dialect="postgresql")
    if (m := _MYSQL_DROP.search(text)) and "check that" in text:
        return Failure(KIND, errno=1091, object_name=m.group("name"), table=stmt.table,
                       dialect="mysql")
    if "Unknown table" in text or "doesn't exist" in text:
        m = _MYSQL_TABLE.search(text)
        if m:
            return Failure(KIND, object_type="table", object_name=m.group("name"), table=m.group("name"),
                           dialect="mysql")
    if m := _SQLITE.search(text):
        name = unquote(m.group("name"))
        return Failure(KIND, object_type=m.group("otype"), object_name=name,
                       table=name if m.group("otype") == "table" else stmt.table,
                       column=name if m.group("otype") == "column" else None, dialect="sqlite")
    return None
