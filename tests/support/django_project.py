"""A real Django project written to a temporary folder: a custom user model and a `school` app.

The migrations are written the way `makemigrations` writes them, plus the hand-written steps
real projects carry (a RunPython data step next to an AddField). The database comes from
SCHOOL_DATABASE_URL, read by settings.py itself: the guard never sees that name, so it must ask
Django for the URL (or be given DATABASE_URL / --database-url).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

MANAGE_PY = '''\
#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_cfg.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
'''

SETTINGS_PY = '''\
import os
from urllib.parse import unquote, urlsplit

SECRET_KEY = "test-only"
DEBUG = False
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "accounts", "school", "wiki"]
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_url = urlsplit(os.environ["SCHOOL_DATABASE_URL"])
_ENGINES = {"postgresql": "django.db.backends.postgresql", "mysql+pymysql": "django.db.backends.mysql",
            "sqlite": "django.db.backends.sqlite3"}
if _url.scheme == "sqlite":
    DATABASES = {"default": {"ENGINE": _ENGINES["sqlite"], "NAME": _url.path[1:]}}
else:
    DATABASES = {"default": {
        "ENGINE": _ENGINES[_url.scheme], "NAME": _url.path.lstrip("/"), "USER": unquote(_url.username or ""),
        "PASSWORD": unquote(_url.password or ""), "HOST": _url.hostname or "", "PORT": str(_url.port or ""),
    }}
if _url.scheme == "mysql+pymysql":
    import pymysql

    pymysql.install_as_MySQLdb()
'''

ACCOUNTS_MODELS = '''\
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models


class User(AbstractBaseUser):
    email = models.EmailField(unique=True)
    USERNAME_FIELD = "email"
    objects = BaseUserManager()
'''

ACCOUNTS_0001 = '''\
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="User",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("password", models.CharField(max_length=128, verbose_name="password")),
                ("last_login", models.DateTimeField(blank=True, null=True, verbose_name="last login")),
                ("email", models.EmailField(max_length=254, unique=True)),
            ],
            options={"abstract": False},
        ),
    ]
'''

SCHOOL_MODELS = '''\
from django.conf import settings
from django.db import models


class Course(models.Model):
    title = models.CharField(max_length=100)
    code = models.CharField(max_length=20, default="")


class Enroll(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    course = models.ForeignKey(Course, on_delete=models.CASCADE)

    class Meta:
        unique_together = [("user", "course")]


class Lesson(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE)
    title = models.CharField(max_length=100)
'''

SCHOOL_0001 = '''\
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
            options={"unique_together": {("user", "course")}},
        ),
    ]
'''

# AddField, then a data step that fills the new column and adds a row: a row that shows up twice
# if the step ever runs twice.
SCHOOL_0002 = '''\
import os
import time

from django.db import migrations, models


def add_codes(apps, schema_editor):
    time.sleep(float(os.environ.get("SCHOOL_MIGRATION_SLEEP") or 0))
    Course = apps.get_model("school", "Course")
    for course in Course.objects.filter(code=""):
        course.code = f"C-{course.pk}"
        course.save(update_fields=["code"])
    Course.objects.create(title="Orientation", code="ORIENT")


class Migration(migrations.Migration):
    dependencies = [("school", "0001_initial")]

    operations = [
        migrations.AddField(model_name="course", name="code", field=models.CharField(default="", max_length=20)),
        migrations.RunPython(add_codes, migrations.RunPython.noop),
    ]
'''

SCHOOL_0003 = '''\
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("school", "0002_course_code")]

    operations = [
        migrations.CreateModel(
            name="Lesson",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.CharField(max_length=100)),
                ("course", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="school.course")),
            ],
        ),
    ]
'''

# An app that shares nothing with school, and comes after it in Django's plan.
WIKI_MODELS = '''\
from django.db import models


class Page(models.Model):
    title = models.CharField(max_length=100)
'''

WIKI_0001 = '''\
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Page",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.CharField(max_length=100)),
            ],
        ),
    ]
'''

SCHOOL_MIGRATIONS = {"0001_initial": SCHOOL_0001, "0002_course_code": SCHOOL_0002, "0003_lesson": SCHOOL_0003}


def django_project(root: Path, extra_migrations: dict[str, str] | None = None) -> Path:
    """manage.py, site_cfg/settings.py, accounts (custom user model), school (Course, Enroll, Lesson) plus
    `extra_migrations` ({"0004_name": source}) after its own, and wiki (Page), unrelated to school."""
    files = {
        "manage.py": MANAGE_PY,
        "site_cfg/__init__.py": "",
        "site_cfg/settings.py": SETTINGS_PY,
        "accounts/__init__.py": "",
        "accounts/models.py": ACCOUNTS_MODELS,
        "accounts/migrations/__init__.py": "",
        "accounts/migrations/0001_initial.py": ACCOUNTS_0001,
        "wiki/__init__.py": "",
        "wiki/models.py": WIKI_MODELS,
        "wiki/migrations/__init__.py": "",
        "wiki/migrations/0001_initial.py": WIKI_0001,
        "school/__init__.py": "",
        "school/models.py": SCHOOL_MODELS,
        "school/migrations/__init__.py": "",
        **{f"school/migrations/{name}.py": body for name, body in {**SCHOOL_MIGRATIONS,
                                                                  **(extra_migrations or {})}.items()},
    }
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body))
    (root / "manage.py").chmod(0o755)
    return root
