"""duplicate_object: ADD CONSTRAINT (or another named object) that exists (PG 42710, not a type).

Evidence rule: the live constraint must be on the same table with the same definition, as
pg_get_constraintdef prints it for the live constraint and for the failing statement replayed on
a scratch copy (foreign keys: same columns, compared part by part). Otherwise refuse. Then
history.resolve decides.
"""

from migration_guard.recovery import existing

KINDS = {"duplicate_object"}


def applies(ctx) -> bool:
    return ctx.failure.kind in KINDS


def decide(ctx):
    f = ctx.failure
    name = f.constraint or f.object_name

    def matches(e):
        return (name is None or e.name == name) and (f.table is None or e.table in (None, f.table))

    return existing.decide(ctx, {"add_constraint"}, matches, f"constraint {name or '?'}")
