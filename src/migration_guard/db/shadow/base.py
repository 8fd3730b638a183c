"""What every shadow answers, and the shapes in which the evidence compares live and wanted objects.

A shadow says how an object would look if the failing statement created it now (by replaying the
statement on a scratch copy where the database allows it), and how the live object looks, read the
same way. The evidence compares the two and never needs to know the dialect. Any answer may be None:
the replay failed or this database cannot say, and the evidence then refuses for lack of proof.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from migration_guard.db.catalog.model import Catalog, Constraint, Index
from migration_guard.operations import Effect


@dataclass(frozen=True)
class ColumnShape:
    """A column as the database describes it. `extra` holds what a dialect compares beyond type,
    nullability and default (MySQL's collation and EXTRA, SQLite's COLLATE), as (name, value) pairs."""

    type: str
    nullable: bool
    default: str | None = None
    extra: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        parts = [self.type, "" if self.nullable else "NOT NULL",
                 f"DEFAULT {self.default}" if self.default is not None else ""]
        parts += [f"{name} {value}" for name, value in self.extra if value]
        return " ".join(p for p in parts if p)

    @property
    def core(self) -> tuple[str, bool]:
        """What a CREATE TABLE comparison checks per column: type and nullability."""
        return self.type, self.nullable


class BaseShadow:
    """Context manager; subclasses replay statements. The live side defaults to the catalog snapshot."""

    def __init__(self, conn):
        self.conn = conn
        self._names = itertools.count(1)
        self.errors: list[str] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def _name(self) -> str:
        return f"mg_shadow_{next(self._names)}"

    def _failed(self, exc: BaseException) -> None:
        self.errors.append((str(getattr(exc, "orig", exc)).strip().splitlines() or [type(exc).__name__])[0])

    # -- wanted: what the statement would create ------------------------------------------------------
    def column(self, effect: Effect) -> ColumnShape | None:
        return None

    def table_columns(self, effect: Effect) -> dict[str, ColumnShape] | None:
        return None

    def index_definition(self, effect: Effect) -> str | None:
        return None

    def constraint_definition(self, effect: Effect) -> str | None:
        return None

    def view_definition(self, effect: Effect) -> str | None:
        return None

    # -- live: the existing object, read the same way -------------------------------------------------
    def live_column(self, effect: Effect, catalog: Catalog) -> ColumnShape | None:
        col = catalog.column(effect.table or "", effect.name, effect.schema)
        return None if col is None else ColumnShape(col.type, col.nullable, col.default)

    def live_table_columns(self, effect: Effect, catalog: Catalog) -> dict[str, ColumnShape] | None:
        table = catalog.table(effect.name, effect.schema)
        if table is None:
            return None
        return {c.name: ColumnShape(c.type, c.nullable, c.default) for c in table.columns.values()}

    def live_index_definition(self, effect: Effect, index: Index) -> str | None:
        return index.definition

    def live_constraint_definition(self, effect: Effect, constraint: Constraint) -> str | None:
        return constraint.definition

    def live_view_definition(self, effect: Effect) -> str | None:
        return None
