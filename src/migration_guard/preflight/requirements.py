"""What a statement asks of the rows already in a table, read by the dialect's own parser.

A statement that builds a unique index, sets NOT NULL, adds a foreign key or changes a column's type
succeeds or fails depending on the data, not only on the schema. Each such demand is one
Requirement; the preflight modules check it against the live rows. Expressions are kept as SQL of
the same dialect (deparsed by pglast), so a check can put them in a query as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pglast import ast, enums

from migration_guard.operations import postgresql as pg

# Column types whose values are filled in by the database, so NOT NULL holds for existing rows.
_SELF_FILLING = {"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"}


@dataclass
class Requirement:
    kind: str  # unique, not_null, foreign_key, type_change; added_column (no demand: what existing rows get)
    table: str
    statement: str
    schema: str | None = None
    name: str | None = None  # the index or constraint, when the statement names it
    columns: list[str] = field(default_factory=list)  # column names (None-free); for unique, plain key columns
    keys: list[str] = field(default_factory=list)  # unique: key columns or expressions, as SQL
    predicate: str | None = None  # unique: partial index condition, as SQL
    nulls_distinct: bool = True  # unique: NULLS NOT DISTINCT makes NULL keys collide
    primary: bool = False  # unique: a primary key
    new_column: bool = False  # not_null: the column is added by this statement, with no default
    ref_table: str | None = None  # foreign_key
    ref_schema: str | None = None
    ref_columns: list[str] = field(default_factory=list)  # empty: the referenced table's primary key
    new_type: str | None = None  # type_change: the type as written
    using: str | None = None  # type_change: USING expression, as SQL
    fills: bool = True  # added_column: existing rows get a value (a default, identity, serial), not NULL
    cmd: int = 0  # position of the subcommand in an ALTER TABLE
    object_type: str = "constraint"  # index or constraint, for unique


def of(statement: str, dialect: str, nodes=None) -> list[Requirement]:
    """`nodes`: the statement already parsed by the dialect's parser (read here, never changed)."""
    if dialect == "postgresql":
        return postgresql(statement, nodes)
    if dialect in ("mysql", "mariadb", "sqlite"):
        return sqlglot_dialect(statement, dialect, nodes)
    return []


def postgresql(statement: str, nodes=None) -> list[Requirement]:
    out: list[Requirement] = []
    for node in pg.parse(statement) if nodes is None else nodes:
        if isinstance(node, ast.IndexStmt) and node.unique:
            out.append(_unique_index(node, statement))
        elif isinstance(node, ast.AlterTableStmt) and node.objtype == enums.ObjectType.OBJECT_TABLE:
            rel = node.relation
            for i, cmd in enumerate(node.cmds or ()):
                out.extend(_alter(cmd, rel.relname, rel.schemaname, statement, i))
    return out


def _unique_index(node: ast.IndexStmt, statement: str) -> Requirement:
    keys, columns = [], []
    for param in node.indexParams or ():
        sql = _quote(param.name) if param.name else f"({pg.deparse(param.expr)})"
        if param.collation:
            sql += " COLLATE " + ".".join(_quote(n.sval) for n in param.collation)
        keys.append(sql)
        columns.append(param.name or pg.deparse(param.expr))
    rel = node.relation
    return Requirement("unique", rel.relname, statement, schema=rel.schemaname, name=node.idxname,
                       columns=columns, keys=keys, object_type="index",
                       predicate=pg.deparse(node.whereClause) if node.whereClause is not None else None,
                       nulls_distinct=not getattr(node, "nulls_not_distinct", False))


def _alter(cmd, table: str, schema: str | None, statement: str, i: int) -> list[Requirement]:
    sub = cmd.subtype
    common = {"table": table, "schema": schema, "statement": statement, "cmd": i}
    if sub == enums.AlterTableType.AT_SetNotNull:
        return [Requirement("not_null", columns=[cmd.name], **common)]
    if sub == enums.AlterTableType.AT_AlterColumnType:
        coldef = cmd.def_
        using = pg.deparse(coldef.raw_default) if coldef.raw_default is not None else None
        return [Requirement("type_change", columns=[cmd.name], new_type=pg.deparse(coldef.typeName),
                            using=using, **common)]
    if sub == enums.AlterTableType.AT_AddColumn:
        return _add_column(cmd.def_, common)
    if sub == enums.AlterTableType.AT_AddConstraint:
        return _constraint(cmd.def_, common)
    return []


def _add_column(coldef: ast.ColumnDef, common: dict) -> list[Requirement]:
    kinds = {c.contype for c in coldef.constraints or ()}
    type_name = (coldef.typeName.names[-1].sval if coldef.typeName and coldef.typeName.names else "").lower()
    fills = kinds & {enums.ConstrType.CONSTR_DEFAULT, enums.ConstrType.CONSTR_IDENTITY,
                     enums.ConstrType.CONSTR_GENERATED} or type_name in _SELF_FILLING
    out = [Requirement("added_column", columns=[coldef.colname], fills=bool(fills), new_type=type_name, **common)]
    if kinds & {enums.ConstrType.CONSTR_NOTNULL, enums.ConstrType.CONSTR_PRIMARY} and not fills:
        # Every existing row gets NULL in the new column, which NOT NULL then rejects.
        out.append(Requirement("not_null", columns=[coldef.colname], new_column=True, new_type=type_name, **common))
    return out


def _constraint(con: ast.Constraint, common: dict) -> list[Requirement]:
    if con.skip_validation:  # NOT VALID: existing rows are not checked
        return []
    names = [n.sval for n in con.keys or () if isinstance(n, ast.String)]
    if con.contype in (enums.ConstrType.CONSTR_PRIMARY, enums.ConstrType.CONSTR_UNIQUE):
        if getattr(con, "indexname", None):  # USING INDEX: the index already holds the rows
            return []
        keys = [_quote(n) for n in names]
        primary = con.contype == enums.ConstrType.CONSTR_PRIMARY
        out = [Requirement("unique", name=con.conname, columns=names, keys=keys, primary=primary,
                           nulls_distinct=not getattr(con, "nulls_not_distinct", False), **common)]
        if primary:
            out = [Requirement("not_null", name=con.conname, columns=[n], **common) for n in names] + out
        return out
    if con.contype == enums.ConstrType.CONSTR_FOREIGN and con.fk_matchtype in ("s", "\x00", None):
        ref = con.pktable
        return [Requirement("foreign_key", name=con.conname,
                            columns=[n.sval for n in con.fk_attrs or ()],
                            ref_table=ref.relname, ref_schema=ref.schemaname,
                            ref_columns=[n.sval for n in con.pk_attrs or ()], **common)]
    return []


def _quote(name: str) -> str:
    """A column name as PostgreSQL must read it back (quoted unless it is a plain lower-case word)."""
    from pglast.stream import RawStream

    node = ast.ColumnRef(fields=(ast.String(sval=name),))
    return RawStream()(node)


# -- MySQL/MariaDB and SQLite (sqlglot) ---------------------------------------------------------------
def sqlglot_dialect(statement: str, dialect: str, trees=None) -> list[Requirement]:
    """What MySQL/MariaDB and SQLite check against existing rows when a statement runs.

    Both check a new unique index or key against the rows. MySQL (InnoDB) also checks a new foreign key
    and, in strict mode, a MODIFY that makes a column NOT NULL or converts its values; SQLite has no
    ALTER for those (Alembic rebuilds the table, and the copy is a data step).
    """
    from sqlglot import exp

    from migration_guard.operations import _sqlglot as sg

    out: list[Requirement] = []
    for node in sg.parse(statement, dialect) if trees is None else trees:
        if isinstance(node, exp.Create) and str(node.args.get("kind") or "").upper() == "INDEX" \
                and node.args.get("unique") and isinstance(node.this, exp.Index):
            index = node.this
            params = index.args.get("params")
            if params is not None and params.args.get("where") is not None:
                continue  # a partial index: its rows are not read here
            schema, table = sg._table(index.args.get("table"))
            columns = sg._column_names(params.args.get("columns") if params else ())
            out.append(Requirement("unique", table, statement, schema=schema, name=index.name, columns=columns,
                                   keys=[_sg_key(c, dialect) for c in columns], object_type="index"))
        elif isinstance(node, exp.Alter) and str(node.args.get("kind") or "").upper() == "TABLE":
            schema, table = sg._table(node.this)
            for i, action in enumerate(node.args.get("actions") or ()):
                common = {"table": table, "schema": schema, "statement": statement, "cmd": i}
                out.extend(_sg_action(action, dialect, common, exp, sg))
    return out


def _sg_action(action, dialect: str, common: dict, exp, sg) -> list[Requirement]:
    if isinstance(action, exp.AddConstraint):
        out = []
        for part in action.expressions:
            name = part.name if isinstance(part, exp.Constraint) else None
            inner = part.expressions[0] if isinstance(part, exp.Constraint) and part.expressions else part
            if isinstance(inner, exp.UniqueColumnConstraint) and isinstance(inner.this, exp.Schema):
                columns = sg._column_names(inner.this.expressions)
                out.append(Requirement("unique", name=name or inner.this.name or None, columns=columns,
                                       keys=[_sg_key(c, dialect) for c in columns], **common))
            elif isinstance(inner, exp.PrimaryKey):
                columns = sg._column_names(inner.expressions)
                out += [Requirement("not_null", columns=[c], **common) for c in columns]
                out.append(Requirement("unique", name="PRIMARY", columns=columns, primary=True,
                                       keys=[_sg_key(c, dialect) for c in columns], **common))
            elif isinstance(inner, exp.ForeignKey) and dialect in ("mysql", "mariadb"):
                ref = inner.args.get("reference")
                if ref is None or not isinstance(ref.this, exp.Schema):
                    continue
                ref_schema, ref_table = sg._table(ref.this)
                out.append(Requirement("foreign_key", name=name, columns=sg._column_names(inner.expressions),
                                       ref_table=ref_table, ref_schema=ref_schema,
                                       ref_columns=sg._column_names(ref.this.expressions), **common))
        return out
    if isinstance(action, exp.ModifyColumn) and dialect in ("mysql", "mariadb"):
        coldef = action.this
        old = action.args.get("rename_from")
        column = old.name if old is not None else coldef.name
        out = [Requirement("type_change", columns=[column], new_type=coldef.args["kind"].sql(dialect),
                           **common)] if coldef.args.get("kind") is not None else []
        not_null = any(isinstance(c.kind, exp.NotNullColumnConstraint) and not c.kind.args.get("allow_null")
                       for c in coldef.args.get("constraints") or ())
        if not_null:
            out.insert(0, Requirement("not_null", columns=[column], **common))
        return out
    if isinstance(action, exp.ColumnDef):
        fills = any(isinstance(c.kind, (exp.DefaultColumnConstraint, exp.AutoIncrementColumnConstraint,
                                        exp.GeneratedAsIdentityColumnConstraint, exp.ComputedColumnConstraint))
                    for c in action.args.get("constraints") or ())
        # MySQL gives existing rows the type's implicit default even for NOT NULL: only NULL-able
        # columns without a default are NULL in every row.
        nullable = not any(isinstance(c.kind, exp.NotNullColumnConstraint) and not c.kind.args.get("allow_null")
                           for c in action.args.get("constraints") or ())
        return [Requirement("added_column", columns=[action.name], fills=fills or not nullable, **common)]
    return []


def _sg_key(column: str, dialect: str) -> str:
    from sqlglot import exp

    return exp.column(column, quoted=True).sql(dialect)
