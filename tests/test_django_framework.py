"""Reading a Django command line, building its URL from settings, and the statements Django emits."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from migration_guard.db.url import parse
from migration_guard.errors import UsageError
from migration_guard.frameworks import detect
from migration_guard.frameworks.django import describe, url_from_settings
from migration_guard.operations import effects_of
from tests.support.guard import tool

CWD = Path("/srv/app")


@pytest.mark.parametrize("argv, launcher, app, name, to_head", [
    (["python", "manage.py", "migrate"], ["python", "manage.py"], None, None, True),
    (["python", "manage.py", "migrate", "school", "0002"], ["python", "manage.py"], "school", "0002", False),
    (["./manage.py", "migrate", "--noinput", "school"], ["./manage.py"], "school", None, False),
    (["django-admin", "migrate", "--settings", "cfg.prod", "-v", "2"], ["django-admin"], None, None, True),
    (["sh", "-c", "python manage.py migrate --no-input && gunicorn app"], ["python", "manage.py"], None, None, True),
    (["python", "-m", "django", "migrate", "--database=replica"], ["python", "-m", "django"], None, None, True),
])
def test_command_line(argv, launcher, app, name, to_head):
    project = detect(argv, CWD)
    assert project.name == "django"
    assert (project.launcher, project.app_label, project.migration_name) == (launcher, app, name)
    assert project.upgrades_to_head is to_head


def test_options_that_apply_nothing_leave_nothing_to_predict():
    for flag in ("--plan", "--check", "--fake", "--prune"):
        project = detect(["python", "manage.py", "migrate", flag], CWD)
        assert not project.upgrades_to_head
        assert project.pending(engine=None) is None  # the command applies nothing the guard could judge


def test_settings_pythonpath_and_database_are_read():
    project = detect(["django-admin", "migrate", "--settings=cfg.prod", "--pythonpath", "/srv/src",
                      "--database", "replica", "shop"], CWD)
    assert (project.settings_module, project.pythonpath, project.database, project.app_label) == (
        "cfg.prod", "/srv/src", "replica", "shop")


def test_the_interpreter_is_the_commands_own(tmp_path):
    (tmp_path / "manage.py").write_text("#!/opt/venv/bin/python3 -u\nprint()\n")
    assert detect(["/opt/py/bin/python3.12", "manage.py", "migrate"], tmp_path)._python({}) == [
        "/opt/py/bin/python3.12"]
    assert detect(["./manage.py", "migrate"], tmp_path)._python({}) == ["/opt/venv/bin/python3", "-u"]
    django_admin = tool("django-admin")
    expected = Path(django_admin).read_text().splitlines()[0][2:].split()
    assert detect([django_admin, "migrate"], tmp_path)._python({"PATH": ""}) == expected
    assert detect(["django-admin", "migrate"], tmp_path)._python({"PATH": ""}) == [sys.executable]


def test_mark_hint_is_a_fake_migrate():
    project = detect(["python", "manage.py", "migrate"], CWD)
    assert project.mark_hint("school.0002_course_code") == "python manage.py migrate school 0002_course_code --fake"


def test_url_from_settings():
    pg = {"vendor": "postgresql", "engine": "django.db.backends.postgresql", "name": "shop", "user": "app",
          "password": "p@ss word", "host": "db.internal", "port": "6432", "options": {"sslmode": "require"}}
    url = parse(url_from_settings(pg, CWD))
    assert (url.username, url.password, url.host, url.port, url.database, dict(url.query)) == (
        "app", "p@ss word", "db.internal", 6432, "shop", {"sslmode": "require"})
    socket = {**pg, "host": "/var/run/postgresql", "port": "", "password": "", "options": {}}
    assert url_from_settings(socket, CWD) == "postgresql://app@/shop?host=%2Fvar%2Frun%2Fpostgresql"
    mysql = {"vendor": "mysql", "engine": "django.db.backends.mysql", "name": "shop", "user": "root",
             "password": "", "host": "127.0.0.1", "port": "3306", "options": {}}
    assert url_from_settings(mysql, CWD) == "mysql+pymysql://root@127.0.0.1:3306/shop"
    sqlite = {"vendor": "sqlite", "engine": "django.db.backends.sqlite3", "name": "db.sqlite3"}
    assert url_from_settings(sqlite, CWD) == "sqlite:////srv/app/db.sqlite3"
    with pytest.raises(UsageError, match="oracle"):
        url_from_settings({"vendor": "oracle", "engine": "django.db.backends.oracle"}, CWD)


def test_describe():
    assert describe("0002_course_code") == "course code"
    assert describe("0001_initial") == "initial"
    assert describe("auto_20240101") == "auto 20240101"


def test_a_data_step_line_is_a_data_effect_on_every_dialect():
    for dialect in ("postgresql", "mysql", "sqlite"):
        (effect,) = effects_of("-- data step: Raw Python operation add_codes", dialect)
        assert effect.op == "data" and not effect.checkable
    assert effects_of("-- a comment\nALTER TABLE t ADD COLUMN c int", "postgresql")[0].op == "add_column"


def test_drop_default_is_its_own_effect():
    (effect,) = effects_of('ALTER TABLE "school_course" ALTER COLUMN "code" DROP DEFAULT;', "postgresql")
    assert (effect.op, effect.table, effect.name, effect.checkable) == ("drop_default", "school_course", "code", True)
    (other,) = effects_of("ALTER TABLE t ALTER COLUMN c SET DEFAULT 1", "postgresql")
    assert other.op == "other"
