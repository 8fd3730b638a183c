"""type_catalog_conflict: two sessions created the same type at once (almost always two migrators).

Reads PostgreSQL 23505 `duplicate key value violates unique constraint "pg_type_typname_nsp_index"`
with its `DETAIL: Key (typname, typnamespace)=(x, 2200) already exists.`, in every shape it is
printed: psycopg2.errors.UniqueViolation or the older psycopg2.IntegrityError, Django's and
SQLAlchemy's wrappers, a server log that has only the `ERROR:` / `DETAIL:` / `STATEMENT:` lines, and
the legacy one-line form with DETAIL and `[SQL: '...']` on the same line. Every CREATE TABLE,
CREATE SEQUENCE (a SERIAL column) and CREATE TYPE adds a pg_type row; when two transactions add the
same one, the loser fails on the catalog's index instead of with "already exists". `object_name`
is the typname from the key (often `<table>_<col>_seq`), `table` the table being created.

Not duplicate_type / duplicate_relation: nothing existed when the statement started; the other
transaction was creating it at the same time, so the fix is to serialize, not to skip.
Not duplicate_data: the violated index is a system catalog's, not one the migration builds.
"""

from __future__ import annotations

import re

from ..context import LineContext
from ..failure import Failure

KIND = "type_catalog_conflict"
PRIORITY = 5
TRIGGERS = ("pg_type_typname_nsp_index",)

_CONSTRAINT = "pg_type_typname_nsp_index"
_PG = re.compile(rf'duplicate key value violates unique constraint "{_CONSTRAINT}"')


def match(ctx: LineContext) -> Failure | None:
    if not ctx.is_error or not _PG.search(ctx.message):
        return None
    failure = Failure(
        KIND, sqlstate="23505", object_type="type", constraint=_CONSTRAINT, dialect="postgresql"
    )
    key = ctx.key
    if key and ")=(" in key:
        failure.key = key
        failure.object_name = key.split(")=(", 1)[1].split(",", 1)[0].strip() or None
    stmt = ctx.stmt
    if stmt is not None:
        failure.table = stmt.table
        if stmt.object_type == "type" and not failure.object_name:
            failure.object_name = stmt.name
    return failure
