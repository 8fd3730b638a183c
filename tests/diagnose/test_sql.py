"""The statement reader: what a DDL statement creates, and where."""

from __future__ import annotations

import pytest

from migration_guard.diagnose.sql import parse, same_name, unquote


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("ALTER TABLE speaker ADD COLUMN is_featured BOOLEAN", ("alter", "column", "is_featured", "speaker")),
        ('ALTER TABLE "public"."User" ADD "Email" TEXT', ("alter", "column", "Email", "User")),
        ("ALTER TABLE t RENAME COLUMN a TO b", ("alter", "column", "b", "t")),
        ("ALTER TABLE `t` CHANGE `a` `b` INT", ("alter", "column", "b", "t")),
        ("ALTER TABLE t ADD CONSTRAINT uq UNIQUE (a, b)", ("alter", "constraint", "uq", "t")),
        ("ALTER TABLE t ADD UNIQUE INDEX ux (a)", ("alter", "index", "ux", "t")),
        ("ALTER TABLE t ADD PRIMARY KEY (id)", ("alter", "constraint", None, "t")),
        ("\n-- comment\nCREATE TABLE IF NOT EXISTS s.t (\n id INT)", ("create", "table", "t", "t")),
        ('CREATE UNIQUE INDEX CONCURRENTLY "ix" ON ONLY "t" (a)', ("create", "index", "ix", "t")),
        ("CREATE SEQUENCE t_id_seq", ("create", "sequence", "t_id_seq", None)),
        ("CREATE OR REPLACE MATERIALIZED VIEW v AS SELECT 1", ("create", "view", "v", "v")),
        ("CREATE TYPE mood AS ENUM ('a')", ("create", "type", "mood", None)),
        ("CREATE TRIGGER trg BEFORE INSERT ON orders FOR EACH ROW", ("create", "trigger", "trg", "orders")),
        ("CREATE EXTENSION IF NOT EXISTS postgis", ("create", "extension", "postgis", None)),
        ("INSERT INTO alembic_version (version_num) VALUES ('a')", ("insert", None, None, "alembic_version")),
        ("UPDATE alembic_version SET version_num='b'", ("update", None, None, "alembic_version")),
        ("SELECT 1", ("select", None, None, None)),
    ],
)
def test_parse(sql: str, expected: tuple) -> None:
    stmt = parse(sql)
    assert stmt is not None
    assert (stmt.verb, stmt.object_type, stmt.name, stmt.table) == expected


def test_unique_flags() -> None:
    assert parse("CREATE UNIQUE INDEX a ON t (x)").unique
    assert not parse("CREATE INDEX a ON t (x)").unique
    assert parse("ALTER TABLE t ADD CONSTRAINT c UNIQUE (x)").constraint_type == "unique"
    assert parse("ALTER TABLE t ADD CONSTRAINT c FOREIGN KEY (x) REFERENCES u (id)").unique is False


def test_names() -> None:
    assert unquote('"sch.ema"."ta.ble"') == "ta.ble"
    assert unquote("[dbo].[t]") == "t"
    assert same_name('"Orders"', "orders") and not same_name("a", None)
    assert parse("") is None and parse(None) is None
