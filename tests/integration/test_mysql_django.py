"""Guarded `manage.py migrate` on a real MariaDB/MySQL database, broken the ways deploys break.

The same Django project as test_pg_django.py (custom user model, a `school` app whose 0002 adds a
column and then runs a RunPython step), pointed at a fresh MariaDB database through
SCHOOL_DATABASE_URL, which only settings.py reads. Django cannot roll DDL back here
(`can_rollback_ddl` is False): it runs each operation of a migration on its own, a RunPython step in a
transaction of its own, and records the migration only at its end. So a migration that fails part-way
keeps the DDL before the failing statement, and any data step before it, and is not recorded. The
half-applied tests make that happen with the bare `migrate` first, assert it, then run the guard.
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


def people_and_enrolments(url: str) -> None:
    execute(url, "INSERT INTO accounts_user (password, email) VALUES ('!', 'ada@x.org'), ('!', 'bob@x.org')",
            "INSERT INTO school_enroll (user_id, course_id) SELECT u.id, c.id FROM accounts_user u, school_course c")


def default_of(url: str, table: str, column: str) -> list[tuple]:
    return rows(url, "SELECT column_default FROM information_schema.columns WHERE table_schema = database() "
                     "AND table_name = :t AND column_name = :c", t=table, c=column)


@pytest.fixture
def school(tmp_path, mysql_url):
    """The project, and the only place it finds its database: settings.py reads SCHOOL_DATABASE_URL."""
    return django_project(tmp_path / "site"), {"SCHOOL_DATABASE_URL": mysql_url}


def test_hotfix_column_skips_the_add_and_the_data_step_runs(school, mysql_url):
    project, env = school
    bare(project, manage("migrate", "school", "0001"), env)
    execute(mysql_url, "INSERT INTO school_course (title) VALUES ('Algebra'), ('Biology')")
    people_and_enrolments(mysql_url)
    # The hotfix, made by hand the way Django makes the column: a default for the existing rows, then dropped.
    execute(mysql_url, "ALTER TABLE school_course ADD COLUMN code varchar(20) NOT NULL DEFAULT ''",
            "ALTER TABLE school_course ALTER COLUMN code DROP DEFAULT")

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 0, proc.stderr
    assert recorded(mysql_url) == SCHOOL
    assert twins(mysql_url) == []
    # The RunPython step ran once: it filled the codes and added its row; every row kept.
    assert rows(mysql_url, "SELECT title, code FROM school_course ORDER BY id") == [
        ("Algebra", "C-1"), ("Biology", "C-2"), ("Orientation", "ORIENT")]
    assert rows(mysql_url, "SELECT count(*) FROM school_enroll") == [(4,)]
    assert columns(mysql_url, "school_course")["code"] == "varchar(20)"
    assert default_of(mysql_url, "school_course", "code") == [(None,)]
    assert "school_lesson" in tables(mysql_url)
    assert report["status"] == "recovered"
    assert report["database"]["dialect"] == "mysql"
    failure = report["failures"][0]
    assert [f["kind"] for f in report["failures"]] == ["duplicate_column"]
    assert (failure["table"], failure["column"], failure["revision"], failure["errno"]) == (
        "school_course", "code", "school.0002_course_code", 1060)
    action = report["actions"][0]
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]
    # Django's DROP DEFAULT is judged as a statement of its own: the hotfix has no default, so it is skipped too.
    assert action["statements"] == ["ALTER TABLE `school_course` ADD COLUMN `code` varchar(20) DEFAULT '' NOT NULL;",
                                    "ALTER TABLE `school_course` ALTER COLUMN `code` DROP DEFAULT;"]
    assert any("once the revision drops its default" in line for line in action["evidence"])


def test_hotfix_that_kept_its_default_has_it_dropped_by_the_migration(school, mysql_url):
    project, env = school
    bare(project, manage("migrate", "school", "0001"), env)
    execute(mysql_url, "INSERT INTO school_course (title) VALUES ('Algebra')",
            "ALTER TABLE school_course ADD COLUMN code varchar(20) NOT NULL DEFAULT ''")

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 0, proc.stderr
    assert recorded(mysql_url) == SCHOOL
    assert rows(mysql_url, "SELECT title, code FROM school_course ORDER BY id") == [
        ("Algebra", "C-1"), ("Orientation", "ORIENT")]
    # Only the ADD COLUMN was skipped; 0002's own DROP DEFAULT ran, so the column ends as Django makes it.
    assert default_of(mysql_url, "school_course", "code") == [(None,)]
    assert len(report["actions"][0]["statements"]) == 1


def test_history_lost_for_an_app_is_recorded_without_running_its_data_steps_again(school, mysql_url):
    project, env = school
    bare(project, manage("migrate"), env)
    execute(mysql_url, "INSERT INTO school_course (title, code) VALUES ('Algebra', 'ALG')")
    people_and_enrolments(mysql_url)
    execute(mysql_url, "DELETE FROM django_migrations WHERE app = 'school'")

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 0, proc.stderr
    assert recorded(mysql_url) == SCHOOL
    assert twins(mysql_url) == []
    # 0002's RunPython did not run again: one Orientation row, every row kept as it was.
    assert rows(mysql_url, "SELECT title, code FROM school_course ORDER BY id") == [
        ("Orientation", "ORIENT"), ("Algebra", "ALG")]
    assert rows(mysql_url, "SELECT count(*) FROM school_enroll") == [(4,)]
    assert report["status"] == "recovered"
    assert [(f["kind"], f["errno"]) for f in report["failures"]] == [("duplicate_relation", 1050)]
    action = report["actions"][0]
    assert [a["kind"] for a in report["actions"]] == ["mark_applied"]
    assert action["target"] == "revisions school.0001_initial..school.0003_lesson"
    assert action["statements"] == [f"MigrationRecorder.record_applied('school.{name}')" for name in SCHOOL]
    assert len(report["attempts"]) == 2 and report["attempts"][1]["revisions"] == []


TITLE_INDEX = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("school", "0003_lesson")]

    operations = [
        migrations.AlterField(model_name="course", name="title", field=models.CharField(max_length=100, db_index=True)),
    ]
"""


def test_existing_index_is_skipped(tmp_path, mysql_url):
    """`db_index=True` added by a migration; the index was made by hand first, with the statement
    `sqlmigrate` prints (so with Django's own name for it)."""
    project = django_project(tmp_path / "site", {"0004_course_title_index": TITLE_INDEX})
    env = {"SCHOOL_DATABASE_URL": mysql_url}
    bare(project, manage("migrate", "school", "0003"), env)
    execute(mysql_url, "INSERT INTO school_course (title, code) VALUES ('Algebra', 'ALG')")
    printed = bare(project, manage("sqlmigrate", "school", "0004"), env).stdout
    [create_index] = [line.rstrip(";") for line in printed.splitlines() if line.startswith("CREATE INDEX")]
    execute(mysql_url, create_index)
    [name] = [n for n in indexes(mysql_url, "school_course") if n.startswith("school_course_title_")]

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 0, proc.stderr
    assert recorded(mysql_url)[-1] == "0004_course_title_index"
    assert indexes(mysql_url, "school_course") == {name: False}
    assert rows(mysql_url, "SELECT title, code FROM school_course ORDER BY id") == [
        ("Orientation", "ORIENT"), ("Algebra", "ALG")]
    assert [(f["kind"], f["errno"], f["object_name"]) for f in report["failures"]] == [
        ("duplicate_relation", 1061, name)]
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]
    assert report["actions"][0]["statements"] == [f"{create_index};"]


# 0004 adds two columns and an index, then fills them: the hotfix made `room` by hand beforehand.
ROOMS = """
from django.db import migrations, models


def fill_rooms(apps, schema_editor):
    Course = apps.get_model("school", "Course")
    Course.objects.filter(room__isnull=True).update(room="main hall")
    Course.objects.create(title="Timetable", code="TT", level=1, room="office")


class Migration(migrations.Migration):
    dependencies = [("school", "0003_lesson")]

    operations = [
        migrations.AddField(model_name="course", name="level", field=models.IntegerField(default=1)),
        migrations.AddField(model_name="course", name="room", field=models.CharField(max_length=30, null=True)),
        migrations.AddIndex(model_name="course", index=models.Index(fields=["room"], name="school_course_room_idx")),
        migrations.RunPython(fill_rooms, migrations.RunPython.noop),
    ]
"""


def test_half_applied_migration_is_completed_and_recorded(tmp_path, mysql_url):
    project = django_project(tmp_path / "site", {"0004_rooms": ROOMS})
    env = {"SCHOOL_DATABASE_URL": mysql_url}
    bare(project, manage("migrate", "school", "0003"), env)
    execute(mysql_url, "INSERT INTO school_course (title, code) VALUES ('Algebra', 'ALG')",
            "ALTER TABLE school_course ADD COLUMN room varchar(30) NULL")
    # The deploy before the guard: 0004 fails on its second AddField. MariaDB has already committed the
    # first one (its ADD COLUMN and its DROP DEFAULT), and Django records a migration only at its end.
    first = bare(project, manage("migrate"), env, check=False)
    assert first.returncode == 1 and "1060" in first.stderr
    assert "level" in columns(mysql_url, "school_course")
    assert default_of(mysql_url, "school_course", "level") == [(None,)]
    assert recorded(mysql_url)[-1] == "0003_lesson"

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 0, proc.stderr
    assert recorded(mysql_url)[-1] == "0004_rooms"
    assert twins(mysql_url) == []
    assert rows(mysql_url, "SELECT title, code, level, room FROM school_course ORDER BY id") == [
        ("Orientation", "ORIENT", 1, "main hall"), ("Algebra", "ALG", 1, "main hall"),
        ("Timetable", "TT", 1, "office")]
    assert "school_course_room_idx" in indexes(mysql_url, "school_course")
    assert report["status"] == "recovered"
    assert [(f["kind"], f["column"]) for f in report["failures"]] == [("duplicate_column", "level")]
    action = report["actions"][0]
    assert action["kind"] == "skip_satisfied"
    assert len(action["statements"]) == 3  # level's ADD and DROP DEFAULT, room's ADD; the index and RunPython ran


ROOMS_FILLED_FIRST = """
from django.db import migrations, models


def timetable(apps, schema_editor):
    apps.get_model("school", "Course").objects.create(title="Timetable", code="TT", level=2)


class Migration(migrations.Migration):
    dependencies = [("school", "0003_lesson")]

    operations = [
        migrations.AddField(model_name="course", name="level", field=models.IntegerField(default=1)),
        migrations.RunPython(timetable, migrations.RunPython.noop),
        migrations.AddField(model_name="course", name="room", field=models.CharField(max_length=30, null=True)),
        migrations.AddIndex(model_name="course", index=models.Index(fields=["room"], name="school_course_room_idx")),
    ]
"""


def test_half_applied_migration_whose_data_step_may_have_run_is_refused(tmp_path, mysql_url):
    project = django_project(tmp_path / "site", {"0004_rooms": ROOMS_FILLED_FIRST})
    env = {"SCHOOL_DATABASE_URL": mysql_url}
    bare(project, manage("migrate", "school", "0003"), env)
    execute(mysql_url, "ALTER TABLE school_course ADD COLUMN room varchar(30) NULL")
    first = bare(project, manage("migrate"), env, check=False)
    assert first.returncode == 1
    # Django ran the RunPython step in a transaction of its own and committed it before the failing AddField.
    assert rows(mysql_url, "SELECT count(*) FROM school_course WHERE code = 'TT'") == [(1,)]
    assert recorded(mysql_url)[-1] == "0003_lesson"

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 1
    assert recorded(mysql_url)[-1] == "0003_lesson"
    assert rows(mysql_url, "SELECT count(*) FROM school_course WHERE code = 'TT'") == [(1,)]
    assert rows(mysql_url, "SELECT count(*) FROM school_course") == [(2,)]
    assert "school_course_room_idx" not in indexes(mysql_url, "school_course")
    assert report["status"] == "refused"
    assert report["actions"] == []
    refusal = report["refusals"][0]
    assert "half-applied" in refusal["reason"]
    assert any("manage.py migrate school 0004_rooms --fake" in step for step in refusal["human_steps"])
    assert refusal["sql"] == ["CREATE INDEX `school_course_room_idx` ON `school_course` (`room`);"]


def test_column_with_another_type_is_refused_and_nothing_changes(school, mysql_url):
    project, env = school
    bare(project, manage("migrate", "school", "0001"), env)
    execute(mysql_url, "INSERT INTO school_course (title) VALUES ('Algebra'), ('Biology')",
            "ALTER TABLE school_course ADD COLUMN code integer")

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 1
    assert recorded(mysql_url) == ["0001_initial"]
    assert rows(mysql_url, "SELECT title, code FROM school_course ORDER BY id") == [
        ("Algebra", None), ("Biology", None)]
    assert columns(mysql_url, "school_course")["code"] == "int(11)"
    assert "school_lesson" not in tables(mysql_url)
    assert report["status"] == "refused"
    assert report["actions"] == []
    reason = report["refusals"][0]["reason"]
    assert "int(11)" in reason and "varchar(20)" in reason
