"""PostgreSQL catalog snapshot: six set-based queries over pg_catalog, whatever the schema size.

Why pg_catalog and not information_schema: the information_schema views filter by privilege, join
through layers of casts, cannot show enums, partial index predicates, index expressions or
pg_depend, and are several times slower. Why six queries and not one per table: the guard reads
the catalog around every deploy, and the number of round-trips must not grow with the schema.

Each query returns one row per object. A relation's columns come back as one two-dimensional text
array built on the server (`ARRAY(SELECT ARRAY[...] ... ORDER BY attnum)`), so 20,000 columns
cross the wire as 2,000 rows. Column numbers in index keys, constraint keys and OWNED BY are then
resolved to names in Python from that same array, instead of a pg_attribute lookup per key on the
server; likewise the columns that use a type are found from each column's atttypid, which spares
a second scan of pg_attribute (it has no index on atttypid).

Every schema except the system ones is read: user schemas cannot start with `pg_` (reserved), so
`nspname !~ '^pg_'` excludes pg_catalog, pg_toast, pg_temp_N and pg_toast_temp_N in one test.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

from .model import Catalog, Column, Constraint, EnumType, Index, Sequence, Table, UserType

_USER_NS = "n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'"

# Standalone composite types ('c') are read here too: their attributes give their definitions and
# show which other types they use. They are not tables.
_TABLE_KINDS = {"r": "table", "v": "view", "m": "matview", "p": "partitioned", "f": "foreign"}

# Built-in types (oid below 16384, FirstNormalObjectId) are never user types, so their oid is left
# out and the client need not look them up. A default is deparsed without a relation (relid 0):
# defaults cannot refer to columns, and skipping the relation lookup per table matters on a cold
# connection. Generated columns do refer to columns.
_RELATIONS = f"""
SELECT c.oid, n.nspname::text, c.relname::text, c.relkind, c.reltuples::float8,
       ARRAY(SELECT ARRAY[a.attnum::text, a.attname::text, format_type(a.atttypid, a.atttypmod),
                          CASE WHEN a.atttypid >= 16384 THEN a.atttypid::text END,
                          a.attnotnull::text, a.attgenerated::text,
                          a.attidentity::text,
                          CASE WHEN a.atthasdef THEN
                              (SELECT pg_get_expr(d.adbin, CASE a.attgenerated WHEN '' THEN 0
                                                                               ELSE d.adrelid END)
                                 FROM pg_attrdef d
                                WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum) END]
               FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY a.attnum)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f', 'c') AND {_USER_NS}
"""

# Key columns only (INCLUDE columns are not part of what the index enforces). indkey is an
# int2vector, read as text ("1 2") because its array form has lower bound 0, which drivers parse
# differently. A key numbered 0 is an expression, printed by pg_get_indexdef(oid, k, true).
_INDEXES = f"""
SELECT n.nspname::text, ic.relname::text, i.indrelid, i.indisunique, i.indisprimary,
       pg_get_expr(i.indpred, i.indrelid, true), pg_get_indexdef(i.indexrelid),
       i.indkey::text, i.indnkeyatts,
       CASE WHEN i.indexprs IS NOT NULL THEN
           ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
                   FROM generate_series(1, i.indnkeyatts) AS k
                  WHERE i.indkey[k - 1] = 0 ORDER BY k) END,
       i.indisvalid
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
WHERE {_USER_NS}
"""

_CONSTRAINTS = f"""
SELECT n.nspname::text, con.conname::text, con.conrelid, con.contype,
       pg_get_constraintdef(con.oid, true), con.confrelid, con.conkey, con.confkey
FROM pg_constraint con
JOIN pg_namespace n ON n.oid = con.connamespace
WHERE con.conrelid <> 0 AND {_USER_NS}
"""

# User types, with the oids of the types that come with each (`parts`: its array type; for a
# range, its multirange and that one's array type): a column of any of them uses the type. Other
# dependents (functions, casts, views' rules, column defaults, domains over it) are pg_depend's
# normal ('n') rows. Objects that also have an internal ('i') row on the type are part of it (a
# range's constructor functions), auto ('a') rows (a domain's own CHECK) go with the type, and
# column rows are already counted through atttypid; none of these is listed as a dependent.
_TYPES = f"""
WITH t AS (
    SELECT t.oid, n.nspname::text AS nsp, t.typname::text AS name, t.typtype, t.typrelid,
           t.typbasetype, t.typtypmod, t.typnotnull, t.typdefault, r.rngsubtype,
           array_remove(array_remove(ARRAY[t.oid, t.typarray, %(multirange)s], NULL), 0) AS parts
    FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace
    LEFT JOIN pg_range r ON r.rngtypid = t.oid
    LEFT JOIN pg_type m ON m.oid = %(multirange_oid)s
    WHERE t.typtype IN ('c', 'd', 'e', 'r') AND {_USER_NS} %(named)s
),
keyed AS (
    SELECT oid AS typoid, unnest(parts) AS dep FROM t
),
others AS (
    SELECT k.typoid, array_agg(DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid)) AS deps
    FROM keyed k
    JOIN pg_depend d ON d.refclassid = 'pg_type'::regclass AND d.refobjid = k.dep
    WHERE d.deptype = 'n' AND NOT (d.classid = 'pg_class'::regclass AND d.objsubid > 0)
      AND NOT EXISTS (
          SELECT 1 FROM keyed k2
          JOIN pg_depend i ON i.refclassid = 'pg_type'::regclass AND i.refobjid = k2.dep
          WHERE k2.typoid = k.typoid AND i.deptype = 'i' AND i.classid = d.classid
            AND i.objid = d.objid)
    GROUP BY k.typoid
),
labels AS (
    SELECT e.enumtypid, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
    FROM pg_enum e JOIN t ON t.oid = e.enumtypid
    GROUP BY e.enumtypid
),
checks AS (
    SELECT c.contypid, array_agg('CONSTRAINT ' || quote_ident(c.conname) || ' '
                                 || pg_get_constraintdef(c.oid, true) ORDER BY c.conname) AS defs
    FROM pg_constraint c JOIN t ON t.oid = c.contypid
    GROUP BY c.contypid
)
SELECT t.oid, t.nsp, t.name, t.typtype, t.typrelid, t.parts, labels.labels,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod)
            WHEN t.typtype = 'r' THEN format_type(t.rngsubtype, NULL) END,
       t.typnotnull, t.typdefault, checks.defs, others.deps
FROM t
LEFT JOIN labels ON labels.enumtypid = t.oid
LEFT JOIN checks ON checks.contypid = t.oid
LEFT JOIN others ON others.typoid = t.oid
"""

# OWNED BY is an 'a' (auto) dependency of the sequence on a table column; an identity column's
# sequence has an 'i' (internal) one. The owning table is always in the sequence's schema.
_SEQUENCES = f"""
SELECT n.nspname::text, c.relname::text, d.refobjid, d.refobjsubid
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
     AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
WHERE c.relkind = 'S' AND {_USER_NS}
"""

_SEARCH_PATH = text("SELECT current_schemas(false)::text[]")

_CONSTRAINT_KINDS = {
    "p": "primary",
    "u": "unique",
    "f": "foreign",
    "c": "check",
    "x": "exclude",
    "t": "trigger",
    "n": "not_null",  # PostgreSQL 18 records NOT NULL in pg_constraint
}

_IDENTITY = {"a": "always", "d": "by default"}


@dataclass
class _Rel:
    """A relation as the first query returned it, for resolving column numbers later."""

    schema: str
    name: str
    # [attnum, attname, type, atttypid of a non-built-in type or None, notnull, generated,
    #  identity, default] per column, in attnum order; all text, as the server built the array.
    cols: list[list]

    def attname(self, attnum: int) -> str:
        # attnum is the position unless a column before it was dropped: try that first.
        if 0 < attnum <= len(self.cols) and self.cols[attnum - 1][0] == str(attnum):
            return self.cols[attnum - 1][1]
        return next(c[1] for c in self.cols if c[0] == str(attnum))


def snapshot(conn: Connection, names=None) -> Catalog:
    """The whole catalog; or, given `names`, only what read() says a named snapshot holds."""
    cat = Catalog(dialect="postgresql")
    cat.search_path = list(conn.execute(_SEARCH_PATH).scalar_one() or [])
    read(conn, cat, names)
    return cat


def read(conn: Connection, cat: Catalog, names=None) -> None:
    """Add to `cat` every object of the user schemas, or with `names`, those a statement naming them can meet.

    Named, it holds, in every user schema: the relations of those names with all their indexes and
    constraints; the indexes, types (a table's row type included) and sequences of those names; and
    the relations these point at (an index's table, a foreign key's target, a sequence's owner, a
    composite type's attributes), so that every object held is complete. What it holds is what the
    full snapshot holds for them; a lookup of any other name has to read that name (PartialCatalog).
    """
    params = {} if names is None else {"names": sorted(names), "oids": []}
    named = (lambda key: "") if names is None else _NAMED.get
    rels = _read_relations(conn, cat, {}, named("relations"), params)
    indexes = conn.execute(text(_INDEXES + named("indexes")), params).all()
    constraints = conn.execute(text(_CONSTRAINTS + named("constraints")), params).all()
    types = _type_rows(conn, named("types"), params)
    sequences = conn.execute(text(_SEQUENCES + named("sequences")), params).all()
    if names is not None:
        wanted = ({row[2] for row in indexes} | {row[2] for row in constraints} | {row[5] for row in constraints}
                  | {row[4] for row in types} | {row[2] for row in sequences}) - set(rels) - {0, None}
        if wanted:
            _read_relations(conn, cat, rels, _NAMED["relations"], {"names": [], "oids": sorted(wanted)})
    _read_indexes(cat, rels, indexes)
    _read_constraints(cat, rels, constraints)
    _read_types(conn, cat, rels, types, users=None if names is None else _type_users(conn, types))
    for nsp, name, relid, attnum in sequences:
        rel = rels.get(relid)
        owned_by = f"{rel.name}.{rel.attname(attnum)}" if rel and attnum else None
        cat.sequences[(nsp, name)] = Sequence(nsp, name, owned_by)


# What read() adds to each query for a named snapshot. Names are compared as `name`, so that the
# catalogs' own indexes on them are used.
_IN_NAMES = "ANY(CAST(:names AS name[]))"
_NAMED_RELIDS = f"SELECT oid FROM pg_class WHERE relname = {_IN_NAMES}"
_NAMED = {
    "relations": f"AND (c.relname = {_IN_NAMES} OR c.oid = ANY(CAST(:oids AS oid[])))",
    "indexes": f"AND (ic.relname = {_IN_NAMES} OR i.indrelid IN ({_NAMED_RELIDS}))",
    "constraints": f"AND con.conrelid IN ({_NAMED_RELIDS})",
    "types": f"AND t.typname = {_IN_NAMES}",
    "sequences": f"AND c.relname = {_IN_NAMES}",
}

# The columns that use some types (their oids, and their arrays' and multiranges'), for a named
# snapshot; the full one finds them among all the columns it reads anyway.
_TYPE_USERS = f"""
SELECT a.atttypid, n.nspname::text, c.relname::text, a.attname::text
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.atttypid = ANY(CAST(:oids AS oid[])) AND a.attnum > 0 AND NOT a.attisdropped
  AND c.relkind IN ('r', 'v', 'm', 'p', 'f', 'c') AND {_USER_NS}
ORDER BY c.oid, a.attnum
"""


def _read_relations(conn: Connection, cat: Catalog, rels: dict[int, _Rel], named: str, params: dict
                    ) -> dict[int, _Rel]:
    # The one loop that runs per column (20,000 times on a large schema): kept lean on purpose.
    for oid, nsp, name, relkind, tuples, cols in conn.execute(text(_RELATIONS + named), params).all():
        rels[oid] = _Rel(nsp, name, cols or [])
        kind = _TABLE_KINDS.get(relkind)
        if kind is None:
            continue  # a standalone composite type: its attributes are read with the types
        # reltuples is -1 until the first VACUUM/ANALYZE (PostgreSQL 14+): unknown, not empty.
        estimate = int(tuples) if tuples is not None and tuples >= 0 else None
        table = cat.tables[(nsp, name)] = Table(nsp, name, kind, row_estimate=estimate)
        columns = table.columns
        for pos, (_, attname, typ, _, notnull, generated, identity, default) in enumerate(rels[oid].cols, 1):
            if generated or identity:
                columns[attname] = Column(
                    attname,
                    typ,
                    notnull != "true",
                    None if generated else default,
                    pos,
                    default if generated else None,
                    _IDENTITY.get(identity),
                )
            else:
                columns[attname] = Column(attname, typ, notnull != "true", default, pos)
    return rels


def _read_indexes(cat: Catalog, rels: dict[int, _Rel], rows) -> None:
    for nsp, name, relid, unique, primary, predicate, definition, indkey, nkeys, exprs, valid in rows:
        rel = rels[relid]
        expressions = iter(exprs or [])
        keys = [int(k) for k in indkey.split()[:nkeys]]
        columns = [next(expressions) if k == 0 else rel.attname(k) for k in keys]
        cat.indexes[(nsp, name)] = Index(nsp, name, rel.name, columns, unique, primary, predicate, definition,
                                         valid)


def _read_constraints(cat: Catalog, rels: dict[int, _Rel], rows) -> None:
    for nsp, name, relid, contype, definition, ref_relid, conkey, confkey in rows:
        rel, ref = rels[relid], rels.get(ref_relid)
        cat.constraints[(nsp, rel.name, name)] = Constraint(
            schema=nsp,
            name=name,
            table=rel.name,
            type=_CONSTRAINT_KINDS.get(contype, contype),
            columns=[rel.attname(k) for k in conkey or []],
            definition=definition,
            ref_table=ref.name if ref else None,
            ref_columns=[ref.attname(k) for k in confkey or []] if ref else [],
            ref_schema=ref.schema if ref else None,
        )


def _type_rows(conn: Connection, named: str, params: dict) -> list:
    # Multiranges (PostgreSQL 14+) are created with each range type and belong to it.
    if (conn.dialect.server_version_info or (0,)) >= (14,):
        parts = {"multirange": "r.rngmultitypid, m.typarray", "multirange_oid": "r.rngmultitypid"}
    else:
        parts = {"multirange": "NULL::oid", "multirange_oid": "NULL::oid"}
    return conn.execute(text(_TYPES % {**parts, "named": named}), params).all()


def _type_users(conn: Connection, rows) -> list[tuple[int, str, str, str]]:
    oids = sorted({dep for row in rows for dep in row[5]})
    if not oids:
        return []
    return [tuple(r) for r in conn.execute(text(_TYPE_USERS), {"oids": oids})]


def _read_types(conn: Connection, cat: Catalog, rels: dict[int, _Rel], rows, users=None) -> None:
    """`users`: (atttypid, schema, table, column) of the columns using the types; None: found in `rels`."""
    quote = conn.dialect.identifier_preparer.quote

    # Every column whose type is one of a user type's oids depends on that type.
    owner = {dep: row[0] for row in rows for dep in row[5]}
    columns: dict[int, list[tuple[str, str, str]]] = {}
    if users is None:
        users = [(int(col[3]), rel.schema, rel.name, col[1]) for rel in rels.values() for col in rel.cols
                 if col[3] is not None]
    for typid, schema, table, column in users:
        if typid in owner:
            columns.setdefault(owner[typid], []).append((schema, table, column))

    for oid, nsp, name, typtype, relid, _, labels, base, notnull, default, checks, others in rows:
        rel = rels.get(relid)
        if relid and rel is None:
            continue  # the row type of an index, sequence or TOAST table: not a user type
        dependents = sorted(
            f"{t}.{c}" if s == nsp else f"{s}.{t}.{c}" for s, t, c in columns.get(oid, [])
        ) + sorted(others or [])
        if typtype == "c" and (nsp, rel.name) in cat.tables:  # a table's (or view's) row type
            cat.types[(nsp, name)] = UserType(nsp, name, "composite", rel.name, dependents)
            continue
        qname = f"{quote(nsp)}.{quote(name)}"
        if typtype == "e":
            labels = list(labels or [])
            cat.enums[(nsp, name)] = EnumType(nsp, name, labels)
            literals = ", ".join("'" + label.replace("'", "''") + "'" for label in labels)
            kind, definition = "enum", f"CREATE TYPE {qname} AS ENUM ({literals})"
        elif typtype == "c":
            attrs = ", ".join(f"{quote(c[1])} {c[2]}" for c in rel.cols)
            kind, definition = "composite", f"CREATE TYPE {qname} AS ({attrs})"
        elif typtype == "d":
            parts = [f"CREATE DOMAIN {qname} AS {base}"]
            parts += [f"DEFAULT {default}"] if default is not None else []
            parts += ["NOT NULL"] if notnull else []
            kind, definition = "domain", " ".join(parts + list(checks or []))
        else:
            kind, definition = "range", f"CREATE TYPE {qname} AS RANGE (SUBTYPE = {base})"
        cat.types[(nsp, name)] = UserType(nsp, name, kind, None, dependents, definition)
