"""What a statement would create, as PostgreSQL itself would store it.

Comparing definitions as text fails in both directions (`int` vs `integer`, `CHECK (a IN ('x'))`
vs `CHECK (((a)::text = ANY (...)))`). So the failing statement is replayed against a temporary
copy of its table (`CREATE TEMP TABLE ... (LIKE ...)`), inside a transaction that is always rolled
back, and the database's own catalog functions (format_type, pg_get_expr, pg_get_indexdef,
pg_get_constraintdef, pg_get_viewdef) describe the result. Nothing outside the session's
temporary schema is touched; short lock and statement timeouts keep production traffic unblocked.
"""

from __future__ import annotations

import re

from pglast import ast, enums
from sqlalchemy import text
from sqlalchemy.engine import Connection

from migration_guard.db.catalog.model import Catalog, Index
from migration_guard.db.shadow.base import BaseShadow, ColumnShape
from migration_guard.operations import Effect
from migration_guard.operations import postgresql as pg

_KEEP_COLUMN_CONSTRAINTS = {enums.ConstrType.CONSTR_NOTNULL, enums.ConstrType.CONSTR_NULL,
                            enums.ConstrType.CONSTR_DEFAULT, enums.ConstrType.CONSTR_IDENTITY,
                            enums.ConstrType.CONSTR_GENERATED}
_NEXTVAL = re.compile(r"nextval\('[^']*'::regclass\)")
_COLUMNS_SQL = text(
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, "
    "CASE a.attgenerated WHEN '' THEN pg_get_expr(d.adbin, 0) ELSE pg_get_expr(d.adbin, d.adrelid) END "
    "FROM pg_attribute a "
    "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
    "WHERE a.attrelid = CAST(:rel AS regclass) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
)


def normalize_default(expr: str | None) -> str | None:
    """Sequence defaults name their sequence; two serial columns match whatever it is called."""
    return _NEXTVAL.sub("nextval(<sequence>)", expr) if expr else expr


class Shadow(BaseShadow):
    def __init__(self, conn: Connection):
        super().__init__(conn)

    def __enter__(self) -> Shadow:
        self._tx = self.conn.begin()
        self.conn.execute(text("SET LOCAL lock_timeout = '3s'"))
        self.conn.execute(text("SET LOCAL statement_timeout = '20s'"))
        return self

    def __exit__(self, *exc) -> None:
        self._tx.rollback()

    def _attempt(self, steps) -> list | None:
        """Run statements in a savepoint; the last one's rows, or None when PostgreSQL refuses."""
        savepoint = self.conn.begin_nested()
        try:
            rows = None
            for sql, params in steps:
                result = self.conn.execute(text(sql) if isinstance(sql, str) else sql, params or {})
                rows = result.fetchall() if result.returns_rows else None
            return rows
        except Exception as exc:  # the replay itself may fail: that is evidence of nothing
            self._failed(exc)
            return None
        finally:
            savepoint.rollback()

    def _qualified(self, effect: Effect) -> str:
        prep = self.conn.dialect.identifier_preparer
        table = prep.quote(effect.table or effect.name)
        return f"{prep.quote_schema(effect.schema)}.{table}" if effect.schema else table

    def _node(self, effect: Effect):
        nodes = pg.parse(effect.statement)
        return nodes[0] if len(nodes) == 1 else None

    # -- columns ------------------------------------------------------------------------------------
    def column(self, effect: Effect) -> ColumnShape | None:
        """Type, nullability and default of the column an ADD COLUMN would create."""
        node = self._node(effect)
        if not isinstance(node, ast.AlterTableStmt):
            return None
        cmd = node.cmds[effect.cmd]
        coldef = cmd.def_
        coldef.constraints = tuple(c for c in coldef.constraints or () if c.contype in _KEEP_COLUMN_CONSTRAINTS)
        shadow = self._name()
        node.relation = ast.RangeVar(relname=shadow, inh=True, relpersistence="p")
        node.cmds = (cmd,)
        cmd.missing_ok = False
        prep = self.conn.dialect.identifier_preparer
        rows = self._attempt([
            (f"CREATE TEMP TABLE {shadow} (LIKE {self._qualified(effect)})", None),
            (f"ALTER TABLE {shadow} DROP COLUMN IF EXISTS {prep.quote(effect.name)}", None),
            (pg.deparse(node), None),
            (_COLUMNS_SQL, {"rel": f"pg_temp.{shadow}"}),
        ])
        for name, type_, nullable, default in rows or ():
            if name == effect.name:
                return ColumnShape(type_, nullable, normalize_default(default))
        return None

    def table_columns(self, effect: Effect) -> dict[str, ColumnShape] | None:
        node = self._node(effect)
        if not isinstance(node, ast.CreateStmt):
            return None
        shadow = self._name()
        node.relation = ast.RangeVar(relname=shadow, inh=True, relpersistence="t")
        node.if_not_exists = False
        node.inhRelations = None
        node.tablespacename = None
        elements = []
        for element in node.tableElts or ():
            if isinstance(element, ast.Constraint):
                if element.contype == enums.ConstrType.CONSTR_FOREIGN:
                    continue  # a temporary table may not reference a permanent one
            elif isinstance(element, ast.ColumnDef):
                element.constraints = tuple(c for c in element.constraints or ()
                                            if c.contype != enums.ConstrType.CONSTR_FOREIGN)
            elements.append(element)
        node.tableElts = tuple(elements)
        rows = self._attempt([(pg.deparse(node), None), (_COLUMNS_SQL, {"rel": f"pg_temp.{shadow}"})])
        if rows is None:
            return None
        return {name: ColumnShape(type_, nullable, normalize_default(default))
                for name, type_, nullable, default in rows}

    # -- indexes, constraints, views ------------------------------------------------------------------
    def index_definition(self, effect: Effect) -> str | None:
        node = self._node(effect)
        if not isinstance(node, ast.IndexStmt):
            return None
        shadow, index = self._name(), self._name()
        node.relation = ast.RangeVar(relname=shadow, inh=True, relpersistence="p")
        node.idxname, node.concurrent, node.if_not_exists, node.tableSpace = index, False, False, None
        rows = self._attempt([
            (f"CREATE TEMP TABLE {shadow} (LIKE {self._qualified(effect)})", None),
            (pg.deparse(node), None),
            ("SELECT pg_get_indexdef(CAST(:ix AS regclass))", {"ix": f"pg_temp.{index}"}),
        ])
        return comparable_index(rows[0][0]) if rows else None

    def constraint_definition(self, effect: Effect) -> str | None:
        node = self._node(effect)
        if not isinstance(node, ast.AlterTableStmt):
            return None
        shadow = self._name()
        node.relation = ast.RangeVar(relname=shadow, inh=True, relpersistence="p")
        node.cmds = (node.cmds[effect.cmd],)
        rows = self._attempt([
            (f"CREATE TEMP TABLE {shadow} (LIKE {self._qualified(effect)})", None),
            (pg.deparse(node), None),
            ("SELECT pg_get_constraintdef(oid, true) FROM pg_constraint "
             "WHERE conrelid = CAST(:rel AS regclass) AND conname = :name",
             {"rel": f"pg_temp.{shadow}", "name": effect.name}),
        ])
        return rows[0][0] if rows else None

    def view_definition(self, effect: Effect) -> str | None:
        node = self._node(effect)
        if not isinstance(node, ast.ViewStmt):
            return None
        shadow = self._name()
        node.view = ast.RangeVar(relname=shadow, inh=True, relpersistence="t")
        node.replace = False
        rows = self._attempt([
            (pg.deparse(node), None),
            ("SELECT pg_get_viewdef(CAST(:v AS regclass))", {"v": f"pg_temp.{shadow}"}),
        ])
        return rows[0][0] if rows else None

    def live_column(self, effect: Effect, catalog: Catalog) -> ColumnShape | None:
        col = catalog.column(effect.table or "", effect.name, effect.schema)
        return None if col is None else ColumnShape(col.type, col.nullable, normalize_default(col.default))

    def live_index_definition(self, effect: Effect, index: Index) -> str | None:
        return comparable_index(index.definition)

    def live_view_definition(self, effect: Effect) -> str | None:
        rows = self._attempt([("SELECT pg_get_viewdef(CAST(:v AS regclass))",
                               {"v": self._qualified(effect).replace('"', '"')})])
        return rows[0][0] if rows else None


def comparable_index(definition: str) -> str:
    """An index definition without its own name and table, so two indexes can be compared."""
    nodes = pg.parse(definition)
    if len(nodes) != 1 or not isinstance(nodes[0], ast.IndexStmt):
        return definition
    node = nodes[0]
    node.idxname = None
    node.relation = ast.RangeVar(relname="t", inh=True, relpersistence="p")
    return pg.deparse(node)
