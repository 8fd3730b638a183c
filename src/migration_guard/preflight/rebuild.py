"""A Django table rebuild on SQLite over a hotfixed column that holds values: duplicate_column.

Rule: Django rebuilds a SQLite table (`new__t`, copy, drop, rename) for an AddField it cannot do
with ALTER TABLE, and fills the new column from its default rather than from the live column of that
name. When such a column is already in the live table and holds values, the child's hook stops the
rebuild before any change (recovery/batch_rebuild.py), so `run` meets a duplicate_column there.
"""

from __future__ import annotations

from sqlalchemy import text

from migration_guard.preflight.model import Finding, Step

KIND = "duplicate_column"


def examine(step: Step) -> Finding | None:
    for effect in step.effects:
        if effect.op != "rebuild_table":
            continue
        for column in effect.detail.get("filled") or ():
            if step.catalog.column(effect.table or "", column) is None:
                continue
            table, col = ('"' + name.replace('"', '""') + '"' for name in (effect.table, column))
            held = step.conn.execute(text(f"SELECT count(*) FROM {table} WHERE {col} IS NOT NULL")).scalar()
            if held:
                failure = step.failure(KIND, object_type="column", object_name=column, table=effect.table,
                                       column=column, message=f"column {effect.table}.{column} already exists, "
                                       "with values the migration's table rebuild would replace")
                return Finding(failure, evidence=[f"{effect.table}.{column} holds {held} value(s)"])
    return None
