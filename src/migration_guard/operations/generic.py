"""MySQL/MariaDB and SQLite statements.

No parser for these dialects ships with the guard yet, so their statements carry no effects the
catalog could confirm: recovery refuses for lack of evidence rather than guess from the text.
"""

from __future__ import annotations

from migration_guard.operations.effect import Effect


def effects(statement: str, dialect: str) -> list[Effect]:
    return [Effect("other", "", statement, detail={"unparsed": True, "dialect": dialect})]
