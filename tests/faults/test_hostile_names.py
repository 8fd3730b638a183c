"""Names with quotes, spaces, semicolons, unicode and reserved words, end to end.

Every statement the guard builds (scratch copies, ALTER TYPE ... ADD VALUE, DROP TYPE, the lock)
quotes identifiers through the dialect's preparer and passes values as literals the driver
escapes; these migrations would break any guard that formats names into SQL.
"""

from __future__ import annotations

from tests.support.guard import bare, execute, guard, rows, tool, version
from tests.support.projects import Rev, alembic_project

TABLE = 'Ordér "items"; drop'
COLUMN = "select"
ENUM = "état du « ticket »"

REVS = [
    Rev("h1", "weird table", f"""
        op.create_table({TABLE!r}, sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("name with space", sa.Text))
        op.execute(sa.text('INSERT INTO "Ordér ""items""; drop" ("name with space") VALUES (:v)').bindparams(v="a'b"))
    """),
    Rev("h2", "reserved column and enum", f"""
        op.add_column({TABLE!r}, sa.Column({COLUMN!r}, sa.String(20)))
        op.execute('UPDATE "Ordér ""items""; drop" SET "select" = \\'it\\'\\'s\\'')
        op.create_table("tickets", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("state", sa.Enum("new", "it's open", "done; drop", name={ENUM!r})))
    """),
    Rev("h3", "later", """
        op.create_table("after_all", sa.Column("id", sa.Integer, primary_key=True))
    """),
]


def test_hotfix_and_enum_completion_with_hostile_names(tmp_path, pg_url):
    project = alembic_project(tmp_path / "app", REVS)
    env = {"DATABASE_URL": pg_url}
    bare(project, [tool("alembic"), "upgrade", "h1"], env)
    execute(pg_url,
            'ALTER TABLE "Ordér ""items""; drop" ADD COLUMN "select" VARCHAR(20)',
            'CREATE TYPE "état du « ticket »" AS ENUM (\'new\', \'done; drop\')')

    proc, report = guard(project, [tool("alembic"), "upgrade", "head"], env)

    assert proc.returncode == 0, proc.stderr
    assert version(pg_url) == {"h3"}
    assert rows(pg_url, 'SELECT "name with space", "select" FROM "Ordér ""items""; drop"') == [("a'b", "it's")]
    labels = rows(pg_url, "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
                          "WHERE t.typname = :n ORDER BY e.enumsortorder", n=ENUM)
    assert [r[0] for r in labels] == ["new", "it's open", "done; drop"]
    assert [f["kind"] for f in report["predicted"]] == ["duplicate_column", "duplicate_type"]
    assert report["failures"] == []
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied", "complete_enum", "skip_satisfied"]


def test_stale_type_with_a_hostile_name_is_dropped_quoted(tmp_path, pg_url):
    name = 'wid"get; DROP TABLE keep'
    project = alembic_project(tmp_path / "app", [Rev("s1", "t", f"""
        op.create_table({name!r}, sa.Column("id", sa.Integer, primary_key=True))
    """)])
    execute(pg_url, "CREATE TABLE keep (id int)", "INSERT INTO keep VALUES (1)",
            'CREATE TYPE "wid""get; DROP TABLE keep" AS (a int)')

    proc, report = guard(project, [tool("alembic"), "upgrade", "head"], {"DATABASE_URL": pg_url})

    assert proc.returncode == 0, proc.stderr
    assert rows(pg_url, "SELECT id FROM keep") == [(1,)]
    assert rows(pg_url, "SELECT count(*) FROM pg_class WHERE relname = :n AND relkind = 'r'", n=name) == [(1,)]
    assert report["actions"][0]["kind"] == "drop_stale_type"
