"""SQLite statements, read by sqlglot's SQLite parser.

SQLite's ALTER TABLE adds, drops or renames one column at a time and cannot add a constraint; alembic's
batch mode rebuilds the table instead (`CREATE TABLE _alembic_tmp_t`, copy, drop, rename), statements
that read here as an ordinary create_table, data and other Effects.
"""

from __future__ import annotations

from migration_guard.operations import _sqlglot
from migration_guard.operations.effect import Effect

DIALECT = "sqlite"


def effects(statement: str) -> list[Effect]:
    return _sqlglot.effects(statement, DIALECT)


def split(body: str) -> list[str] | None:
    return _sqlglot.split_statements(body, DIALECT)
