"""One migrator at a time: a database-level lock held around the whole run.

PostgreSQL: a session advisory lock; MySQL/MariaDB: GET_LOCK on a name that includes the
database (GET_LOCK names are server-wide); SQLite: an OS file lock beside the database file.
All three are released by the server/OS when the holder dies, so a killed guard never leaves
a lock behind.
"""

from __future__ import annotations

import contextlib
import os
import time
import zlib

from migration_guard.errors import UnreachableError, UsageError

TYPE_CHECKING = False  # typing's own: this module is on the way to the lock (runtime/front.py), typing is not
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from sqlalchemy.engine import Engine

    from migration_guard.db.target import Target

# A fixed key: every guard on the same database must contend for the same lock.
PG_LOCK_KEY = zlib.crc32(b"migration-guard") * 4096 + 7
# How long one blocking wait for the lock lasts before the guard looks up (progress notes, signals:
# Python runs a signal handler only once the driver's call returns).
WAIT_SLICE_S = 0.5


class Lock:
    """Held from acquire() to release(); `waited_s` says how long another migrator held it.

    It lives on a plain DBAPI connection of its own, opened by `connect`: a replica that only waits
    and then finds nothing to do never imports SQLAlchemy (db/target.py says why that matters)."""

    def __init__(self, dialect: str, database: str | None, connect: Callable[[], Any]):
        self.dialect = dialect
        self.database = database
        self._connect = connect
        self.waited_s = 0.0
        self.contended = False  # another migrator held it when this one asked
        self.shared = False  # held shared, as a replica that waited holds it (acquire's share_while_waiting)
        self._held = False
        self._conn: Any = None
        self._file = None
        self.name = ""

    @classmethod
    def on(cls, target: Target, *, connect_timeout: float, on_retry=None) -> Lock:
        from migration_guard.db.target import connect

        return cls(target.dialect, target.database, lambda: connect(
            target, timeout=connect_timeout, app_name="migration-guard", on_retry=on_retry))

    @classmethod
    def for_engine(cls, engine: Engine) -> Lock:
        """A connection of the engine's, taken out of its pool for good: the lock outlives checkouts."""
        from migration_guard.db import url as urls

        def connect():
            fairy = engine.raw_connection()
            raw = fairy.driver_connection
            fairy.detach()
            if urls.dialect_of(engine.url) == "mysql":
                raw.autocommit(True)
            else:
                raw.autocommit = True
            return raw

        return cls(urls.dialect_of(engine.url) or "", engine.url.database, connect)

    def _one(self, sql: str, *params):
        found = self._all(sql, params)
        return found[0] if found else None

    def _all(self, sql: str, params: tuple) -> list:
        cur = self._conn.cursor()
        try:
            cur.execute(sql, params or None)
            return list(cur.fetchall()) if cur.description is not None else []
        finally:
            cur.close()

    def acquire(self, timeout: float, progress: Callable[[float, str], None] | None = None,
                contended: Callable[[], None] | None = None, share_while_waiting: bool = False) -> None:
        """`contended` runs once, when another migrator holds the lock: work to do while waiting.

        `share_while_waiting` (PostgreSQL): a replica that finds the lock held waits for a shared hold
        of it instead, which no migrator holds beside it. When the migrator lets go, every replica
        waiting so is let in at once, to see the database at head side by side, instead of one after
        another; one that finds work asks for the lock itself: exclusive(), or acquire() again without
        `share_while_waiting`."""
        if self._held:  # taken by try_acquire(), or held shared by a waiter (runtime/waiter.py)
            if self.shared and not share_while_waiting:
                self.exclusive(max(0.0, timeout - self.waited_s), progress)
            return
        start = time.monotonic()
        if self.dialect == "sqlite":
            self._acquire_file(timeout, progress, contended)
        else:
            asked = self._conn is not None  # try_acquire() asked once already, and found it held
            self._open()
            if asked or not self._wait(0.0):
                self.contended = True
                if contended:
                    contended()
                self.shared = share_while_waiting and self.dialect == "postgresql"
                self._wait_in_server(start, timeout, progress)
        self._held = True
        self.waited_s = time.monotonic() - start

    def exclusive(self, timeout: float, progress: Callable[[float, str], None] | None = None) -> None:
        """From a shared hold to the lock itself. Two shared holders that both asked to upgrade in
        place would wait on each other, so the shared hold is let go first and the lock asked for
        anew: whoever gets it first migrates, and the state must be read again after."""
        if not self.shared:
            return
        self._one("SELECT pg_advisory_unlock_shared(%s)", PG_LOCK_KEY)
        self.shared = self._held = False
        start = time.monotonic()
        if not self._wait(0.0):
            self._wait_in_server(start, timeout, progress)
        self._held = True
        self.waited_s += time.monotonic() - start

    def _wait_in_server(self, start: float, timeout: float, progress: Callable[[float, str], None] | None) -> None:
        """Waiting inside the server, not polling: the next replica in line gets the lock the moment it
        is released, and a waiting replica costs no CPU."""
        next_note = 5.0
        while not self._wait(min(WAIT_SLICE_S, max(0.0, timeout - (time.monotonic() - start)))):
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

    def try_acquire(self) -> bool:
        """One try that does not wait; the session stays open, for acquire() to wait on if it failed."""
        self._open()
        self._held = self._wait(0.0)
        self.contended = not self._held
        return self._held

    def _open(self) -> None:
        if self._conn is not None:
            return
        self._conn = self._connect()
        if self.dialect == "mysql":
            db = self._one("SELECT DATABASE()")[0] or ""
            # GET_LOCK names are limited to 64 characters on MySQL.
            self.name = ("migration-guard:" + db)[:64]
        else:
            self.name = f"pg_advisory_lock({PG_LOCK_KEY})"

    def _wait(self, seconds: float) -> bool:
        if self.dialect == "mysql":
            return self._one("SELECT GET_LOCK(%s, %s)", self.name, round(seconds, 3))[0] == 1
        how = "_shared" if self.shared else ""
        if self._one(f"SELECT pg_try_advisory_lock{how}(%s)", PG_LOCK_KEY)[0]:
            return True
        if seconds <= 0:
            return False
        try:
            self._one(f"SET lock_timeout = {max(1, int(seconds * 1000))}")
            self._one(f"SELECT pg_advisory_lock{how}(%s)", PG_LOCK_KEY)
            return True
        except Exception as exc:
            if _sqlstate(exc) != "55P03":  # lock_not_available: the slice ended; anything else is real
                raise
            return False
        finally:
            self._one("SET lock_timeout = 0")

    def _holder(self) -> str:
        if self._conn is None:
            return ""
        try:
            if self.dialect == "postgresql":
                row = self._one(
                    "SELECT a.pid, a.application_name, a.client_addr FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                    "AND l.granted AND l.database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database()) AND l.pid <> pg_backend_pid() "
                    "ORDER BY l.mode = 'ExclusiveLock' DESC LIMIT 1")
                return f" (pid {row[0]}, {row[1] or 'unknown application'})" if row else ""
            row = self._one("SELECT IS_USED_LOCK(%s)", self.name)
            return f" (connection {row[0]})" if row and row[0] else ""
        except Exception:
            return ""

    def _acquire_file(self, timeout: float, progress: Callable[[float, str], None] | None, contended=None) -> None:
        from filelock import FileLock, Timeout

        database = self.database or ""
        if not database or database == ":memory:":
            raise UsageError("an in-memory SQLite database cannot be locked across processes; use a file")
        self.name = os.path.realpath(database) + ".migration-guard.lock"
        lock = FileLock(self.name)
        start = time.monotonic()
        next_note = 5.0
        try:
            lock.acquire(blocking=False)
            self._file = lock
            return
        except Timeout:
            self.contended = True
            if contended:
                contended()
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

    def rows(self, sql: str, *params) -> list | None:
        """The rows of a question asked on the lock's own session (None on any error): the up-to-date
        check asks before the rest of the guard has a connection."""
        if self._conn is None:
            return None
        try:
            return self._all(sql, params)
        except Exception:
            return None

    def held(self) -> bool:
        """Still ours? A server restart or a cut connection ends the session, and the lock with it."""
        if self.dialect == "sqlite":
            return self._file is not None
        if self._conn is None:
            return False
        try:
            if self.dialect == "postgresql":
                return bool(self._one(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid()")[0])
            return bool(self._one("SELECT IS_USED_LOCK(%s) = CONNECTION_ID()", self.name)[0])
        except Exception:
            return False

    def release(self) -> None:
        self._held = False
        if self._conn is not None:
            try:
                if self.dialect == "postgresql":
                    self._one(f"SELECT pg_advisory_unlock{'_shared' if self.shared else ''}(%s)", PG_LOCK_KEY)
                elif self.dialect == "mysql" and self.name:
                    self._one("SELECT RELEASE_LOCK(%s)", self.name)
            except Exception:
                pass  # closing the session releases it anyway
            finally:
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None
        self.shared = False
        if self._file is not None:
            self._file.release()
            self._file = None


def _sqlstate(exc: BaseException) -> str | None:
    return getattr(exc, "pgcode", None) or getattr(exc, "sqlstate", None)


def end_sessions(engine: Engine, ids: list[int]) -> int:
    """End the server sessions a stopped command left behind (their transactions roll back).

    Only sessions the command itself reported are touched. Without this, a statement that was
    running when the command died keeps its locks until it finishes, and the next deploy waits."""
    from sqlalchemy import bindparam, text

    from migration_guard.db import url as urls

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
    from sqlalchemy import text

    from migration_guard.db import url as urls

    if urls.dialect_of(engine.url) != "postgresql":
        return 0
    try:
        with engine.connect() as conn:
            return sum(1 for _ in conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name "
                "AND datname = current_database() AND pid <> pg_backend_pid()"), {"name": CHILD_APP_NAME}))
    except Exception:
        return 0
