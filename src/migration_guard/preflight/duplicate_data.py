"""duplicate_data: a unique index or constraint is built over rows that collide.

Rule: CREATE UNIQUE INDEX, or ADD CONSTRAINT ... UNIQUE / PRIMARY KEY, fails when two rows the
statement meets have the same key: equal in every key column or expression (with the index's
collation), none of them NULL (NULLs never collide, unless NULLS NOT DISTINCT), among the rows a
partial index's WHERE keeps. The rows are the live ones, grouped by the key on the server, and
only while no earlier pending statement wrote to the table and every earlier statement could be
followed; a key column added by an earlier pending statement without a default is NULL in every
row, so it never collides; a table created by one holds no rows. The count says how many groups
collide, how many rows they hold and how many would have to go for the key to be unique.
"""

from __future__ import annotations

from migration_guard.preflight.model import Finding, Step

KIND = "duplicate_data"
NAME_LIMIT = 63  # PostgreSQL's NAMEDATALEN - 1


def examine(step: Step) -> Finding | None:
    for req in step.requirements:
        if req.kind != "unique" or not req.keys:
            continue
        state = step.state
        if state.is_new_table(req.table, req.schema) or not state.rows_known(req.table, req.schema):
            continue
        if state.exists("table", req.table, req.schema) is not True:
            continue
        plain = [c for c, k in zip(req.columns, req.keys, strict=True) if not k.startswith("(")]
        if req.nulls_distinct and any(state.is_null_column(req.table, c, req.schema) for c in plain):
            continue  # a key part that is NULL in every row: no two rows collide
        if any(step.catalog.column(req.table, c, req.schema) is None for c in plain):
            continue  # a key column made by a pending statement, with values the catalog cannot show
        finding = _collisions(step, req)
        if finding is not None:
            return finding
    return None


def _collisions(step: Step, req) -> Finding | None:
    keys = ", ".join(f"{k} AS k{i}" for i, k in enumerate(req.keys))
    where = [f"{k} IS NOT NULL" for k in req.keys] if req.nulls_distinct else []
    if req.predicate:
        where.append(f"({req.predicate})")
    groups = ", ".join(str(i + 1) for i in range(len(req.keys)))
    sql = (f"SELECT d.*, count(*) OVER (), sum(d.n) OVER () FROM ("
           f"SELECT {keys}, count(*) AS n FROM {step.table_sql(req.table, req.schema)}"
           f"{' WHERE ' + ' AND '.join(where) if where else ''} GROUP BY {groups} HAVING count(*) > 1"
           f") d ORDER BY d.n DESC LIMIT 1")
    rows = step.query(sql)
    if not rows:
        return None
    *values, n, group_count, row_count = rows[0]
    group_count, row_count = int(group_count), int(row_count)
    key = f"({', '.join(req.columns)})=({', '.join(_show(v) for v in values)})"
    name = req.name or _default_name(req)
    failure = step.failure(
        KIND, object_type=req.object_type, object_name=name, constraint=name, table=req.table,
        column=req.columns[0] if len(req.columns) == 1 else None, key=key,
        message=f"{row_count} rows of {req.table} share a key with another row ({group_count} group(s)); "
                f"e.g. {key} appears {n} times")
    surplus = row_count - group_count
    return Finding(failure, counts={"groups": group_count, "rows": row_count, "surplus": surplus},
                   evidence=[f"{group_count} key value(s) of {name} occur more than once in {req.table}, "
                             f"in {row_count} rows; {surplus} row(s) would have to go for the key to be unique",
                             f"the most repeated: {key}, {n} rows"])


def _show(value) -> str:
    return "NULL" if value is None else str(value)


def _default_name(req) -> str | None:
    """The name PostgreSQL gives an unnamed constraint or index, when it fits without truncation."""
    if req.primary:
        name = f"{req.table}_pkey"
    else:
        name = f"{req.table}_{'_'.join(req.columns)}_{'key' if req.object_type == 'constraint' else 'idx'}"
    return name if len(name) <= NAME_LIMIT else None
