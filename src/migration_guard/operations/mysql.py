"""MySQL / MariaDB statements, read by sqlglot's MySQL parser.

Beyond what PostgreSQL has, an ALTER TABLE here adds indexes by name (`ADD INDEX ix (a)`, `ADD UNIQUE KEY
uq (a)`): each is a create_index Effect with its position (`cmd`) in the statement, like every other
command of a multi-command ALTER TABLE. A named UNIQUE constraint is an index too (MySQL error 1061 on a
taken name); it stays an add_constraint Effect of type unique and the evidence reads it as an index.
"""

from __future__ import annotations

from migration_guard.operations import _sqlglot
from migration_guard.operations.effect import Effect

DIALECT = "mysql"


def effects(statement: str) -> list[Effect]:
    return _sqlglot.effects(statement, DIALECT)


def split(body: str) -> list[str] | None:
    return _sqlglot.split_statements(body, DIALECT)
