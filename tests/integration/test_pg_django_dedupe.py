"""The Enroll(user, course) story on Django: `unique_together` added over duplicate enrolments.

A real Django project (custom user model, `school` app). Its Enroll table was made without the
constraint; users double-submitted the enrol form; migration 0004 adds `unique_together = [("user",
"course")]` with AlterUniqueTogether. Under the guard, `manage.py migrate` refuses and lists the
groups, or with --dedupe keep-oldest quarantines the surplus and migrates; `manage.py migrate school
0003` takes the constraint away again, and `restore` brings every enrolment back.
"""

from __future__ import annotations

import sys

import pytest

from tests.support.dedupe import assert_deduped, constraint_exists, content, counts, has_quarantine, restore
from tests.support.django_project import django_project
from tests.support.guard import bare, execute, guard, rows

ENROLL_0001 = '''\
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [
        migrations.CreateModel(
            name="Course",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.CharField(max_length=100)),
            ],
        ),
        migrations.CreateModel(
            name="Enroll",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("course", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="school.course")),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                           to=settings.AUTH_USER_MODEL)),
            ],
        ),
    ]
'''
ENROLL_UNIQUE = '''\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("school", "0003_lesson")]

    operations = [migrations.AlterUniqueTogether(name="enroll", unique_together={("user", "course")})]
'''


def manage(*args: str) -> list[str]:
    return [sys.executable, "manage.py", *args]


def unique_constraints(url: str) -> list[str]:
    return [r[0] for r in rows(url, "SELECT conname FROM pg_constraint WHERE conrelid = 'school_enroll'::regclass "
                                    "AND contype = 'u'")]


@pytest.fixture
def site(tmp_path, pg_url):
    project = django_project(tmp_path / "site", {"0004_enroll_unique": ENROLL_UNIQUE})
    (project / "school" / "migrations" / "0001_initial.py").write_text(ENROLL_0001)
    env = {"SCHOOL_DATABASE_URL": pg_url}
    bare(project, manage("migrate", "school", "0003"), env)
    execute(pg_url, "INSERT INTO accounts_user (password, email) VALUES ('!', 'ada@x.org'), ('!', 'bob@x.org'), "
                    "('!', 'cy@x.org')",
            "INSERT INTO school_course (title, code) VALUES ('Algebra', 'ALG'), ('Biology', 'BIO')",  # after 1: ORIENT
            "INSERT INTO school_enroll (user_id, course_id) SELECT u, c FROM (VALUES (1, 1), (2, 1), (2, 1), "
            "(1, 2), (2, 1), (3, 2), (3, 2), (3, 3)) AS v(u, c)")
    return project, env


def test_unique_together_over_duplicate_enrolments_refuses_by_default(site, pg_url):
    project, env = site
    before = content(pg_url, "school_enroll")

    proc, report = guard(project, manage("migrate"), env)

    assert proc.returncode == 1
    assert report["framework"] == "django"
    assert content(pg_url, "school_enroll") == before and not has_quarantine(pg_url)
    assert unique_constraints(pg_url) == []
    refusal = report["refusals"][0]
    assert "2 duplicate group(s) (3 surplus row(s)) in school_enroll" in refusal["reason"]
    assert "(user_id, course_id)=(2, 1): 3 rows" in " ".join(refusal["human_steps"])


def test_dedupe_keep_oldest_migrates_and_restore_after_migrating_back(site, pg_url):
    project, env = site
    before = content(pg_url, "school_enroll")
    others = counts(pg_url, but=("school_enroll", "django_migrations"))

    proc, report = guard(project, manage("migrate"), env, "--dedupe", "keep-oldest")

    assert proc.returncode == 0, proc.stderr
    assert report["status"] == "recovered"
    assert len(unique_constraints(pg_url)) == 1
    assert constraint_exists(pg_url, unique_constraints(pg_url)[0])
    action = report["actions"][0]
    assert action["revision"] == "school.0004_enroll_unique"
    assert_deduped(pg_url, "school_enroll", before, action, {3, 5, 7})  # the smallest id of each group stays
    after = counts(pg_url)
    assert {t: after[t] for t in others} == others  # migrate made other apps' tables; no table lost a row

    assert restore(pg_url, action["id"]).returncode == 1  # the constraint forbids them now
    bare(project, manage("migrate", "school", "0003"), env)  # Django itself takes unique_together away
    done = restore(pg_url, action["id"])
    assert done.returncode == 0, done.stderr
    assert content(pg_url, "school_enroll") == before
