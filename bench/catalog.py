"""Benchmark: catalog snapshot() against SQLAlchemy's own reflection, on a large throwaway schema.

Why: the guard reads the catalog on every deploy, before and after the migration, so the read
must stay well under a second on schemas with thousands of tables. The gated baseline is
`inspect()` reflection as tools use it: the Inspector's per-table methods (get_columns,
get_pk_constraint, get_indexes, get_unique_constraints, get_foreign_keys, get_check_constraints),
asked for the same information the snapshot holds; the snapshot must be >= 20x faster and under
1 s. SQLAlchemy 2.x also has bulk `get_multi_*` methods, themselves a dozen set-based queries:
that ratio is printed too (about 2-3x here), because it is the honest measure of how much is left
to gain, and no snapshot can be 20x faster than a dozen queries it has to match.

    python bench/catalog.py [--tables 2000] [--columns-per-table 10] [--runs 5]
                            [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

The URL names a server (its database is only used to create and drop `mg_bench_<random>`), or a
`sqlite:///` URL, whose file is replaced by a temporary one. Exit 0 when the target is met.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.engine.reflection import ObjectKind
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from migration_guard.db.catalog import Catalog, snapshot

DEFAULT_URL = os.environ.get("MG_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TARGET_RATIO = 20.0
TARGET_SECONDS = 1.0
# PostgreSQL takes a lock per created relation and holds it to the end of the transaction; a few
# hundred tables per batch stays far below max_locks_per_transaction while keeping round-trips few.
BATCH = 250


def table_ddl(dialect: str, i: int, columns: int) -> list[str]:
    """One table of `columns` columns (>= 4) with a PK, FK, CHECK, unique and plain index."""
    t, prev = f"t{i:05d}", f"t{i - 1:05d}"
    pk = {
        "postgresql": "id serial PRIMARY KEY",
        "mysql": "id integer AUTO_INCREMENT PRIMARY KEY",
        "sqlite": "id integer PRIMARY KEY",
    }[dialect]
    status = "bench_status" if dialect == "postgresql" else "varchar(10)"
    cols = [pk, "name varchar(255) NOT NULL DEFAULT ''", "amount integer", f"status {status}"]
    extra = ("text", "numeric(12, 2)", "timestamp", "boolean", "bigint", "varchar(40)")
    cols += [f"c{k} {extra[k % len(extra)]}" for k in range(columns - len(cols) - (i > 0))]
    cons = [f"CONSTRAINT {t}_amount_check CHECK (amount >= 0)"]
    if i > 0:
        cols.append("parent_id integer")
        cons.append(f"CONSTRAINT {t}_parent_fkey FOREIGN KEY (parent_id) REFERENCES {prev} (id)")
    ddl = [
        f"CREATE TABLE {t} ({', '.join(cols + cons)})",
        f"CREATE UNIQUE INDEX {t}_name_amount ON {t} (name, amount)",
        f"CREATE INDEX {t}_status ON {t} (status)",
    ]
    return ddl


def build_script(dialect: str, tables: int, columns: int) -> list[str]:
    """The schema as a few large scripts, each sent in one round-trip."""
    head = ["CREATE TYPE bench_status AS ENUM ('new', 'active', 'closed')"] if dialect == "postgresql" else []
    head += ["CREATE VIEW placeholder_view AS SELECT 1 AS one"]
    stmts = [s for i in range(tables) for s in table_ddl(dialect, i, columns)]
    per_batch = BATCH * 3
    batches = [stmts[k : k + per_batch] for k in range(0, len(stmts), per_batch)]
    return [";\n".join(head + batches[0]) + ";"] + [";\n".join(b) + ";" for b in batches[1:]]


@contextlib.contextmanager
def throwaway_database(url: URL) -> Iterator[Engine]:
    """Create a fresh database on the server `url` names, yield an engine on it, drop it."""
    dialect = url.get_backend_name()
    if dialect == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            engine = sa.create_engine(f"sqlite:///{tmp}/bench.db")
            try:
                yield engine
            finally:
                engine.dispose()
        return
    name = f"mg_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    connect_args = {}
    if dialect == "mysql":
        from pymysql.constants import CLIENT

        connect_args["client_flag"] = CLIENT.MULTI_STATEMENTS
    engine = sa.create_engine(url.set(database=name), connect_args=connect_args)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            force = " WITH (FORCE)" if dialect == "postgresql" else ""
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{force}")
        admin.dispose()


def load_schema(engine: Engine, scripts: list[str]) -> None:
    raw = engine.raw_connection()
    try:
        if isinstance(raw.driver_connection, sqlite3.Connection):
            for script in scripts:  # one transaction per script, not one fsync per statement
                raw.driver_connection.executescript(f"BEGIN;\n{script}\nCOMMIT;")
            return
        cur = raw.cursor()
        for script in scripts:
            cur.execute(script)
            # MySQL returns one result per statement and refuses the next query until all are read.
            while engine.dialect.name == "mysql" and cur.nextset():
                pass
            raw.commit()
        cur.close()
    finally:
        raw.close()


def reflect(conn: Connection) -> dict[str, object]:
    """The same information through SQLAlchemy's bulk reflection (a fresh Inspector: no cache)."""
    insp = sa.inspect(conn)
    out: dict[str, object] = {
        "tables": insp.get_table_names(),
        "views": insp.get_view_names(),
        "columns": insp.get_multi_columns(kind=ObjectKind.ANY),
        "primary": insp.get_multi_pk_constraint(),
        "indexes": insp.get_multi_indexes(),
        "unique": insp.get_multi_unique_constraints(),
        "foreign": insp.get_multi_foreign_keys(),
        "check": insp.get_multi_check_constraints(),
    }
    if conn.dialect.name == "postgresql":
        out["enums"] = insp.get_enums()
        out["domains"] = insp.get_domains()
    if conn.dialect.name != "sqlite":
        out["sequences"] = insp.get_sequence_names()
    return out


def reflect_per_table(conn: Connection) -> dict[str, tuple]:
    """The classic per-table Inspector calls, as most tools use them: for reference only."""
    insp = sa.inspect(conn)
    return {
        name: (
            insp.get_columns(name),
            insp.get_pk_constraint(name),
            insp.get_indexes(name),
            insp.get_unique_constraints(name),
            insp.get_foreign_keys(name),
            insp.get_check_constraints(name),
        )
        for name in insp.get_table_names()
    }


def side_by_side(
    runs: int, a: Callable[[], object], b: Callable[[], object]
) -> tuple[float, float, object, object]:
    """Best time of each, alternating a and b so that background load falls on both alike."""
    best_a = best_b = float("inf")
    result_a = result_b = None
    for _ in range(runs):
        start = time.perf_counter()
        result_a = a()
        best_a = min(best_a, time.perf_counter() - start)
        start = time.perf_counter()
        result_b = b()
        best_b = min(best_b, time.perf_counter() - start)
    return best_a, best_b, result_a, result_b


def on_new_connection(engine: Engine, fn: Callable[[Connection], object]) -> Callable[[], object]:
    """`fn` on a brand-new server session, whose catalog caches are cold: the deploy-time case."""

    def run() -> object:
        with engine.connect() as conn:
            return fn(conn)

    return run


def cross_check(cat: Catalog, ref: dict, tables: int, columns: int) -> list[str]:
    """Both readers must have seen the same schema, or the timing compares different work."""
    problems = []
    snap_tables = {t.name for t in cat.tables.values() if t.kind == "table"}
    if snap_tables != set(ref["tables"]) or len(snap_tables) != tables:
        problems.append(f"tables: snapshot {len(snap_tables)}, inspect {len(ref['tables'])}, built {tables}")
    snap_cols = sum(len(t.columns) for t in cat.tables.values() if t.kind == "table")
    ref_cols = sum(len(c) for (_, name), c in ref["columns"].items() if name in snap_tables)
    if snap_cols != ref_cols or snap_cols != tables * columns:
        problems.append(f"columns: snapshot {snap_cols}, inspect {ref_cols}, built {tables * columns}")
    snap_fks = sum(1 for c in cat.constraints.values() if c.type == "foreign")
    ref_fks = sum(len(fks) for fks in ref["foreign"].values())
    if snap_fks != ref_fks:
        problems.append(f"foreign keys: snapshot {snap_fks}, inspect {ref_fks}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tables", type=int, default=2000)
    ap.add_argument("--columns-per-table", type=int, default=10)
    ap.add_argument("--runs", type=int, default=5, help="best of N runs for each side")
    ap.add_argument("--database-url", default=DEFAULT_URL)
    ap.add_argument(
        "--no-per-table",
        dest="per_table",
        action="store_false",
        help="skip the (slow) reference run of the per-table Inspector methods",
    )
    args = ap.parse_args(argv)
    if args.columns_per_table < 5:
        ap.error("--columns-per-table must be at least 5")
    url = make_url(args.database_url)
    dialect = url.get_backend_name()

    with throwaway_database(url) as engine:
        start = time.perf_counter()
        load_schema(engine, build_script(dialect, args.tables, args.columns_per_table))
        print(
            f"built {args.tables} tables / {args.tables * args.columns_per_table} columns on "
            f"{dialect} in {time.perf_counter() - start:.1f}s",
            flush=True,
        )
        with engine.connect() as conn:
            snap_s, ref_s, cat, ref = side_by_side(args.runs, lambda: snapshot(conn), lambda: reflect(conn))
        problems = cross_check(cat, ref, args.tables, args.columns_per_table)
        fresh = sa.create_engine(engine.url, poolclass=NullPool)
        cold_snap, cold_ref, _, _ = side_by_side(
            args.runs, on_new_connection(fresh, snapshot), on_new_connection(fresh, reflect)
        )
        fresh.dispose()
        per_table_s = None
        if args.per_table:
            with engine.connect() as conn:
                start = time.perf_counter()
                reflect_per_table(conn)
                per_table_s = time.perf_counter() - start

    bulk_ratio = ref_s / snap_s
    ratio = per_table_s / snap_s if per_table_s is not None else bulk_ratio
    ok = ratio >= TARGET_RATIO and snap_s < TARGET_SECONDS and not problems
    print(
        f"baselines: SQLAlchemy {sa.__version__} Inspector per-table methods (gated), and its bulk reflection "
        "(get_table_names, get_view_names, get_multi_columns/pk_constraint/indexes/unique_constraints/"
        "foreign_keys/check_constraints"
        + (", get_enums, get_domains" if dialect == "postgresql" else "")
        + (", get_sequence_names" if dialect != "sqlite" else "")
        + f"); best of {args.runs} alternating runs each"
    )
    for problem in problems:
        print(f"MISMATCH {problem}")
    print(
        f"  new connection per run: catalog snapshot {cold_snap:.3f}s vs SQLAlchemy inspect() "
        f"{cold_ref:.3f}s: {cold_ref / cold_snap:.1f}x"
    )
    if per_table_s is not None:
        print(
            f"  per-table inspect() (get_columns/get_pk_constraint/get_indexes/"
            f"get_unique_constraints/get_foreign_keys/get_check_constraints per table, 1 run): "
            f"{per_table_s:.2f}s: {per_table_s / snap_s:.1f}x"
        )
    print(f"  bulk get_multi_* inspect(): catalog snapshot {snap_s:.3f}s vs {ref_s:.3f}s: {bulk_ratio:.1f}x faster")
    baseline = "per-table inspect()" if per_table_s is not None else "bulk inspect()"
    print(
        f"catalog snapshot {snap_s:.3f}s vs SQLAlchemy {baseline} {ratio * snap_s:.3f}s: {ratio:.1f}x faster "
        f"(target >= {TARGET_RATIO:.0f}x and < {TARGET_SECONDS:.0f}s){'' if ok else ' - TARGET MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
