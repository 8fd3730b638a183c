"""duplicate_type: CREATE TYPE ... AS ENUM of a type that exists (PG 42710 "type ... already exists").

Evidence rule, on the live enum's labels in their sort order:
- the same labels in the same order: the CREATE TYPE is satisfied (history.resolve decides how
  the revision goes on);
- a subset of the wanted labels, in the same relative order: complete it with ALTER TYPE ... ADD
  VALUE (each label placed after its wanted predecessor), then the same;
- anything else (other labels, another order, not an enum): refuse and change nothing.
A type that blocks a CREATE TABLE is stale_type's case, not this one.
"""

from migration_guard.recovery import existing

KINDS = {"duplicate_type"}


def applies(ctx) -> bool:
    return ctx.failure.kind in KINDS


def decide(ctx):
    name = ctx.failure.object_name

    def matches(e):
        return name is None or e.name == name

    return existing.decide(ctx, {"create_enum", "create_type"}, matches, f"type {name or '?'}")
