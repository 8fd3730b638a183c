"""Every way the integration tests break a PostgreSQL database, as data, for the check tests.

Each Scenario is a real migration project and a function that prepares a fresh database the way a
test does (real DDL, real data, the real tool run up to a revision). The first group mirrors the
scenarios of tests/integration/test_pg_alembic.py, test_pg_flask.py and tests/faults/
test_hostile_names.py; the second adds one scenario per failure kind that `check` predicts beyond
"already exists" (duplicate rows, NULLs, orphans, a type change, a missing object). Races between
migrators (test_pg_concurrency.py) are not here: they depend on another process's timing, which is
not in the database when `check` runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.support.guard import bare, execute, tool
from tests.support.projects import Rev, alembic_project, flask_project

ALEMBIC = [tool("alembic"), "upgrade", "head"]
FLASK = [tool("flask"), "--app", "app:create_app", "db", "upgrade"]


@dataclass
class Scenario:
    name: str
    revisions: list[Rev]
    prepare: Callable[[Path, dict, str], None] = lambda project, env, url: None
    flask: bool = False
    # What `check` must predict first (kind, table, column), for the per-kind tests; None: clean.
    first: tuple | None = None
    run_status: str | None = None  # what `run` ends with
    runtime_only: bool = False  # only running the migration shows the failure (check --rehearse)

    def project(self, root: Path, url: str) -> tuple[Path, dict, list[str]]:
        if self.flask:
            env = {"APP_DATABASE_URL": url}
            return flask_project(root, self.revisions, env), env, list(FLASK)
        return alembic_project(root, self.revisions), {"DATABASE_URL": url}, list(ALEMBIC)

    def build(self, root: Path, url: str) -> tuple[Path, dict, list[str]]:
        project, env, argv = self.project(root, url)
        self.prepare(project, env, url)
        return project, env, argv


def upto(rev: str, flask: bool = False):
    def go(project, env, url):
        argv = [*FLASK, rev] if flask else [tool("alembic"), "upgrade", rev]
        bare(project, argv, env)
    return go


def then(*steps):
    def go(project, env, url):
        for step in steps:
            step(project, env, url)
    return go


def sql(*statements: str):
    def go(project, env, url):
        execute(url, *statements)
    return go


# -- the projects of the existing integration tests ---------------------------------------------------
SETTINGS = [
    Rev("a1", "create settings", """
        op.create_table("settings", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("name", sa.String(50), nullable=False))
        op.create_table("audit_log", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("note", sa.Text, nullable=False))
        op.execute("INSERT INTO settings (name) VALUES ('alpha'), ('beta')")
    """),
    Rev("b2", "add google id", """
        op.add_column("settings", sa.Column("google_id", sa.String(255), nullable=True))
        op.execute("UPDATE settings SET google_id = 'g-' || id")
        op.execute("INSERT INTO audit_log (note) VALUES ('b2 ran')")
        op.create_index("ix_settings_google_id", "settings", ["google_id"])
    """),
    Rev("c3", "create teams", """
        op.create_table("teams", sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.String(80)))
    """),
]
POSTS = [
    Rev("p1", "create posts", """
        op.create_table("posts", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("state", sa.Enum("draft", "review", "published", name="post_state"),
                                  nullable=False))
        op.execute("INSERT INTO posts (state) VALUES ('review')")
    """),
]
MEMBERS = [
    Rev("i1", "members", """
        op.create_table("members", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("email", sa.String(200), nullable=False),
                        sa.Column("age", sa.Integer))
    """),
    Rev("i2", "index and check", """
        op.create_index("ix_members_email", "members", ["email"], unique=True)
        op.create_check_constraint("ck_members_age", "members", "age >= 0")
        op.execute("INSERT INTO members (email, age) VALUES ('x@example.com', 3)")
    """),
    Rev("i3", "tags", """
        op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True))
    """),
]
MEMBERS_LAST = [
    Rev("i1", "members", """
        op.create_table("members", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("email", sa.String(200), nullable=False))
    """),
    Rev("i2", "index and data", """
        op.create_index("ix_members_email", "members", ["email"], unique=True)
        op.execute("INSERT INTO members (email) VALUES ('x@example.com')")
    """),
]
MEMBERS_ONE = [Rev("i1", "members", """
    op.create_table("members", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("email", sa.String(200), nullable=False))
    op.create_index("ix_members_email", "members", ["email"], unique=True)
""")]
WIDGETS = [Rev("w1", "widgets", """
    op.create_table("widgets", sa.Column("id", sa.Integer, primary_key=True), sa.Column("size", sa.Integer))
""")]
FLASK_REVS = [
    Rev("f1", "users", """
        op.create_table("users", sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.Text))
        op.execute("INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com')")
    """),
    Rev("f2", "add display name", """
        op.add_column("users", sa.Column("display_name", sa.String(100)))
        op.execute("UPDATE users SET display_name = split_part(email, '@', 1)")
    """),
    Rev("f3", "projects", """
        op.create_table("projects", sa.Column("id", sa.Integer, primary_key=True))
    """),
]
HOSTILE_TABLE = 'Ordér "items"; drop'
HOSTILE_ENUM = "état du « ticket »"
HOSTILE = [
    Rev("h1", "weird table", f"""
        op.create_table({HOSTILE_TABLE!r}, sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("name with space", sa.Text))
        op.execute(sa.text('INSERT INTO "Ordér ""items""; drop" ("name with space") VALUES (:v)').bindparams(v="a'b"))
    """),
    Rev("h2", "reserved column and enum", f"""
        op.add_column({HOSTILE_TABLE!r}, sa.Column("select", sa.String(20)))
        op.execute('UPDATE "Ordér ""items""; drop" SET "select" = \\'it\\'\\'s\\'')
        op.create_table("tickets", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("state", sa.Enum("new", "it's open", "done; drop", name={HOSTILE_ENUM!r})))
    """),
    Rev("h3", "later", """
        op.create_table("after_all", sa.Column("id", sa.Integer, primary_key=True))
    """),
]

EXISTING = [
    Scenario("hotfix_column", SETTINGS, then(upto("a1"), sql(
        "ALTER TABLE settings ADD COLUMN google_id VARCHAR(255)", "INSERT INTO settings (name) VALUES ('gamma')")),
        first=("duplicate_column", "settings", "google_id"), run_status="recovered"),
    Scenario("history_lost", SETTINGS, then(upto("head"), sql("UPDATE alembic_version SET version_num = 'a1'")),
             first=("duplicate_column", "settings", "google_id"), run_status="recovered"),
    Scenario("history_emptied", SETTINGS, then(upto("head"), sql("DELETE FROM alembic_version")),
             first=("duplicate_relation", "settings", None), run_status="recovered"),
    Scenario("column_other_type", SETTINGS, then(upto("a1"), sql("ALTER TABLE settings ADD COLUMN google_id INTEGER")),
             first=("duplicate_column", "settings", "google_id"), run_status="refused"),
    Scenario("enum_same_labels", POSTS, sql("CREATE TYPE post_state AS ENUM ('draft', 'review', 'published')"),
             first=("duplicate_type", None, None), run_status="recovered"),
    Scenario("enum_subset", POSTS, sql("CREATE TYPE post_state AS ENUM ('draft', 'published')"),
             first=("duplicate_type", None, None), run_status="recovered"),
    Scenario("enum_other_labels", POSTS, sql("CREATE TYPE post_state AS ENUM ('published', 'draft')"),
             first=("duplicate_type", None, None), run_status="refused"),
    Scenario("index_and_check_exist", MEMBERS, then(upto("i1"), sql(
        "CREATE UNIQUE INDEX ix_members_email ON members (email)",
        "ALTER TABLE members ADD CONSTRAINT ck_members_age CHECK (age >= 0)")),
        first=("duplicate_relation", "members", None), run_status="recovered"),
    Scenario("last_revision_with_data", MEMBERS_LAST, then(upto("i1"), sql(
        "CREATE UNIQUE INDEX ix_members_email ON members (email)")),
        first=("duplicate_relation", "members", None), run_status="refused"),
    Scenario("index_other_definition", MEMBERS_ONE, sql(
        "CREATE TABLE members (id SERIAL PRIMARY KEY, email VARCHAR(200) NOT NULL)",
        "CREATE INDEX ix_members_email ON members (email)"),
        first=("duplicate_relation", "members", None), run_status="refused"),
    Scenario("stale_type", WIDGETS, sql("CREATE TYPE widgets AS (a integer, b text)"),
             first=("duplicate_relation", "widgets", None), run_status="recovered"),
    Scenario("type_in_use", [Rev("w1", "widgets", """
        op.create_table("widgets", sa.Column("id", sa.Integer, primary_key=True))
    """)], sql("CREATE TYPE widgets AS (a integer)", "CREATE TABLE holder (w widgets)"),
        first=("duplicate_relation", "widgets", None), run_status="refused"),
    Scenario("flask_hotfix", FLASK_REVS, then(upto("f1", flask=True), sql(
        "ALTER TABLE users ADD COLUMN display_name VARCHAR(100)")), flask=True,
        first=("duplicate_column", "users", "display_name"), run_status="recovered"),
    Scenario("hostile_names", HOSTILE, then(upto("h1"), sql(
        'ALTER TABLE "Ordér ""items""; drop" ADD COLUMN "select" VARCHAR(20)',
        'CREATE TYPE "état du « ticket »" AS ENUM (\'new\', \'done; drop\')')),
        first=("duplicate_column", HOSTILE_TABLE, "select"), run_status="recovered"),
    Scenario("hostile_stale_type", [Rev("s1", "t", """
        op.create_table('wid"get; DROP TABLE keep', sa.Column("id", sa.Integer, primary_key=True))
    """)], sql("CREATE TABLE keep (id int)", "INSERT INTO keep VALUES (1)",
               'CREATE TYPE "wid""get; DROP TABLE keep" AS (a int)'),
        first=("duplicate_relation", 'wid"get; DROP TABLE keep', None), run_status="recovered"),
]

# -- one scenario per data kind --------------------------------------------------------------------
ACCOUNTS = Rev("k1", "accounts", """
    op.create_table("accounts", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("email", sa.String(200)), sa.Column("code", sa.String(20)),
                    sa.Column("team_id", sa.Integer))
    op.create_table("teams", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text))
""")
ACCOUNT_ROWS = sql(
    "INSERT INTO teams (id, name) VALUES (1, 'red'), (2, 'blue')",
    "INSERT INTO accounts (email, code, team_id) VALUES ('a@x.org', '10', 1), ('b@x.org', '20', 2), "
    "('a@x.org', '30', 1), ('c@x.org', '40', NULL), ('c@x.org', 'n/a', 7), ('c@x.org', NULL, 2)")


def data_scenario(name: str, upgrade: str, first: tuple | None, rows=ACCOUNT_ROWS) -> Scenario:
    return Scenario(name, [ACCOUNTS, Rev("k2", name.replace("_", " "), upgrade)], then(upto("k1"), rows),
                    first=first, run_status="refused" if first else "succeeded")


DATA = [
    data_scenario("duplicate_rows_unique_index", """
        op.create_index("ux_accounts_email", "accounts", ["email"], unique=True)
    """, ("duplicate_data", "accounts", "email")),
    data_scenario("duplicate_rows_unique_constraint", """
        op.create_unique_constraint("uq_accounts_email", "accounts", ["email"])
    """, ("duplicate_data", "accounts", "email")),
    data_scenario("nulls_set_not_null", """
        op.alter_column("accounts", "code", existing_type=sa.String(20), nullable=False)
    """, ("null_data", "accounts", "code")),
    data_scenario("new_not_null_column_without_default", """
        op.add_column("accounts", sa.Column("plan", sa.String(20), nullable=False))
    """, ("null_data", "accounts", "plan")),
    data_scenario("orphan_rows_foreign_key", """
        op.create_foreign_key("fk_accounts_team", "accounts", "teams", ["team_id"], ["id"])
    """, ("orphan_data", "accounts", "team_id")),
    data_scenario("values_the_new_type_cannot_take", """
        op.alter_column("accounts", "code", type_=sa.Integer, postgresql_using="code::integer",
                        existing_type=sa.String(20))
    """, ("type_conversion", "accounts", "code")),
    data_scenario("type_without_a_cast", """
        op.alter_column("accounts", "code", type_=sa.Integer, existing_type=sa.String(20))
    """, ("type_conversion", "accounts", "code")),
    # The conversion itself is allowed (the empty copy takes it); one value is too long for the new type.
    data_scenario("values_too_long_for_the_new_type", """
        op.alter_column("accounts", "code", type_=sa.String(2), existing_type=sa.String(20))
    """, ("type_conversion", "accounts", "code")),
    data_scenario("drop_a_missing_column", """
        op.drop_column("accounts", "nickname")
    """, ("missing_object", "accounts", "nickname")),
    data_scenario("drop_a_missing_index", """
        op.drop_index("ix_accounts_nickname", table_name="accounts")
    """, ("missing_object", None, None)),
    # The same statements over rows that fit them: nothing to predict.
    data_scenario("unique_over_distinct_rows", """
        op.create_index("ux_accounts_code", "accounts", ["code"], unique=True)
    """, None),
    data_scenario("not_null_after_the_data_step_fills_it", """
        op.execute("UPDATE accounts SET code = 'none' WHERE code IS NULL")
        op.alter_column("accounts", "code", existing_type=sa.String(20), nullable=False)
    """, None),
    data_scenario("foreign_key_after_orphans_are_cleared", """
        op.execute("UPDATE accounts SET team_id = NULL WHERE team_id NOT IN (SELECT id FROM teams)")
        op.create_foreign_key("fk_accounts_team", "accounts", "teams", ["team_id"], ["id"])
    """, None),
    data_scenario("type_change_values_can_take", """
        op.alter_column("accounts", "email", type_=sa.Text, existing_type=sa.String(200))
    """, None),
    data_scenario("column_added_then_dropped", """
        op.add_column("accounts", sa.Column("nickname", sa.Text))
        op.drop_column("accounts", "nickname")
    """, None),
]

EXISTING.append(Scenario(
    "check_constraint_exists", MEMBERS, then(upto("i1"), sql(
        "ALTER TABLE members ADD CONSTRAINT ck_members_age CHECK (age >= 0)")),
    first=("duplicate_object", "members", None), run_status="recovered"))
DATA += [
    data_scenario("integer_from_digit_strings", """
        op.execute("DELETE FROM accounts WHERE code !~ '^[0-9]+$' OR code IS NULL")
        op.alter_column("accounts", "code", type_=sa.Integer, postgresql_using="code::integer",
                        existing_type=sa.String(20))
    """, None),
    data_scenario("drop_an_existing_column", """
        op.drop_column("accounts", "code")
    """, None),
    # Statements the analysis cannot follow (a DO block) make it claim nothing absent afterwards.
    data_scenario("drop_after_a_do_block", """
        op.execute("DO $$ BEGIN EXECUTE 'ALTER TABLE accounts ADD COLUMN nickname text'; END $$")
        op.drop_column("accounts", "nickname")
    """, None),
    data_scenario("rename_then_add_the_old_name", """
        op.alter_column("accounts", "code", new_column_name="legacy_code")
        op.add_column("accounts", sa.Column("code", sa.Integer))
    """, None),
    Scenario("two_revisions_create_one_index", [ACCOUNTS, Rev("k2", "index", """
        op.create_index("ix_accounts_code", "accounts", ["code"])
    """), Rev("k3", "index again", """
        op.create_index("ix_accounts_code", "accounts", ["code"])
    """)], then(upto("k1"), ACCOUNT_ROWS), first=("duplicate_relation", "accounts", None), run_status="refused"),
]

# Databases that will not break, one per kind of "already exists": the same projects, not prepared.
CLEAN = [
    Scenario("no_hotfix", SETTINGS, upto("a1"), run_status="succeeded"),
    Scenario("fresh_database", SETTINGS, run_status="succeeded"),
    Scenario("enum_absent", POSTS, run_status="succeeded"),
    Scenario("index_and_check_absent", MEMBERS, upto("i1"), run_status="succeeded"),
    Scenario("flask_fresh", FLASK_REVS, flask=True, run_status="succeeded"),
]

# For each kind `check` predicts, a database that will not break in that way.
CLEAN_TWIN = {
    "duplicate_column": "no_hotfix",
    "duplicate_relation": "fresh_database",
    "duplicate_type": "enum_absent",
    "duplicate_object": "index_and_check_absent",
    "duplicate_data": "unique_over_distinct_rows",
    "null_data": "not_null_after_the_data_step_fills_it",
    "orphan_data": "foreign_key_after_orphans_are_cleared",
    "type_conversion": "integer_from_digit_strings",
    "missing_object": "drop_an_existing_column",
}

ALL = EXISTING + DATA + CLEAN
BY_NAME = {s.name: s for s in ALL}

# -- a failure only running the migration shows ------------------------------------------------------
# The revision asks the database how many orders there are and creates the archive only when there
# are some: the tool's offline --sql mode cannot print that without a database, so only a rehearsal
# sees that the archive table it creates is already there.
RUNTIME = [
    Rev("r1", "orders", """
        op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True), sa.Column("ref", sa.Text))
    """),
    Rev("r2", "archive when there are orders", """
        bind = op.get_bind()
        if bind.execute(sa.text("SELECT count(*) FROM orders")).scalar():
            op.create_table("orders_archive", sa.Column("id", sa.Integer, primary_key=True),
                            sa.Column("ref", sa.Text))
    """),
]
INSPECTS = Scenario("inspects_the_database", RUNTIME, then(upto("r1"), sql(
    "INSERT INTO orders (ref) VALUES ('A-1')", "CREATE TABLE orders_archive (id serial PRIMARY KEY, note text)")),
    first=("duplicate_relation", "orders_archive", None), run_status="refused", runtime_only=True)
ALL.append(INSPECTS)
BY_NAME[INSPECTS.name] = INSPECTS
