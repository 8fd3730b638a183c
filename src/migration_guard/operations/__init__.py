"""What a migration asks of the database: its SQL statements read as effects on named objects.

One parser per dialect turns a statement into Effects (`add_column settings.gid`,
`create_enum status ('a', 'b')`, ...). Recovery and prediction compare Effects with the catalog;
neither ever reads SQL with regular expressions.
"""

from migration_guard.operations.effect import Effect, normalize_statement

__all__ = ["Effect", "effects_of", "normalize_statement"]


def effects_of(statement: str, dialect: str) -> list[Effect]:
    if dialect == "postgresql":
        from migration_guard.operations import postgresql

        return postgresql.effects(statement)
    from migration_guard.operations import generic

    return generic.effects(statement, dialect)
