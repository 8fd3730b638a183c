"""What a database holds, to prove a command changed nothing; and which locks a command held, for how long.

fingerprint(url): the catalog snapshot (every table, column, index, constraint, type, enum label
and sequence, as migration_guard.db.catalog reads them, without the planner's row estimates),
an md5 over every row of every table in a fixed order, every sequence's position, and the
migration history. Two equal fingerprints mean nothing the command could have touched changed.

LockWatch(url): polls pg_locks from its own session while a command runs and records, for every
lock another session of that database holds (advisory locks apart: that is the guard's own), how
long it was seen held.
"""

from __future__ import annotations

import dataclasses
import threading
import time

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from migration_guard.db.catalog import snapshot


def fingerprint(url: str) -> dict:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            catalog = snapshot(conn)
            shape = dataclasses.asdict(catalog)
            for table in shape["tables"].values():
                table.pop("row_estimate", None)
            prep = conn.dialect.identifier_preparer
            data = {}
            for (schema, name), table in sorted(catalog.tables.items()):
                if table.kind not in ("table", "partitioned"):
                    continue
                qualified = f"{prep.quote_schema(schema)}.{prep.quote(name)}"
                data[f"{schema}.{name}"] = tuple(conn.execute(text(
                    f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) "
                    f"FROM {qualified} t")).one())
            sequences = {}
            for (schema, name) in sorted(catalog.sequences):
                sequences[f"{schema}.{name}"] = tuple(conn.execute(text(
                    f"SELECT last_value, is_called FROM {prep.quote_schema(schema)}.{prep.quote(name)}")).one())
            return {"catalog": repr(sorted(shape.items(), key=lambda kv: kv[0])), "rows": data,
                    "sequences": sequences}
    finally:
        engine.dispose()


class LockWatch:
    """Context manager; `held` maps each lock seen to how many seconds it was seen held."""

    def __init__(self, url: str, interval: float = 0.02):
        self.url, self.interval = url, interval
        self.first: dict[tuple, float] = {}
        self.last: dict[tuple, float] = {}
        self._stop = threading.Event()
        self.advisory_seen = False

    def __enter__(self) -> LockWatch:
        self._engine = create_engine(self.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self._conn = self._engine.connect()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        query = text(
            "SELECT l.pid, l.locktype, l.relation::regclass::text, l.virtualxid, l.transactionid::text, "
            "l.classid, l.objid, l.mode FROM pg_locks l "
            "WHERE l.granted AND l.pid <> pg_backend_pid() "
            "AND (l.database IS NULL OR l.database = (SELECT oid FROM pg_database WHERE datname = current_database())) "
            "AND l.pid IN (SELECT pid FROM pg_stat_activity WHERE datname = current_database())")
        while not self._stop.is_set():
            now = time.monotonic()
            for row in self._conn.execute(query):
                key = tuple(row)
                if key[1] == "advisory":
                    self.advisory_seen = True  # the guard's own lock, held for its whole run
                    continue
                self.first.setdefault(key, now)
                self.last[key] = now
            time.sleep(self.interval)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._conn.close()
        self._engine.dispose()

    @property
    def held(self) -> dict[tuple, float]:
        return {k: self.last[k] - self.first[k] for k in self.first}

    @property
    def longest(self) -> float:
        return max(self.held.values(), default=0.0)
