"""Benchmark: `migration-guard check` against bare `alembic upgrade head --sql` for the same range.

Why: `check` has to print the pending statements (it runs the tool's own offline `--sql` mode for
the pending range, which is the baseline), and on top of that connect, take the lock, read the
catalog of a large schema, parse every statement and ask the live rows what the statements need of
them. All of that must stay cheap next to the one thing it cannot avoid: the target is at most 2x
the baseline's wall time.

The database has 2,000 tables (bench/catalog.py's schema: primary and foreign keys, unique and
plain indexes, CHECK constraints, an enum), a few of them with rows; the project has 50 pending
revisions that create tables, add columns (nullable, and NOT NULL with a default), build unique
and plain indexes, add foreign keys and CHECK constraints, change a column's type and set NOT NULL
on tables that hold rows, and run data steps, so every preflight module does its work and each
query of the rows runs. Nothing is predicted to fail: the cost measured is the full analysis.

Both commands run as a deploy runs them, process start to exit, alternating (baseline, check,
baseline, check, ...) so that background load falls on both alike; each side's median is compared.
The guard is measured as installed: its modules are compiled to bytecode first, as pip does when it
installs the wheel (a checkout run under PYTHONDONTWRITEBYTECODE=1 would compile them again on every
run, which the baseline, compiled by pip, never does). The user's revision files are compiled by
both sides alike. Pass --no-compile to measure the checkout as it is.

    python bench/check.py [--tables 2000] [--revisions 50] [--runs 5]
                          [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

The URL names a server; its database is only used to create and drop `mg_bench_<random>`.
Exit 0 when the ratio is at most 2.0.

Measured (2 cores shared with other work, PostgreSQL 15 on the same machine):
  on main after the merge, quiet: 1.66x (check 0.82 s vs bare 0.49 s)
  with the project built by tests/support/projects.py (alembic logs at INFO on both sides), quiet:
  1.79x (1.07 s vs 0.60 s) and 1.48x (0.79 s vs 0.54 s)
  on branch check-speed, quiet (load average 0.1-0.9): 1.83x (check 0.85 s vs bare 0.46 s), 1.94x (0.89 s vs 0.46 s);
                                 --no-compile 1.93x; the code before the branch, same conditions: 2.93x
  CPU per run (user+sys, guard and its alembic child): check 1.10-1.24 s, bare 0.47-0.48 s (before the
  branch: check 1.28-1.33 s), so under load, when the two cores are busy anyway, the wall ratio goes
  towards the CPU ratio (about 2.5x). The full catalog snapshot's server time (~0.4 s) is not in it.
Where the time goes now: process start to the print's start ~0.07 s (the print starts before the
guard imports SQLAlchemy), the print itself (the baseline), and ~0.15 s after it (the analysis: its
queries of the rows and the temporary copies of type changes, ~120 round trips). The guard's own
import of SQLAlchemy and Alembic and its loading of every revision file run beside the print and
compete with it for the second core.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))
sys.path.insert(0, str(BENCH))
from overhead import guard_program  # noqa: E402

from catalog import DEFAULT_URL, build_script, load_schema, throwaway_database  # noqa: E402

sys.path.insert(0, str(BENCH.parent))  # tests.support.projects: the project builder the tests use
from tests.support.projects import Rev, alembic_project  # noqa: E402

TARGET_RATIO = 2.0
ROWS_IN = 20  # tables t00001..t00020 get rows (and t00000, which they reference), so the data checks read rows
ROWS_PER_TABLE = 500

def revision_body(i: int) -> str:
    """Revision i: a new table, and changes to two existing tables (one of them holding rows)."""
    new, old, full = f"feature_{i:03d}", f"t{i + 100:05d}", f"t{i % ROWS_IN + 1:05d}"
    prev = f"feature_{i - 1:03d}" if i else None
    body = f"""
        op.create_table({new!r}, sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("title", sa.String(120), nullable=False),
                        sa.Column("score", sa.Numeric(10, 2)),
                        sa.Column("created_at", sa.DateTime, server_default=sa.text("now()")))
        op.create_index("ix_{new}_title", {new!r}, ["title"], unique=True)
        op.add_column({old!r}, sa.Column("extra_{i}", sa.Text))
        op.add_column({old!r}, sa.Column("flag_{i}", sa.Boolean, nullable=False, server_default=sa.false()))
        op.create_index("ix_{old}_extra_{i}", {old!r}, ["extra_{i}"])
        op.create_check_constraint("ck_{new}_score", {new!r}, "score >= 0")
        op.execute("INSERT INTO {new} (title, score) VALUES ('first', 1), ('second', 2)")
    """
    if prev:
        body += f"""
        op.add_column({new!r}, sa.Column("parent_id", sa.Integer))
        op.create_foreign_key("fk_{new}_parent", {new!r}, {prev!r}, ["parent_id"], ["id"])
    """
    # On tables that hold rows: a unique index, a foreign key, NOT NULL and a type change the rows satisfy.
    step = i // ROWS_IN
    if step == 0:
        body += f"""
        op.create_index("ux_{full}_id_name_{i}", {full!r}, ["id", "name"], unique=True)
    """
    elif step == 1:
        body += f"""
        op.alter_column({full!r}, "name", existing_type=sa.String(255), nullable=False)
        op.alter_column({full!r}, "amount", type_=sa.BigInteger, existing_type=sa.Integer)
    """
    else:
        body += f"""
        op.create_foreign_key("fk_{full}_self_{i}", {full!r}, {full!r}, ["parent_id"], ["id"])
    """
    return textwrap.dedent(body)


def write_project(root: Path, revisions: int) -> None:
    """The same kind of project the integration tests and bench/overhead.py make (tests/support/projects.py)."""
    alembic_project(root, [Rev(f"r{i:03d}", f"revision {i}", revision_body(i)) for i in range(revisions)])


def fill_rows(engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO t00000 (name, amount, status) SELECT 'n' || g, g, 'new' "
                             f"FROM generate_series(1, {ROWS_PER_TABLE}) g")
        for t in range(1, ROWS_IN + 1):
            table = f"t{t:05d}"
            conn.exec_driver_sql(
                f"INSERT INTO {table} (name, amount, status, parent_id) SELECT 'n' || g, g, 'new', "
                f"CASE WHEN g > 1 THEN g - 1 END FROM generate_series(1, {ROWS_PER_TABLE}) g")
        conn.exec_driver_sql("ANALYZE")


def timed(argv: list[str], cwd: Path, env: dict) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    return time.perf_counter() - start, proc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tables", type=int, default=2000)
    ap.add_argument("--revisions", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5, help="runs of each side; medians are compared")
    ap.add_argument("--database-url", default=DEFAULT_URL)
    ap.add_argument("--no-compile", action="store_true", help="do not compile the guard's bytecode first")
    args = ap.parse_args(argv)
    url = make_url(args.database_url)
    if url.get_backend_name() != "postgresql":
        ap.error("bench/check.py runs on PostgreSQL")
    if args.tables < args.revisions + 100:
        ap.error("--tables must be at least --revisions + 100")
    bin_dir = Path(sys.executable).parent
    if not args.no_compile:
        compileall.compile_dir(BENCH.parent / "src", quiet=1)

    with throwaway_database(url) as engine, tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        load_schema(engine, build_script("postgresql", args.tables, 10))
        fill_rows(engine)
        project = Path(tmp) / "app"
        write_project(project, args.revisions)
        print(f"built {args.tables} tables ({ROWS_IN} with {ROWS_PER_TABLE} rows) and a {args.revisions}-revision "
              f"project in {time.perf_counter() - start:.1f}s", flush=True)
        db_url = engine.url.render_as_string(hide_password=False)
        env = {**os.environ, "DATABASE_URL": db_url,
               "PYTHONPATH": os.pathsep.join(p for p in (str(BENCH.parent / "src"), os.environ.get("PYTHONPATH"))
                                             if p)}
        report = project / "check.json"
        bare = [str(bin_dir / "alembic"), "upgrade", "head", "--sql"]
        check = [*guard_program(), "check", "--report-json", str(report), "--", str(bin_dir / "alembic"), "upgrade",
                 "head"]

        bare_s, check_s = [], []
        for _ in range(args.runs):
            seconds, proc = timed(bare, project, env)
            if proc.returncode != 0:
                print(proc.stderr[-2000:])
                return 2
            bare_s.append(seconds)
            seconds, proc = timed(check, project, env)
            check_s.append(seconds)
            if proc.returncode != 0:
                print(proc.stderr[-3000:])
                print("check predicted a failure on a project built not to fail: the benchmark is broken")
                return 2
        data = json.loads(report.read_text())
        analysed = sum(r["how"] == "analysed" for r in data["checked"])
        statements = proc.stderr.count("\n")

    bare_m, check_m = statistics.median(bare_s), statistics.median(check_s)
    ratio = check_m / bare_m
    ok = ratio <= TARGET_RATIO and analysed == args.revisions
    print(f"baseline: bare `alembic upgrade head --sql` for the same {args.revisions} revisions (process start to "
          f"exit), median of {args.runs} alternating runs each")
    print(f"  runs: bare {', '.join(f'{s:.2f}' for s in bare_s)}; check {', '.join(f'{s:.2f}' for s in check_s)}")
    print(f"  check analysed {analysed} of {args.revisions} revisions ({statements} lines of progress), "
          f"status {data['status']}")
    print(f"migration-guard check {check_m:.2f}s vs alembic upgrade head --sql {bare_m:.2f}s: {ratio:.2f}x "
          f"(target <= {TARGET_RATIO:.1f}x){'' if ok else ' - TARGET MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
