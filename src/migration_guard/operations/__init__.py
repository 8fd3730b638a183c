"""What a migration asks of the database: its SQL statements read as effects on named objects.

One parser per dialect turns a statement into Effects (`add_column settings.gid`,
`create_enum status ('a', 'b')`, ...). Recovery and prediction compare Effects with the catalog;
neither ever reads SQL with regular expressions.
"""

from migration_guard.operations.effect import Effect, normalize_statement

__all__ = ["Effect", "effects_of", "normalize_statement", "split_statements"]


def effects_of(statement: str, dialect: str, nodes=None) -> list[Effect]:
    """`nodes`: a PostgreSQL statement already parsed by operations.postgresql.parse (never changed here),
    so that a caller who parses it anyway does not pay for the parser twice."""
    if _only_comments(statement):
        # A step the tool cannot write as SQL (Django's RunPython: `-- data step: ...`): it is there,
        # it runs, and nothing in the catalog can say whether it ran.
        return [Effect("data", "comment", statement)]
    if dialect == "postgresql":
        from migration_guard.operations import postgresql

        return postgresql.effects(statement, nodes)
    if dialect in ("mysql", "mariadb"):
        from migration_guard.operations import mysql

        return mysql.effects(statement)
    if dialect == "sqlite":
        from migration_guard.operations import sqlite

        return sqlite.effects(statement)
    return [Effect("other", "", statement, detail={"unparsed": True, "dialect": dialect})]


def split_statements(body: str, dialect: str) -> list[str] | None:
    """A script (alembic's offline output) cut into statements by the dialect's own tokenizer; None when
    this dialect has no reader here."""
    if dialect in ("mysql", "mariadb"):
        from migration_guard.operations import mysql

        return mysql.split(body)
    if dialect == "sqlite":
        from migration_guard.operations import sqlite

        return sqlite.split(body)
    return None


def _only_comments(statement: str) -> bool:
    lines = [line.strip() for line in statement.strip().splitlines() if line.strip()]
    return bool(lines) and all(line.startswith("--") for line in lines)
