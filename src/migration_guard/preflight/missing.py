"""missing_object: a statement drops or alters something that is not there.

Rule: a DROP TABLE / VIEW / INDEX / SEQUENCE / TYPE, ALTER TABLE ... DROP COLUMN / DROP CONSTRAINT
(without IF EXISTS), an ALTER TABLE of a table, an ALTER COLUMN of a column, or a CREATE INDEX on
a table fails when the object is not there when the statement runs: it is in neither the live
catalog nor the objects earlier pending statements create, or an earlier pending statement drops
it. Absence is only claimed while every earlier statement could be followed: one the analysis
cannot read might have created anything.
"""

from __future__ import annotations

from migration_guard.preflight.model import Finding, Step

KIND = "missing_object"


def examine(step: Step) -> Finding | None:
    reading = step.reading
    for need in reading.needs:
        table_there = None
        if need.kind in ("column", "constraint"):
            table_there = step.state.exists("table", need.table or "", need.schema)
            if table_there is False:
                continue  # the ALTER TABLE's own need for its table says it first
        if step.state.exists(need.kind, need.name, need.schema, need.table) is not False:
            continue
        subject = f"{need.kind} {need.table}.{need.name}" if need.kind == "column" else (
            f"{need.kind} {need.name} on {need.table}" if need.table else f"{need.kind} {need.name}")
        gone = step.state.gone.get(step.state.key(need.kind, need.name, need.schema, need.table))
        why = f"revision {gone}, pending before this one, drops it" if gone else \
            "it is not in the database and no earlier pending revision creates it"
        failure = step.failure(KIND, object_type=need.kind, object_name=need.name,
                               table=need.table or (need.name if need.kind in ("table", "view") else None),
                               column=need.name if need.kind == "column" else None,
                               constraint=need.name if need.kind == "constraint" else None,
                               message=f"{subject} does not exist")
        return Finding(failure, evidence=[f"the statement {'drops' if need.how == 'drop' else 'needs'} "
                                          f"{subject}, but {why}"])
    return None
