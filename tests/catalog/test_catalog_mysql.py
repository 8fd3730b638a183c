"""The MySQL/MariaDB snapshot against a real server, from a schema built with real DDL.

MySQL has no partial indexes, named enums or composite types: an enum is a column type, and
MariaDB's stand-in for an expression index is an index on a generated column.
"""

from __future__ import annotations

import pytest

from migration_guard.db.catalog import snapshot

pytestmark = pytest.mark.mysql

SCHEMA = """
CREATE TABLE orgs (id SERIAL PRIMARY KEY, name VARCHAR(100) NOT NULL);
CREATE TABLE users (
    id INT AUTO_INCREMENT PRIMARY KEY,
    email VARCHAR(255) NOT NULL DEFAULT '',
    nick VARCHAR(20) DEFAULT 'NULL',
    org_id BIGINT UNSIGNED NULL,
    mood ENUM('sad', 'ok', 'happy') NOT NULL DEFAULT 'ok',
    score INT CHECK (score >= 0),
    email_lower VARCHAR(255) AS (LOWER(email)) VIRTUAL,
    CONSTRAINT users_email_len_check CHECK (CHAR_LENGTH(email) > 3),
    CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE SET NULL,
    UNIQUE KEY users_org_email (org_id, email),
    KEY users_email_prefix (email(10)),
    KEY by_name (nick)
);
CREATE INDEX users_email_lower ON users (email_lower);
CREATE TABLE teams (id INT PRIMARY KEY, nick VARCHAR(20), KEY by_name (nick));
CREATE VIEW live_users AS SELECT id, email FROM users;
CREATE SEQUENCE invoice_no START WITH 1000
"""


@pytest.fixture
def cat(mysql_engine, run_ddl):
    if mysql_engine.dialect.name != "mysql":
        pytest.skip("not a MySQL URL")
    run_ddl(mysql_engine, SCHEMA)
    with mysql_engine.connect() as conn:
        if not conn.dialect.is_mariadb:
            pytest.skip("schema uses MariaDB syntax (sequences, SERIAL semantics)")
        return snapshot(conn)


def test_tables_views_and_sequences(cat, mysql_engine):
    db = mysql_engine.url.database
    assert cat.dialect == "mariadb"
    assert cat.search_path == [db]
    assert {k: t.kind for k, t in cat.tables.items()} == {
        (db, "orgs"): "table",
        (db, "users"): "table",
        (db, "teams"): "table",
        (db, "live_users"): "view",
    }
    assert cat.tables[(db, "users")].row_estimate == 0
    assert cat.tables[(db, "live_users")].row_estimate is None
    seq = cat.sequence("invoice_no")
    assert (seq.schema, seq.name, seq.owned_by) == (db, "invoice_no", None)


def test_columns(cat):
    cols = cat.table("users").columns
    assert list(cols) == ["id", "email", "nick", "org_id", "mood", "score", "email_lower"]
    assert [c.position for c in cols.values()] == list(range(1, 8))
    email = cols["email"]
    assert (email.name, email.type, email.nullable, email.default) == ("email", "varchar(255)", False, "''")
    assert (email.generated, email.identity) == (None, None)
    # MariaDB prints DEFAULT NULL as NULL and the string 'NULL' quoted
    assert cols["org_id"].default is None and cols["org_id"].nullable is True
    assert cols["nick"].default == "'NULL'"
    assert cols["id"].identity == "auto_increment"
    assert cat.column("orgs", "id").type == "bigint(20) unsigned"  # SERIAL
    assert cat.column("orgs", "id").identity == "auto_increment"
    # the enum's labels, in declared order, are part of the column type
    assert (cols["mood"].type, cols["mood"].default) == ("enum('sad','ok','happy')", "'ok'")
    assert (cols["email_lower"].generated, cols["email_lower"].default) == ("lcase(`email`)", None)
    assert cat.enums == {} and cat.types == {}


def test_indexes(cat, mysql_engine):
    db = mysql_engine.url.database
    composite = cat.index("users_org_email", table="users")
    assert (composite.schema, composite.name, composite.table) == (db, "users_org_email", "users")
    assert (composite.columns, composite.unique, composite.primary, composite.predicate) == (
        ["org_id", "email"],
        True,
        False,
        None,
    )
    assert composite.definition == "CREATE UNIQUE INDEX `users_org_email` ON `users` (`org_id`, `email`)"
    prefix = cat.index("users_email_prefix", table="users")
    assert (prefix.columns, prefix.unique) == (["email"], False)
    assert prefix.definition == "CREATE INDEX `users_email_prefix` ON `users` (`email`(10))"
    assert cat.index("users_email_lower", table="users").columns == ["email_lower"]
    primary = cat.index("PRIMARY", table="users")
    assert (primary.columns, primary.unique, primary.primary) == (["id"], True, True)
    assert primary.definition == "ALTER TABLE `users` ADD PRIMARY KEY (`id`)"
    # SERIAL implies UNIQUE, which MariaDB drops as redundant next to the PRIMARY KEY
    assert cat.index("id", table="orgs") is None
    # index names are per table in MySQL: both by_name indexes are there
    assert cat.index("by_name", table="users").table == "users"
    assert cat.index("by_name", table="teams").table == "teams"
    assert (db, "users.by_name") in cat.indexes and (db, "teams.by_name") in cat.indexes


def test_constraints(cat, mysql_engine):
    db = mysql_engine.url.database
    check = cat.constraint("users", "users_email_len_check")
    assert (check.schema, check.name, check.table, check.type) == (
        db,
        "users_email_len_check",
        "users",
        "check",
    )
    assert (check.columns, check.definition) == (["email"], "CHECK (char_length(`email`) > 3)")
    column_check = cat.constraint("users", "score")  # MariaDB names a column check after its column
    assert (column_check.type, column_check.columns, column_check.definition) == (
        "check",
        ["score"],
        "CHECK (`score` >= 0)",
    )
    fk = cat.constraint("users", "users_org_fk")
    assert (fk.type, fk.columns, fk.ref_schema, fk.ref_table, fk.ref_columns) == (
        "foreign",
        ["org_id"],
        db,
        "orgs",
        ["id"],
    )
    assert fk.definition == "FOREIGN KEY (`org_id`) REFERENCES `orgs` (`id`) ON DELETE SET NULL"
    pk = cat.constraint("users", "PRIMARY")
    assert (pk.type, pk.columns, pk.definition) == ("primary", ["id"], "PRIMARY KEY (`id`)")
    unique = cat.constraint("users", "users_org_email")
    assert (unique.type, unique.columns, unique.definition) == (
        "unique",
        ["org_id", "email"],
        "UNIQUE (`org_id`, `email`)",
    )
    assert cat.constraint("teams", "PRIMARY").table == "teams"


def test_only_the_connected_database_is_read(mysql_engine, mysql_url, fresh_database, run_ddl):
    other = fresh_database(mysql_url, "MariaDB/MySQL")  # a second database on the same server
    run_ddl(other, "CREATE TABLE elsewhere (id INT PRIMARY KEY)")
    run_ddl(mysql_engine, "CREATE TABLE here (id INT PRIMARY KEY)")
    with mysql_engine.connect() as conn:
        cat = snapshot(conn)
    assert [t.name for t in cat.tables.values()] == ["here"]


def test_number_of_queries_does_not_grow_with_the_schema(mysql_engine, run_ddl, count_queries):
    run_ddl(mysql_engine, SCHEMA)
    with count_queries(mysql_engine) as small, mysql_engine.connect() as conn:
        snapshot(conn)
    run_ddl(
        mysql_engine,
        ";\n".join(
            f"CREATE TABLE extra_{i} (id INT PRIMARY KEY, u INT UNIQUE, CHECK (u > 0))" for i in range(30)
        ),
    )
    with count_queries(mysql_engine) as large, mysql_engine.connect() as conn:
        cat = snapshot(conn)
    assert len(cat.tables) == 34
    assert len(small) == len(large) == 7
