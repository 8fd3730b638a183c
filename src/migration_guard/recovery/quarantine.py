"""The quarantine: where a dedupe puts the rows it removes, and how `restore` puts them back.

One table per database, `migration_guard_quarantine`, not one per source table. Each removed row is
kept as JSON of the whole row, with its source schema and table, the action id and the time; a
foreign-key value that a repoint changed is kept beside it (entry 'reference') with the referencing
row's primary key, the old and the new value. Why one table of JSON rather than a typed copy per
source table: the source table keeps changing after a dedupe (the very migration that needed it runs
next, and later ones add or drop columns), and a typed copy would have to follow each change or
break; JSON keeps every value as it was, `restore` maps it onto the table as it is then (columns added
since get their defaults), and a human finds everything the guard ever removed in one place.

The dedupe is one transaction per table (Session): lock the table and the tables that reference it
against writes, compute the surplus rows once (one window over the key), report from that set, repoint
references if asked, then delete the surplus and copy each deleted row, whole, to the quarantine in
one statement. The counts must agree (rows moved == rows reported, no reference left to a removed
row) or the transaction rolls back. A guard killed at any point leaves the table as it was (the
server rolls back an unfinished transaction) or fully deduped with its quarantine (the commit is
atomic).
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field

from sqlalchemy import text

from migration_guard.db.catalog.model import Catalog
from migration_guard.recovery.duplicates import SAMPLE, Groups, UniqueKey, from_index, mask, qualified, relation

TABLE = "migration_guard_quarantine"
LOCK_TIMEOUT = "10s"
_ON_DELETE = re.compile(r"ON DELETE (CASCADE|SET NULL|SET DEFAULT|RESTRICT|NO ACTION)", re.I)

_CREATE = {"postgresql": """CREATE TABLE IF NOT EXISTS {table} (
    id bigserial PRIMARY KEY,
    action_id varchar(64) NOT NULL,
    entry varchar(16) NOT NULL,
    source_schema varchar(255),
    source_table varchar(255) NOT NULL,
    row_data json NOT NULL,
    kept_key json,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    restored_at timestamptz
)""", "sqlite": """CREATE TABLE IF NOT EXISTS {table} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    action_id TEXT NOT NULL,
    entry TEXT NOT NULL,
    source_schema TEXT,
    source_table TEXT NOT NULL,
    row_data TEXT NOT NULL,
    kept_key TEXT,
    quarantined_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    restored_at TEXT
)""", "mysql": """CREATE TABLE IF NOT EXISTS {table} (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    action_id VARCHAR(64) NOT NULL,
    entry VARCHAR(16) NOT NULL,
    source_schema VARCHAR(255),
    source_table VARCHAR(255) NOT NULL,
    row_data LONGTEXT NOT NULL,
    kept_key LONGTEXT,
    quarantined_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    restored_at DATETIME(6) NULL
) ENGINE=InnoDB"""}
DIALECTS = set(_CREATE)  # where the guard dedupes
# MySQL: JSON cannot hold these exactly (bytes, bits, geometry), so a table with one is not deduped.
MYSQL_UNKEPT = re.compile(r"blob|binary|bit\b|geometry|point|polygon|linestring", re.I)
# No index on action_id: it would cost a fifth of a large dedupe's time, and only `restore` (rare)
# looks rows up by action, with one scan.


class Abort(Exception):
    """A count did not agree inside the dedupe or restore transaction: it was rolled back."""


@dataclass
class Reference:
    """A foreign key into the deduped table."""

    name: str
    schema: str
    table: str
    columns: list[str]
    ref_columns: list[str]
    on_delete: str
    pk: list[str] | None  # the referencing table's primary key (to record and undo a repoint)
    rows: int = 0  # rows that reference a surplus row

    @property
    def label(self) -> str:
        qual = f"{self.schema}." if self.schema not in ("public", None) else ""
        return f"{qual}{self.table}.{', '.join(self.columns)} ({self.name}, ON DELETE {self.on_delete})"


@dataclass
class Plan:
    key: UniqueKey
    pk: list[str]
    policy: str  # keep-oldest, keep-newest
    order_column: str | None = None
    references: list[Reference] = field(default_factory=list)
    repoint: bool = False
    invalid_index: tuple[str, str] | None = None  # (SQL name, definition) left by a failed CONCURRENTLY build

    def kept_words(self) -> str:
        first = "smallest" if self.policy == "keep-oldest" else "largest"
        pk = ", ".join(self.pk)
        if self.order_column:
            when = "earliest" if self.policy == "keep-oldest" else "latest"
            return f"the row with the {when} {self.order_column} (NULLs last; ties: the {first} {pk})"
        return f"the row with the {first} {pk} ({self.policy})"


def references_to(catalog: Catalog, table: str, schema: str | None) -> list[Reference]:
    from migration_guard.recovery.duplicates import primary_key

    live = catalog.table(table, schema)
    out = []
    for con in catalog.constraints.values():
        if con.type != "foreign" or con.ref_table != live.name or (con.ref_schema or con.schema) != live.schema:
            continue
        found = _ON_DELETE.search(con.definition or "")
        out.append(Reference(con.name, con.schema, con.table, list(con.columns), list(con.ref_columns),
                             found.group(1).upper() if found else "NO ACTION",
                             primary_key(catalog, con.table, con.schema)))
    return sorted(out, key=lambda r: (r.schema, r.table, r.name))


class Builder:
    """The SQL of a dedupe and of a restore on one database. Every name is quoted by the dialect's
    identifier preparer; every value is a bound parameter."""

    def __init__(self, prep, catalog: Catalog):
        self.prep = prep
        self.catalog = catalog
        self.q = prep.quote
        self.family = "mysql" if catalog.dialect in ("mysql", "mariadb") else catalog.dialect
        self.pg = self.family == "postgresql"
        self.my = self.family == "mysql"
        self.json = {"postgresql": "json_build_object", "mysql": "JSON_OBJECT"}.get(self.family, "json_object")
        self.text = "CHAR" if self.my else "text"

    def quarantine(self) -> str:
        return self.q(TABLE)

    def create_quarantine(self) -> list[str]:
        return [_CREATE[self.family].format(table=self.quarantine())]

    def row_json(self, alias: str, table: str, schema: str | None) -> tuple[str, dict]:
        """The whole row as JSON: PostgreSQL's to_json keeps every type's text form; SQLite's values
        are integers, reals, text and NULL, each of which JSON holds (a BLOB makes json_object fail,
        and the transaction roll back)."""
        if self.pg:
            return f"to_json({alias})", {}
        live = self.catalog.table(table, schema)
        if self.my:  # MariaDB/MySQL print doubles with 17 digits, datetimes with their fraction
            return self._json(alias, list(live.columns), "col")
        params = {f"col{i}": c for i, c in enumerate(live.columns)}
        # A real goes in with 17 digits (json_object would keep 15, and lose some doubles).
        pairs = ", ".join(f"CAST(:col{i} AS {self.text}), CASE typeof({alias}.{self.q(c)}) WHEN 'real' THEN "
                          f"json(printf('%!.17g', {alias}.{self.q(c)})) ELSE {alias}.{self.q(c)} END"
                          for i, c in enumerate(live.columns))
        return f"json_object({pairs})", params

    def source(self, key: UniqueKey) -> str:
        return relation(self.prep, self.catalog, key.table, key.schema)

    def _join(self, left: str, lcols, right: str, rcols) -> str:
        return " AND ".join(f"{left}.{self.q(a)} = {right}.{b if b.startswith('mg_') else self.q(b)}"
                            for a, b in zip(lcols, rcols, strict=True))

    def surplus(self, p: Plan) -> str:
        """Every row but the kept one of each group: its primary key (mg_s*) and the kept row's (mg_k*).
        One sort of the key (often helped by an index), one window function."""
        key, pk = p.key, [self.q(c) for c in p.pk]
        direction = "ASC" if p.policy == "keep-oldest" else "DESC"
        order = []
        if p.order_column:  # NULLs last, written so that MariaDB (no NULLS LAST) reads it too
            column = self.q(p.order_column)
            order = ([f"{column} {direction} NULLS LAST"] if self.pg
                     else [f"{column} IS NULL", f"{column} {direction}"])
        order += [f"{c} {direction}" for c in pk]
        window = f"OVER (PARTITION BY {', '.join(key.elements)} ORDER BY {', '.join(order)})"
        picked = ", ".join([f"{c} AS mg_s{i}" for i, c in enumerate(pk)]
                           + [f"first_value({c}) {window} AS mg_k{i}" for i, c in enumerate(pk)]
                           + [f"{e} AS mg_v{i}" for i, e in enumerate(key.elements)])  # for the report
        kept = f"({', '.join(f'mg_s{i}' for i in range(len(pk)))}) <> ({', '.join(f'mg_k{i}' for i in range(len(pk)))})"
        return f"SELECT * FROM (SELECT {picked} FROM {self.source(key)}{key.where()}) ranked WHERE {kept}"

    def _surplus_of(self, p: Plan, alias: str) -> str:
        """JOIN clause: the surplus set, matched to the source table aliased `alias` by primary key."""
        return f"JOIN {SURPLUS} s ON " + self._join(alias, p.pk, "s", [f"mg_s{i}" for i in range(len(p.pk))])

    def _kept(self, p: Plan, alias: str = "kr") -> str:
        return " AND ".join(f"{alias}.{self.q(c)} = s.mg_k{i}" for i, c in enumerate(p.pk))

    def referencing(self, p: Plan, ref: Reference) -> str:
        """FROM ... : rows of the referencing table (c) that point at a surplus row (sr), and the kept row (kr)."""
        src = self.source(p.key)
        child = relation(self.prep, self.catalog, ref.table, ref.schema)
        return (f"{child} c JOIN {src} sr ON {self._join('c', ref.columns, 'sr', ref.ref_columns)} "
                f"{self._surplus_of(p, 'sr')} JOIN {src} kr ON {self._kept(p)}")

    def _json(self, alias: str, columns: list[str], prefix: str) -> tuple[str, dict]:
        params = {f"{prefix}{i}": c for i, c in enumerate(columns)}
        pairs = ", ".join(f"CAST(:{prefix}{i} AS {self.text}), {alias}.{self.q(c)}" for i, c in enumerate(columns))
        return f"{self.json}({pairs})", params

    def prepare(self, p: Plan, lock: bool) -> list[tuple[str, dict]]:
        """From the start of the transaction to the surplus set, computed once. (SQLite: the Session's
        BEGIN IMMEDIATE takes the database's write lock.)"""
        if self.my:
            out = [("SET SESSION innodb_lock_wait_timeout = 10", {})]
            if lock:  # a locking read of every row: InnoDB's next-key locks keep writers out until the commit
                tables = [self.source(p.key), *(relation(self.prep, self.catalog, r.table, r.schema)
                                                for r in p.references)]
                for name in dict.fromkeys(tables):
                    out.append((f"SELECT count(*) FROM {name} FOR UPDATE", {}))
            return [*out, (f"DROP TEMPORARY TABLE IF EXISTS {SURPLUS}", {}),
                    (f"CREATE TEMPORARY TABLE {SURPLUS} AS {self.surplus(p)}", {})]
        if not self.pg:
            return [(f"DROP TABLE IF EXISTS temp.{SURPLUS}", {}),
                    (f"CREATE TEMP TABLE {SURPLUS} AS {self.surplus(p)}", {})]
        locked = [qualified(self.prep, p.key.table, p.key.schema)]
        locked += [qualified(self.prep, r.table, r.schema) for r in p.references]
        out = [(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'", {})]
        if lock:
            # Readers go on; writers wait until the commit, so the rows counted are the rows moved.
            out.append((f"LOCK TABLE {', '.join(dict.fromkeys(locked))} IN SHARE ROW EXCLUSIVE MODE", {}))
        out.append((f"CREATE TEMP TABLE {SURPLUS} ON COMMIT DROP AS {self.surplus(p)}", {}))
        # Its size, for the planner: the joins back to the table then go by primary key.
        out.append((f"ANALYZE {SURPLUS}", {}))
        return out

    def finish(self, p: Plan) -> list[tuple[str, dict, str | None]]:
        """Repoint (when asked), prove nothing points at a surplus row, then copy and delete in one
        statement: (sql, parameters, what its row count must agree with)."""
        qt = self.quarantine()
        src = self.source(p.key)
        out: list[tuple[str, dict, str | None]] = []
        for n, ref in enumerate(p.references):
            if not (p.repoint and ref.rows):
                continue
            pk_json, pk_params = self._json("c", ref.pk or [], f"r{n}p")
            old_json, old_params = self._json("c", ref.columns, f"r{n}o")
            new_pairs = ", ".join(f"CAST(:r{n}o{i} AS {self.text}), kr.{self.q(rc)}"
                                  for i, rc in enumerate(ref.ref_columns))
            params = {"rschema": ref.schema, "rtable": ref.table, "rname": ref.name, **pk_params, **old_params}
            out.append((
                f"INSERT INTO {qt} (action_id, entry, source_schema, source_table, row_data, kept_key) "
                f"SELECT :action_id, 'reference', :rschema, :rtable, {self.json}('constraint', "
                f"CAST(:rname AS {self.text}), 'key', {pk_json}, 'old', {old_json}, 'new', {self.json}({new_pairs})), "
                f"NULL FROM {self.referencing(p, ref)}", params, f"ref:{ref.name}"))
            sets = ", ".join(f"{self.q(c)} = kr.{self.q(rc)}" for c, rc in zip(ref.columns, ref.ref_columns,
                                                                              strict=True))
            child = relation(self.prep, self.catalog, ref.table, ref.schema)
            if self.my:
                sets = ", ".join(f"c.{self.q(c)} = kr.{self.q(rc)}" for c, rc in zip(ref.columns, ref.ref_columns,
                                                                                    strict=True))
                update = f"UPDATE {self.referencing(p, ref)} SET {sets}"
            else:
                update = (f"UPDATE {child} AS c SET {sets} FROM {src} sr {self._surplus_of(p, 'sr')} JOIN {src} kr "
                          f"ON {self._kept(p)} WHERE {self._join('c', ref.columns, 'sr', ref.ref_columns)}")
            out.append((update, {}, f"ref:{ref.name}"))
        if p.invalid_index:
            out.append((f"DROP INDEX {p.invalid_index[0]}", {}, None))
        for ref in p.references:
            # Nothing may point at a row about to go: a CASCADE would delete it, SET NULL change it.
            out.append((f"SELECT count(*) FROM {self.referencing(p, ref)}", {}, "zero"))
        alias = "gone" if self.pg else "s"
        kept_key = f"{self.json}(" + ", ".join(f"CAST(:pkname{i} AS {self.text}), {alias}.mg_k{i}"
                                               for i in range(len(p.pk))) + ")"
        kept_params = {f"pkname{i}": c for i, c in enumerate(p.pk)}
        where = {"schema": p.key.schema, "table": p.key.table, **kept_params}
        surplus_ids = [f"mg_s{i}" for i in range(len(p.pk))]
        pk_match = self._join("t", p.pk, "s", surplus_ids)
        if self.pg:
            # One statement deletes each surplus row and copies it, whole, to the quarantine.
            out.append((
                f"WITH gone AS (DELETE FROM {src} t USING {SURPLUS} s WHERE {pk_match} RETURNING t AS mg_row, "
                f"{', '.join(f's.mg_k{i}' for i in range(len(p.pk)))}) "
                f"INSERT INTO {qt} (action_id, entry, source_schema, source_table, row_data, kept_key) "
                f"SELECT :action_id, 'row', :schema, :table, to_json(gone.mg_row), {kept_key} FROM gone",
                where, "surplus"))
            return out
        row, row_params = self.row_json("t", p.key.table, p.key.schema)
        out.append((
            f"INSERT INTO {qt} (action_id, entry, source_schema, source_table, row_data, kept_key) "
            f"SELECT :action_id, 'row', :schema, :table, {row}, {kept_key} FROM {src} t JOIN {SURPLUS} s "
            f"ON {pk_match} ORDER BY {', '.join(f't.{self.q(c)}' for c in p.pk)}", {**where, **row_params},
            "surplus"))
        pk = ", ".join(self.q(c) for c in p.pk)
        if self.my:
            out.append((f"DELETE t FROM {src} t JOIN {SURPLUS} s ON {pk_match}", {}, "surplus"))
        else:
            out.append((f"DELETE FROM {src} WHERE ({pk}) IN (SELECT {', '.join(surplus_ids)} FROM {SURPLUS})", {},
                        "surplus"))
        return out


SURPLUS = "mg_dedupe_surplus"


@dataclass
class Outcome:
    rows: int
    repointed: dict[str, int]
    statements: list[str]


def quarantine_name(conn) -> str:
    if conn.dialect.name != "postgresql":
        return TABLE
    schema = conn.execute(text("SELECT current_schema()")).scalar()
    return f"{schema}.{TABLE}" if schema else TABLE


class Session:
    """One transaction, from the first look at the rows to the commit: the surplus set is computed
    once, and what the report says about it (groups, rows, references) is what is then moved.

    With `lock`, the table and the tables referencing it are locked against writes first, and the
    transaction stays open (holding the lock) until `commit_dedupe` or `close`. Without, it only
    reads, and rolls back on `close` (a refusal, `check`)."""

    def __init__(self, engine, catalog: Catalog, plan: Plan, lock: bool):
        self.plan = plan
        self.builder = Builder(engine.dialect.identifier_preparer, catalog)
        self.statements: list[str] = []
        self.tx = None
        self.conn = engine.connect()
        try:
            if lock and self.builder.my:  # MySQL DDL commits at once: the (empty) table comes first
                for statement in self.builder.create_quarantine():
                    self.conn.execute(text(statement))
                    self.statements.append(statement)
                self.conn.commit()
            self.tx = _begin(self.conn, lock)
            for sql, params in self.builder.prepare(plan, lock):
                self.conn.execute(text(sql), params)
                self.statements.append(sql)
            self.groups = self._groups()
            for ref in plan.references:
                ref.rows = self.conn.execute(text(f"SELECT count(*) FROM {self.builder.referencing(plan, ref)}")
                                             ).scalar() or 0
        except BaseException:
            self.close()
            raise

    def _groups(self, sample: int = SAMPLE) -> Groups:
        key, p = self.plan.key, self.plan
        kept = ", ".join(f"mg_k{i}" for i in range(len(p.pk)))
        surplus, count = self.conn.execute(text(
            f"SELECT (SELECT count(*) FROM {SURPLUS}), (SELECT count(*) FROM (SELECT DISTINCT {kept} FROM {SURPLUS}) k)"
        )).one()
        if not surplus:
            return Groups(0, 0)
        aliases = ", ".join(f"mg_v{i}" for i in range(len(key.elements)))
        rows = self.conn.execute(text(
            f"SELECT {aliases}, count(*) + 1 AS mg_n FROM {SURPLUS} GROUP BY {aliases} "
            f"ORDER BY mg_n DESC, {aliases} LIMIT :n"), {"n": sample}).all()
        width = len(key.elements)
        return Groups(int(count), int(surplus), [(tuple(r[:width]), int(r[width])) for r in rows])

    def commit_dedupe(self, action_id: str, also=()) -> Outcome:
        """Copy and delete, check the counts, run `also` (statements to commit with it), commit. Raises
        Abort (rolled back) when a count disagrees."""
        try:
            for statement in [] if self.builder.my else self.builder.create_quarantine():
                self.conn.execute(text(statement))
                self.statements.append(statement)
            moved = None
            repointed: dict[str, int] = {}
            for sql, params, expect in self.builder.finish(self.plan):
                result = self.conn.execute(text(sql), {"action_id": action_id, **params})
                self.statements.append(sql)
                if expect == "surplus":
                    moved = result.rowcount
                    if moved != self.groups.surplus:  # each of the copy and the delete, when they are two
                        raise Abort(f"{moved} rows moved where {self.groups.surplus} were counted: rolled back, "
                                    "nothing changed")
                elif expect == "zero" and (left := result.scalar()):
                    raise Abort(f"{left} rows still reference rows the dedupe would remove: rolled back, "
                                "nothing changed")
                elif expect and expect.startswith("ref:"):
                    name = expect[4:]
                    if name in repointed and result.rowcount != repointed[name]:
                        raise Abort(f"{result.rowcount} references repointed where {repointed[name]} were "
                                    f"recorded ({name}): rolled back, nothing changed")
                    repointed[name] = result.rowcount
            for statement in also:
                self.conn.execute(statement)
            _commit(self.conn, self.tx)
            return Outcome(moved or 0, repointed, list(self.statements))
        finally:
            self.close()

    def close(self) -> None:
        if self.conn is not None:
            if self.tx is None:  # SQLite, BEGIN by hand
                with contextlib.suppress(Exception):
                    self.conn.exec_driver_sql("ROLLBACK")
            self.conn.close()  # rolls back whatever was not committed
            self.conn = None


def _begin(conn, lock: bool):
    """PostgreSQL, MySQL: a transaction (the LOCK / locking read comes next). SQLite: BEGIN IMMEDIATE, by
    hand (the driver would start a deferred one), which takes the database's write lock for the whole
    dedupe."""
    if conn.dialect.name != "sqlite":
        return conn.begin()
    conn.execution_options(isolation_level="AUTOCOMMIT")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if lock else "BEGIN")
    return None


def _commit(conn, tx) -> None:
    if tx is not None:
        tx.commit()
    else:
        conn.exec_driver_sql("COMMIT")


def human_sql(engine, catalog: Catalog, p: Plan, action_id: str) -> list[str]:
    """The same transaction, with its values written in, for a human to read or run."""
    builder = Builder(engine.dialect.identifier_preparer, catalog)
    begin = ("BEGIN IMMEDIATE", {}) if catalog.dialect == "sqlite" else ("BEGIN", {})
    create = [(sql, {}) for sql in builder.create_quarantine()]
    # MySQL's DDL would commit the transaction: its quarantine table is made before it begins.
    steps = [*create, begin] if builder.my else [begin]
    steps += builder.prepare(p, lock=True)
    steps += [] if builder.my else create
    steps += [(sql, params) for sql, params, _ in builder.finish(p)]
    out = []
    for sql, params in steps:
        bound = text(sql).bindparams(**{k: v for k, v in {"action_id": action_id, **params}.items()
                                        if f":{k}" in sql})
        out.append(str(bound.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})) + ";")
    out.append("COMMIT;")
    return out


# -- restore ---------------------------------------------------------------------------------------
@dataclass
class Restored:
    action_id: str
    table: str
    rows: int = 0
    references: int = 0
    references_changed: int = 0  # references the app changed since the repoint: left as they are
    dropped_columns: list[str] = field(default_factory=list)  # values kept in the quarantine only
    collisions: list[str] = field(default_factory=list)  # why not, row by row (nothing was changed)
    problem: str | None = None  # no such action, already restored, table gone


def restore(engine, action_id: str, sample: int = 10) -> Restored:
    """Put the action's rows back in one transaction, or change nothing and say why."""
    with engine.connect() as conn:
        tx = _begin(conn, lock=True)
        done = False
        try:
            out = _restore(conn, action_id, sample)
            if out.rows and not out.collisions and not out.problem:
                _commit(conn, tx)
                done = True
            return out
        finally:
            if not done:
                if tx is not None:
                    tx.rollback()
                else:
                    conn.exec_driver_sql("ROLLBACK")


def _restore(conn, action_id: str, sample: int) -> Restored:
    from sqlalchemy.exc import IntegrityError

    from migration_guard.db.catalog import snapshot

    pg, my = conn.dialect.name == "postgresql", conn.dialect.name == "mysql"
    prep = conn.dialect.identifier_preparer
    qt = prep.quote(TABLE)
    catalog = snapshot(conn)
    if catalog.table(TABLE) is None:
        return Restored(action_id, "", problem=f"no quarantine table {TABLE} in this database")
    groups = conn.execute(text(
        f"SELECT entry, source_schema, source_table, count(*), max(restored_at) FROM {qt} "
        "WHERE action_id = :id GROUP BY entry, source_schema, source_table"), {"id": action_id}).all()
    rows = [g for g in groups if g[0] == "row"]
    if not rows:
        return Restored(action_id, "", problem=f"no quarantined rows for action {action_id}")
    _, schema, table, count, restored_at = rows[0]
    out = Restored(action_id, f"{schema}.{table}" if schema and pg else table)
    if restored_at is not None:
        out.problem = f"action {action_id} was already restored at {restored_at}"
        return out
    live = catalog.table(table, schema)
    if live is None:
        out.problem = f"table {out.table} no longer exists; its rows stay in {TABLE}"
        return out
    target = qualified(prep, table, schema)
    src = relation(prep, catalog, table, schema)
    lock = [target] + [qualified(prep, t, s) for kind, s, t, *_ in groups if kind == "reference"]
    if pg:
        conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        conn.execute(text(f"LOCK TABLE {', '.join(dict.fromkeys(lock))} IN SHARE ROW EXCLUSIVE MODE"))
    elif my:
        conn.execute(text("SET SESSION innodb_lock_wait_timeout = 10"))
        for name in dict.fromkeys(lock):
            conn.execute(text(f"SELECT count(*) FROM {name} FOR UPDATE"))
    first = f"(SELECT row_data FROM {qt} WHERE action_id = :id AND entry = 'row' LIMIT 1)"
    if my:
        saved = json.loads(conn.execute(text(f"SELECT JSON_KEYS(row_data) FROM {qt} WHERE action_id = :id "
                                             "AND entry = 'row' LIMIT 1"), {"id": action_id}).scalar())
    else:
        keys = (f"SELECT json_object_keys(row_data) FROM {first} q" if pg else
                f"SELECT key FROM json_each({first})")
        saved = list(conn.execute(text(keys), {"id": action_id}).scalars())
    out.dropped_columns = [c for c in saved if c not in live.columns]
    columns = [c for c in live.columns.values() if c.name in saved and not c.generated]
    if pg:
        conn.execute(text(
            f"CREATE TEMP TABLE mg_restore ON COMMIT DROP AS SELECT q.id AS mg_quarantine_id, r.* FROM {qt} q "
            f"CROSS JOIN LATERAL json_populate_record(NULL::{target}, q.row_data) r "
            "WHERE q.action_id = :id AND q.entry = 'row'"), {"id": action_id})
    elif my:
        # Scalars come back as their text (the INSERT converts them to each column's type); JSON values as JSON.
        paths = {f"p{i}": _path(c.name) for i, c in enumerate(columns)}
        picked = ", ".join(
            f"CASE JSON_TYPE(JSON_EXTRACT(q.row_data, :p{i})) WHEN 'NULL' THEN NULL WHEN 'OBJECT' THEN "
            f"JSON_EXTRACT(q.row_data, :p{i}) WHEN 'ARRAY' THEN JSON_EXTRACT(q.row_data, :p{i}) ELSE "
            f"JSON_UNQUOTE(JSON_EXTRACT(q.row_data, :p{i})) END AS {prep.quote(c.name)}" for i, c in enumerate(columns))
        conn.execute(text("DROP TEMPORARY TABLE IF EXISTS mg_restore"))
        conn.execute(text(f"CREATE TEMPORARY TABLE mg_restore AS SELECT q.id AS mg_quarantine_id, {picked} "
                          f"FROM {qt} q WHERE q.action_id = :id AND q.entry = 'row'"), {"id": action_id, **paths})
    else:
        paths = {f"p{i}": _path(c.name) for i, c in enumerate(columns)}
        picked = ", ".join(f"json_extract(q.row_data, :p{i}) AS {prep.quote(c.name)}" for i, c in enumerate(columns))
        conn.execute(text("DROP TABLE IF EXISTS temp.mg_restore"))
        conn.execute(text(f"CREATE TEMP TABLE mg_restore AS SELECT q.id AS mg_quarantine_id, {picked} FROM {qt} q "
                          "WHERE q.action_id = :id AND q.entry = 'row'"), {"id": action_id, **paths})
    out.collisions = _collisions(conn, catalog, live, prep, src, sample)
    if out.collisions:
        return out
    names = ", ".join(prep.quote(c.name) for c in columns)
    override = " OVERRIDING SYSTEM VALUE" if any(c.identity == "always" for c in columns) else ""
    try:
        with conn.begin_nested():
            out.rows = conn.execute(text(f"INSERT INTO {target} ({names}){override} SELECT {names} "
                                         "FROM mg_restore ORDER BY mg_quarantine_id")).rowcount
    except IntegrityError as exc:
        out.rows = 0
        out.collisions = [f"{table} rejects them: {str(exc.orig).splitlines()[0]}"]
        return out
    if out.rows != count:
        raise Abort(f"restored {out.rows} rows of {count}: rolled back, nothing changed")
    for kind, rschema, rtable, n, _ in groups:
        if kind != "reference":
            continue
        undone = _undo_references(conn, catalog, prep, qt, action_id, rschema, rtable)
        out.references += undone
        out.references_changed += n - undone
    now = "now()" if pg else "NOW(6)" if my else "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    conn.execute(text(f"UPDATE {qt} SET restored_at = {now} WHERE action_id = :id"), {"id": action_id})
    return out


def _path(name: str) -> str:
    """A JSON path to one key, quoted (SQLite): the key may hold dots or spaces."""
    return '$."' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _collisions(conn, catalog: Catalog, live, prep, src: str, sample: int) -> list[str]:
    """Each restored row that a unique index of the table, as it is now, would reject."""
    from migration_guard.recovery.duplicates import primary_key

    pk = primary_key(catalog, live.name, live.schema) or []
    found: list[str] = []
    for index in sorted(catalog.indexes.values(), key=lambda i: (not i.primary, i.name)):
        if index.table != live.name or index.schema != live.schema or not index.unique:
            continue
        key = from_index(index, live, prep)
        width = range(len(key.elements))
        keyed = ", ".join(f"{e} AS mg_k{i}" for i, e in zip(width, key.elements, strict=True))
        same = " AND ".join(f"o.mg_k{i} {'=' if key.nulls_distinct else 'IS NOT DISTINCT FROM'} rk.mg_k{i}"
                            for i in width)
        pk_cols = "".join(f", {prep.quote(c)} AS mg_p{j}" for j, c in enumerate(pk))
        sql = (f"WITH rk AS (SELECT mg_quarantine_id{pk_cols}, {keyed} FROM mg_restore{key.where()}), "
               f"tk AS (SELECT {keyed} FROM {src}{key.where()}) "
               f"SELECT rk.*, EXISTS (SELECT 1 FROM tk o WHERE {same}) FROM rk "
               f"WHERE EXISTS (SELECT 1 FROM tk o WHERE {same}) OR EXISTS (SELECT 1 FROM rk o WHERE "
               f"o.mg_quarantine_id <> rk.mg_quarantine_id AND {same}) ORDER BY mg_quarantine_id")
        hits = conn.execute(text(sql)).all()
        for row in hits[:sample]:
            ident = ", ".join(f"{c}={row[1 + j]}" for j, c in enumerate(pk)) or f"quarantine id {row[0]}"
            values = row[1 + len(pk):1 + len(pk) + len(key.elements)]
            shown = ", ".join(mask(v, s) for v, s in zip(values, key.sensitive, strict=True))
            where = f"a row already in {live.name}" if row[-1] else "another quarantined row of this action"
            found.append(f"row {ident}: ({', '.join(key.labels)})=({shown}) collides with {where} "
                         f"under {key.what} {index.name}")
        if len(hits) > sample:
            found.append(f"... and {len(hits) - sample} more rows under {index.name}")
    return found


def _undo_references(conn, catalog: Catalog, prep, qt: str, action_id: str, schema, table) -> int:
    """Point each repointed reference back at its restored row, if it still points where the repoint
    left it (a reference the application changed since is left alone, and counted)."""
    child = qualified(prep, table, schema)
    live = catalog.table(table, schema)
    same = {"postgresql": "IS NOT DISTINCT FROM", "mysql": "<=>"}.get(conn.dialect.name, "IS")
    record = conn.execute(text(
        f"SELECT row_data FROM {qt} WHERE action_id = :id AND entry = 'reference' AND source_table = :t "
        f"AND source_schema {same} :s LIMIT 1"), {"id": action_id, "t": table, "s": schema}).scalar()
    if live is None or record is None:
        return 0
    if isinstance(record, str):
        record = json.loads(record)
    fk, pk = list(record["old"]), list(record["key"])
    where = {"id": action_id, "t": table, "s": schema}
    if conn.dialect.name == "postgresql":
        sets = ", ".join(f"{prep.quote(c)} = o.{prep.quote(c)}" for c in fk)
        match = " AND ".join([f"c.{prep.quote(c)} = k.{prep.quote(c)}" for c in pk]
                             + [f"c.{prep.quote(c)} IS NOT DISTINCT FROM n.{prep.quote(c)}" for c in fk])
        return conn.execute(text(
            f"UPDATE {child} AS c SET {sets} FROM {qt} q "
            f"CROSS JOIN LATERAL json_populate_record(NULL::{child}, q.row_data->'key') k "
            f"CROSS JOIN LATERAL json_populate_record(NULL::{child}, q.row_data->'old') o "
            f"CROSS JOIN LATERAL json_populate_record(NULL::{child}, q.row_data->'new') n "
            f"WHERE q.action_id = :id AND q.entry = 'reference' AND q.source_table = :t "
            f"AND q.source_schema IS NOT DISTINCT FROM :s AND {match}"), where).rowcount
    paths = {}
    for part, names in (("key", pk), ("old", fk), ("new", fk)):
        for i, c in enumerate(names):
            paths[f"{part}{i}"] = '$."' + part + '"' + _path(c)[1:]
    if conn.dialect.name == "mysql":
        value = "JSON_VALUE(q.row_data, :{0})"
        sets = ", ".join(f"c.{prep.quote(c)} = {value.format(f'old{i}')}" for i, c in enumerate(fk))
        match = " AND ".join([f"c.{prep.quote(c)} = {value.format(f'key{i}')}" for i, c in enumerate(pk)]
                             + [f"c.{prep.quote(c)} <=> {value.format(f'new{i}')}" for i, c in enumerate(fk)])
        return conn.execute(text(
            f"UPDATE {child} AS c JOIN {qt} q ON q.action_id = :id AND q.entry = 'reference' "
            f"AND q.source_table = :t AND q.source_schema <=> :s AND {match} SET {sets}"),
            {**where, **paths}).rowcount
    sets = ", ".join(f"{prep.quote(c)} = json_extract(q.row_data, :old{i})" for i, c in enumerate(fk))
    match = " AND ".join([f"c.{prep.quote(c)} = json_extract(q.row_data, :key{i})" for i, c in enumerate(pk)]
                         + [f"c.{prep.quote(c)} IS json_extract(q.row_data, :new{i})" for i, c in enumerate(fk)])
    return conn.execute(text(
        f"UPDATE {child} AS c SET {sets} FROM {qt} q WHERE q.action_id = :id AND q.entry = 'reference' "
        f"AND q.source_table = :t AND q.source_schema IS :s AND {match}"), {**where, **paths}).rowcount
