"""What a statement would create on SQLite, read the way SQLite reads the live object.

SQLite keeps a column's declared type as written and compares nothing itself, so the statement is
replayed on a TEMP table (the user's text with only the table name changed, positions from sqlglot's
tokenizer) and both sides are read with the same pragmas:
- a column: declared type (case and spacing normalized: `varchar( 255 )` is `VARCHAR(255)`, but
  `INT` is not `INTEGER`), NOT NULL, the default's text, and its COLLATE;
- a table: each column's declared type and NOT NULL;
- an index: uniqueness, key columns in order with DESC and collation, expressions and the WHERE of a
  partial index (both as sqlglot prints them), replayed on a TEMP copy made from the table's own DDL.
A view compares its SELECT as sqlglot prints both. TEMP objects live in the connection's own temp
database, never in the database file, and are dropped at once.
"""

from __future__ import annotations

import contextlib
import re

from sqlglot import exp
from sqlglot.tokens import TokenType

from migration_guard.db.catalog.model import Catalog, Index
from migration_guard.db.shadow.base import BaseShadow, ColumnShape
from migration_guard.operations import Effect
from migration_guard.operations._sqlglot import Tokens, parse, replace

_SPACES = re.compile(r"\s+")
_AROUND = re.compile(r"\s*([(),])\s*")


def declared_type(raw: str | None) -> str:
    """A declared type as SQLite would compare nothing but a person reads it: case and spacing only."""
    return _AROUND.sub(r"\1", _SPACES.sub(" ", (raw or "").strip())).upper()


class SQLiteShadow(BaseShadow):
    def _q(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def _run(self, steps: list[str], read, temporary: list[str]):
        try:
            for sql in steps:
                self.conn.exec_driver_sql(sql)
            return read()
        except Exception as exc:  # a replay SQLite refuses is evidence of nothing
            self._failed(exc)
            return None
        finally:
            for name in temporary:
                with contextlib.suppress(Exception):
                    self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{self._q(name)}")

    def _rows(self, sql: str, *params) -> list:
        return list(self.conn.exec_driver_sql(sql, params).fetchall()) if params else \
            list(self.conn.exec_driver_sql(sql).fetchall())

    def _ddl(self, schema: str, kind: str, name: str) -> str | None:
        master = "sqlite_temp_master" if schema == "temp" else f"{self._q(schema)}.sqlite_master"
        rows = self._rows(f"SELECT sql FROM {master} WHERE type = ? AND name = ? COLLATE NOCASE", kind, name)
        return rows[0][0] if rows else None

    # -- columns ------------------------------------------------------------------------------------
    def _columns(self, schema: str, table: str) -> dict[str, ColumnShape]:
        collations = _collations(self._ddl(schema, "table", table) or "")
        out = {}
        pragma = f"PRAGMA {self._q(schema)}.table_info({self._q(table)})"
        for _cid, name, type_, notnull, default, _pk in self._rows(pragma):
            collate = collations.get(name.casefold(), "")
            out[name] = ColumnShape(declared_type(type_), not notnull, default.strip() if default else default,
                                    (("collate", collate),) if collate else ())
        return out

    @staticmethod
    def _find(columns: dict[str, ColumnShape] | None, name: str) -> ColumnShape | None:
        return next((shape for col, shape in (columns or {}).items() if col.casefold() == name.casefold()), None)

    def _retarget(self, statement: str, keyword: TokenType, skip: tuple[str, ...], target: str) -> str | None:
        """The statement with the name after `keyword` (ALTER TABLE x, CREATE TABLE x) replaced by target."""
        tk = Tokens(statement, "sqlite")
        at = tk.find(keyword)
        found = tk.name_at(tk.skip_words(at + 1, *skip)) if at is not None else None
        return replace(statement, found[0], target) if found else None

    def column(self, effect: Effect) -> ColumnShape | None:
        copy = self._name()
        replay = self._retarget(effect.statement, TokenType.TABLE, (), f"temp.{self._q(copy)}")
        if replay is None:
            return None
        columns = self._run([f"CREATE TEMP TABLE {self._q(copy)} (mg_shadow_key INTEGER)", replay],
                            lambda: self._columns("temp", copy), [copy])
        return self._find(columns, effect.name)

    def live_column(self, effect: Effect, catalog: Catalog) -> ColumnShape | None:
        return self._find(self._columns(effect.schema or "main", effect.table or ""), effect.name)

    def table_columns(self, effect: Effect) -> dict[str, ColumnShape] | None:
        copy = self._name()
        replay = self._retarget(effect.statement, TokenType.TABLE, ("IF", "NOT", "EXISTS"), f"temp.{self._q(copy)}")
        if replay is None:
            return None
        return self._run([replay], lambda: self._columns("temp", copy), [copy])

    def live_table_columns(self, effect: Effect, catalog: Catalog) -> dict[str, ColumnShape] | None:
        return self._columns(effect.schema or "main", effect.name) or None

    # -- indexes --------------------------------------------------------------------------------------
    def _index(self, schema: str, table: str, name: str) -> str | None:
        listed = [r for r in self._rows(f"PRAGMA {self._q(schema)}.index_list({self._q(table)})")
                  if r[1].casefold() == name.casefold()]
        if not listed:
            return None
        unique, partial = bool(listed[0][2]), bool(listed[0][4])
        keys = [r for r in self._rows(f"PRAGMA {self._q(schema)}.index_xinfo({self._q(listed[0][1])})") if r[5]]
        params, where = _index_parts(self._ddl(schema, "index", name) or "")
        terms = []
        for i, (_seq, cid, column, desc, collation, _key) in enumerate(keys):
            if cid == -2:  # an expression key: as sqlglot prints it from the stored DDL
                if params is None or i >= len(params):
                    return None
                column = params[i]
            terms.append(column + (" DESC" if desc else "") +
                         (f" COLLATE {collation}" if collation and collation.upper() != "BINARY" else ""))
        if partial and where is None:
            return None
        return f"{'UNIQUE ' if unique else ''}INDEX ({', '.join(terms)}){f' WHERE {where}' if where else ''}"

    def index_definition(self, effect: Effect) -> str | None:
        table_ddl = self._ddl(effect.schema or "main", "table", effect.table or "")
        copy, index = self._name(), self._name()
        setup = self._retarget(table_ddl or "", TokenType.TABLE, ("IF", "NOT", "EXISTS"), f"temp.{self._q(copy)}")
        tk = Tokens(effect.statement, "sqlite")
        at, on = tk.find(TokenType.INDEX), tk.find(TokenType.ON)
        name = tk.name_at(tk.skip_words(at + 1, "IF", "NOT", "EXISTS")) if at is not None else None
        table = tk.name_at(on + 1) if on is not None else None
        if setup is None or name is None or table is None:
            return None
        # SQLite puts an index in its table's schema: name the index temp.x and the table bare.
        replay = replace(replace(tk.sql, table[0], self._q(copy)), name[0], f"temp.{self._q(index)}")
        return self._run([setup, replay], lambda: self._index("temp", copy, index), [copy])

    def live_index_definition(self, effect: Effect, index: Index) -> str | None:
        return self._index(index.schema or "main", index.table, index.name)

    # -- views ----------------------------------------------------------------------------------------
    def view_definition(self, effect: Effect) -> str | None:
        return _select_of(effect.statement)

    def live_view_definition(self, effect: Effect) -> str | None:
        return _select_of(self._ddl(effect.schema or "main", "view", effect.name) or "")


def _collations(create_table: str) -> dict[str, str]:
    trees = parse(create_table, "sqlite")
    if not trees or not isinstance(trees[0].this, exp.Schema):
        return {}
    out = {}
    for col in trees[0].this.expressions:
        if isinstance(col, exp.ColumnDef):
            for constraint in col.constraints:
                if isinstance(constraint.kind, exp.CollateColumnConstraint):
                    out[col.name.casefold()] = constraint.kind.this.name.upper()
    return out


def _index_parts(create_index: str) -> tuple[list[str] | None, str | None]:
    """Key terms and WHERE of a stored CREATE INDEX, as sqlglot prints them; (None, None) unreadable."""
    trees = parse(create_index, "sqlite")
    if not trees or not isinstance(trees[0].this, exp.Index):
        return None, None
    params = trees[0].this.args.get("params")
    columns = [c.this if isinstance(c, exp.Ordered) else c for c in (params.args.get("columns") or [])] \
        if params else []
    where = params.args.get("where") if params else None
    if isinstance(where, exp.Where):
        where = where.this
    return [c.sql(dialect="sqlite") for c in columns], (where.sql(dialect="sqlite") if where is not None else None)


def _select_of(create_view: str) -> str | None:
    trees = parse(create_view, "sqlite")
    if not trees or not isinstance(trees[0], exp.Create) or trees[0].expression is None:
        return None
    return trees[0].expression.sql(dialect="sqlite")
