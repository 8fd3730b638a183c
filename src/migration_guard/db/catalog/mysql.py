"""MySQL / MariaDB catalog snapshot: seven information_schema queries for the connected database.

Only the database the connection uses (`DATABASE()`) is read: that is where a migration tool
creates its objects, and reading every schema on a shared server would cost time for nothing.
Each query reads one information_schema table for the whole database, never one table at a
time, and none joins another: MariaDB evaluates a join of information_schema views row by row.
Rows come back flat, in order, and are grouped here: MySQL's JSON_ARRAYAGG cannot be ordered and
GROUP_CONCAT truncates at group_concat_max_len, so server-side lists would be either unordered or
silently cut.

MySQL has no named types, enums or (except MariaDB) sequences: an ENUM's labels are part of the
column's COLUMN_TYPE. Index names are unique per table only, so indexes are keyed
`(database, "table.index")` (see model.py). Index and constraint definitions are rebuilt from the
catalog rows in MySQL syntax, since MySQL has no pg_get_indexdef.
"""

from __future__ import annotations

import re
from collections import defaultdict

from sqlalchemy import text
from sqlalchemy.engine import Connection

from .model import Catalog, Column, Constraint, Index, Sequence, Table

_TABLES = text("""
SELECT DATABASE(), TABLE_NAME, TABLE_TYPE, TABLE_ROWS
FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
""")

_COLUMNS = text("""
SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, GENERATION_EXPRESSION
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, ORDINAL_POSITION
""")

# EXPRESSION (a functional key part) exists from MySQL 8.0.13; MariaDB has no functional indexes.
_STATISTICS = """
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE, {expression}
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
"""

_TABLE_CONSTRAINTS = text("""
SELECT TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE
FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = DATABASE()
""")

# Key columns of PRIMARY KEY, UNIQUE and FOREIGN KEY constraints.
_KEY_COLUMNS = text("""
SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME,
       REFERENCED_COLUMN_NAME
FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION
""")

# Referential actions of foreign keys, for their definitions. A query of its own: joined to
# KEY_COLUMN_USAGE, MariaDB rebuilds this view for every row (2 s on 2,000 tables, not 20 ms).
_FK_RULES = text("""
SELECT TABLE_NAME, CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE
FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()
""")

# CHECK_CONSTRAINTS exists from MariaDB 10.2.22 / 10.3.10 and MySQL 8.0.16. MariaDB names checks
# per table (a column-level check is named after its column) and has TABLE_NAME; MySQL names them
# per schema and has no TABLE_NAME, so there the table comes from TABLE_CONSTRAINTS.
_CHECKS = """
SELECT {table_name}, CONSTRAINT_NAME, CHECK_CLAUSE
FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()
"""

_CONSTRAINT_KINDS = {
    "PRIMARY KEY": "primary",
    "UNIQUE": "unique",
    "FOREIGN KEY": "foreign",
    "CHECK": "check",
}

_BACKQUOTED = re.compile(r"`((?:[^`]|``)+)`")


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _has_checks(conn: Connection, mariadb: bool) -> bool:
    version = conn.dialect.server_version_info or (0,)
    if mariadb:
        return version >= (10, 3, 10) or (10, 2, 22) <= version < (10, 3)
    return version >= (8, 0, 16)


def snapshot(conn: Connection) -> Catalog:
    mariadb = bool(getattr(conn.dialect, "is_mariadb", False))
    cat = Catalog(dialect="mariadb" if mariadb else "mysql")
    rows = conn.execute(_TABLES).all()
    db = rows[0][0] if rows else conn.execute(text("SELECT DATABASE()")).scalar()
    if db is None:
        return cat  # no database selected: nothing a migration could have created
    cat.search_path = [db]
    for _, name, table_type, table_rows in rows:
        if table_type == "SEQUENCE":  # MariaDB sequences are tables in information_schema
            cat.sequences[(db, name)] = Sequence(schema=db, name=name)
            continue
        kind = "view" if table_type == "VIEW" else "table"
        estimate = int(table_rows) if table_rows is not None and kind == "table" else None
        cat.tables[(db, name)] = Table(schema=db, name=name, kind=kind, row_estimate=estimate)

    for table, name, typ, nullable, default, extra, generation in conn.execute(_COLUMNS).all():
        t = cat.tables.get((db, table))
        if t is None:
            continue  # a sequence's columns
        extra = (extra or "").lower()
        generated = generation if "generated" in extra and generation else None
        # MariaDB prints "no default" and DEFAULT NULL as the text NULL and quotes string
        # literals ('NULL' is the string); MySQL returns SQL NULL and unquoted literals.
        if generated is not None or (mariadb and default == "NULL"):
            default = None
        t.columns[name] = Column(
            name=name,
            type=typ,
            nullable=nullable == "YES",
            default=default,
            position=len(t.columns) + 1,
            generated=generated,
            identity="auto_increment" if "auto_increment" in extra else None,
        )

    _read_indexes(conn, cat, db, mariadb)
    _read_constraints(conn, cat, db, mariadb)
    return cat


def _read_indexes(conn: Connection, cat: Catalog, db: str, mariadb: bool) -> None:
    functional = not mariadb and (conn.dialect.server_version_info or (0,)) >= (8, 0, 13)
    expression = "EXPRESSION" if functional else "NULL"
    keys: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for table, name, non_unique, column, sub_part, index_type, expr in conn.execute(
        text(_STATISTICS.format(expression=expression))
    ).all():
        keys[(table, name)].append((int(non_unique), column, sub_part, index_type, expr))
    for (table, name), parts in keys.items():
        unique, index_type = parts[0][0] == 0, (parts[0][3] or "").upper()
        columns = [expr if column is None else column for _, column, _, _, expr in parts]
        terms = ", ".join(
            f"({expr})" if column is None else _q(column) + (f"({sub_part})" if sub_part else "")
            for _, column, sub_part, _, expr in parts
        )
        if name == "PRIMARY":
            definition = f"ALTER TABLE {_q(table)} ADD PRIMARY KEY ({terms})"
        else:
            kind = {"FULLTEXT": "FULLTEXT ", "SPATIAL": "SPATIAL "}
            prefix = kind.get(index_type, "UNIQUE " if unique else "")
            using = f" USING {index_type}" if index_type in ("HASH", "RTREE") else ""
            definition = f"CREATE {prefix}INDEX {_q(name)} ON {_q(table)} ({terms}){using}"
        cat.indexes[(db, f"{table}.{name}")] = Index(
            schema=db,
            name=name,
            table=table,
            columns=columns,
            unique=unique,
            primary=name == "PRIMARY",
            definition=definition,
        )


def _read_constraints(conn: Connection, cat: Catalog, db: str, mariadb: bool) -> None:
    for table, name, ctype in conn.execute(_TABLE_CONSTRAINTS).all():
        kind = _CONSTRAINT_KINDS.get(ctype, ctype.lower())
        cat.constraints[(db, table, name)] = Constraint(schema=db, name=name, table=table, type=kind)

    for table, name, column, ref_schema, ref_table, ref_column in conn.execute(_KEY_COLUMNS).all():
        con = cat.constraints.get((db, table, name))
        if con is None:
            continue
        con.columns.append(column)
        if ref_table is not None:
            con.ref_schema, con.ref_table = ref_schema, ref_table
            con.ref_columns.append(ref_column)
    rules = {(t, n): (upd, dele) for t, n, upd, dele in conn.execute(_FK_RULES).all()}

    if _has_checks(conn, mariadb):
        query = _CHECKS.format(table_name="TABLE_NAME" if mariadb else "NULL")
        by_name = {c.name: c for c in cat.constraints.values() if c.type == "check"}
        for table, name, clause in conn.execute(text(query)).all():
            con = cat.constraints.get((db, table, name)) if mariadb else by_name.get(name)
            if con is None:
                continue
            con.definition = f"CHECK ({clause})"
            # The clause backquotes column names; those of the table are what the check reads.
            known = cat.tables[(db, con.table)].columns if (db, con.table) in cat.tables else {}
            named = [m.replace("``", "`") for m in _BACKQUOTED.findall(clause)]
            con.columns = list(dict.fromkeys(n for n in named if n in known))

    for con in cat.constraints.values():
        cols = ", ".join(_q(c) for c in con.columns)
        if con.type == "primary":
            con.definition = f"PRIMARY KEY ({cols})"
        elif con.type == "unique":
            con.definition = f"UNIQUE ({cols})"
        elif con.type == "foreign":
            ref = _q(con.ref_table) if con.ref_schema == db else f"{_q(con.ref_schema)}.{_q(con.ref_table)}"
            ref_cols = ", ".join(_q(c) for c in con.ref_columns)
            con.definition = f"FOREIGN KEY ({cols}) REFERENCES {ref} ({ref_cols})"
            on_update, on_delete = rules.get((con.table, con.name), (None, None))
            for verb, rule in (("DELETE", on_delete), ("UPDATE", on_update)):
                if rule and rule not in ("RESTRICT", "NO ACTION"):
                    con.definition += f" ON {verb} {rule}"
