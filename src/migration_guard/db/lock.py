"""One migrator at a time: a database-level lock held around the whole run.

PostgreSQL: a session advisory lock; MySQL/MariaDB: GET_LOCK on a name that includes the
database (GET_LOCK names are server-wide); SQLite: an OS file lock beside the database file.
All three are released by the server/OS when the holder dies, so a killed guard never leaves
a lock behind.
"""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine

from migration_guard.db import url as urls
from migration_guard.errors import UnreachableError, UsageError

# A fixed key: every guard on the same database must contend for the same lock.
PG_LOCK_KEY = zlib.crc32(b"migration-guard") * 4096 + 7

Progress = Callable[[float, str], None]


class Lock:
    """Held from acquire() to release(); `waited_s` says how long another migrator held it."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.dialect = urls.dialect_of(engine.url)
        self.waited_s = 0.0
        self._conn: Connection | None = None
        self._file = None
        self.name = ""

    def acquire(self, timeout: float, progress: Progress | None = None) -> None:
        start = time.monotonic()
        if self.dialect == "sqlite":
            self._acquire_file(timeout, progress)
        else:
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try_lock = self._try_pg if self.dialect == "postgresql" else self._try_mysql
            next_note = 5.0
            while not try_lock():
                waited = time.monotonic() - start
                if waited >= timeout:
                    holder = self._holder()
                    self.release()
                    raise UnreachableError(
                        f"could not take the migration lock within {timeout:g}s: another migrator "
                        f"holds it{holder} (raise --lock-timeout, or check for a stuck deploy)"
                    )
                if progress and waited >= next_note:
                    progress(waited, self._holder())
                    next_note += 10.0
                time.sleep(min(0.2, max(0.0, timeout - waited)))
        self.waited_s = time.monotonic() - start

    def _try_pg(self) -> bool:
        assert self._conn is not None
        self.name = f"pg_advisory_lock({PG_LOCK_KEY})"
        return bool(self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": PG_LOCK_KEY}).scalar())

    def _try_mysql(self) -> bool:
        assert self._conn is not None
        db = self._conn.execute(text("SELECT DATABASE()")).scalar() or ""
        # GET_LOCK names are limited to 64 characters on MySQL.
        self.name = ("migration-guard:" + db)[:64]
        return self._conn.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": self.name}).scalar() == 1

    def _holder(self) -> str:
        if self._conn is None:
            return ""
        try:
            if self.dialect == "postgresql":
                row = self._conn.execute(text(
                    "SELECT a.pid, a.application_name, a.client_addr FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                    "AND l.granted AND l.database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database()) AND l.pid <> pg_backend_pid() LIMIT 1"
                )).first()
                return f" (pid {row[0]}, {row[1] or 'unknown application'})" if row else ""
            row = self._conn.execute(text("SELECT IS_USED_LOCK(:n)"), {"n": self.name}).first()
            return f" (connection {row[0]})" if row and row[0] else ""
        except Exception:
            return ""

    def _acquire_file(self, timeout: float, progress: Progress | None) -> None:
        from filelock import FileLock, Timeout

        database = self.engine.url.database or ""
        if not database or database == ":memory:":
            raise UsageError("an in-memory SQLite database cannot be locked across processes; use a file")
        path = Path(database).resolve()
        self.name = str(path) + ".migration-guard.lock"
        lock = FileLock(self.name)
        start = time.monotonic()
        next_note = 5.0
        while True:
            try:
                lock.acquire(timeout=min(1.0, max(0.01, timeout - (time.monotonic() - start))))
                self._file = lock
                return
            except Timeout:
                waited = time.monotonic() - start
                if waited >= timeout:
                    raise UnreachableError(
                        f"could not take the migration lock {self.name} within {timeout:g}s: "
                        "another migrator holds it"
                    ) from None
                if progress and waited >= next_note:
                    progress(waited, f" (lock file {os.path.basename(self.name)})")
                    next_note += 10.0

    def held(self) -> bool:
        """Still ours? A server restart or a cut connection ends the session, and the lock with it."""
        if self.dialect == "sqlite":
            return self._file is not None
        if self._conn is None:
            return False
        try:
            if self.dialect == "postgresql":
                return bool(self._conn.execute(text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid()")).scalar())
            return bool(self._conn.execute(text("SELECT IS_USED_LOCK(:n) = CONNECTION_ID()"),
                                           {"n": self.name}).scalar())
        except Exception:
            return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                if self.dialect == "postgresql":
                    self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
                elif self.dialect == "mysql" and self.name:
                    self._conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": self.name})
            except Exception:
                pass  # closing the session releases it anyway
            finally:
                self._conn.close()
                self._conn = None
        if self._file is not None:
            self._file.release()
            self._file = None


def end_sessions(engine: Engine, ids: list[int]) -> int:
    """End the server sessions a stopped command left behind (their transactions roll back).

    Only sessions the command itself reported are touched. Without this, a statement that was
    running when the command died keeps its locks until it finishes, and the next deploy waits."""
    dialect = urls.dialect_of(engine.url)
    ids = sorted({i for i in ids if i})
    if not ids or dialect == "sqlite":
        return 0
    try:
        with engine.connect() as conn:
            if dialect == "postgresql":
                return sum(1 for _ in conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY(:ids)"),
                    {"ids": ids}))
            alive = [r[0] for r in conn.execute(text(
                "SELECT id FROM information_schema.PROCESSLIST WHERE id IN :ids").bindparams(
                    bindparam("ids", expanding=True)), {"ids": ids})]
            for session in alive:
                conn.execute(text(f"KILL {int(session)}"))
            return len(alive)
    except Exception:
        return 0  # best effort: the server ends them itself when their statements finish


# libpq names the command's sessions through PGAPPNAME, so that a later guard can recognise them.
CHILD_APP_NAME = "migration-guard child"


def end_orphans(engine: Engine) -> int:
    """Once the lock is ours, any session of a guarded command still open belongs to a guard that was
    killed (the lock says no one else may migrate now): end it, so its transaction rolls back and
    releases the locks it holds."""
    if urls.dialect_of(engine.url) != "postgresql":
        return 0
    try:
        with engine.connect() as conn:
            return sum(1 for _ in conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name "
                "AND datname = current_database() AND pid <> pg_backend_pid()"), {"name": CHILD_APP_NAME}))
    except Exception:
        return 0
