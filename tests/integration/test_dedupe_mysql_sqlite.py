"""Duplicate rows before a unique key on MariaDB and SQLite: shown, deduped with nothing lost, restored.

SQLite: the same dedupe as on PostgreSQL (BEGIN IMMEDIATE holds the database's write lock for the
one transaction), with the key read from the failing statement by sqlglot, or from SQLite's own
'UNIQUE constraint failed: t.a, t.b' when Alembic's batch mode copies the table; `restore` undoes it.
MariaDB: the same again in one InnoDB transaction (a locking read keeps writers out; the quarantine
table is made before it, since MySQL's DDL commits at once).
"""

from __future__ import annotations

from tests.support.cli import run_cli
from tests.support.dedupe import QUARANTINE
from tests.support.guard import bare, execute, guard, rows, tool
from tests.support.projects import Rev, alembic_project

UPGRADE = [tool("alembic"), "upgrade", "head"]
TABLE = """
    op.create_table("school_enroll", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("user_id", sa.Integer, nullable=False),
                    sa.Column("course_id", sa.Integer, nullable=True),
                    sa.Column("email", sa.String(100), nullable=True),
                    sa.Column("score", sa.Float, nullable=True))
    op.create_table("school_grade", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("enroll_id", sa.Integer, sa.ForeignKey("school_enroll.id", ondelete="CASCADE")))
"""
FILL = ("INSERT INTO school_enroll (user_id, course_id, email, score) VALUES (1, 1, 'a@x.org', 1.5), "
        "(2, 1, 'b@x.org', 0.30000000000000004), (2, 1, 'B@x.org', 0.1), (2, 1, NULL, NULL), "
        "(3, 2, 'c@x.org', 2.0), (3, 2, 'c@x.org', 1e-300), (4, NULL, 'd@x.org', 7), (4, NULL, 'd@x.org', 8)")


def enroll(tmp_path, url: str, unique: str, grades: str | None = None):
    project = alembic_project(tmp_path / "school", [Rev("m1", "enroll", TABLE), Rev("m2", "unique", unique)])
    env = {"DATABASE_URL": url}
    bare(project, [tool("alembic"), "upgrade", "m1"], env)
    execute(url, FILL, *([grades] if grades else []))
    return project, env


def table(url: str, name: str = "school_enroll") -> list[tuple]:
    return rows(url, f"SELECT * FROM {name} ORDER BY id")


def restore(url: str, action_id: str):
    return run_cli(["restore", action_id, "--database-url", url])


def test_mariadb_without_dedupe_counts_the_groups_and_changes_nothing(tmp_path, mysql_url):
    project, env = enroll(tmp_path, mysql_url, """
        op.create_unique_constraint("uq_enroll", "school_enroll", ["user_id", "course_id"])
    """)
    before = table(mysql_url)

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 1
    assert table(mysql_url) == before
    assert report["failures"][0]["kind"] == "duplicate_data"
    refusal = report["refusals"][0]
    # (4, NULL) twice does not collide: NULLs are distinct in a unique index.
    assert "2 duplicate group(s) (3 surplus row(s)) in school_enroll" in refusal["reason"]
    assert "(user_id, course_id)=(2, 1): 3 rows" in " ".join(refusal["human_steps"])
    assert sorted(rows(mysql_url, refusal["sql"][0].rstrip(";"))) == [(2, 1, 3), (3, 2, 2)]


def test_mariadb_dedupes_repoints_and_restore_is_exact(tmp_path, mysql_url):
    project, env = enroll(tmp_path, mysql_url, """
        op.create_unique_constraint("uq_enroll", "school_enroll", ["user_id", "course_id"])
    """, grades="INSERT INTO school_grade (enroll_id) VALUES (1), (3), (4), (6), (6), (NULL)")
    before, grades = table(mysql_url), table(mysql_url, "school_grade")

    refused, report = guard(project, UPGRADE, env, "--dedupe", "keep-oldest")
    assert refused.returncode == 1
    assert "referenced by rows of school_grade" in report["refusals"][0]["reason"]
    assert table(mysql_url) == before and table(mysql_url, "school_grade") == grades

    proc, report = guard(project, UPGRADE, env, "--dedupe", "keep-oldest", "--dedupe-repoint")

    assert proc.returncode == 0, proc.stderr
    assert rows(mysql_url, "SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
                           "AND INDEX_NAME = 'uq_enroll'")
    assert [r[0] for r in table(mysql_url)] == [1, 2, 5, 7, 8]
    assert table(mysql_url, "school_grade") == [(1, 1), (2, 2), (3, 2), (4, 5), (5, 5), (6, None)]
    action = report["actions"][0]
    assert action["rows_quarantined"] == 3

    assert restore(mysql_url, action["id"]).returncode == 1  # the constraint forbids them
    execute(mysql_url, "ALTER TABLE school_enroll DROP INDEX uq_enroll")
    done = restore(mysql_url, action["id"])
    assert done.returncode == 0, done.stderr
    assert table(mysql_url) == before and table(mysql_url, "school_grade") == grades


def test_sqlite_without_dedupe_shows_masked_groups_and_changes_nothing(tmp_path, sqlite_url):
    project, env = enroll(tmp_path, sqlite_url, """
        op.create_index("uq_enroll_email", "school_enroll", [sa.text("lower(email)")], unique=True,
                        sqlite_where=sa.text("user_id > 1"))
    """)
    before = table(sqlite_url)

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 1
    assert table(sqlite_url) == before
    assert not rows(sqlite_url, "SELECT 1 FROM sqlite_master WHERE name = :t", t=QUARANTINE)
    refusal = report["refusals"][0]
    # user 1 is outside the WHERE; b/B collide through lower(); the NULL email never collides.
    assert "3 duplicate group(s) (3 surplus row(s))" in refusal["reason"]
    shown = " ".join(refusal["human_steps"])
    assert "(LOWER(email))=(b***): 2 rows" in shown and "x.org" not in shown


def test_sqlite_partial_expression_index_dedupes_and_restore_is_exact(tmp_path, sqlite_url):
    project, env = enroll(tmp_path, sqlite_url, """
        op.create_index("uq_enroll_email", "school_enroll", [sa.text("lower(email)")], unique=True,
                        sqlite_where=sa.text("user_id > 1"))
    """)
    before = table(sqlite_url)

    proc, report = guard(project, UPGRADE, env, "--dedupe", "keep-newest")

    assert proc.returncode == 0, proc.stderr
    assert rows(sqlite_url, "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'uq_enroll_email'")
    action = report["actions"][0]
    assert action["rows_quarantined"] == 3
    # In each group the row with the largest id stays; user 1's row and the NULL email are untouched.
    assert [r[0] for r in table(sqlite_url)] == [1, 3, 4, 6, 8]

    assert restore(sqlite_url, action["id"]).returncode == 1  # the index forbids them
    execute(sqlite_url, "DROP INDEX uq_enroll_email")
    done = restore(sqlite_url, action["id"])
    assert done.returncode == 0, done.stderr
    assert table(sqlite_url) == before  # 0.30000000000000004 and 1e-300 included, to the last bit


def test_sqlite_batch_mode_copy_is_deduped_and_the_batch_runs_again(tmp_path, sqlite_url):
    project, env = enroll(tmp_path, sqlite_url, """
        with op.batch_alter_table("school_enroll") as batch:
            batch.create_unique_constraint("uq_enroll", ["user_id", "course_id"])
    """)
    before = table(sqlite_url)

    proc, _ = guard(project, UPGRADE, env, "--dedupe", "keep-oldest")

    assert proc.returncode == 0, proc.stderr
    assert "uq_enroll" in rows(sqlite_url, "SELECT sql FROM sqlite_master WHERE name = 'school_enroll'")[0][0]
    assert [r[0] for r in table(sqlite_url)] == [1, 2, 5, 7, 8]
    moved = {r[0] for r in rows(sqlite_url, f"SELECT json_extract(row_data, '$.id') FROM {QUARANTINE}")}
    assert moved == {3, 4, 6} and len(before) == 8


def test_sqlite_references_are_refused_without_repoint_and_repointed_with_it(tmp_path, sqlite_url):
    project, env = enroll(tmp_path, sqlite_url, """
        op.create_index("uq_enroll", "school_enroll", ["user_id", "course_id"], unique=True)
    """, grades="INSERT INTO school_grade (enroll_id) VALUES (1), (3), (4), (6), (6), (NULL)")
    before, grades = table(sqlite_url), table(sqlite_url, "school_grade")

    refused, report = guard(project, UPGRADE, env, "--dedupe", "keep-oldest")
    assert refused.returncode == 1
    assert "referenced by rows of school_grade" in report["refusals"][0]["reason"]
    assert table(sqlite_url) == before and table(sqlite_url, "school_grade") == grades

    proc, report = guard(project, UPGRADE, env, "--dedupe", "keep-oldest", "--dedupe-repoint")

    assert proc.returncode == 0, proc.stderr
    assert [r[0] for r in table(sqlite_url)] == [1, 2, 5, 7, 8]
    assert table(sqlite_url, "school_grade") == [(1, 1), (2, 2), (3, 2), (4, 5), (5, 5), (6, None)]
    execute(sqlite_url, "DROP INDEX uq_enroll")
    done = restore(sqlite_url, report["actions"][0]["id"])
    assert done.returncode == 0, done.stderr
    assert table(sqlite_url) == before and table(sqlite_url, "school_grade") == grades
