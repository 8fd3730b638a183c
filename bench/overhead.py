"""Overhead of the guard: `migration-guard run -- alembic upgrade head` against bare `alembic upgrade head`.

What it measures: the wall time, as a deploy sees it (process start to exit), of the same Alembic
command run bare (the baseline: the project's own `alembic upgrade head`, no guard) and under
`migration-guard run --` (lock, pending check, child with the bootstrap hooks, report), on a
generated project of 50 realistic revisions (tables, columns, foreign keys, indexes, unique and check
constraints, an enum, data steps). Two cases:

  full run  every run on a fresh, empty database (CREATE DATABASE is not timed), all 50 revisions;
  no-op     every run on a database already at head.

Runs are interleaved (bare, guarded, bare, guarded, ...) so that drift in the machine's load hits
both sides alike; each side's median of N runs is compared. Exit 1 when a ratio misses its target
(<= 1.10x full run, <= 1.30x no-op).

How the guard stays out of the way: it asks for the lock before its CLI is imported
(runtime/front.py). The first guard on a machine starts the command even before that, held before
any of the project's code runs while the guard imports the driver and takes the lock, then held again
at a gate before its first database connection while the guard reads the state (runtime/child.py,
Early); on a database with nothing in it that gate opens at once and the pending revisions come from
the revision files, so a clean run never imports SQLAlchemy or Alembic in the guard. A no-op run
answers from the version table on the lock's own session (runtime/at_head.py); the command it
started is killed at its gate, having run nothing.

Numbers here (2 vCPUs, PostgreSQL 15 on localhost, Python 3.11, SQLAlchemy 2.1, Alembic 1.20,
psycopg2; the guard's modules compiled first, as an install has them). First version: no-op 1.13x,
full run 1.56x. Session 2: no-op 0.26x-0.27x, full run 1.14x-1.25x (missed). Now, on a machine whose
speed drifts by +-10% from one minute to the next (bare runs of the same work took 0.82 s to 1.18 s):
no-op 0.18x-0.24x (met); full run, thirteen invocations of --runs 7 to 15: 1.01x, 1.01x, 1.05x,
1.07x, 1.07x, 1.08x, 1.08x, 1.08x, 1.09x, 1.10x, 1.11x, 1.11x, 1.16x: median 1.08x, three of thirteen
over the target.
Where the rest goes, timed over fifteen runs: the guard starts the command 37 ms after it starts
itself (Python's start, its script's `re`, `subprocess`), the command then takes as long as bare
(0.993 s against 0.994 s: the guard's own 0.12 s of CPU, mostly importing the driver, click and the
runner, runs on the other core), and the guard exits 7 ms after the command.

Usage: python bench/overhead.py [--database-url URL] [--revisions 50] [--runs N]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support.projects: the same project builder the integration tests use

from tests.support.projects import Rev, alembic_project  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGETS = {"full": 1.10, "noop": 1.30}


# -- the project -------------------------------------------------------------------------------------
def _rev_id(n: int) -> str:
    return hashlib.sha1(f"bench-{n}".encode()).hexdigest()[:12]


def revisions(count: int) -> list[Rev]:
    """`count` revisions in a cycle of five kinds, the way an application's history grows.

    Per entity k: create its table (with a foreign key to the previous entity), add columns, index
    and constrain them, load and backfill data, and tighten a column. One revision creates an enum type
    with its table; a later one reuses the type on another table.
    """
    out: list[Rev] = []
    enum_made = False
    for n in range(count):
        k, step = divmod(n, 5)
        t = f"entity_{k}"
        parent = f"entity_{k - 1}" if k else None
        if step == 0:
            columns = ['sa.Column("id", sa.Integer, primary_key=True)',
                       'sa.Column("name", sa.String(120), nullable=False)',
                       'sa.Column("created_at", sa.DateTime, server_default=sa.func.now(), nullable=False)']
            if parent:
                columns.append(f'sa.Column("{parent}_id", sa.Integer, '
                               f'sa.ForeignKey("{parent}.id", ondelete="CASCADE"))')
            body = f'op.create_table(\n    "{t}",\n' + "".join(f"    {c},\n" for c in columns) + ")"
            doc = f"create {t}"
        elif step == 1:
            if not enum_made:
                body = f"""
                    op.create_table(
                        "{t}_state",
                        sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("{t}_id", sa.Integer, sa.ForeignKey("{t}.id"), nullable=False),
                        sa.Column("state", sa.Enum("draft", "active", "archived", name="record_state"),
                                  nullable=False, server_default="draft"),
                    )
                    op.add_column("{t}", sa.Column("description", sa.Text, nullable=True))
                """
                doc = f"create {t} state with enum"
                enum_made = True
            else:
                body = f"""
                    op.add_column("{t}", sa.Column("description", sa.Text, nullable=True))
                    op.add_column("{t}", sa.Column("is_active", sa.Boolean, server_default=sa.true(),
                                                   nullable=False))
                    op.add_column("{t}", sa.Column("score", sa.Numeric(10, 2), nullable=True))
                """
                doc = f"add details to {t}"
        elif step == 2:
            body = f"""
                op.add_column("{t}", sa.Column("slug", sa.String(140), nullable=True))
                op.create_index("ix_{t}_name", "{t}", ["name"])
                op.create_unique_constraint("uq_{t}_slug", "{t}", ["slug"])
            """
            doc = f"index {t}"
        elif step == 3:
            body = f"""
                op.execute("INSERT INTO {t} (name) SELECT 'item ' || g FROM generate_series(1, 200) AS g")
                op.execute("UPDATE {t} SET slug = lower(replace(name, ' ', '-')) WHERE slug IS NULL")
            """
            doc = f"load and backfill {t}"
        else:
            if k == 2:
                body = f"""
                    from sqlalchemy.dialects import postgresql
                    op.add_column("{t}", sa.Column("state", postgresql.ENUM(name="record_state", create_type=False),
                                                   nullable=False, server_default="active"))
                    op.alter_column("{t}", "slug", nullable=False)
                """
                doc = f"reuse the enum on {t}"
            else:
                body = f"""
                    op.alter_column("{t}", "slug", nullable=False)
                    op.create_check_constraint("ck_{t}_name", "{t}", "length(name) > 0")
                """
                doc = f"tighten {t}"
        out.append(Rev(_rev_id(n), doc, body, down=_rev_id(n - 1) if n else None))
    return out


# -- databases ---------------------------------------------------------------------------------------
class Server:
    """Makes and drops throwaway databases on one server; drops whatever is left at close()."""

    def __init__(self, url: str):
        self.admin: URL = make_url(url)
        self.engine = create_engine(self.admin, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self.made: list[str] = []
        self.prefix = f"mg_bench_{os.getpid()}_"
        self.count = 0

    def create(self) -> str:
        self.count += 1
        name = f"{self.prefix}{self.count}"
        with self.engine.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        self.made.append(name)
        return self.admin.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.engine.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.made.remove(name)

    def close(self) -> None:
        for name in list(self.made):
            with self.engine.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            self.made.remove(name)
        self.engine.dispose()


# -- the commands --------------------------------------------------------------------------------------
def child_env(database_url: str) -> dict[str, str]:
    """The caller's environment, minus what would change what the guard does, plus this worktree's code."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MIGRATION_GUARD_", "GITHUB_", "GH_")) and k != "DATABASE_URL"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p)
    env["DATABASE_URL"] = database_url
    return env


def compile_guard() -> None:
    """The guard measured as installed: pip compiles a wheel's modules to bytecode, and so is the
    baseline's alembic. A checkout run under PYTHONDONTWRITEBYTECODE=1 would compile every changed
    module again on every run, which no installed guard does."""
    import compileall

    compileall.compile_dir(ROOT / "src", quiet=1)


def guard_program() -> list[str]:
    """The guard as a deploy runs it: its console script, as the baseline runs alembic's. `python -m`
    would add runpy's start to the guard's side only. The checkout's code is what runs either way: the
    script imports migration_guard, which child_env's PYTHONPATH finds first."""
    beside = Path(sys.executable).parent / "migration-guard"
    return [str(beside)] if beside.is_file() else [sys.executable, "-m", "migration_guard"]


def alembic_program() -> str:
    beside = Path(sys.executable).parent / "alembic"
    found = str(beside) if beside.is_file() else shutil.which("alembic")
    if not found:
        sys.exit("bench: `alembic` not found beside this Python or on PATH")
    return found


@dataclass
class Sample:
    wall: float  # seconds, process start to exit: what the deploy waits for (the targets are on this)
    cpu: float  # user + system seconds of the process and the children it waited for (not the server's)


def timed(argv: list[str], project: Path, database_url: str) -> Sample:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    proc = subprocess.run(argv, cwd=project, env=child_env(database_url), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return Sample(wall, after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime)


@contextmanager
def project_dir(count: int) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="mg-bench-") as tmp:
        yield alembic_project(Path(tmp) / "app", revisions(count))


def side_by_side(runs: int, bare: Callable[[], Sample], guarded: Callable[[], Sample]) -> tuple[Sample, Sample]:
    """Interleaved runs, one warm-up each (not counted); the medians of bare and of guarded."""
    bare(), guarded()
    samples: dict[str, list[Sample]] = {"bare": [], "guarded": []}
    for _ in range(runs):
        samples["bare"].append(bare())
        samples["guarded"].append(guarded())
    return _median(samples["bare"]), _median(samples["guarded"])


def _median(samples: list[Sample]) -> Sample:
    return Sample(statistics.median(s.wall for s in samples), statistics.median(s.cpu for s in samples))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help=f"server admin URL (default {DEFAULT_URL})")
    parser.add_argument("--revisions", type=int, default=50)
    parser.add_argument("--runs", type=int, default=11,
                        help="interleaved runs of each side (this machine drifts: more is steadier)")
    parser.add_argument("--no-compile", action="store_true", help="do not compile the guard's bytecode first")
    args = parser.parse_args(argv)
    if not args.no_compile:
        compile_guard()

    alembic = alembic_program()
    bare_cmd = [alembic, "upgrade", "head"]
    guard_cmd = [*guard_program(), "run", "--no-github", "--", *bare_cmd]
    load_before = os.getloadavg()[0]  # other work on the machine skews both sides, and not always alike
    server = Server(args.database_url)
    results: list[tuple[str, str, Sample, Sample]] = []
    try:
        with project_dir(args.revisions) as project:
            def fresh(cmd: list[str]) -> Callable[[], Sample]:
                def one() -> Sample:
                    url = server.create()
                    try:
                        return timed(cmd, project, url)
                    finally:
                        server.drop(url)
                return one

            b, g = side_by_side(args.runs, fresh(bare_cmd), fresh(guard_cmd))
            results.append(("full", f"full run ({args.revisions} revisions, fresh database)", b, g))

            at_head = server.create()
            timed(bare_cmd, project, at_head)
            b, g = side_by_side(args.runs, lambda: timed(bare_cmd, project, at_head),
                                lambda: timed(guard_cmd, project, at_head))
            results.append(("noop", "no-op run (database at head)", b, g))
    finally:
        server.close()

    print(f"baseline: bare `alembic upgrade head`; guarded: `migration-guard run -- alembic upgrade head`; "
          f"median of {args.runs} interleaved runs each; load average {load_before:.1f} -> {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    missed = False
    for key, label, b, g in results:
        ratio = g.wall / b.wall
        missed |= ratio > TARGETS[key]
        print(f"{label}: bare {b.wall:.2f}s, guarded {g.wall:.2f}s, ratio {ratio:.2f}x (target <= {TARGETS[key]:.2f}x)"
              f"{'' if ratio <= TARGETS[key] else ' MISSED'}; cpu bare {b.cpu:.2f}s, guarded {g.cpu:.2f}s, "
              f"ratio {g.cpu / b.cpu:.2f}x")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
