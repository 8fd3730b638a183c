"""`check`: start the slow reads while the guard is still getting ready and taking the lock.

The costs of a check that do not depend on each other are the tool printing the pending statements
(a process of its own, as long as bare `alembic upgrade --sql`), the guard reading the project's
revision files, and reading the catalog. The print is on the critical path, so it starts first:
as soon as the guard is connected, from the heads a plain query of the history table gives, before
the revision files are read (Framework.early_print), or, on PostgreSQL with the URL given, even
before the guard imports SQLAlchemy (quick()). Where the framework cannot start it that way,
it starts once they are read (`prepared()`), from the pending revisions. On MySQL and SQLite the
catalog is read beside it; on PostgreSQL only the objects the revision files name are read meanwhile,
and after the print what the statements name beyond them (db/catalog PartialCatalog), which costs
less than reading all of them at once.

Everything here only reads, in background threads, and is used only if nothing can have changed
meanwhile: the lock was free at once (no guarded migrator was running) and the heads, or the
pending revisions, are still the ones the early print was for. Otherwise the check reads again
under the lock.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

WAITED_S = 0.1  # a lock not granted at once was held by another migrator: what was read may be stale


class Early:
    def __init__(self, framework, engine, env: dict, dialect: str | None = None, heads=None):
        """`heads()`: (heads, argv) of the fast print, read without `engine` (quick()); by default
        framework.early_print(engine)."""
        self.framework, self.engine, self.env = framework, engine, env
        self.dialect = dialect or engine.dialect.name
        self.heads = None  # the heads the fast print started from
        self.run = None  # ... and its output
        self.pending = None  # the pending revisions the other print was for
        self.sql = None  # ... and their statements
        self.catalog = None
        self.trees: dict = {}  # PostgreSQL parse trees of the printed statements, parsed as they came
        self._reader = _Blocks(self.dialect, self.trees) if self.dialect == "postgresql" else None
        self._heads = heads or (lambda: self.framework.early_print(self.engine))
        self._process = None
        self._prepared = threading.Event()
        self._decided = threading.Event()  # the fast print was started, or will not be
        self._threads = [threading.Thread(target=self._print, daemon=True)]
        if self.dialect != "postgresql":
            self._threads.append(threading.Thread(target=self._read, daemon=True))
        for thread in self._threads:
            thread.start()

    def printing(self) -> bool:
        """Whether the fast print runs (or ran); waits until that is known."""
        self._decided.wait()
        return self.heads is not None

    def adopt(self, framework, engine) -> None:
        """Hand a quick() start over to the runner's framework and engine (see quick())."""
        self.framework, self.engine = framework, engine

    def prepared(self) -> None:
        """The framework has read the project's files (prepare()): asking it for pending revisions is safe."""
        self._prepared.set()

    def _print(self) -> None:
        env = statements_env(self.env, self.dialect)
        try:
            try:
                fast = self._heads()
                if fast is not None:
                    self.heads = fast[0]
            finally:
                self._decided.set()
            if fast is not None:
                reader = self._reader
                self.run = self.framework.tool(fast[1], env, started=self._started,
                                               line=reader.line if reader is not None else None)
                if reader is not None:
                    reader.end()
                return
            if self.engine is None:
                return
            self._prepared.wait()
            pending = self.framework.pending(self.engine)
            if pending:
                self.sql = self.framework.revision_sql(env, pending, self.engine)
                self.pending = [r.id for r in pending]
        except Exception:  # anything odd: the check reads again under the lock
            self.run = self.sql = None

    def _started(self, process) -> None:
        self._process = process

    def close(self) -> None:
        """The check ended without using the print (nothing pending, an error): stop what still runs."""
        self._prepared.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()

    def _read(self) -> None:
        from migration_guard.db.catalog import snapshot

        try:
            with self.engine.connect() as conn:
                self.catalog = snapshot(conn)
        except Exception:
            self.catalog = None

    def give(self, ctx, waited_s: float, meanwhile=None) -> None:
        """Hand what was read to the check's context, if it still holds; `meanwhile()` runs here first,
        while the print may still be going on."""
        self._prepared.set()  # a run that failed before prepare() must not leave the thread waiting
        if meanwhile is not None:
            meanwhile()
        for thread in self._threads:
            thread.join()
        if waited_s >= WAITED_S:
            return
        if self.run is not None and self.heads is not None and ctx.pending:
            try:
                same = sorted(self.framework.current_heads(self.engine)) == sorted(self.heads)
            except Exception:
                same = False
            if same:
                ctx._sql = self.framework.statements_of(self.run, ctx.pending, self.dialect)
                ctx._trees.update(self.trees)
        if self.sql is not None and self.pending == [r.id for r in ctx.pending]:
            ctx._sql = self.sql
        if self.catalog is not None:
            ctx.__dict__["catalog"] = self.catalog


class _Blocks:
    """Parses each revision's statements while the tool is still printing the next ones.

    The output is cut exactly as frameworks/alembic.py cuts it (from the end of one `-- Running
    upgrade` mark to the start of the next), so the statements are the same strings the analysis
    will look up; the trees only save it the parser's time. Anything odd stops the parsing, never
    the print.
    """

    def __init__(self, dialect: str, trees: dict):
        from migration_guard.frameworks.alembic import _RUNNING

        self.dialect, self.trees, self._mark = dialect, trees, _RUNNING
        self._text: list[str] = []
        self._size = 0
        self._body_from: int | None = None  # where the statements of the revision being printed begin

    def line(self, text: str) -> None:
        if text.startswith("-- Running upgrade"):
            found = self._mark.match(text)
            if found is not None:
                self._parse_up_to(self._size)
                self._body_from = self._size + found.end()
        self._text.append(text)
        self._size += len(text)

    def end(self) -> None:
        self._parse_up_to(self._size)

    def _parse_up_to(self, end: int) -> None:
        if self._body_from is None:
            return
        from migration_guard.frameworks.alembic import _statements
        from migration_guard.operations.postgresql import parse

        text = "".join(self._text)
        self._text = [text]
        for statement in _statements(text[self._body_from:end], self.dialect):
            if statement not in self.trees:
                self.trees[statement] = parse(statement)
        self._body_from = None


def statements_env(env: dict, dialect: str) -> dict:
    """The environment of the offline print: sessions read-only by default (see analysis.load_statements)."""
    env = dict(env)
    if dialect == "postgresql":
        env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c default_transaction_read_only=on".strip()
    return env


def start(framework, engine, env: dict) -> Early:
    return Early(framework, engine, env)


def quick(command: list[str], settings, env: dict, cwd: Path) -> Early | None:
    """`check` on PostgreSQL: start the print before the guard has even imported SQLAlchemy.

    Connecting through SQLAlchemy means importing it, a fifth of a second the print would otherwise
    wait for. Here the history table is read over a plain psycopg2 connection to the URL the guard
    would use when it is given as --database-url or DATABASE_URL (a URL from the project's own
    configuration takes the usual way). The runner adopts the print only if it ends up with the same
    URL string and the same command (Runner.run), and the heads are compared under the lock as for
    any early print; otherwise it is stopped. None when this cannot be done so cheaply.
    """
    raw = settings.database_url or env.get("DATABASE_URL")
    scheme, _, rest = (raw or "").partition("://")
    base, _, driver = scheme.partition("+")
    if not rest or base not in ("postgresql", "postgres") or driver not in ("", "psycopg2", "psycopg"):
        return None
    try:
        import psycopg2
        from psycopg2.extensions import quote_ident

        from migration_guard.frameworks.detect import detect

        framework = detect(command, cwd, settings.framework)
        table = getattr(framework, "history_table_guess", lambda: None)()
    except Exception:
        return None
    if table is None:
        return None

    def heads():
        # libpq reads the same URL (without SQLAlchemy's +driver); a URL it does not take ends here.
        with contextlib.closing(psycopg2.connect(f"postgresql://{rest}", connect_timeout=5)) as conn:
            conn.set_session(readonly=True, autocommit=True)
            with conn.cursor() as cur:
                cur.execute("SELECT to_regclass(%s) IS NOT NULL", (quote_ident(table, conn),))
                if not cur.fetchone()[0]:
                    return framework.early_argv(())
                cur.execute(f"SELECT version_num FROM {quote_ident(table, conn)}")
                return framework.early_argv(tuple(row[0] for row in cur.fetchall()))

    started = Early(framework, None, env, dialect="postgresql", heads=heads)
    started.command, started.url = list(command), raw
    return started
