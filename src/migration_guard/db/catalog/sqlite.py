"""SQLite catalog snapshot: sqlite_master joined with the pragma table-valued functions.

Four queries, whatever the number of tables: `pragma_table_xinfo`, `pragma_index_list` +
`pragma_index_info` and `pragma_foreign_key_list` are joined to sqlite_master, so one query
covers every table. What the pragmas do not report (constraint names, CHECK expressions,
generated-column expressions, AUTOINCREMENT, index key expressions and partial-index predicates)
is read from the stored DDL text by `sqlite_ddl`.

Only the `main` database is read. Types are as declared (SQLite does not normalise them).
SQLite names a constraint only when the DDL does; unnamed ones get PostgreSQL-style names
(`t_pkey`, `t_a_b_key`, `t_col_fkey`, `t_col_check`, `t_check1`) so that every constraint has a
key in the snapshot. There are no sequences, enums or user types.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict

from sqlalchemy import exc, text
from sqlalchemy.engine import Connection

from . import sqlite_ddl
from .model import Catalog, Column, Constraint, Index, Table

_USER = "m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"

_OBJECTS = text(f"SELECT m.type, m.name, m.tbl_name, m.sql FROM sqlite_master m WHERE {_USER}")

# hidden: 0 ordinary, 1 hidden column of a virtual table, 2/3 virtual/stored generated column.
_COLUMNS = f"""
SELECT m.name, p.name, p.type, p."notnull", p.dflt_value, p.pk, p.hidden
FROM sqlite_master m JOIN pragma_table_xinfo(m.name) p
WHERE m.type IN ({{types}}) AND {_USER} AND p.hidden <> 1
ORDER BY m.name, p.cid
"""

_VIEW_COLUMNS = text(
    'SELECT :v, name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(:v) ORDER BY cid'
)

# cid -2 is an expression key, -1 the rowid.
_INDEXES = text(f"""
SELECT m.name, il.name, il."unique", il.origin, il.partial, ii.cid, ii.name
FROM sqlite_master m
JOIN pragma_index_list(m.name) il
JOIN pragma_index_info(il.name) ii
WHERE m.type = 'table' AND {_USER}
ORDER BY m.name, il.name, ii.seqno
""")

_FOREIGN_KEYS = text(f"""
SELECT m.name, f.id, f."table", f."from", f."to", f.on_update, f.on_delete
FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
WHERE m.type = 'table' AND {_USER}
ORDER BY m.name, f.id, f.seq
""")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _cols(names: list[str]) -> str:
    return ", ".join(_q(c) for c in names)


def snapshot(conn: Connection) -> Catalog:
    cat = Catalog(dialect="sqlite", search_path=["main"])
    ddl: dict[str, sqlite_ddl.TableDDL] = {}
    index_sql: dict[str, str] = {}
    for kind, name, _, sql in conn.execute(_OBJECTS).all():
        if kind in ("table", "view"):
            cat.tables[("main", name)] = Table("main", name, kind)
            if kind == "table":
                ddl[name] = sqlite_ddl.parse_table(sql)
        elif kind == "index" and sql:
            index_sql[name] = sql

    rows = _column_rows(conn, cat)
    pk_cols: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for table, name, _, _, _, pk, _ in rows:
        if pk and cat.tables[("main", table)].kind == "table":
            pk_cols[table].append((pk, name))
    for table, name, typ, notnull, default, pk, hidden in rows:
        t = cat.tables[("main", table)]
        spec = ddl.get(table) or sqlite_ddl.TableDDL()
        # A lone INTEGER PRIMARY KEY is the rowid and a WITHOUT ROWID table's key is NOT NULL:
        # neither can hold NULL, whatever the notnull flag says.
        implied = (
            bool(pk)
            and t.kind == "table"
            and (spec.without_rowid or (len(pk_cols[table]) == 1 and typ.upper() == "INTEGER"))
        )
        t.columns[name] = Column(
            name=name,
            type=typ,
            nullable=not (notnull or implied),
            default=default,
            position=len(t.columns) + 1,
            generated=spec.generated.get(name) if hidden in (2, 3) else None,
            identity="autoincrement" if name in spec.autoincrement else None,
        )

    for table, cols in pk_cols.items():
        names = [n for _, n in sorted(cols)]
        _add(cat, ddl, table, "primary", names, f"PRIMARY KEY ({_cols(names)})")

    _read_indexes(conn, cat, ddl, index_sql)
    _read_foreign_keys(conn, cat, ddl)
    for table, spec in ddl.items():
        unnamed = 0
        for check in spec.checks:
            name = check.name
            if name is None and check.column is not None:
                name = f"{table}_{check.column}_check"
            elif name is None:
                unnamed += 1
                name = f"{table}_check{unnamed}"
            cols = [check.column] if check.column else _columns_named(check.names, cat.table(table))
            cat.constraints[("main", table, name)] = Constraint(
                "main", name, table, "check", cols, f"CHECK ({check.expression})"
            )
    return cat


def _columns_named(names: list[str], table: Table) -> list[str]:
    """The columns of `table` among the identifiers of an expression, in order of first mention."""
    return list(dict.fromkeys(n for n in names if n in table.columns))


def _column_rows(conn: Connection, cat: Catalog) -> list:
    try:
        return conn.execute(text(_COLUMNS.format(types="'table', 'view'"))).all()
    except exc.OperationalError:
        # A view over a dropped table makes pragma_table_xinfo fail for the whole join: read the
        # tables in one query and the views one by one, leaving a broken view without columns.
        rows = list(conn.execute(text(_COLUMNS.format(types="'table'"))).all())
        for (_, name), t in cat.tables.items():
            if t.kind != "view":
                continue
            with contextlib.suppress(exc.OperationalError):
                rows += conn.execute(_VIEW_COLUMNS, {"v": name}).all()
        return rows


def _add(cat: Catalog, ddl: dict, table: str, kind: str, cols: list[str], definition: str, **kw) -> None:
    """Record a constraint under its declared name, or a PostgreSQL-style one if it has none."""
    spec = ddl.get(table)
    name = spec.constraint_names.get((kind, tuple(cols))) if spec else None
    if name is None:
        suffix = {"primary": "pkey", "unique": "key", "foreign": "fkey"}[kind]
        name = f"{table}_pkey" if kind == "primary" else f"{table}_{'_'.join(cols)}_{suffix}"
    cat.constraints[("main", table, name)] = Constraint("main", name, table, kind, cols, definition, **kw)


def _read_indexes(conn: Connection, cat: Catalog, ddl: dict, index_sql: dict[str, str]) -> None:
    keys: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for table, name, unique, origin, partial, cid, column in conn.execute(_INDEXES).all():
        keys[(table, name)].append((bool(unique), origin, partial, cid, column))
    for (table, name), parts in keys.items():
        unique, origin, partial = parts[0][:3]
        sql = index_sql.get(name)
        # Only expression keys and partial indexes need the CREATE INDEX text read.
        needs_text = sql and (partial or any(p[3] == -2 for p in parts))
        terms, predicate = sqlite_ddl.parse_index(sql) if needs_text else ([], None)
        columns = [
            column if cid >= 0 else ("rowid" if cid == -1 else (terms[k] if k < len(terms) else "?"))
            for k, (_, _, _, cid, column) in enumerate(parts)
        ]
        # An automatic index has no SQL: the table's clause that made it is its definition.
        definition = sql or f"{'PRIMARY KEY' if origin == 'pk' else 'UNIQUE'} ({_cols(columns)})"
        cat.indexes[("main", name)] = Index(
            "main", name, table, columns, unique, origin == "pk", predicate, definition
        )
        if origin == "u":  # a UNIQUE constraint, which SQLite enforces through this index
            _add(cat, ddl, table, "unique", columns, f"UNIQUE ({_cols(columns)})")


def _read_foreign_keys(conn: Connection, cat: Catalog, ddl: dict) -> None:
    fks: dict[tuple[str, int], list[tuple]] = defaultdict(list)
    for table, fk_id, ref_table, col, ref_col, on_update, on_delete in conn.execute(_FOREIGN_KEYS).all():
        fks[(table, fk_id)].append((ref_table, col, ref_col, on_update, on_delete))
    # SQLite matches table names without regard to case; REFERENCES may spell them either way.
    primaries = {c.table.lower(): c.columns for c in cat.constraints.values() if c.type == "primary"}
    for (table, _), rows in fks.items():
        ref_table, on_update, on_delete = rows[0][0], rows[0][3], rows[0][4]
        cols = [r[1] for r in rows]
        ref_cols = [r[2] for r in rows]
        if any(c is None for c in ref_cols):  # REFERENCES t without columns: t's primary key
            ref_cols = list(primaries.get(ref_table.lower(), []))
        definition = f"FOREIGN KEY ({_cols(cols)}) REFERENCES {_q(ref_table)} ({_cols(ref_cols)})"
        for verb, rule in (("DELETE", on_delete), ("UPDATE", on_update)):
            if rule and rule != "NO ACTION":  # RESTRICT is not NO ACTION in SQLite: it acts at once
                definition += f" ON {verb} {rule}"
        spec = ddl.get(table)
        for fk in spec.foreign_keys if spec else []:
            if fk.name and fk.columns == cols and fk.ref_table.lower() == ref_table.lower():
                spec.constraint_names[("foreign", tuple(cols))] = fk.name
        refs = {"ref_table": ref_table, "ref_columns": ref_cols, "ref_schema": "main"}
        _add(cat, ddl, table, "foreign", cols, definition, **refs)
