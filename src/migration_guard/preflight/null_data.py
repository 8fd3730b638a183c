"""null_data: NOT NULL is set on a column that holds NULLs.

Rule: ALTER COLUMN ... SET NOT NULL (MySQL: MODIFY ... NOT NULL, in strict mode), ADD PRIMARY KEY,
or (PostgreSQL) ADD COLUMN ... NOT NULL without a default fails when a row the statement meets has
NULL in that column. The rows counted are the
live ones, and only while no earlier pending statement wrote to the table (a data step may fill
the NULLs first) and every earlier statement could be followed. A column added by an earlier
pending statement holds NULL in every existing row; a table created by one holds no rows.
"""

from __future__ import annotations

from migration_guard.preflight.model import Finding, Step

KIND = "null_data"


def examine(step: Step) -> Finding | None:
    for req in step.requirements:
        if req.kind != "not_null":
            continue
        column = req.columns[0]
        state = step.state
        if state.is_new_table(req.table, req.schema) or not state.rows_known(req.table, req.schema):
            continue
        if state.exists("table", req.table, req.schema) is not True:
            continue  # missing_object says it
        if not step.strict():
            continue  # MySQL outside strict mode stores the type's zero value instead, with a warning
        where = step.table_sql(req.table, req.schema)
        if req.new_column and step.catalog.type(req.new_type or "") is not None:
            continue  # a domain may carry a default of its own
        if req.new_column or state.is_null_column(req.table, column, req.schema):
            # Every existing row gets (or got) NULL in a column added without a default.
            (count,), = step.query(f"SELECT count(*) FROM {where}")
            why = "the column is added without a default, so every existing row would hold NULL"
        else:
            if step.catalog.column(req.table, column, req.schema) is None:
                continue
            (count,), = step.query(f"SELECT count(*) FROM {where} WHERE {step.quote(column)} IS NULL")
            why = "NOT NULL cannot hold"
        if not count:
            continue
        failure = step.failure(KIND, object_type="column", object_name=column, table=req.table, column=column,
                               message=f"column {req.table}.{column} contains NULL in {count} row(s)")
        return Finding(failure, counts={"rows": count},
                       evidence=[f"{count} row(s) of {req.table} hold NULL in {column}: {why}"])
    return None
