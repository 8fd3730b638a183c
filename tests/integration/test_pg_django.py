"""Guarded `manage.py migrate` on a real PostgreSQL database, broken the ways the seed stories were.

A real Django project (custom user model, a `school` app whose 0002 adds a column and then runs a
RunPython data step), a fresh database prepared with real DDL, the real `migrate` under
`migration-guard run`, then the outcome read back from the database and the report.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy.engine import make_url

from tests.support.cli import clean_env
from tests.support.django_project import django_project
from tests.support.guard import bare, execute, guard, rows, tool
from tests.support.servers import fresh_database

SCHOOL = ["0001_initial", "0002_course_code", "0003_lesson"]


def manage(*args: str) -> list[str]:
    return [sys.executable, "manage.py", *args]


def recorded(url: str, app: str = "school") -> list[str]:
    return [r[0] for r in rows(url, "SELECT name FROM django_migrations WHERE app = :a ORDER BY name", a=app)]


def twins(url: str) -> list[tuple]:
    return rows(url, "SELECT app, name FROM django_migrations GROUP BY app, name HAVING count(*) > 1")


def exists(url: str, table: str) -> bool:
    return bool(rows(url, "SELECT 1 FROM pg_tables WHERE tablename = :t", t=table))


def people_and_enrolments(url: str) -> None:
    execute(url, "INSERT INTO accounts_user (password, email) VALUES ('!', 'ada@x.org'), ('!', 'bob@x.org')",
            "INSERT INTO school_enroll (user_id, course_id) SELECT u.id, c.id FROM accounts_user u, school_course c")


@pytest.fixture
def school(tmp_path, pg_url):
    """The project, and the only place it finds its database: settings.py reads SCHOOL_DATABASE_URL."""
    return django_project(tmp_path / "site"), {"SCHOOL_DATABASE_URL": pg_url}


def test_hotfix_column_skips_the_add_and_the_data_step_runs(school, pg_url):
    project, env = school
    bare(project, manage("migrate", "school", "0001"), env)
    execute(pg_url, "INSERT INTO school_course (title) VALUES ('Algebra'), ('Biology')")
    people_and_enrolments(pg_url)
    # The hotfix, made by hand on production the way Django makes it: a default for the existing rows,
    # then dropped. The column is as 0002 leaves it; 0003's table is not there, so 0002 never ran.
    execute(pg_url, "ALTER TABLE school_course ADD COLUMN code varchar(20) NOT NULL DEFAULT ''",
            "ALTER TABLE school_course ALTER COLUMN code DROP DEFAULT")

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 0, proc.stderr
    assert recorded(pg_url) == SCHOOL
    assert "0012_alter_user_first_name_max_length" in recorded(pg_url, "auth")
    # The RunPython step ran once: it filled the codes and added its row; every row kept.
    assert rows(pg_url, "SELECT title, code FROM school_course ORDER BY id") == [
        ("Algebra", "C-1"), ("Biology", "C-2"), ("Orientation", "ORIENT")]
    assert rows(pg_url, "SELECT count(*) FROM school_enroll") == [(4,)]
    assert rows(pg_url, "SELECT column_default FROM information_schema.columns "
                        "WHERE table_name = 'school_course' AND column_name = 'code'") == [(None,)]
    assert exists(pg_url, "school_lesson")
    assert report["status"] == "recovered"
    assert report["framework"] == "django"
    # Predicted from sqlmigrate's statements and recovered before the first attempt.
    assert report["failures"] == []
    failure = report["predicted"][0]
    assert [f["kind"] for f in report["predicted"]] == ["duplicate_column"]
    assert (failure["table"], failure["column"], failure["revision"]) == (
        "school_course", "code", "school.0002_course_code")
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]
    assert report["actions"][0]["statements"] == [
        """ALTER TABLE "school_course" ADD COLUMN "code" varchar(20) DEFAULT '' NOT NULL;""",
        """ALTER TABLE "school_course" ALTER COLUMN "code" DROP DEFAULT;"""]
    assert "skipped in school.0002_course_code, already satisfied" in proc.stderr


def test_history_lost_for_an_app_is_recorded_without_running_its_data_steps_again(school, pg_url):
    project, env = school
    bare(project, manage("migrate"), env)
    execute(pg_url, "INSERT INTO school_course (title, code) VALUES ('Algebra', 'ALG')")
    people_and_enrolments(pg_url)
    # The school app's history rows were lost (a restore of an old dump of django_migrations).
    execute(pg_url, "DELETE FROM django_migrations WHERE app = 'school'")

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 0, proc.stderr
    assert recorded(pg_url) == SCHOOL
    assert twins(pg_url) == []
    # 0002's RunPython did not run again: one Orientation row, every row kept as it was.
    assert rows(pg_url, "SELECT title, code FROM school_course ORDER BY id") == [
        ("Orientation", "ORIENT"), ("Algebra", "ALG")]
    assert rows(pg_url, "SELECT count(*) FROM school_enroll") == [(4,)]
    assert report["status"] == "recovered"
    assert [f["kind"] for f in report["predicted"]] == ["duplicate_relation"]
    assert report["failures"] == []
    action = report["actions"][0]
    assert [a["kind"] for a in report["actions"]] == ["mark_applied"]
    assert action["target"] == "revisions school.0001_initial..school.0003_lesson"
    assert action["statements"] == [f"MigrationRecorder.record_applied('school.{name}')" for name in SCHOOL]
    assert len(report["attempts"]) == 1 and report["attempts"][0]["revisions"] == []


def test_column_with_another_type_is_refused_and_nothing_changes(school, pg_url):
    project, env = school
    bare(project, manage("migrate", "school", "0001"), env)
    execute(pg_url, "INSERT INTO school_course (title) VALUES ('Algebra'), ('Biology')",
            "ALTER TABLE school_course ADD COLUMN code integer")

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 1
    assert recorded(pg_url) == ["0001_initial"]
    assert rows(pg_url, "SELECT title, code FROM school_course ORDER BY id") == [("Algebra", None), ("Biology", None)]
    assert rows(pg_url, "SELECT data_type FROM information_schema.columns "
                        "WHERE table_name = 'school_course' AND column_name = 'code'") == [("integer",)]
    assert not exists(pg_url, "school_lesson")
    assert report["status"] == "refused"
    assert report["actions"] == []
    reason = report["refusals"][0]["reason"]
    assert "integer" in reason and "character varying(20)" in reason


def test_url_from_the_django_settings_with_django_admin(school, pg_url):
    """No DATABASE_URL, no DJANGO_SETTINGS_MODULE: `--settings` and `--pythonpath` name the project,
    the guard asks Django for the database (through django-admin's own interpreter)."""
    project, _ = school
    with_password = make_url(pg_url).set(password="s3cret-pw").render_as_string(hide_password=False)
    env = {"SCHOOL_DATABASE_URL": with_password}
    argv = [tool("django-admin"), "migrate", "--settings=site_cfg.settings", "--pythonpath", str(project)]

    proc, report = guard(project, argv, env)

    assert proc.returncode == 0, proc.stderr
    assert recorded(pg_url) == SCHOOL
    assert report["status"] == "succeeded"
    assert report["database"] == {"dialect": "postgresql",
                                  "url": make_url(with_password).render_as_string(hide_password=True)}
    again, report = guard(project, argv, env)
    assert again.returncode == 0, again.stderr
    assert "no migration pending; running the command anyway" in again.stderr
    assert "No migrations to apply" in again.stdout  # migrate still ran: post_migrate handlers fire
    assert "school.0003_lesson" in report["summary"]
    everything = proc.stdout + proc.stderr + again.stdout + again.stderr + str(report)
    assert "s3cret-pw" not in everything


def test_migrate_to_a_named_migration_stops_there(school, pg_url):
    project, env = school
    bare(project, manage("migrate", "school", "0001"), env)
    execute(pg_url, "INSERT INTO school_course (title) VALUES ('Algebra')",
            "ALTER TABLE school_course ADD COLUMN code varchar(20) NOT NULL DEFAULT ''")

    proc, report = guard(project, manage("migrate", "school", "0002"), env)

    assert proc.returncode == 0, proc.stderr
    assert recorded(pg_url) == ["0001_initial", "0002_course_code"]
    assert rows(pg_url, "SELECT title, code FROM school_course ORDER BY id") == [
        ("Algebra", "C-1"), ("Orientation", "ORIENT")]
    assert not exists(pg_url, "school_lesson")
    # The hotfix left its default; 0002's own DROP DEFAULT was not skipped, so the column ends as Django's.
    assert rows(pg_url, "SELECT column_default FROM information_schema.columns "
                        "WHERE table_name = 'school_course' AND column_name = 'code'") == [(None,)]
    assert [a["kind"] for a in report["actions"]] == ["skip_satisfied"]
    assert len(report["actions"][0]["statements"]) == 1
    assert [t["revision"] for t in report["attempts"][-1]["revisions"]] == ["school.0002_course_code"]


def test_last_migration_with_its_objects_present_and_a_data_step_is_refused(school, pg_url):
    """Nothing after 0002 (the target) says whether its RunPython ran: neither run it twice nor lose it."""
    project, env = school
    bare(project, manage("migrate", "school", "0002"), env)
    execute(pg_url, "DELETE FROM django_migrations WHERE app = 'school' AND name = '0002_course_code'")

    proc, report = guard(project, manage("migrate", "school", "0002"), env)

    assert proc.returncode == 1
    assert recorded(pg_url) == ["0001_initial"]
    assert rows(pg_url, "SELECT count(*) FROM school_course WHERE code = 'ORIENT'") == [(1,)]
    assert report["status"] == "refused"
    assert "data steps" in report["refusals"][0]["reason"]
    assert any("manage.py migrate school 0002_course_code --fake" in step
               for step in report["refusals"][0]["human_steps"])


def test_six_guarded_replicas_all_succeed_and_migrate_once(school, pg_url):
    project, env = school
    env = {**env, "SCHOOL_MIGRATION_SLEEP": "2"}  # keeps the replicas overlapping on a busy machine
    procs = [subprocess.Popen([sys.executable, "-m", "migration_guard", "run", "--", *manage("migrate")],
                              cwd=project, env=clean_env(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for _ in range(6)]
    results = [(p.wait(timeout=300), p.stdout.read()) for p in procs]

    assert [code for code, _ in results] == [0] * 6, "\n".join(out for _, out in results)
    assert recorded(pg_url) == SCHOOL
    assert twins(pg_url) == []
    assert rows(pg_url, "SELECT count(*) FROM school_course WHERE code = 'ORIENT'") == [(1,)]
    assert sum("no migration pending" in out for _, out in results) == 5


def test_a_command_migrating_another_database_than_the_guard_locked_is_refused(school, pg_url, pg_server_url):
    """The child's Django connection says which database it migrates; the guard acts only on its own."""
    project, env = school
    bare(project, manage("migrate", "school", "0001"), env)
    execute(pg_url, "ALTER TABLE school_course ADD COLUMN code varchar(20) NOT NULL DEFAULT ''")

    with fresh_database(pg_server_url) as elsewhere:
        proc, report = guard(project, manage("migrate"), {**env, "DATABASE_URL": elsewhere})

    assert proc.returncode == 1
    assert report["status"] == "refused"
    assert f"connected to database {make_url(pg_url).database!r}" in report["refusals"][0]["reason"]
    assert report["actions"] == []
    assert recorded(pg_url) == ["0001_initial"]


UNIQUE_LESSON_TITLES = """
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("school", "0003_lesson")]

    operations = [migrations.AlterUniqueTogether(name="lesson", unique_together={("course", "title")})]
"""


def test_unique_together_over_duplicate_rows_is_refused_and_every_row_kept(tmp_path, pg_url):
    project = django_project(tmp_path / "site", {"0004_unique_lesson_titles": UNIQUE_LESSON_TITLES})
    env = {"SCHOOL_DATABASE_URL": pg_url}
    bare(project, manage("migrate", "school", "0003"), env)
    execute(pg_url, "INSERT INTO school_course (title, code) VALUES ('Algebra', 'ALG')",
            "INSERT INTO school_lesson (course_id, title) SELECT id, 'Intro' FROM school_course",
            "INSERT INTO school_lesson (course_id, title) SELECT id, 'Intro' FROM school_course WHERE code = 'ALG'")

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 1
    assert recorded(pg_url)[-1] == "0003_lesson"
    assert rows(pg_url, "SELECT count(*) FROM school_lesson") == [(3,)]
    assert report["status"] == "refused"
    assert [f["kind"] for f in report["failures"]] == ["duplicate_data"]
    assert report["failures"][0]["revision"] == "school.0004_unique_lesson_titles"
    assert report["actions"] == []


COURSE_SUMMARY = """
from django.db import migrations, models


def summarise(apps, schema_editor):
    apps.get_model("school", "Course").objects.update(summary="see the syllabus")


class Migration(migrations.Migration):
    dependencies = [("school", "0003_lesson")]

    operations = [
        migrations.AddField(model_name="course", name="summary", field=models.TextField(null=True)),
        migrations.RunPython(summarise, migrations.RunPython.noop),
    ]
"""


def test_another_apps_objects_are_no_proof_that_a_migration_ran(tmp_path, pg_url):
    """school.0004's column was added by hand; wiki's table exists with its history lost. wiki comes
    next in Django's plan but does not build on school.0004, so it says nothing about whether
    0004's RunPython ran: the guard must not record 0004 as applied (its data step would be lost)."""
    project = django_project(tmp_path / "site", {"0004_course_summary": COURSE_SUMMARY})
    env = {"SCHOOL_DATABASE_URL": pg_url}
    bare(project, manage("migrate"), {**env})
    execute(pg_url, "DELETE FROM django_migrations WHERE app = 'school' AND name = '0004_course_summary'",
            "ALTER TABLE school_course DROP COLUMN summary",
            "INSERT INTO school_course (title, code) VALUES ('Algebra', 'ALG')",
            "ALTER TABLE school_course ADD COLUMN summary text",
            "DELETE FROM django_migrations WHERE app = 'wiki'")

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 1
    assert recorded(pg_url)[-1] == "0003_lesson"
    assert rows(pg_url, "SELECT count(*) FROM school_course WHERE summary IS NOT NULL") == [(0,)]
    assert report["status"] == "refused"
    assert report["actions"] == []
    assert "data steps" in report["refusals"][0]["reason"]
