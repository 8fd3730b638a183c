"""orphan_data: a foreign key is added over rows whose parent is not there.

Rule: ALTER TABLE ... ADD [CONSTRAINT] FOREIGN KEY (without NOT VALID, MATCH SIMPLE) fails when a
row of the table has a key, none of its columns NULL, that no row of the referenced table holds in
the referenced columns (its primary key when the statement names none). The rows are the live
ones of both tables, only while no earlier pending statement wrote to either and every earlier
statement could be followed; a referenced table created by a pending statement holds no rows, so
every non-NULL key is an orphan; a key column added without a default is NULL, so never one.
"""

from __future__ import annotations

from migration_guard.preflight.model import Finding, Step

KIND = "orphan_data"


def examine(step: Step) -> Finding | None:
    for req in step.requirements:
        if req.kind != "foreign_key" or not req.columns:
            continue
        finding = _orphans(step, req)
        if finding is not None:
            return finding
    return None


def _orphans(step: Step, req) -> Finding | None:
    state, cat = step.state, step.catalog
    child, parent = (req.table, req.schema), (req.ref_table or "", req.ref_schema)
    if state.is_new_table(*child) or not state.rows_known(*child) or state.exists("table", *child) is not True:
        return None
    if any(state.is_null_column(req.table, c, req.schema) for c in req.columns):
        return None
    if any(cat.column(req.table, c, req.schema) is None for c in req.columns):
        return None
    parent_new = state.is_new_table(*parent)
    if not parent_new and (not state.rows_known(*parent) or state.exists("table", *parent) is not True):
        return None
    ref_columns = req.ref_columns or (_primary_key(cat, *parent) if not parent_new else [])
    if len(ref_columns) != len(req.columns):
        return None
    c_cols = [f"c.{step.quote(c)}" for c in req.columns]
    not_null = " AND ".join(f"{c} IS NOT NULL" for c in c_cols)
    if parent_new:
        missing = "true"  # the referenced table is created in this run, empty
    else:
        match = " AND ".join(f"p.{step.quote(r)} = {c}" for r, c in zip(ref_columns, c_cols, strict=True))
        missing = f"NOT EXISTS (SELECT 1 FROM {step.table_sql(*parent)} p WHERE {match})"
    sql = (f"SELECT {', '.join(c_cols)}, count(*) OVER () FROM {step.table_sql(*child)} c "
           f"WHERE {not_null} AND {missing} LIMIT 1")
    rows = step.query(sql)
    if not rows:
        return None
    *values, count = rows[0]
    key = f"({', '.join(req.columns)})=({', '.join('NULL' if v is None else str(v) for v in values)})"
    failure = step.failure(
        KIND, object_type="constraint", object_name=req.name, constraint=req.name, table=req.table,
        column=req.columns[0] if len(req.columns) == 1 else None, key=key,
        message=f"{count} row(s) of {req.table} reference a missing row of {req.ref_table}; "
                f"e.g. {key} is not present in {req.ref_table}")
    evidence = [f"{count} row(s) of {req.table} have a key in ({', '.join(req.columns)}) that "
                f"{req.ref_table} does not hold in ({', '.join(ref_columns) or 'its primary key'})",
                f"for example {key}"]
    if parent_new:
        evidence.append(f"{req.ref_table} is created by a pending revision and holds no rows yet")
    return Finding(failure, counts={"rows": int(count)}, evidence=evidence)


def _primary_key(cat, table: str, schema: str | None) -> list[str]:
    t = cat.table(table, schema)
    if t is None:
        return []
    for con in cat.constraints_of(table, t.schema):
        if con.type == "primary":
            return list(con.columns)
    return []
