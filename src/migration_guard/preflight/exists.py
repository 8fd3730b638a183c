"""Objects that already exist: duplicate_column, duplicate_relation, duplicate_type, duplicate_object.

Rule: a pending CREATE TABLE / INDEX / SEQUENCE / VIEW / TYPE or ALTER TABLE ADD COLUMN / ADD
CONSTRAINT, without IF NOT EXISTS (or OR REPLACE), fails when an object of that name is there when
the statement runs: it is in the live catalog and no earlier pending statement drops it, or an
earlier pending statement creates it. A CREATE TABLE also fails on a standalone type of the same
name (PostgreSQL keeps a table's row type under the table's name), and a CREATE of a relation on
any other relation of that name (tables, indexes, sequences and views share one namespace).

Whether the existing object matches what the statement wants (same definition; an enum with the
same labels, a subset of them in order, or other labels) does not change that the statement fails,
but it decides what `run` would do, so the catalog's answer (recovery/evidence.py) is stated too.
"""

from __future__ import annotations

from migration_guard.preflight.model import Finding, Step

KINDS = ("duplicate_column", "duplicate_relation", "duplicate_type", "duplicate_object")

KIND_OF = {"add_column": "duplicate_column", "create_table": "duplicate_relation",
           "create_index": "duplicate_relation", "create_sequence": "duplicate_relation",
           "create_view": "duplicate_relation", "create_enum": "duplicate_type",
           "create_type": "duplicate_type", "add_constraint": "duplicate_object"}
_OBJECT = {"add_column": "column", "create_table": "table", "create_index": "index", "create_sequence": "sequence",
           "create_view": "view", "create_enum": "type", "create_type": "type", "add_constraint": "constraint"}
_RELATIONS = ("table", "index", "sequence", "view")


def examine(step: Step) -> Finding | None:
    for effect in step.effects:
        if effect.op not in KIND_OF or effect.detail.get("if_not_exists") or effect.detail.get("replace"):
            continue
        finding = _one(step, effect)
        if finding is not None:
            return finding
    return None


def _one(step: Step, effect) -> Finding | None:
    state, cat = step.state, step.catalog
    kind, obj = KIND_OF[effect.op], _OBJECT[effect.op]
    table = effect.table if obj in ("column", "constraint", "index") else None
    there = state.exists(obj, effect.name, effect.schema, table)
    blocker = None
    if not there and obj in _RELATIONS:
        blocker = _other_relation(step, effect, obj)
    if not there and blocker is None and effect.op == "create_table" and not state.made_by("table", effect.name):
        standalone = cat.type(effect.name, effect.schema)
        if standalone is not None and standalone.relation is None and state.exists("type", effect.name,
                                                                                 effect.schema) is not False:
            # A composite type has a pg_class row, so PostgreSQL reports the relation; other types clash
            # with the table's row type.
            kind = "duplicate_relation" if standalone.kind == "composite" else "duplicate_type"
            blocker = f"a standalone {standalone.kind} type {standalone.name} has that name"
    if not there and blocker is None:
        return None
    failure = step.failure(
        kind, object_type="type" if blocker and effect.op == "create_table" else obj, object_name=effect.name,
        table=effect.table or (effect.name if effect.op == "create_table" else None),
        column=effect.name if obj == "column" else None,
        constraint=effect.name if obj == "constraint" else None,
        message=f"{effect.subject} already exists" if not blocker else f"{effect.subject}: {blocker}")
    made_by = state.made_by(obj, effect.name, effect.schema, table)
    if blocker:
        evidence = [blocker]
    elif made_by:
        evidence = [f"revision {made_by}, pending before this one, creates {effect.subject}"]
    else:
        evidence = _compare(step, effect)
    return Finding(failure, evidence=evidence)


def _other_relation(step: Step, effect, obj: str) -> str | None:
    """Another kind of relation holding the name (PostgreSQL relations share one namespace)."""
    if step.dialect != "postgresql":
        return None
    for other in _RELATIONS:
        if other == obj or (obj, other) in (("table", "view"), ("view", "table")):
            continue
        if step.state.exists(other, effect.name, effect.schema):
            return f"the name {effect.name} is taken by an existing {other}"
    return None


def _compare(step: Step, effect) -> list[str]:
    # Imported here: only a statement predicted to fail is compared, and most checks predict none.
    from migration_guard.db.shadow import open_shadow
    from migration_guard.recovery.evidence import check

    try:
        with open_shadow(step.conn, step.dialect) as shadow:
            verdict = check(effect, step.catalog, shadow)
    except Exception as exc:  # the comparison is commentary; the prediction stands without it
        return [f"{effect.subject} exists; its definition could not be compared: {exc}"]
    if verdict.state == "satisfied":
        return [*verdict.facts]
    if verdict.state == "incomplete":
        return [*verdict.facts]
    if verdict.state == "differs":
        return [f"{effect.subject} exists with another definition: {verdict.reason}"]
    return [f"{effect.subject} exists; {verdict.reason or 'its definition cannot be compared'}"]
