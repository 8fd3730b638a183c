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
    # PostgreSQL parse trees by statement text: the analysis, the effects and _dropped_defaults each read
    # every pending statement, and the parser is the costly part of reading one. Readers never change a tree.
    _trees: dict = field(default_factory=dict, repr=False)

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
        norm = normalize_statement(statement)
        groups, after = self._rebuilds
        if norm in groups:  # one statement of a table rebuild: the rebuild is judged as a whole
            return [groups[norm].effect(statement)]
        found = effects_of(statement, self.dialect, self.parsed(statement))
        for e in found:
            if e.op == "create_index" and norm in after:
                e.detail["after_rebuild"] = after[norm].effect(after[norm].create)
        if any(e.op == "add_column" for e in found):
            dropped = self._dropped_defaults.get(normalize_statement(statement), set())
            for e in found:
                if e.op == "add_column" and (e.schema or "", e.table, e.name) in dropped:
                    e.detail["default_dropped"] = True
        return found

    def parsed(self, statement: str):
        """The statement's PostgreSQL parse tree, parsed once per run; None on other dialects."""
        if self.dialect != "postgresql":
            return None
        nodes = self._trees.get(statement)
        if nodes is None:
            from migration_guard.operations import postgresql

            nodes = self._trees[statement] = postgresql.parse(statement)
        return nodes

    @cached_property
    def _dropped_defaults(self) -> dict[str, set]:
        """ADD COLUMN statements whose default a later statement of the same revision drops, so the
        evidence compares the column as the revision leaves it (Django adds with a DEFAULT for the
        existing rows, then drops it)."""
        out: dict[str, set] = {}
        for rev in self.pending:
            added: dict[tuple, list[str]] = {}
            for statement in self.sql.get(rev.id) or ():
                for e in effects_of(statement, self.dialect, self.parsed(statement)):
                    column = (e.schema or "", e.table, e.name)
                    if e.op == "add_column":
                        added.setdefault(column, []).append(normalize_statement(statement))
                    elif e.op == "drop_default":
                        for adding in added.get(column, ()):
                            out.setdefault(adding, set()).add(column)
        return out

    @cached_property
    def _rebuilds(self) -> tuple[dict, dict]:
        """Django's SQLite table rebuilds in the pending revisions, each group of statements read as one
        `rebuild_table` Effect, and the indexes made again after them (operations/rebuild.py)."""
        groups: dict = {}
        after: dict = {}
        if self.dialect != "sqlite" or self.framework.name != "django":
            return groups, after
        from migration_guard.operations import rebuild

        for rev in self.pending:
            found, indexes = rebuild.in_revision(self.sql.get(rev.id) or [])
            groups.update(found)
            after.update(indexes)
        return groups, after

    def rebuild_through(self, scratch: str):
        """The pending table rebuild that makes its new table as `scratch` (Django on SQLite), if any."""
        return next((r for r in self._rebuilds[0].values() if r.scratch == scratch), None)

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
