"""duplicate_relation: CREATE of a table, index, sequence or view whose name is taken (PG 42P07,
MySQL 1050/1061, SQLite "already exists").

Evidence rule: a table must have every column the CREATE TABLE makes, with the same types and
nullability (columns added later by other revisions are allowed); an index must be on the same
table with the same definition (columns or expressions, uniqueness, method, predicate); a view
must have the same definition; a sequence must exist. A name taken by another kind of relation, or
any other difference: refuse. Then history.resolve decides.
"""

from migration_guard.recovery import existing

KINDS = {"duplicate_relation"}
OPS = {"create_table", "create_index", "create_sequence", "create_view", "add_constraint"}


def applies(ctx) -> bool:
    return ctx.failure.kind in KINDS


def decide(ctx):
    f = ctx.failure
    name = f.object_name or f.table

    def matches(e):
        return name is None or e.name == name

    return existing.decide(ctx, OPS, matches, f"relation {name or '?'}")
