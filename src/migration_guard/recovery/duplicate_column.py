"""duplicate_column: ADD COLUMN of a column that exists (PG 42701, MySQL 1060, SQLite).

Evidence rule: the live column must have exactly the type, nullability and default the failing
ADD COLUMN would give it (PostgreSQL replays the statement on a scratch copy of the table to say
so). Then history.resolve decides between recording lost revisions and running the revision
again with the satisfied statements skipped. Another type, nullability or default: refuse.
"""

from migration_guard.recovery import existing

KINDS = {"duplicate_column"}


def applies(ctx) -> bool:
    return ctx.failure.kind in KINDS


def decide(ctx):
    f = ctx.failure
    column = f.column or f.object_name

    def matches(e):
        return (column is None or e.name == column) and (f.table is None or e.table == f.table)

    return existing.decide(ctx, {"add_column"}, matches, f"column {f.table or '?'}.{column or '?'}")
