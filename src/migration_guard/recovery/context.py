"""Everything a recovery may look at, read once per failed attempt."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.engine import Engine

from migration_guard.db.catalog import snapshot
from migration_guard.db.catalog.model import Catalog
from migration_guard.diagnose.failure import Failure
from migration_guard.frameworks.base import Framework, Revision
from migration_guard.operations import Effect, effects_of, normalize_statement
from migration_guard.settings import Settings


@dataclass
class Context:
    failure: Failure
    engine: Engine
    dialect: str
    framework: Framework
    pending: list[Revision]
    env: dict
    settings: Settings
    attempt: int = 1
    acted_on: set = field(default_factory=set)  # (kind, object) pairs already recovered in this run
    _sql: dict | None = None

    @cached_property
    def catalog(self) -> Catalog:
        with self.engine.connect() as conn:
            return snapshot(conn)

    def refresh(self) -> None:
        self.__dict__.pop("catalog", None)

    @property
    def sql(self) -> dict[str, list[str] | None]:
        """Statements of each pending revision, from the tool's offline mode (run once, on demand)."""
        if self._sql is None:
            self._sql = self.framework.revision_sql(self.env, self.pending, self.engine)
        return self._sql

    def revision(self, rev_id: str | None) -> Revision | None:
        return next((r for r in self.pending if r.id == rev_id), None)

    def effects(self, statement: str) -> list[Effect]:
        found = effects_of(statement, self.dialect)
        if any(e.op == "add_column" for e in found):
            dropped = self._dropped_defaults.get(normalize_statement(statement), set())
            for e in found:
                if e.op == "add_column" and (e.schema or "", e.table, e.name) in dropped:
                    e.detail["default_dropped"] = True
        return found

    @cached_property
    def _dropped_defaults(self) -> dict[str, set]:
        """ADD COLUMN statements whose default a later statement of the same revision drops, so the
        evidence compares the column as the revision leaves it (Django adds with a DEFAULT for the
        existing rows, then drops it)."""
        out: dict[str, set] = {}
        for rev in self.pending:
            added: dict[tuple, list[str]] = {}
            for statement in self.sql.get(rev.id) or ():
                for e in effects_of(statement, self.dialect):
                    column = (e.schema or "", e.table, e.name)
                    if e.op == "add_column":
                        added.setdefault(column, []).append(normalize_statement(statement))
                    elif e.op == "drop_default":
                        for adding in added.get(column, ()):
                            out.setdefault(adding, set()).add(column)
        return out

    def locate(self, ops: set[str], matches) -> tuple[Revision | None, str | None, Effect | None]:
        """The revision, statement and effect that failed: from the failure's own statement when the
        log or the child's hook gave one, else the first pending statement creating the named object."""
        f = self.failure
        if f.statement:
            for effect in self.effects(f.statement):
                if effect.op in ops and matches(effect):
                    return self._revision_of(f.statement, effect), f.statement, effect
        for rev in self.pending:
            for statement in self.sql.get(rev.id) or ():
                for effect in self.effects(statement):
                    if effect.op in ops and matches(effect):
                        return rev, statement, effect
        return None, f.statement, None

    def _revision_of(self, statement: str, effect: Effect) -> Revision | None:
        by_event = self.revision(self.failure.revision)
        if by_event is not None:
            return by_event
        wanted = normalize_statement(statement)
        for rev in self.pending:
            if any(normalize_statement(s) == wanted for s in self.sql.get(rev.id) or ()):
                return rev
        return None
