"""What a prediction is made of: findings, how each revision was checked, and the step a check reads."""

from __future__ import annotations

from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection

from migration_guard.diagnose.failure import Failure
from migration_guard.frameworks.base import Revision
from migration_guard.operations import Effect
from migration_guard.preflight.requirements import Requirement
from migration_guard.preflight.state import State

# Every query the check sends runs in its own short transaction under these limits, so a lock it
# takes is released within STATEMENT_TIMEOUT_S, and it never queues behind a busy table for long.
LOCK_TIMEOUT_S = 2
STATEMENT_TIMEOUT_S = 10


# The error each predicted kind raises, as the server reports it (keyed by kind and object type).
_PG_SQLSTATE = {
    ("duplicate_column", None): "42701", ("duplicate_relation", None): "42P07", ("duplicate_type", None): "42710",
    ("duplicate_object", None): "42710", ("duplicate_data", None): "23505", ("null_data", None): "23502",
    ("orphan_data", None): "23503", ("missing_object", "table"): "42P01", ("missing_object", "view"): "42P01",
    ("missing_object", "sequence"): "42P01", ("missing_object", "column"): "42703",
    ("missing_object", None): "42704",
}
_MYSQL_ERRNO = {
    ("duplicate_column", None): 1060, ("duplicate_relation", "index"): 1061, ("duplicate_relation", None): 1050,
    ("duplicate_data", None): 1062, ("null_data", None): 1138, ("orphan_data", None): 1452,
    ("missing_object", "table"): 1051, ("missing_object", None): 1091,
}


class Unsettled(Exception):
    """The check could not settle the question (a query timed out, a table is busy): predict nothing."""


@dataclass
class Finding:
    failure: Failure
    found_by: str = "analysis"  # analysis, rehearsal
    evidence: list[str] = field(default_factory=list)
    counts: dict = field(default_factory=dict)  # e.g. {"rows": 5, "groups": 2}


@dataclass
class RevisionCheck:
    revision: str
    description: str = ""
    how: str = "analysed"  # analysed, rehearsed, not analysed
    note: str = ""

    def to_dict(self) -> dict:
        return {"revision": self.revision, "description": self.description, "how": self.how, "note": self.note}


@dataclass
class Findings:
    findings: list[Finding] = field(default_factory=list)
    revisions: list[RevisionCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[Failure]:
        return [f.failure for f in self.findings]

    def revision(self, rev_id: str) -> RevisionCheck | None:
        return next((r for r in self.revisions if r.revision == rev_id), None)


@dataclass
class Step:
    """One pending statement as a check sees it, with the schema as the earlier statements leave it."""

    ctx: object
    revision: Revision
    statement: str
    effects: list[Effect]
    requirements: list[Requirement]
    state: State
    conn: Connection  # for scratch copies, in transactions that are always rolled back
    reader: Connection | None = None  # read-only session under the check's limits, for queries of the rows
    reading: object = None  # preflight/reading.py: what the statement needs and does beyond its effects

    @property
    def catalog(self):
        return self.ctx.catalog

    @property
    def dialect(self) -> str:
        return self.ctx.dialect

    def quote(self, name: str) -> str:
        return self.conn.dialect.identifier_preparer.quote(name)

    def table_sql(self, table: str, schema: str | None) -> str:
        return f"{self.quote(schema)}.{self.quote(table)}" if schema else self.quote(table)

    def failure(self, kind: str, **fields) -> Failure:
        """The failure the statement would raise, with the server's own error code for it."""
        failure = Failure(kind, revision=self.revision.id, statement=self.statement, dialect=self.dialect, **fields)
        if self.dialect == "postgresql" and not failure.sqlstate:
            failure.sqlstate = _PG_SQLSTATE.get((kind, failure.object_type)) or _PG_SQLSTATE.get((kind, None))
        elif self.dialect in ("mysql", "mariadb") and not failure.errno:
            failure.errno = _MYSQL_ERRNO.get((kind, failure.object_type)) or _MYSQL_ERRNO.get((kind, None))
        return failure

    @contextmanager
    def transaction(self, read_only: bool = True):
        """A short transaction that is always rolled back, under the check's lock and statement limits."""
        tx = self.conn.begin()
        try:
            if self.dialect == "postgresql":  # one round trip
                self.conn.exec_driver_sql(("SET TRANSACTION READ ONLY; " if read_only else "")
                                          + f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_S}s'; "
                                          f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT_S}s'")
            yield self.conn
        finally:
            tx.rollback()

    def strict(self) -> bool:
        """MySQL/MariaDB reject bad values (NULL into NOT NULL, '12x' into INT) only in strict mode;
        otherwise they convert with a warning and the statement succeeds."""
        if self.dialect not in ("mysql", "mariadb"):
            return True
        cached = getattr(self.state, "_strict", None)
        if cached is None:
            mode = (self.query("SELECT @@SESSION.sql_mode") or [("",)])[0][0] or ""
            cached = self.state._strict = "STRICT_TRANS_TABLES" in mode or "STRICT_ALL_TABLES" in mode
        return cached

    def query(self, sql: str, params: dict | None = None) -> list[tuple]:
        try:
            if self.reader is not None:
                return [tuple(r) for r in self.reader.execute(text(sql), params or {})]
            with self.transaction() as conn:
                return [tuple(r) for r in conn.execute(text(sql), params or {})]
        except Exception as exc:  # a busy table, a timeout, a type the query cannot compare
            raise Unsettled(_first_line(exc)) from None


@contextmanager
def reader(engine):
    """A session that can only read, each query its own transaction under the check's limits.

    One round trip per query: on a large schema the analysis asks hundreds of questions, and a
    transaction per question would hold its locks no longer anyway.
    """
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        dialect = engine.dialect.name
        if dialect == "postgresql":
            conn.exec_driver_sql(f"SET default_transaction_read_only = on; SET lock_timeout = '{LOCK_TIMEOUT_S}s'; "
                                 f"SET statement_timeout = '{STATEMENT_TIMEOUT_S}s'")
        elif dialect in ("mysql", "mariadb"):
            conn.exec_driver_sql("SET SESSION TRANSACTION READ ONLY")
            conn.exec_driver_sql(f"SET SESSION lock_wait_timeout = {LOCK_TIMEOUT_S}")
            for limit in (f"max_statement_time = {STATEMENT_TIMEOUT_S}",  # MariaDB
                          f"max_execution_time = {STATEMENT_TIMEOUT_S * 1000}"):  # MySQL
                with suppress(Exception):  # the other server's variable
                    conn.exec_driver_sql(f"SET SESSION {limit}")
        elif dialect == "sqlite":
            conn.exec_driver_sql("PRAGMA query_only = ON")
        try:
            yield conn
        finally:
            # The session settings above outlive a transaction: never hand this session back to the pool.
            conn.invalidate()


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__
