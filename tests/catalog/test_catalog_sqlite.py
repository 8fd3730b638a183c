"""The SQLite snapshot from a database file built with real DDL, and the DDL text reader.

SQLite has no sequences, named enums or composite types; an enum is a CHECK (... IN (...)) and a
serial is INTEGER PRIMARY KEY AUTOINCREMENT.
"""

from __future__ import annotations

from migration_guard.db.catalog import snapshot
from migration_guard.db.catalog.sqlite_ddl import parse_index, parse_table

SCHEMA = """
CREATE TABLE orgs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email VARCHAR(255) NOT NULL DEFAULT '',
    org_id INTEGER CONSTRAINT users_org_fk REFERENCES orgs (id) ON DELETE SET NULL,
    mood TEXT NOT NULL DEFAULT 'ok' CHECK (mood IN ('sad', 'ok', 'happy')),
    deleted_at TIMESTAMP,
    email_len INTEGER GENERATED ALWAYS AS (length(email)) STORED,
    CONSTRAINT users_email_len_check CHECK (length(email) > 3),
    UNIQUE (org_id, email)
);
CREATE TABLE "user tags" (
    "user id" INTEGER REFERENCES users,
    tag TEXT, -- a comment, with a comma
    PRIMARY KEY ("user id", tag),
    CHECK (tag <> ''),
    CONSTRAINT tag_len CHECK (length(tag) < 20),
    FOREIGN KEY (tag) REFERENCES orgs (name) ON UPDATE RESTRICT
);
CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;
CREATE UNIQUE INDEX users_org_email ON users (org_id, email);
CREATE INDEX users_live_email ON users (email) WHERE deleted_at IS NULL;
CREATE INDEX users_lower_email ON users (lower(email) COLLATE NOCASE DESC, id);
CREATE VIEW live_users AS SELECT id, email FROM users WHERE deleted_at IS NULL
"""


def _cat(engine, run_ddl):
    run_ddl(engine, SCHEMA)
    with engine.connect() as conn:
        return snapshot(conn)


def test_tables_and_columns(sqlite_engine, run_ddl):
    cat = _cat(sqlite_engine, run_ddl)
    assert (cat.dialect, cat.search_path) == ("sqlite", ["main"])
    assert {k: t.kind for k, t in cat.tables.items()} == {
        ("main", "orgs"): "table",
        ("main", "users"): "table",
        ("main", "user tags"): "table",
        ("main", "kv"): "table",
        ("main", "live_users"): "view",
    }  # sqlite_sequence (made by AUTOINCREMENT) is internal
    cols = cat.table("users").columns
    assert list(cols) == ["id", "email", "org_id", "mood", "deleted_at", "email_len"]
    assert [c.position for c in cols.values()] == list(range(1, 7))
    email = cols["email"]
    assert (email.name, email.type, email.nullable, email.default) == ("email", "VARCHAR(255)", False, "''")
    assert (email.generated, email.identity) == (None, None)
    assert (cols["id"].nullable, cols["id"].identity) == (False, None)  # the rowid
    assert cat.column("orgs", "id").identity == "autoincrement"
    assert (cols["email_len"].generated, cols["email_len"].default) == ("length(email)", None)
    # a composite key is no rowid: SQLite lets it hold NULL unless declared NOT NULL
    assert cat.column("user tags", "user id").nullable is True
    assert cat.column("kv", "k").nullable is False  # WITHOUT ROWID keys are NOT NULL
    assert list(cat.table("live_users").columns) == ["id", "email"]
    assert cat.table("users").row_estimate is None
    assert (cat.enums, cat.types, cat.sequences) == ({}, {}, {})


def test_indexes(sqlite_engine, run_ddl):
    cat = _cat(sqlite_engine, run_ddl)
    composite = cat.index("users_org_email")
    assert (composite.schema, composite.name, composite.table) == ("main", "users_org_email", "users")
    assert (composite.columns, composite.unique, composite.primary, composite.predicate) == (
        ["org_id", "email"],
        True,
        False,
        None,
    )
    assert composite.definition == "CREATE UNIQUE INDEX users_org_email ON users (org_id, email)"
    partial = cat.index("users_live_email")
    assert (partial.columns, partial.predicate) == (["email"], "deleted_at IS NULL")
    expr = cat.index("users_lower_email")
    assert expr.columns == ["lower(email)", "id"]
    # automatic indexes of UNIQUE and non-rowid PRIMARY KEY constraints
    auto = cat.index("sqlite_autoindex_users_1")
    assert (auto.columns, auto.unique, auto.primary, auto.definition) == (
        ["org_id", "email"],
        True,
        False,
        'UNIQUE ("org_id", "email")',
    )
    pk = cat.index("sqlite_autoindex_user tags_1")
    assert (pk.columns, pk.primary) == (["user id", "tag"], True)
    assert cat.index("users_org_email", table="users") is composite


def test_constraints(sqlite_engine, run_ddl):
    cat = _cat(sqlite_engine, run_ddl)
    c = {(k[1], k[2]): v for k, v in cat.constraints.items()}
    check = c[("users", "users_email_len_check")]
    assert (check.schema, check.name, check.table, check.type) == (
        "main",
        "users_email_len_check",
        "users",
        "check",
    )
    assert (check.columns, check.definition) == (["email"], "CHECK (length(email) > 3)")
    enum_like = c[("users", "users_mood_check")]  # unnamed column check: PostgreSQL-style name
    assert (enum_like.columns, enum_like.definition) == (["mood"], "CHECK (mood IN ('sad', 'ok', 'happy'))")
    assert c[("user tags", "user tags_check1")].definition == "CHECK (tag <> '')"
    assert c[("user tags", "tag_len")].columns == ["tag"]
    fk = c[("users", "users_org_fk")]
    assert (fk.type, fk.columns, fk.ref_schema, fk.ref_table, fk.ref_columns) == (
        "foreign",
        ["org_id"],
        "main",
        "orgs",
        ["id"],
    )
    assert fk.definition == 'FOREIGN KEY ("org_id") REFERENCES "orgs" ("id") ON DELETE SET NULL'
    # REFERENCES users with no column: the parent's primary key
    implicit = c[("user tags", "user tags_user id_fkey")]
    assert (implicit.ref_table, implicit.ref_columns) == ("users", ["id"])
    restrict = c[("user tags", "user tags_tag_fkey")]
    assert restrict.definition == 'FOREIGN KEY ("tag") REFERENCES "orgs" ("name") ON UPDATE RESTRICT'
    assert c[("users", "users_pkey")].columns == ["id"]
    assert c[("user tags", "user tags_pkey")].columns == ["user id", "tag"]
    unique = c[("users", "users_org_id_email_key")]
    assert (unique.type, unique.columns, unique.definition) == (
        "unique",
        ["org_id", "email"],
        'UNIQUE ("org_id", "email")',
    )


def test_query_count_and_broken_view(sqlite_engine, run_ddl, count_queries):
    run_ddl(sqlite_engine, SCHEMA)
    with count_queries(sqlite_engine) as small, sqlite_engine.connect() as conn:
        snapshot(conn)
    run_ddl(
        sqlite_engine,
        ";\n".join(f"CREATE TABLE extra_{i} (id INTEGER PRIMARY KEY, u UNIQUE)" for i in range(30)),
    )
    with count_queries(sqlite_engine) as large, sqlite_engine.connect() as conn:
        snapshot(conn)
    assert len(small) == len(large) == 4
    # a view whose table is gone cannot be described; the rest of the snapshot still can
    run_ddl(
        sqlite_engine, "CREATE TABLE tmp (a INT);\nCREATE VIEW stale AS SELECT a FROM tmp;\nDROP TABLE tmp"
    )
    with sqlite_engine.connect() as conn:
        cat = snapshot(conn)
    assert cat.table("stale").columns == {}
    assert list(cat.table("live_users").columns) == ["id", "email"]


def test_ddl_reader_quoting_comments_and_nesting():
    ddl = parse_table(
        """CREATE TABLE [odd] ("a""b" INT CONSTRAINT pos CHECK ("a""b" > (0)) /* c, d */,
        `c` TEXT DEFAULT (lower('x, y')) REFERENCES t, -- trailing, comment
        CONSTRAINT "named pk" PRIMARY KEY (`c` COLLATE NOCASE DESC),
        CONSTRAINT uq UNIQUE ("a""b", c))"""
    )
    assert [(c.name, c.column, c.expression) for c in ddl.checks] == [("pos", 'a"b', '"a""b" > (0)')]
    assert ddl.constraint_names == {("primary", ("c",)): "named pk", ("unique", ('a"b', "c")): "uq"}
    assert [(f.name, f.columns, f.ref_table) for f in ddl.foreign_keys] == [(None, ["c"], "t")]
    assert parse_index("CREATE INDEX i ON t (a, (b + 1) DESC, c COLLATE BINARY) WHERE a > 0 AND b") == (
        ["a", "(b + 1)", "c"],
        "a > 0 AND b",
    )
    assert parse_index('CREATE UNIQUE INDEX IF NOT EXISTS "i" ON "t"("x y")') == (["x y"], None)
