"""Duplicate rows before a unique key on MariaDB and SQLite: found, counted and explained; never changed.

The guard dedupes on PostgreSQL only so far. Here it must still read the key (from the failing
statement, or from SQLite's own 'UNIQUE constraint failed: t.a, t.b'), count the groups the way the
index sees them, show the biggest, give the SQL that lists them all, and change no row, whatever
--dedupe says.
"""

from __future__ import annotations

import pytest

from tests.support.guard import bare, execute, guard, rows, tool
from tests.support.projects import Rev, alembic_project

UPGRADE = [tool("alembic"), "upgrade", "head"]
TABLE = """
    op.create_table("school_enroll", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("user_id", sa.Integer, nullable=False),
                    sa.Column("course_id", sa.Integer, nullable=True),
                    sa.Column("email", sa.String(100), nullable=True))
"""
FILL = ("INSERT INTO school_enroll (user_id, course_id, email) VALUES (1, 1, 'a@x.org'), (2, 1, 'b@x.org'), "
        "(2, 1, 'B@x.org'), (2, 1, NULL), (3, 2, 'c@x.org'), (3, 2, 'c@x.org'), (4, NULL, 'd@x.org'), "
        "(4, NULL, 'd@x.org')")


def enroll(tmp_path, url: str, unique: str):
    project = alembic_project(tmp_path / "school", [Rev("m1", "enroll", TABLE), Rev("m2", "unique", unique)])
    env = {"DATABASE_URL": url}
    bare(project, [tool("alembic"), "upgrade", "m1"], env)
    execute(url, FILL)
    return project, env


def table(url: str) -> list[tuple]:
    return rows(url, "SELECT * FROM school_enroll ORDER BY id")


@pytest.mark.parametrize("dedupe", ["off", "keep-oldest"])
def test_mariadb_counts_the_groups_and_changes_nothing(dedupe, tmp_path, mysql_url):
    project, env = enroll(tmp_path, mysql_url, """
        op.create_unique_constraint("uq_enroll", "school_enroll", ["user_id", "course_id"])
    """)
    before = table(mysql_url)

    proc, report = guard(project, UPGRADE, env, "--dedupe", dedupe)

    assert proc.returncode == 1
    assert table(mysql_url) == before
    assert report["failures"][0]["kind"] == "duplicate_data"
    refusal = report["refusals"][0]
    # (4, NULL) twice does not collide: NULLs are distinct in a unique index.
    assert "2 duplicate group(s) (3 surplus row(s)) in school_enroll" in refusal["reason"]
    assert "PostgreSQL only" in refusal["reason"]
    assert "(user_id, course_id)=(2, 1): 3 rows" in " ".join(refusal["human_steps"])
    assert sorted(rows(mysql_url, refusal["sql"][0].rstrip(";"))) == [(2, 1, 3), (3, 2, 2)]


def test_sqlite_partial_expression_index_counts_only_what_it_covers(tmp_path, sqlite_url):
    project, env = enroll(tmp_path, sqlite_url, """
        op.create_index("uq_enroll_email", "school_enroll", [sa.text("lower(email)")], unique=True,
                        sqlite_where=sa.text("user_id > 1"))
    """)
    before = table(sqlite_url)

    proc, report = guard(project, UPGRADE, env, "--dedupe", "keep-oldest")

    assert proc.returncode == 1
    assert table(sqlite_url) == before
    refusal = report["refusals"][0]
    # user 1 is outside the WHERE; b/B collide through lower(); the NULL email never collides.
    assert "3 duplicate group(s) (3 surplus row(s))" in refusal["reason"]
    shown = " ".join(refusal["human_steps"])
    assert "(LOWER(email))=(b***): 2 rows" in shown and "x.org" not in shown


def test_sqlite_batch_mode_copy_names_the_columns(tmp_path, sqlite_url):
    project, env = enroll(tmp_path, sqlite_url, """
        with op.batch_alter_table("school_enroll") as batch:
            batch.create_unique_constraint("uq_enroll", ["user_id", "course_id"])
    """)
    before = table(sqlite_url)

    proc, report = guard(project, UPGRADE, env)

    assert proc.returncode == 1
    assert table(sqlite_url) == before
    assert "2 duplicate group(s) (3 surplus row(s)) in school_enroll" in report["refusals"][0]["reason"]
