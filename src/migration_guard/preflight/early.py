"""`check`: start the slow reads while the guard is still taking the lock.

The two costs of a check that do not depend on each other are the tool printing the pending
statements (a process of its own, as long as bare `alembic upgrade --sql`) and reading the catalog.
Both only read, so they can start as soon as the guard is connected, in background threads, while
it takes the lock and lists the pending revisions. Their results are used only if nothing can have
changed meanwhile: the lock was free at once (no guarded migrator was running) and the pending
revisions are the ones the early print was for. Otherwise the check reads again under the lock.
"""

from __future__ import annotations

import threading

from migration_guard.db.catalog import snapshot

WAITED_S = 0.1  # a lock not granted at once was held by another migrator: what was read may be stale


class Early:
    def __init__(self, framework, engine, env: dict):
        self.framework, self.engine, self.env = framework, engine, env
        self.pending = None
        self.sql = None
        self.catalog = None
        self._threads = [threading.Thread(target=self._print, daemon=True),
                         threading.Thread(target=self._read, daemon=True)]
        for thread in self._threads:
            thread.start()

    def _print(self) -> None:
        from migration_guard.preflight.analysis import statements_env

        try:
            pending = self.framework.pending(self.engine)
            if pending:
                env = statements_env(self.env, self.engine.dialect.name)
                self.sql = self.framework.revision_sql(env, pending, self.engine)
                self.pending = [r.id for r in pending]
        except Exception:  # anything odd: the check reads again under the lock
            self.sql = None

    def _read(self) -> None:
        if self.engine.dialect.name == "postgresql":
            return  # the analysis reads only what the statements name, once they are printed
        try:
            with self.engine.connect() as conn:
                self.catalog = snapshot(conn)
        except Exception:
            self.catalog = None

    def give(self, ctx, waited_s: float) -> None:
        """Hand what was read to the check's context, if it still holds."""
        for thread in self._threads:
            thread.join()
        if waited_s >= WAITED_S:
            return
        if self.sql is not None and self.pending == [r.id for r in ctx.pending]:
            ctx._sql = self.sql
        if self.catalog is not None:
            ctx.__dict__["catalog"] = self.catalog


def start(framework, engine, env: dict) -> Early:
    return Early(framework, engine, env)
