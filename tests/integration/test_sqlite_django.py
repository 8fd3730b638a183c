"""Guarded `manage.py migrate` on a SQLite file, broken the ways deploys break, Django's table rebuilds included.

The same Django project as test_pg_django.py, pointed at a SQLite file through SCHOOL_DATABASE_URL.
Django runs each migration in one transaction here, so a failed migration leaves nothing behind. What
SQLite adds is the table rebuild: SQLite's ALTER TABLE cannot add a NOT NULL column without a default,
so Django's AddField in school.0002 rebuilds school_course through `new__school_course` from the
migration's state (not from the live table), filling the new column with the field's default.
- A hotfixed `code` column: nothing fails, and its values are replaced (the bare test shows it). The
  guard's hook stops the rebuild before any change when the column holds values; the guard skips the
  whole rebuild when the table is already exactly as it leaves it, and refuses otherwise.
- A migration with `atomic = False` runs each statement on its own: a rebuild whose copy fails leaves an
  empty `new__<table>`, and every later run fails on it. The guard drops it when it is empty and the
  table exists, and refuses otherwise.
"""

from __future__ import annotations

import sys

import pytest

from tests.support.django_project import django_project
from tests.support.guard import bare, execute, guard, rows
from tests.support.schema import columns, indexes, tables

SCHOOL = ["0001_initial", "0002_course_code", "0003_lesson"]


def manage(*args: str) -> list[str]:
    return [sys.executable, "manage.py", *args]


def recorded(url: str, app: str = "school") -> list[str]:
    return [r[0] for r in rows(url, "SELECT name FROM django_migrations WHERE app = :a ORDER BY name", a=app)]


def twins(url: str) -> list[tuple]:
    return rows(url, "SELECT app, name FROM django_migrations GROUP BY app, name HAVING count(*) > 1")


def table_sql(url: str, table: str) -> str:
    return rows(url, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t", t=table)[0][0]


def people_and_enrolments(url: str) -> None:
    execute(url, "INSERT INTO accounts_user (password, email) VALUES ('!', 'ada@x.org'), ('!', 'bob@x.org')",
            "INSERT INTO school_enroll (user_id, course_id) SELECT u.id, c.id FROM accounts_user u, school_course c")


def at_0001_with_courses(project, url: str) -> dict:
    env = {"SCHOOL_DATABASE_URL": url}
    bare(project, manage("migrate", "school", "0001"), env)
    execute(url, "INSERT INTO school_course (title) VALUES ('Algebra'), ('Biology')")
    people_and_enrolments(url)
    return env


# The hotfix most people type on SQLite: a NOT NULL column needs a default there.
HOTFIX = ("ALTER TABLE school_course ADD COLUMN code varchar(20) NOT NULL DEFAULT ''",
          "UPDATE school_course SET code = 'HOT-' || id")


def test_bare_rebuild_replaces_the_values_of_a_hotfixed_column(tmp_path, sqlite_url):
    """What the guard stops: Django exits 0, and the hotfix's values are gone."""
    project = django_project(tmp_path / "site")
    env = at_0001_with_courses(project, sqlite_url)
    execute(sqlite_url, *HOTFIX)

    proc = bare(project, manage("migrate"), env)

    assert proc.returncode == 0
    assert rows(sqlite_url, "SELECT title, code FROM school_course ORDER BY id") == [
        ("Algebra", "C-1"), ("Biology", "C-2"), ("Orientation", "ORIENT")]


def test_rebuild_over_a_hotfixed_column_is_refused_and_the_sql_it_gives_lets_the_next_deploy_through(
        tmp_path, sqlite_url):
    project = django_project(tmp_path / "site")
    env = at_0001_with_courses(project, sqlite_url)
    execute(sqlite_url, *HOTFIX)

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 1
    assert recorded(sqlite_url) == ["0001_initial"]
    assert rows(sqlite_url, "SELECT title, code FROM school_course ORDER BY id") == [
        ("Algebra", "HOT-1"), ("Biology", "HOT-2")]
    assert rows(sqlite_url, "SELECT count(*) FROM school_enroll") == [(4,)]
    assert "code varchar(20) NOT NULL DEFAULT ''" in table_sql(sqlite_url, "school_course")
    assert "new__school_course" not in tables(sqlite_url) and "school_lesson" not in tables(sqlite_url)
    assert report["status"] == "refused"
    assert report["actions"] == []
    assert [(f["kind"], f["column"], f["revision"]) for f in report["failures"]] == [
        ("duplicate_column", "code", "school.0002_course_code")]
    refusal = report["refusals"][0]
    assert "2 value(s)" in refusal["reason"]
    assert "column code is VARCHAR(20) NOT NULL DEFAULT '', wanted VARCHAR(20) NOT NULL" in refusal["reason"]
    assert refusal["sql"][1] == ('INSERT INTO "new__school_course" ("id", "title", "code") '
                                 'SELECT "id", "title", "code" FROM "school_course"')

    # A human chose to keep the values and ran the rebuild the refusal gives.
    execute(sqlite_url, *refusal["sql"])
    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 0, proc.stderr
    assert recorded(sqlite_url) == SCHOOL
    # The rebuild was skipped and 0002's RunPython ran once: it left the hotfix's codes and added its row.
    assert rows(sqlite_url, "SELECT title, code FROM school_course ORDER BY id") == [
        ("Algebra", "HOT-1"), ("Biology", "HOT-2"), ("Orientation", "ORIENT")]
    assert rows(sqlite_url, "SELECT count(*) FROM school_enroll") == [(4,)]
    assert columns(sqlite_url, "school_course") == {"id": "INTEGER", "title": "varchar(100)", "code": "varchar(20)"}
    assert "school_lesson" in tables(sqlite_url)
    assert report["status"] == "recovered"
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]
    assert len(report["actions"][0]["statements"]) == 4


def test_dry_run_predicts_the_rebuild_over_a_hotfixed_column_and_changes_nothing(tmp_path, sqlite_url):
    project = django_project(tmp_path / "site")
    env = at_0001_with_courses(project, sqlite_url)
    execute(sqlite_url, *HOTFIX)

    proc, report = guard(project, manage("migrate"), env, "--dry-run")

    assert proc.returncode == 1
    assert report["status"] == "predicted_failure"
    predicted = report["predicted"][0]
    assert (predicted["kind"], predicted["table"], predicted["column"], predicted["revision"]) == (
        "duplicate_column", "school_course", "code", "school.0002_course_code")
    assert "2 value(s)" in report["refusals"][0]["reason"]
    assert recorded(sqlite_url) == ["0001_initial"]
    assert rows(sqlite_url, "SELECT code FROM school_course ORDER BY id") == [("HOT-1",), ("HOT-2",)]


def test_hotfix_that_rebuilt_the_table_as_django_does_skips_the_rebuild_and_the_data_step_runs(tmp_path, sqlite_url):
    project = django_project(tmp_path / "site")
    env = at_0001_with_courses(project, sqlite_url)
    # The hotfix rebuilt the table by hand the way `sqlmigrate school 0002` prints it (columns in its order).
    execute(sqlite_url,
            'CREATE TABLE "new__school_course" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, '
            '"code" varchar(20) NOT NULL, "title" varchar(100) NOT NULL)',
            'INSERT INTO "new__school_course" ("id", "title", "code") SELECT "id", "title", \'\' FROM "school_course"',
            'DROP TABLE "school_course"', 'ALTER TABLE "new__school_course" RENAME TO "school_course"',
            "UPDATE school_course SET code = 'HOT-' || id WHERE id = 1")

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 0, proc.stderr
    assert recorded(sqlite_url) == SCHOOL
    assert twins(sqlite_url) == []
    assert rows(sqlite_url, "SELECT title, code FROM school_course ORDER BY id") == [
        ("Algebra", "HOT-1"), ("Biology", "C-2"), ("Orientation", "ORIENT")]
    assert rows(sqlite_url, "SELECT count(*) FROM school_enroll") == [(4,)]
    assert "school_lesson" in tables(sqlite_url)
    assert report["status"] == "recovered"
    assert [(f["kind"], f["column"]) for f in report["failures"]] == [("duplicate_column", "code")]
    action = report["actions"][0]
    assert action["kind"] == "skip_satisfied"
    assert [s.split(" (")[0] for s in action["statements"]] == [
        'CREATE TABLE "new__school_course"', 'INSERT INTO "new__school_course"', 'DROP TABLE "school_course";',
        'ALTER TABLE "new__school_course" RENAME TO "school_course";']
    assert any("already has the definition the rebuild through new__school_course gives it" in line
               for line in action["evidence"])
    assert "skipped in school.0002_course_code, already satisfied: DROP TABLE" in proc.stderr


COURSE_SUMMARY = """
from django.db import migrations, models


def summarise(apps, schema_editor):
    apps.get_model("school", "Course").objects.filter(summary__isnull=True).update(summary="see the syllabus")


class Migration(migrations.Migration):
    dependencies = [("school", "0003_lesson")]

    operations = [
        migrations.AddField(model_name="course", name="summary", field=models.TextField(null=True)),
        migrations.RunPython(summarise, migrations.RunPython.noop),
    ]
"""


CODE_INDEX = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("school", "0004_course_summary")]

    operations = [
        migrations.AddIndex(model_name="course", index=models.Index(fields=["code"], name="school_course_code_idx")),
    ]
"""


def test_hotfix_of_a_nullable_column_is_a_plain_add_and_is_skipped(tmp_path, sqlite_url):
    """A nullable column without a default needs no rebuild: Django's ALTER TABLE ADD COLUMN, skipped. 0005,
    which builds on 0004, has not run: so 0004 did not run either, and its RunPython step must."""
    project = django_project(tmp_path / "site", {"0004_course_summary": COURSE_SUMMARY,
                                                 "0005_course_code_index": CODE_INDEX})
    env = {"SCHOOL_DATABASE_URL": sqlite_url}
    bare(project, manage("migrate", "school", "0003"), env)
    execute(sqlite_url, "INSERT INTO school_course (title, code) VALUES ('Algebra', 'ALG'), ('Biology', 'BIO')",
            "ALTER TABLE school_course ADD COLUMN summary text NULL",
            "UPDATE school_course SET summary = 'hand-written' WHERE code = 'ALG'")

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 0, proc.stderr
    assert recorded(sqlite_url)[-2:] == ["0004_course_summary", "0005_course_code_index"]
    assert "school_course_code_idx" in indexes(sqlite_url, "school_course")
    assert rows(sqlite_url, "SELECT code, summary FROM school_course ORDER BY id") == [
        ("ORIENT", "see the syllabus"), ("ALG", "hand-written"), ("BIO", "see the syllabus")]
    assert [(f["kind"], f["table"], f["column"]) for f in report["failures"]] == [
        ("duplicate_column", "school_course", "summary")]
    assert report["actions"][0]["statements"] == ['ALTER TABLE "school_course" ADD COLUMN "summary" text NULL;']


@pytest.mark.parametrize("kept", [None, "0001_initial"], ids=["app-history-emptied", "history-restored-to-0001"])
def test_history_lost_for_an_app_is_recorded_without_running_its_data_steps_again(tmp_path, sqlite_url, kept):
    """Emptied, the first failure is 0001's CREATE TABLE; restored to 0001, it is 0002's rebuild, stopped by the
    hook over the codes it made: either way the rebuilt table is the proof that 0002 ran."""
    project = django_project(tmp_path / "site")
    env = {"SCHOOL_DATABASE_URL": sqlite_url}
    bare(project, manage("migrate"), env)
    execute(sqlite_url, "INSERT INTO school_course (title, code) VALUES ('Algebra', 'ALG')")
    people_and_enrolments(sqlite_url)
    execute(sqlite_url, f"DELETE FROM django_migrations WHERE app = 'school' AND name <> '{kept or ''}'")

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 0, proc.stderr
    assert recorded(sqlite_url) == SCHOOL
    assert twins(sqlite_url) == []
    assert rows(sqlite_url, "SELECT title, code FROM school_course ORDER BY id") == [
        ("Orientation", "ORIENT"), ("Algebra", "ALG")]
    assert rows(sqlite_url, "SELECT count(*) FROM school_enroll") == [(4,)]
    assert report["status"] == "recovered"
    assert [f["kind"] for f in report["failures"]] == ["duplicate_column" if kept else "duplicate_relation"]
    action = report["actions"][0]
    assert [a["kind"] for a in report["actions"]] == ["mark_applied"]
    assert action["target"] == f"revisions school.{'0002_course_code' if kept else '0001_initial'}..school.0003_lesson"
    # 0002 is a rebuild of school_course: the table as it leaves it is the proof that it ran.
    assert any(line.startswith("school.0002_course_code: table school_course already has the definition")
               for line in action["evidence"])


TITLE_INDEX = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("school", "0003_lesson")]

    operations = [
        migrations.AddIndex(model_name="course", index=models.Index(fields=["title"], name="school_course_title_idx")),
    ]
"""


def test_existing_index_is_skipped(tmp_path, sqlite_url):
    project = django_project(tmp_path / "site", {"0004_course_title_index": TITLE_INDEX})
    env = {"SCHOOL_DATABASE_URL": sqlite_url}
    bare(project, manage("migrate", "school", "0003"), env)
    execute(sqlite_url, "INSERT INTO school_course (title, code) VALUES ('Algebra', 'ALG')",
            "CREATE INDEX school_course_title_idx ON school_course (title)")

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 0, proc.stderr
    assert recorded(sqlite_url)[-1] == "0004_course_title_index"
    assert indexes(sqlite_url, "school_course") == {"school_course_title_idx": False}
    assert rows(sqlite_url, "SELECT code FROM school_course ORDER BY id") == [("ORIENT",), ("ALG",)]
    assert [(f["kind"], f["object_name"]) for f in report["failures"]] == [
        ("duplicate_relation", "school_course_title_idx")]
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]


def test_column_with_another_type_is_refused_and_nothing_changes(tmp_path, sqlite_url):
    project = django_project(tmp_path / "site")
    env = at_0001_with_courses(project, sqlite_url)
    execute(sqlite_url, "ALTER TABLE school_course ADD COLUMN code integer", "UPDATE school_course SET code = id")

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 1
    assert recorded(sqlite_url) == ["0001_initial"]
    assert rows(sqlite_url, "SELECT title, code FROM school_course ORDER BY id") == [("Algebra", 1), ("Biology", 2)]
    assert columns(sqlite_url, "school_course")["code"] == "INTEGER"
    assert "school_lesson" not in tables(sqlite_url)
    assert report["status"] == "refused"
    assert report["actions"] == []
    assert "column code is INTEGER, wanted VARCHAR(20) NOT NULL" in report["refusals"][0]["reason"]


# 0004 adds a nullable column (a plain ALTER TABLE ADD COLUMN) and then changes a column, which rebuilds
# school_lesson; Django makes the table's index again after the rebuild.
LESSON_NOTE = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("school", "0003_lesson")]

    operations = [
        migrations.AddField(model_name="lesson", name="note", field=models.TextField(null=True)),
        migrations.AlterField(model_name="lesson", name="title", field=models.CharField(max_length=200)),
    ]
"""


def test_an_index_a_rebuild_drops_and_makes_again_is_not_skipped(tmp_path, sqlite_url):
    """The hotfixed column is skipped. The index on school_lesson exists now, but the rebuild that follows
    drops it with the old table: the statement that makes it again must run, or the index is lost."""
    project = django_project(tmp_path / "site", {"0004_lesson_note": LESSON_NOTE})
    env = {"SCHOOL_DATABASE_URL": sqlite_url}
    bare(project, manage("migrate", "school", "0003"), env)
    execute(sqlite_url, "INSERT INTO school_lesson (course_id, title) SELECT id, 'Intro' FROM school_course",
            "ALTER TABLE school_lesson ADD COLUMN note text NULL", "UPDATE school_lesson SET note = 'kept'")
    [index] = indexes(sqlite_url, "school_lesson")

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 0, proc.stderr
    assert recorded(sqlite_url)[-1] == "0004_lesson_note"
    assert indexes(sqlite_url, "school_lesson") == {index: False}
    assert columns(sqlite_url, "school_lesson")["title"] == "varchar(200)"
    assert rows(sqlite_url, "SELECT title, note FROM school_lesson") == [("Intro", "kept")]
    assert report["actions"][0]["statements"] == ['ALTER TABLE "school_lesson" ADD COLUMN "note" text NULL;']


# A migration that is not atomic runs each statement on its own; its rebuild meets duplicate titles.
UNIQUE_TITLES = """
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("school", "0003_lesson")]

    operations = [
        migrations.AlterField(model_name="course", name="title", field=models.CharField(max_length=100, unique=True)),
    ]
"""


def test_empty_leftover_of_an_interrupted_rebuild_is_dropped_and_recorded(tmp_path, sqlite_url):
    project = django_project(tmp_path / "site", {"0004_unique_titles": UNIQUE_TITLES})
    env = {"SCHOOL_DATABASE_URL": sqlite_url}
    bare(project, manage("migrate", "school", "0003"), env)
    execute(sqlite_url, "INSERT INTO school_course (title, code) VALUES ('Algebra', 'A1'), ('Algebra', 'A2')")
    first = bare(project, manage("migrate"), env, check=False)
    assert first.returncode == 1 and "UNIQUE constraint failed: new__school_course.title" in first.stderr
    assert rows(sqlite_url, "SELECT count(*) FROM new__school_course") == [(0,)]
    # The duplicates are fixed by hand; without the guard every run now fails on the leftover.
    execute(sqlite_url, "UPDATE school_course SET title = 'Algebra II' WHERE code = 'A2'")
    again = bare(project, manage("migrate"), env, check=False)
    assert again.returncode == 1 and 'table "new__school_course" already exists' in again.stderr

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 0, proc.stderr
    assert recorded(sqlite_url)[-1] == "0004_unique_titles"
    assert "new__school_course" not in tables(sqlite_url)
    assert '"title" varchar(100) NOT NULL UNIQUE' in table_sql(sqlite_url, "school_course")
    assert rows(sqlite_url, "SELECT title FROM school_course ORDER BY id") == [
        ("Orientation",), ("Algebra",), ("Algebra II",)]
    assert report["status"] == "recovered"
    assert [(f["kind"], f["object_name"]) for f in report["failures"]] == [
        ("duplicate_relation", "new__school_course")]
    action = report["actions"][0]
    assert action["kind"] == "drop_empty_leftover"
    assert action["statements"] == ['DROP TABLE "new__school_course"']
    assert action["recorded"]["definition"].startswith('CREATE TABLE "new__school_course"')
    assert any("Django's SQLite table rebuild" in line for line in action["evidence"])


def test_leftover_holding_rows_is_refused(tmp_path, sqlite_url):
    project = django_project(tmp_path / "site", {"0004_unique_titles": UNIQUE_TITLES})
    env = {"SCHOOL_DATABASE_URL": sqlite_url}
    bare(project, manage("migrate", "school", "0003"), env)
    execute(sqlite_url, 'CREATE TABLE "new__school_course" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, '
                        '"title" varchar(100) NOT NULL UNIQUE, "code" varchar(20) NOT NULL)',
            "INSERT INTO new__school_course (title, code) VALUES ('copied', 'C')")

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 1
    assert recorded(sqlite_url)[-1] == "0003_lesson"
    assert rows(sqlite_url, "SELECT title FROM new__school_course") == [("copied",)]
    assert rows(sqlite_url, "SELECT code FROM school_course") == [("ORIENT",)]
    assert report["status"] == "refused"
    assert report["actions"] == []
    assert "holds 1 row(s)" in report["refusals"][0]["reason"]
