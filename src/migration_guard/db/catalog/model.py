"""A snapshot of a database's schema: what exists, as the catalog says, at one moment.

Names are stored as the catalog spells them (PostgreSQL folds unquoted names to lower case, the
snapshot does not). Lookups take an optional schema; without one, the search path decides
(`search_path` for PostgreSQL, the connected database for MySQL, `main` for SQLite).

Index names are unique per schema on PostgreSQL and SQLite but only per table on MySQL (every
table has a `PRIMARY`), so MySQL indexes are keyed `(schema, "table.index")`; `index(name,
table=...)` finds an index by its bare name on every dialect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass
class Column:
    name: str
    type: str  # as the database prints it: format_type() on PostgreSQL, COLUMN_TYPE on MySQL
    nullable: bool
    default: str | None = None
    position: int = 0  # 1-based, dense (dropped columns leave no gap)
    generated: str | None = None  # expression of a generated (computed) column; not a default
    identity: str | None = None  # "always" / "by default" for identity columns, "auto_increment" on MySQL


@dataclass
class Table:
    schema: str
    name: str
    kind: str = "table"  # table, view, matview, partitioned, foreign
    columns: dict[str, Column] = field(default_factory=dict)
    row_estimate: int | None = None


@dataclass
class Index:
    schema: str
    name: str
    table: str
    columns: list[str]  # column names; expressions as the database prints them
    unique: bool = False
    primary: bool = False
    predicate: str | None = None  # partial index condition
    definition: str = ""  # pg_get_indexdef / reconstructed CREATE INDEX
    valid: bool = True  # False: a CREATE INDEX CONCURRENTLY that failed left it; it is never used


@dataclass
class Constraint:
    schema: str
    name: str
    table: str
    type: str  # primary, unique, foreign, check, exclude, not_null
    columns: list[str] = field(default_factory=list)
    definition: str = ""  # pg_get_constraintdef
    ref_table: str | None = None
    ref_columns: list[str] = field(default_factory=list)
    ref_schema: str | None = None  # schema of ref_table (a foreign key may cross schemas)


@dataclass
class EnumType:
    schema: str
    name: str
    labels: list[str]  # in sort order


@dataclass
class UserType:
    """Any other standalone type (composite, domain, range) and what depends on it."""

    schema: str
    name: str
    kind: str  # composite, domain, range, base, enum
    relation: str | None = None  # for a table's row type, the table; None for a standalone type
    dependents: list[str] = field(default_factory=list)  # "table.column" or object descriptions
    definition: str = ""


@dataclass
class Sequence:
    schema: str
    name: str
    owned_by: str | None = None  # "table.column"


@dataclass
class Catalog:
    dialect: str
    search_path: list[str] = field(default_factory=list)
    tables: dict[tuple[str, str], Table] = field(default_factory=dict)
    indexes: dict[tuple[str, str], Index] = field(default_factory=dict)
    constraints: dict[tuple[str, str, str], Constraint] = field(default_factory=dict)
    enums: dict[tuple[str, str], EnumType] = field(default_factory=dict)
    types: dict[tuple[str, str], UserType] = field(default_factory=dict)
    sequences: dict[tuple[str, str], Sequence] = field(default_factory=dict)

    def _held(self, attr: str) -> dict:
        """One collection, as far as it has been read (all of it, here; see PartialCatalog)."""
        return getattr(self, attr)

    def _find(self, attr: str, name: str, schema: str | None):
        mapping = self._held(attr)
        if schema is not None:
            return mapping.get((schema, name))
        for s in self.search_path:
            hit = mapping.get((s, name))
            if hit is not None:
                return hit
        return None

    def table(self, name: str, schema: str | None = None) -> Table | None:
        return self._find("tables", name, schema)

    def column(self, table: str, column: str, schema: str | None = None) -> Column | None:
        t = self.table(table, schema)
        return t.columns.get(column) if t else None

    def index(self, name: str, schema: str | None = None, table: str | None = None) -> Index | None:
        if table is None:
            return self._find("indexes", name, schema)
        indexes = self._held("indexes")
        for s in [schema] if schema is not None else self.search_path:
            for key in ((s, name), (s, f"{table}.{name}")):
                hit = indexes.get(key)
                if hit is not None and hit.table == table:
                    return hit
        return None

    def enum(self, name: str, schema: str | None = None) -> EnumType | None:
        return self._find("enums", name, schema)

    def type(self, name: str, schema: str | None = None) -> UserType | None:
        return self._find("types", name, schema)

    def sequence(self, name: str, schema: str | None = None) -> Sequence | None:
        return self._find("sequences", name, schema)

    def constraint(self, table: str, name: str, schema: str | None = None) -> Constraint | None:
        constraints = self._held("constraints")
        if schema is not None:
            return constraints.get((schema, table, name))
        for s in self.search_path:
            hit = constraints.get((s, table, name))
            if hit is not None:
                return hit
        return None

    def indexes_of(self, table: str, schema: str | None = None) -> list[Index]:
        """The indexes on `table` (in `schema`, or in any schema)."""
        return [i for i in self._held("indexes").values()
                if i.table == table and (schema is None or i.schema == schema)]

    def constraints_of(self, table: str, schema: str | None = None) -> list[Constraint]:
        """The constraints of `table` (in `schema`, or in any schema)."""
        return [c for c in self._held("constraints").values()
                if c.table == table and (schema is None or c.schema == schema)]

    def relation(self, name: str, schema: str | None = None):
        """Anything in the relation namespace (PostgreSQL pg_class): table, view, index, sequence."""
        return (
            self.table(name, schema)
            or self.index(name, schema)
            or self.sequence(name, schema)
        )

_WHOLE = ("tables", "indexes", "constraints", "enums", "types", "sequences")


class PartialCatalog(Catalog):
    """A snapshot read for some names only, that answers every question as the full snapshot would.

    A check's pending statements name a handful of objects in a schema of thousands, and reading
    all of them is most of what a check costs. This holds what `read(names)` returns for the names
    it was given (db/catalog/postgresql.py says what that is: the relations of those names with
    their indexes and constraints, the indexes, types and sequences of those names); a lookup by
    any other name reads that name first, and a look at a whole collection (`catalog.constraints`)
    reads the whole catalog. So an answer never depends on which names were read up front; only
    the cost does. Everything read later is read while the guard still holds the migration lock.
    """

    def __init__(self, read: Callable[[set | None], Catalog], names: Iterable[str]):
        """`read(names)`: a snapshot of what those names name; `read(None)`: the whole catalog."""
        names = {n for n in names if n}
        first = read(names)
        super().__init__(first.dialect, list(first.search_path))
        self._read = read
        self._names = names
        self.whole = False
        self.reads = 0  # how many reads it took, for tests and benchmarks
        self._merge(first)

    def cover(self, names: Iterable[str]) -> None:
        """Make sure the objects of these names are held (one read for all that are not yet)."""
        missing = {n for n in names if n and n not in self._names} if not self.whole else set()
        if missing:
            self._merge(self._read(missing))
            self._names |= missing

    def _one(self, name: str) -> None:
        # Every lookup comes through here: the common case (already held) must cost a set lookup.
        if name not in self._names and not self.whole and name:
            self.cover((name,))

    def complete(self) -> None:
        if not self.whole:
            for attr in _WHOLE:
                self.__dict__[attr] = {}
            self._merge(self._read(None))
            self.whole = True

    def _merge(self, other: Catalog) -> None:
        self.reads += 1
        for attr in _WHOLE:
            self.__dict__[attr].update(getattr(other, attr))

    def __repr__(self) -> str:
        return f"PartialCatalog({self.dialect!r}, names={sorted(self._names)!r}, whole={self.whole})"

    def _held(self, attr: str) -> dict:
        return self.__dict__[attr]

    # -- lookups: read the name first -----------------------------------------------------------------
    def table(self, name: str, schema: str | None = None) -> Table | None:
        self._one(name)
        return super().table(name, schema)

    def index(self, name: str, schema: str | None = None, table: str | None = None) -> Index | None:
        self._one(name)
        return super().index(name, schema, table)

    def enum(self, name: str, schema: str | None = None) -> EnumType | None:
        self._one(name)
        return super().enum(name, schema)

    def type(self, name: str, schema: str | None = None) -> UserType | None:
        self._one(name)
        return super().type(name, schema)

    def sequence(self, name: str, schema: str | None = None) -> Sequence | None:
        self._one(name)
        return super().sequence(name, schema)

    def constraint(self, table: str, name: str, schema: str | None = None) -> Constraint | None:
        self._one(table)
        return super().constraint(table, name, schema)

    def indexes_of(self, table: str, schema: str | None = None) -> list[Index]:
        self._one(table)
        return super().indexes_of(table, schema)

    def constraints_of(self, table: str, schema: str | None = None) -> list[Constraint]:
        self._one(table)
        return super().constraints_of(table, schema)


def _whole(attr: str) -> property:
    def get(self: PartialCatalog) -> dict:
        self.complete()
        return self.__dict__[attr]

    def put(self: PartialCatalog, value: dict) -> None:
        self.__dict__[attr] = value

    return property(get, put, doc=f"All {attr} of the database (reads the whole catalog once).")


for _attr in _WHOLE:
    setattr(PartialCatalog, _attr, _whole(_attr))
