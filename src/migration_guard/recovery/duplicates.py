"""The exact key a unique index or constraint enforces, and the groups of rows that collide on it.

A key is read from the statement that builds it (PostgreSQL's own parser: the columns and
expressions of CREATE UNIQUE INDEX, its WHERE predicate and NULLS NOT DISTINCT; the columns of
ALTER TABLE ... ADD CONSTRAINT UNIQUE / PRIMARY KEY), or from a live index in the catalog (what
`restore` must not violate). Rows collide the way the index sees them: only rows the predicate
covers, and, in a plain unique index, never rows with a NULL in the key (NULLs are distinct).
Grouping uses the database's own GROUP BY, so equality is the database's equality.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import text

from migration_guard.db.catalog.model import Catalog, Index, Table

SAMPLE = 5
# A key element whose name says it holds personal data or a secret shows masked values.
_SENSITIVE = re.compile(r"e_?mail|token|phone|mobile|passw|secret|ssn|api_?key|card|iban", re.I)


@dataclass
class UniqueKey:
    table: str
    schema: str | None
    elements: list[str]  # SQL of each key element: a quoted column, or an expression as parsed
    labels: list[str]  # what a person reads for each element: the column name or the expression
    columns: list[str | None]  # the bare column name of a plain column element; None for an expression
    predicate: str | None = None  # a partial index's WHERE condition, as SQL
    nulls_distinct: bool = True
    name: str | None = None
    what: str = "unique index"  # unique index, unique constraint, primary key
    not_null: set[str] = field(default_factory=set)  # key columns the catalog shows NOT NULL

    def bind(self, table: Table) -> None:
        """Take the live table's schema and NOT NULL columns (no NULL test is needed for those)."""
        self.schema = table.schema
        self.not_null = {c for c in self.columns if c in table.columns and not table.columns[c].nullable}

    @property
    def sensitive(self) -> list[bool]:
        return [bool(_SENSITIVE.search(label)) for label in self.labels]

    def describe(self) -> str:
        where = f" WHERE {self.predicate}" if self.predicate else ""
        nulls = " NULLS NOT DISTINCT" if not self.nulls_distinct else ""
        return f"({', '.join(self.labels)}){nulls}{where}"

    def filter_sql(self) -> str:
        """The rows the index covers and that can collide: its predicate, and no NULL in the key."""
        parts = [] if not self.nulls_distinct else [
            f"{e} IS NOT NULL" for e, c in zip(self.elements, self.columns, strict=True) if c not in self.not_null]
        if self.predicate:
            parts.append(f"({self.predicate})")
        return " AND ".join(parts)

    def where(self) -> str:
        return f" WHERE {self.filter_sql()}" if self.filter_sql() else ""


@dataclass
class Groups:
    count: int  # groups of two or more rows with the same key
    surplus: int  # rows beyond the first of each group: what a dedupe would remove
    sample: list[tuple[tuple, int]] = field(default_factory=list)  # (key values, rows), biggest first

    def sample_lines(self, key: UniqueKey) -> list[str]:
        names = ", ".join(key.labels)
        return [f"({names})=({', '.join(mask(v, s) for v, s in zip(values, key.sensitive, strict=True))}): "
                f"{n} rows" for values, n in self.sample]


def mask(value, sensitive: bool) -> str:
    if value is None:
        return "NULL"
    shown = str(value)
    if not sensitive:
        return shown if len(shown) <= 60 else shown[:57] + "..."
    return (shown[:1] + "***") if len(shown) > 3 else "***"


def mask_key(key: str) -> str:
    """A driver's `(email, org)=(a@b.c, 2)` with the values of sensitive-looking columns masked. When the
    values cannot be split one per column (a comma inside one), all of them are masked."""
    names, sep, values = key.partition(")=(")
    if not sep or not _SENSITIVE.search(names):
        return key
    labels = [n.strip() for n in names.lstrip("(").split(",")]
    parts = [v.strip() for v in values.rstrip(")").split(",")]
    if len(parts) != len(labels):
        return f"{names})=(***)"
    return f"{names})=({', '.join(mask(v, bool(_SENSITIVE.search(n))) for v, n in zip(parts, labels, strict=True))})"


def qualified(prep, table: str, schema: str | None) -> str:
    name = prep.quote(table)
    return f"{prep.quote_schema(schema)}.{name}" if schema else name


def relation(prep, catalog: Catalog, table: str, schema: str | None) -> str:
    """The table as a FROM item: ONLY for a plain PostgreSQL table, whose unique index does not
    cover inheritance children (a partitioned table's does, and its rows live in the partitions)."""
    live = catalog.table(table, schema)
    only = "ONLY " if catalog.dialect == "postgresql" and live is not None and live.kind == "table" else ""
    return only + qualified(prep, table, live.schema if live else schema)


def find_groups(conn, catalog: Catalog, key: UniqueKey, sample: int = SAMPLE) -> Groups:
    prep = conn.dialect.identifier_preparer
    elements = ", ".join(key.elements)
    aliases = ", ".join(f"mg_k{i}" for i in range(len(key.elements)))
    keyed = ", ".join(f"{e} AS mg_k{i}" for i, e in enumerate(key.elements))
    source = relation(prep, catalog, key.table, key.schema)
    # One pass: the groups, their totals over the whole result, and the biggest few.
    sql = (f"SELECT {aliases}, mg_n, count(*) OVER () AS mg_groups, sum(mg_n - 1) OVER () AS mg_surplus "
           f"FROM (SELECT {keyed}, count(*) AS mg_n FROM {source}{key.where()} "
           f"GROUP BY {elements} HAVING count(*) > 1) g ORDER BY mg_n DESC, {aliases} LIMIT :sample")
    rows = conn.execute(text(sql), {"sample": sample}).all()
    if not rows:
        return Groups(0, 0)
    width = len(key.elements)
    return Groups(int(rows[0][width + 1]), int(rows[0][width + 2]),
                  [(tuple(r[:width]), int(r[width])) for r in rows])


def groups_sql(prep, catalog: Catalog, key: UniqueKey) -> str:
    """The query a human can run to list every duplicate group."""
    source = relation(prep, catalog, key.table, key.schema)
    elements = ", ".join(key.elements)
    return (f"SELECT {elements}, count(*) AS n_rows FROM {source}{key.where()} "
            f"GROUP BY {elements} HAVING count(*) > 1 ORDER BY count(*) DESC;")


# -- reading a key ---------------------------------------------------------------------------------
def from_statement(statement: str, dialect: str, prep) -> UniqueKey | None:
    """The key a CREATE UNIQUE INDEX / ADD CONSTRAINT UNIQUE|PRIMARY KEY statement builds; None for
    any other statement."""
    if dialect != "postgresql":
        return _from_sqlglot(statement, dialect, prep)
    from pglast import ast, enums

    from migration_guard.operations import postgresql as pg

    for node in pg.parse(statement):
        if isinstance(node, ast.IndexStmt) and node.unique:
            elements, labels, columns = [], [], []
            for param in node.indexParams or ():
                if param.name:
                    elements.append(prep.quote(param.name))
                    labels.append(param.name)
                    columns.append(param.name)
                else:
                    expr = pg.deparse(param.expr)
                    elements.append(f"({expr})")
                    labels.append(expr)
                    columns.append(None)
            rel = node.relation
            return UniqueKey(rel.relname, rel.schemaname, elements, labels, columns,
                             predicate=pg.deparse(node.whereClause) if node.whereClause else None,
                             nulls_distinct=not getattr(node, "nulls_not_distinct", False),
                             name=node.idxname, what="unique index")
        if isinstance(node, ast.AlterTableStmt):
            for cmd in node.cmds or ():
                con = cmd.def_
                if cmd.subtype != enums.AlterTableType.AT_AddConstraint or not isinstance(con, ast.Constraint):
                    continue
                if con.contype not in (enums.ConstrType.CONSTR_UNIQUE, enums.ConstrType.CONSTR_PRIMARY):
                    continue
                names = [k.sval for k in con.keys or ()]
                if not names:  # UNIQUE USING INDEX: the index already exists, so no rows can collide
                    continue
                primary = con.contype == enums.ConstrType.CONSTR_PRIMARY
                rel = node.relation
                return UniqueKey(rel.relname, rel.schemaname, [prep.quote(n) for n in names], names,
                                 list(names), nulls_distinct=not getattr(con, "nulls_not_distinct", False),
                                 name=con.conname, what="primary key" if primary else "unique constraint")
    return None


def _from_sqlglot(statement: str, dialect: str, prep) -> UniqueKey | None:
    """MySQL/MariaDB and SQLite: CREATE UNIQUE INDEX (SQLite: expressions and WHERE too) and ALTER TABLE
    ... ADD [CONSTRAINT x] UNIQUE (columns), read by sqlglot."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(statement, read=dialect)
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError):
        return None
    if isinstance(tree, exp.Create) and tree.args.get("unique") and isinstance(tree.this, exp.Index):
        index, params = tree.this, tree.this.args.get("params")
        table = index.args.get("table")
        parts = [o.this if isinstance(o, exp.Ordered) else o for o in (params.args.get("columns") or [])] \
            if params else []
        if table is None or not parts:
            return None
        elements, labels, columns = [], [], []
        for part in parts:
            if isinstance(part, exp.Column):
                elements.append(prep.quote(part.name))
                labels.append(part.name)
                columns.append(part.name)
            elif dialect == "sqlite":  # MySQL's only other key part is a prefix length, which GROUP BY cannot mimic
                elements.append(f"({part.sql(dialect)})")
                labels.append(part.sql(dialect))
                columns.append(None)
            else:
                return None
        where = params.args.get("where")
        return UniqueKey(table.name, table.db or None, elements, labels, columns,
                         predicate=where.this.sql(dialect) if where is not None else None, name=index.name or None)
    if isinstance(tree, exp.Alter) and isinstance(tree.this, exp.Table):
        for action in tree.args.get("actions") or []:
            for con in action.expressions if isinstance(action, exp.AddConstraint) else []:
                name = con.name if isinstance(con, exp.Constraint) else None
                inner = con.expressions if isinstance(con, exp.Constraint) else [con]
                for unique in inner:
                    if isinstance(unique, exp.UniqueColumnConstraint) and isinstance(unique.this, exp.Schema):
                        names = [c.name for c in unique.this.expressions if isinstance(c, exp.Column)]
                        if not names or len(names) != len(unique.this.expressions):
                            return None
                        name = name or (unique.this.this.name if unique.this.this is not None else None)
                        return UniqueKey(tree.this.name, tree.this.db or None, [prep.quote(n) for n in names],
                                         names, list(names), name=name, what="unique constraint")
    return None


def from_columns(table: str, columns: list[str], prep, name: str | None = None) -> UniqueKey:
    """A key known only by its columns (SQLite names them in 'UNIQUE constraint failed: t.a, t.b')."""
    return UniqueKey(table, None, [prep.quote(c) for c in columns], list(columns), list(columns), name=name)


def from_index(index: Index, table: Table, prep) -> UniqueKey:
    """The key a live unique index enforces, as the catalog prints it."""
    elements, columns = [], []
    for element in index.columns:
        if element in table.columns:
            elements.append(prep.quote(element))
            columns.append(element)
        else:
            elements.append(f"({element})")
            columns.append(None)
    key = UniqueKey(table.name, table.schema, elements, list(index.columns), columns,
                    predicate=index.predicate, nulls_distinct="NULLS NOT DISTINCT" not in index.definition,
                    name=index.name, what="primary key" if index.primary else "unique index")
    key.bind(table)
    return key


def primary_key(catalog: Catalog, table: str, schema: str | None) -> list[str] | None:
    """The primary key columns of a table, from the catalog; None when it has none."""
    live = catalog.table(table, schema)
    if live is None:
        return None
    for (s, t, _name), con in catalog.constraints.items():
        if s == live.schema and t == live.name and con.type == "primary":
            return list(con.columns)
    return None
