"""duplicate_column: the column a migration adds is already in its table.

Reads
- PostgreSQL 42701 `column "c" of relation "t" already exists` (psycopg2.errors.DuplicateColumn,
  psycopg.errors.DuplicateColumn, asyncpg DuplicateColumnError, and the same text behind the
  SQLAlchemy and Django wrappers or on a server-log `ERROR:` line);
- MySQL / MariaDB 1060 `Duplicate column name 'c'`;
- SQLite `duplicate column name: c`.
The table comes from the PostgreSQL message, else from the statement (`ALTER TABLE t ADD ...`).

Not duplicate_relation: the PostgreSQL text also contains `relation "t" ... already exists`, so this
rule runs first and duplicate_relation ignores a relation preceded by "of".
Not a column that is "already there" when the statement is a CREATE TABLE: MySQL and SQLite say the
same when one CREATE TABLE names a column twice, a bug in the migration that no catalog state
explains; that is left to `unknown`. The exceptions are the table rebuilds on SQLite, alembic batch
mode's `CREATE TABLE _alembic_tmp_t` and Django's `CREATE TABLE new__t`, which make t again with the
new column: there the column really is already in t. PostgreSQL's other 42701 text, `column "c"
specified more than once`, is the same kind of bug and is not read.
"""

from __future__ import annotations

import re

from ..context import LineContext
from ..failure import Failure
from . import _names

KIND = "duplicate_column"
PRIORITY = 10
TRIGGERS = ("already exists", "uplicate column name")

_PG = re.compile(rf"column {_names.pg('column')} of relation {_names.pg('table')} already exists")
_MYSQL = re.compile(rf"Duplicate column name {_names.my('column')}")
_SQLITE = re.compile(rf"duplicate column name: {_names.sqlite('column')}")
_SCRATCH_PREFIXES = ("_alembic_tmp_", "new__")  # alembic batch mode's and Django's SQLite table rebuilds


def match(ctx: LineContext) -> Failure | None:
    if not ctx.is_error:
        return None
    text = ctx.message
    m = _PG.search(text)
    if m:
        failure = Failure(KIND, sqlstate="42701", table=m.group("table"), dialect="postgresql")
    elif m := _MYSQL.search(text):
        failure = Failure(KIND, errno=1060, dialect="mysql")
    elif m := _SQLITE.search(text):
        failure = Failure(KIND, dialect="sqlite")
    else:
        return None
    column = m.group("column").strip('"`')
    failure.object_type, failure.object_name, failure.column = "column", column, column
    stmt = ctx.stmt
    if stmt is not None and stmt.verb == "create" and stmt.object_type == "table":
        prefix = next((p for p in _SCRATCH_PREFIXES if (stmt.name or "").startswith(p)), None)
        if prefix is None:
            return None
        failure.table = failure.table or stmt.name[len(prefix) :]
    elif stmt is not None and stmt.table:
        failure.table = failure.table or stmt.table
    return failure
