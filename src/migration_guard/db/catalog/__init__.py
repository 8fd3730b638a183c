"""The catalog step: one snapshot of what the live database holds, read in a few set-based queries.

Recovery decisions rest on this snapshot (DESIGN.md, "evidence, not error text"), so each dialect
reads its own system catalog directly rather than through SQLAlchemy reflection: reflection has no
common shape across dialects for what the evidence needs (what uses a type, OWNED BY, exact index
and constraint definitions, enum label order), and its per-table API costs a round-trip per table.
The queries run on the caller's connection and in its transaction; nothing is written.
"""

from __future__ import annotations

import gc

from sqlalchemy.engine import Connection, Engine

from .model import Catalog, Column, Constraint, EnumType, Index, PartialCatalog, Sequence, Table, UserType

__all__ = [
    "Catalog",
    "Column",
    "Constraint",
    "EnumType",
    "Index",
    "PartialCatalog",
    "Sequence",
    "Table",
    "UnsupportedDialect",
    "UserType",
    "snapshot",
    "snapshot_of",
]


class UnsupportedDialect(ValueError):
    """The connection's dialect has no catalog reader."""


def snapshot(conn: Connection) -> Catalog:
    """Read tables, columns, indexes, constraints, types, enums and sequences of `conn`'s database."""
    return _quietly(_reader(conn.dialect.name).snapshot, conn)


def snapshot_of(engine: Engine, names) -> Catalog:
    """A catalog that reads up front only the objects `names` name (on PostgreSQL; elsewhere the full
    snapshot), and any other object when it is first asked for: see PartialCatalog. Each read is its
    own short session on `engine`, so it never sees what another session has not committed."""
    if engine.dialect.name != "postgresql":
        with engine.connect() as conn:
            return snapshot(conn)
    from . import postgresql as reader

    def read(which):
        with engine.connect() as conn:
            return _quietly(reader.snapshot, conn, which)

    return PartialCatalog(read, names)


def _reader(name: str):
    # Imported on use: each reader is only needed for the dialect actually connected.
    if name == "postgresql":
        from . import postgresql as reader
    elif name in ("mysql", "mariadb"):
        from . import mysql as reader
    elif name == "sqlite":
        from . import sqlite as reader
    else:
        raise UnsupportedDialect(f"no catalog reader for dialect {name!r}")
    return reader


def _quietly(read, *args):
    # A snapshot of a large schema allocates tens of thousands of objects, none of them cyclic
    # garbage; without this, the cyclic collector runs over all of them again and again and
    # costs as much as the queries. Restored even when a query fails.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return read(*args)
    finally:
        if collecting:
            gc.enable()
