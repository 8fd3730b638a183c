"""The catalog step: one snapshot of what the live database holds, read in a few set-based queries.

Recovery decisions rest on this snapshot (DESIGN.md, "evidence, not error text"), so each dialect
reads its own system catalog directly rather than through SQLAlchemy reflection: reflection has no
common shape across dialects for what the evidence needs (what uses a type, OWNED BY, exact index
and constraint definitions, enum label order), and its per-table API costs a round-trip per table.
The queries run on the caller's connection and in its transaction; nothing is written.
"""

from __future__ import annotations

import gc

from sqlalchemy.engine import Connection

from .model import Catalog, Column, Constraint, EnumType, Index, Sequence, Table, UserType

__all__ = [
    "Catalog",
    "Column",
    "Constraint",
    "EnumType",
    "Index",
    "Sequence",
    "Table",
    "UnsupportedDialect",
    "UserType",
    "snapshot",
]


class UnsupportedDialect(ValueError):
    """The connection's dialect has no catalog reader."""


def snapshot(conn: Connection) -> Catalog:
    """Read tables, columns, indexes, constraints, types, enums and sequences of `conn`'s database."""
    name = conn.dialect.name
    # Imported on use: each reader is only needed for the dialect actually connected.
    if name == "postgresql":
        from . import postgresql as reader
    elif name in ("mysql", "mariadb"):
        from . import mysql as reader
    elif name == "sqlite":
        from . import sqlite as reader
    else:
        raise UnsupportedDialect(f"no catalog reader for dialect {name!r}")
    # A snapshot of a large schema allocates tens of thousands of objects, none of them cyclic
    # garbage; without this, the cyclic collector runs over all of them again and again and
    # costs as much as the queries. Restored even when a query fails.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return reader.snapshot(conn)
    finally:
        if collecting:
            gc.enable()
