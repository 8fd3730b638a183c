"""A snapshot of a database's schema: what exists, as the catalog says, at one moment.

Names are stored as the catalog spells them (PostgreSQL folds unquoted names to lower case, the
snapshot does not). Lookups take an optional schema; without one, the search path decides
(`search_path` for PostgreSQL, the connected database for MySQL, `main` for SQLite).

Index names are unique per schema on PostgreSQL and SQLite but only per table on MySQL (every
table has a `PRIMARY`), so MySQL indexes are keyed `(schema, "table.index")`; `index(name,
table=...)` finds an index by its bare name on every dialect.
"""

from __future__ import annotations

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

    def _find(self, mapping: dict, name: str, schema: str | None):
        if schema is not None:
            return mapping.get((schema, name))
        for s in self.search_path:
            hit = mapping.get((s, name))
            if hit is not None:
                return hit
        return None

    def table(self, name: str, schema: str | None = None) -> Table | None:
        return self._find(self.tables, name, schema)

    def column(self, table: str, column: str, schema: str | None = None) -> Column | None:
        t = self.table(table, schema)
        return t.columns.get(column) if t else None

    def index(self, name: str, schema: str | None = None, table: str | None = None) -> Index | None:
        if table is None:
            return self._find(self.indexes, name, schema)
        for s in [schema] if schema is not None else self.search_path:
            for key in ((s, name), (s, f"{table}.{name}")):
                hit = self.indexes.get(key)
                if hit is not None and hit.table == table:
                    return hit
        return None

    def enum(self, name: str, schema: str | None = None) -> EnumType | None:
        return self._find(self.enums, name, schema)

    def type(self, name: str, schema: str | None = None) -> UserType | None:
        return self._find(self.types, name, schema)

    def sequence(self, name: str, schema: str | None = None) -> Sequence | None:
        return self._find(self.sequences, name, schema)

    def constraint(self, table: str, name: str, schema: str | None = None) -> Constraint | None:
        if schema is not None:
            return self.constraints.get((schema, table, name))
        for s in self.search_path:
            hit = self.constraints.get((s, table, name))
            if hit is not None:
                return hit
        return None

    def relation(self, name: str, schema: str | None = None):
        """Anything in the relation namespace (PostgreSQL pg_class): table, view, index, sequence."""
        return (
            self.table(name, schema)
            or self.index(name, schema)
            or self.sequence(name, schema)
        )
