"""Predict, without running anything, the 'already exists' failures the pending revisions will meet,
and unique keys that existing duplicate rows would block (recovery/duplicate_data.py).

Each pending statement that creates something is checked against the catalog; the first one whose
object already exists is the failure the run would meet (a failed revision stops the run).
Statements are those the tool prints in its offline mode, so migrations that inspect the
database at run time are not seen here.
"""

from __future__ import annotations

from migration_guard.db.shadow import open_shadow
from migration_guard.diagnose.failure import Failure
from migration_guard.recovery import duplicate_data
from migration_guard.recovery.evidence import check

KIND_OF = {"add_column": "duplicate_column", "create_table": "duplicate_relation",
           "create_index": "duplicate_relation", "create_sequence": "duplicate_relation",
           "create_view": "duplicate_relation", "create_enum": "duplicate_type",
           "create_type": "duplicate_type", "add_constraint": "duplicate_object"}


def predict(ctx) -> list[Failure]:
    from migration_guard.recovery.plan import ACTIONABLE_DIALECTS

    if ctx.dialect not in ACTIONABLE_DIALECTS:
        return []
    with ctx.engine.connect() as conn, open_shadow(conn, ctx.dialect) as shadow:
        earlier: list[str] = []
        for rev in ctx.pending:
            for statement in ctx.sql.get(rev.id) or ():
                blocked = duplicate_data.predict(ctx, statement, rev.id, earlier)
                if blocked is not None:
                    return [blocked]
                earlier.append(statement)
                for effect in ctx.effects(statement):
                    column = _rebuilt_over_values(conn, ctx, effect) if effect.op == "rebuild_table" else None
                    if column is not None:  # the child's hook stops such a rebuild (recovery/batch_rebuild.py)
                        return [Failure(kind="duplicate_column", object_type="column", object_name=column,
                                        table=effect.table, column=column, statement=statement, revision=rev.id,
                                        dialect=ctx.dialect, message=f"column {effect.table}.{column} already "
                                        "exists, with values the migration's table rebuild would replace")]
                    if effect.op not in KIND_OF or effect.detail.get("if_not_exists"):
                        continue
                    verdict = check(effect, ctx.catalog, shadow)
                    if verdict.state in ("satisfied", "differs", "incomplete"):
                        return [Failure(
                            kind=KIND_OF[effect.op], object_type=effect.op.split("_", 1)[1],
                            object_name=effect.name, table=effect.table or (
                                effect.name if effect.op == "create_table" else None),
                            column=effect.name if effect.op == "add_column" else None,
                            statement=statement, revision=rev.id, dialect=ctx.dialect,
                            message=f"{effect.subject} already exists")]
    return []


def _rebuilt_over_values(conn, ctx, effect) -> str | None:
    """A column that a table rebuild (Django on SQLite) makes anew, already there and holding values."""
    from sqlalchemy import text

    for column in effect.detail.get("filled") or ():
        if ctx.catalog.column(effect.table or "", column) is None:
            continue
        table, col = ('"' + name.replace('"', '""') + '"' for name in (effect.table, column))
        if conn.execute(text(f"SELECT count(*) FROM {table} WHERE {col} IS NOT NULL")).scalar():
            return column
    return None
