"""Classify from what the driver itself reported (SQLSTATE / errno) and the failing statement.

The child's hook captures both from the exception object, so they do not depend on how the log
printed them. Used when the text rules cannot read the message (e.g. a relation name that itself
contains quotes) and to fill the object's names from the statement rather than from the message.
The statement is read by the dialect's parser (operations/), never by matching its text.
"""

from __future__ import annotations

from migration_guard.diagnose.failure import Failure

_PG = {"42701": "duplicate_column", "42P07": "duplicate_relation"}
_MYSQL = {1060: "duplicate_column", 1050: "duplicate_relation", 1061: "duplicate_relation"}
_CREATES = {"duplicate_column": {"add_column"},
            "duplicate_relation": {"create_table", "create_index", "create_sequence", "create_view",
                                   "add_constraint"},
            "duplicate_type": {"create_enum", "create_type", "create_table"},
            "duplicate_object": {"add_constraint"}}


def from_driver(event: dict, dialect: str) -> Failure | None:
    sqlstate, errno = event.get("sqlstate"), event.get("errno")
    statement, message = event.get("statement") or "", event.get("message") or ""
    if sqlstate == "23505" and "pg_type_typname_nsp_index" in message:
        return Failure("type_catalog_conflict", sqlstate=sqlstate, constraint="pg_type_typname_nsp_index",
                       statement=statement or None, message=message, dialect=dialect)
    if not statement:
        return None
    from migration_guard.operations import effects_of

    effects = effects_of(statement, dialect)
    ops = {e.op for e in effects}
    kind = _PG.get(sqlstate or "") or _MYSQL.get(errno if isinstance(errno, int) else -1)
    if sqlstate == "42710":
        kind = "duplicate_type" if ops & {"create_enum", "create_type", "create_table"} else "duplicate_object"
    if kind is None:
        return None
    made = [e for e in effects if e.op in _CREATES[kind]]
    if len(made) != 1:
        return None  # the statement does not say which object: leave it to the text rules
    effect = made[0]
    failure = Failure(kind, sqlstate=sqlstate, errno=errno, statement=statement, message=message, dialect=dialect,
                      object_type=effect.op.split("_", 1)[1], object_name=effect.name,
                      table=effect.table or (effect.name if effect.op == "create_table" else None))
    if effect.op == "add_column":
        failure.column = effect.name
    if effect.op == "add_constraint":
        failure.constraint = effect.name
    return failure
