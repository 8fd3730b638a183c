"""type_conversion: a column's type is changed to one that its values, or its type, cannot take.

Rule (PostgreSQL; MySQL/MariaDB `MODIFY` in strict mode, where only the values are checked):
ALTER COLUMN ... TYPE fails when PostgreSQL refuses the conversion itself (no
assignment cast and no USING: "cannot be cast automatically") or when a value of a live row does
not convert (`invalid input syntax`, `value too long`, out of range). Both are asked of PostgreSQL
itself, in a transaction that is always rolled back: the ALTER is replayed on an empty temporary
copy of the table, and the column's values (or the USING expression over the live rows) are
assigned to a temporary column of the new type, which is how ALTER ... TYPE converts them. Only
while no earlier pending statement wrote to the table and every earlier statement could be
followed; a column added by a pending statement is not checked.
"""

from __future__ import annotations

import itertools

from sqlalchemy import text

from migration_guard.operations import postgresql as pg
from migration_guard.preflight.model import Finding, Step, Unsettled, _first_line

KIND = "type_conversion"
_names = itertools.count(1)
# Besides data exceptions (class 22): datatype_mismatch ("cannot be cast automatically") and
# cannot_coerce ("cannot cast type x to y").
REFUSALS = {"42804", "42846"}


def examine(step: Step) -> Finding | None:
    if step.dialect not in ("postgresql", "mysql", "mariadb") or not step.strict():
        return None
    for req in step.requirements:
        if req.kind != "type_change":
            continue
        state, column = step.state, req.columns[0]
        if state.is_new_table(req.table, req.schema) or not state.rows_known(req.table, req.schema):
            continue
        if state.exists("table", req.table, req.schema) is not True:
            continue
        if step.catalog.column(req.table, column, req.schema) is None:
            continue
        refused = _convert(step, req, column) if step.dialect == "postgresql" else _convert_mysql(step, req, column)
        if refused is None:
            continue
        error, sqlstate = refused
        failure = step.failure(KIND, object_type="column", object_name=column, table=req.table, column=column,
                               sqlstate=sqlstate, message=error)
        live = step.catalog.column(req.table, column, req.schema)
        return Finding(failure, evidence=[
            f"column {req.table}.{column} is {live.type}; the migration changes it to {req.new_type}"
            f"{' USING ' + req.using if req.using else ''}",
            f"PostgreSQL refuses the conversion: {error}"])
    return None


def _convert(step: Step, req, column: str) -> tuple[str, str | None] | None:
    """(PostgreSQL's error, its SQLSTATE) if the conversion fails; None if every value converts."""
    copy, holder = f"mg_check_type_{next(_names)}", f"mg_check_value_{next(_names)}"
    node = pg.parse(req.statement)[0]
    cmd = node.cmds[req.cmd]
    node.cmds = (cmd,)
    node.missing_ok = False
    from pglast import ast

    node.relation = ast.RangeVar(relname=copy, inh=True, relpersistence="t")
    source = step.table_sql(req.table, req.schema)
    conn = step.conn
    try:
        # No savepoints: the first statement that fails ends the attempt, and the transaction is
        # rolled back whatever happens. Each statement is one round trip; a check may run dozens.
        with step.transaction(read_only=False):
            conn.execute(text(f"CREATE TEMP TABLE {copy} (LIKE {source})"))
            failed = _attempt(conn, pg.deparse(node))
            if failed:
                return failed
            # The copy's column now has the new type exactly (length, precision, domain): the values
            # are assigned to a column made from it, which is how ALTER ... TYPE converts them.
            conn.execute(text(f"CREATE TEMP TABLE {holder} AS SELECT {step.quote(column)} AS v "
                              f"FROM pg_temp.{copy} WITH NO DATA"))
            value = f"({req.using})" if req.using else step.quote(column)
            return _attempt(conn, f"INSERT INTO {holder} (v) SELECT {value} FROM {source}")
    except Unsettled:
        raise
    except Exception as exc:  # the scratch copy itself could not be made: nothing is proven
        raise Unsettled(_first_line(exc)) from None


def _attempt(conn, sql: str) -> tuple[str, str | None] | None:
    try:
        conn.execute(text(sql))
    except Exception as exc:
        orig = getattr(exc, "orig", None)
        sqlstate = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
        if sqlstate in ("57014", "55P03"):  # statement or lock timeout: no answer, not a refusal
            raise Unsettled(_first_line(exc)) from None
        if not sqlstate or not (sqlstate.startswith("22") or sqlstate in REFUSALS):
            raise Unsettled(_first_line(exc)) from None
        return _first_line(exc), sqlstate
    return None


def _convert_mysql(step: Step, req, column: str) -> tuple[str, str | None] | None:
    """MySQL converts a MODIFY's values as it assigns them: assign them to a temporary column of the new type.

    A temporary table is the session's own and never seen by others; it is dropped right after, and a
    consistent read (READ COMMITTED) takes no locks on the live rows.
    """
    holder = f"mg_check_value_{next(_names)}"
    conn = step.conn
    try:
        conn.exec_driver_sql("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {holder} (v {req.new_type})")
    except Exception as exc:
        raise Unsettled(_first_line(exc)) from None
    try:
        conn.exec_driver_sql(f"INSERT INTO {holder} (v) SELECT {step.quote(column)} FROM "
                             f"{step.table_sql(req.table, req.schema)}")
    except Exception as exc:
        errno = getattr(getattr(exc, "orig", None), "args", (None,))[0]
        if errno in (1265, 1366, 1264, 1292, 1406):  # truncated, incorrect value, out of range, too long
            return _first_line(exc), None
        raise Unsettled(_first_line(exc)) from None
    finally:
        conn.exec_driver_sql(f"DROP TEMPORARY TABLE IF EXISTS {holder}")
        conn.rollback()
    return None
