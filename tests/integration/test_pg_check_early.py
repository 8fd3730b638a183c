"""`check` starts the tool's offline print before it reads the revision files (preflight/early.py).

The print starts from the heads a plain query of the history table gives; its output is used only
when the heads read under the lock are the same, so a guess that is wrong (or out of date) costs
a second print, never a wrong prediction.
"""

from __future__ import annotations

import pytest

from migration_guard.db.connect import engine_for
from migration_guard.db.url import parse
from migration_guard.diagnose.failure import Failure
from migration_guard.frameworks import detect
from migration_guard.preflight import early
from migration_guard.preflight.analysis import statements_env
from migration_guard.recovery.context import Context
from migration_guard.settings import Settings
from tests.support.cli import clean_env
from tests.support.guard import bare, tool
from tests.support.projects import ENV_PY, INI, Rev, alembic_project, write_revisions

pytestmark = pytest.mark.postgres

REVS = [Rev("a1", "widgets", "op.create_table('widgets', sa.Column('id', sa.Integer, primary_key=True))"),
        Rev("b2", "name", "op.add_column('widgets', sa.Column('name', sa.Text))"),
        Rev("c3", "index", "op.create_index('ix_widgets_name', 'widgets', ['name'])")]


def _setup(project, url, argv):
    env = clean_env({"DATABASE_URL": url})
    framework = detect(argv, project, None)
    framework.env = env
    engine = engine_for(parse(url))
    return env, framework, engine


def _give(framework, engine, env, started):
    framework.prepare()
    started.prepared()
    pending = framework.pending(engine)
    ctx = Context(Failure("unknown"), engine, "postgresql", framework, pending, env, Settings(dry_run=True))
    started.give(ctx, 0.0)
    return ctx


def test_early_print_starts_from_the_history_table(tmp_path, pg_url):
    project = alembic_project(tmp_path / "app", REVS)
    argv = [tool("alembic"), "upgrade", "head"]
    bare(project, [tool("alembic"), "upgrade", "a1"], {"DATABASE_URL": pg_url})
    env, framework, engine = _setup(project, pg_url, argv)
    try:
        heads, print_argv = framework.early_print(engine)
        assert heads == ("a1",)
        assert print_argv == [tool("alembic"), "upgrade", "a1:head", "--sql"]
        ctx = _give(framework, engine, env, early.start(framework, engine, env))
        assert [r.id for r in ctx.pending] == ["b2", "c3"]
        # What the print under the lock would have given, statement for statement.
        expected = framework.revision_sql(statements_env(env, "postgresql"), ctx.pending, engine)
        assert ctx._sql == expected
        assert "ALTER TABLE widgets ADD COLUMN name TEXT" in expected["b2"]
    finally:
        engine.dispose()


def test_early_print_is_dropped_when_the_heads_moved(tmp_path, pg_url):
    project = alembic_project(tmp_path / "app", REVS)
    argv = [tool("alembic"), "upgrade", "head"]
    env, framework, engine = _setup(project, pg_url, argv)
    try:
        started = early.start(framework, engine, env)
        for thread in started._threads:
            thread.join()
        assert started.heads == ()
        bare(project, [tool("alembic"), "upgrade", "a1"], {"DATABASE_URL": pg_url})  # another migrator was quicker
        ctx = _give(framework, engine, env, started)
        assert [r.id for r in ctx.pending] == ["b2", "c3"]
        assert ctx._sql is None  # printed again for the pending revisions, under the lock
    finally:
        engine.dispose()


def test_early_print_finds_a_custom_history_table_and_script_location(tmp_path, pg_url):
    project = tmp_path / "app"
    (project / "conf").mkdir(parents=True)
    (project / "conf" / "db.ini").write_text(INI.format(location="../db/migrations", url=""))
    migrations = project / "db" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "env.py").write_text(ENV_PY.replace("target_metadata=target_metadata)",
                                                      "target_metadata=target_metadata, version_table='my_versions')"))
    (migrations / "script.py.mako").write_text("")
    write_revisions(migrations / "versions", REVS)
    config = ["-c", "conf/db.ini"]
    bare(project, [tool("alembic"), *config, "upgrade", "b2"], {"DATABASE_URL": pg_url})
    env, framework, engine = _setup(project, pg_url, [tool("alembic"), *config, "upgrade", "head"])
    try:
        assert framework.plain_files()[1].resolve() == migrations.resolve()
        heads, print_argv = framework.early_print(engine)
        assert heads == ("b2",) and print_argv[-3:] == ["upgrade", "b2:head", "--sql"]
        ctx = _give(framework, engine, env, early.start(framework, engine, env))
        assert ctx._sql is not None and list(ctx._sql) == ["c3"]
        assert ctx._sql == framework.revision_sql(statements_env(env, "postgresql"), ctx.pending, engine)
    finally:
        engine.dispose()


def test_no_early_print_where_it_cannot_be_told_cheaply(tmp_path, pg_url):
    project = alembic_project(tmp_path / "app", REVS)
    for argv in ([tool("alembic"), "upgrade", "b2"], [tool("alembic"), "upgrade", "+1"]):
        _, framework, engine = _setup(project, pg_url, argv)
        try:
            assert framework.early_print(engine) is None
        finally:
            engine.dispose()
    (project / "alembic.ini").write_text(INI.format(location="", url="").replace(
        "script_location = %(here)s/", "script_location = some_package:migrations"))
    _, framework, engine = _setup(project, pg_url, [tool("alembic"), "upgrade", "head"])
    try:
        assert framework.early_print(engine) is None
    finally:
        engine.dispose()


def test_quick_start_before_the_guard_imports_sqlalchemy(tmp_path, pg_url):
    """The CLI starts a check's print over a plain psycopg2 connection (early.quick); the runner adopts it."""
    project = alembic_project(tmp_path / "app", REVS)
    bare(project, [tool("alembic"), "upgrade", "a1"], {"DATABASE_URL": pg_url})
    argv = [tool("alembic"), "upgrade", "head"]
    env = clean_env({"DATABASE_URL": pg_url})
    started = early.quick(argv, Settings(dry_run=True), env, project)
    assert started is not None and started.url == pg_url and started.command == argv
    assert started.printing() and started.heads == ("a1",)
    _, framework, engine = _setup(project, pg_url, argv)
    try:
        started.adopt(framework, engine)
        ctx = _give(framework, engine, env, started)
        assert ctx._sql == framework.revision_sql(statements_env(env, "postgresql"), ctx.pending, engine)
        assert ctx._trees  # parsed while the tool printed
    finally:
        engine.dispose()


def test_quick_start_only_where_it_is_cheap(tmp_path, pg_url):
    project = alembic_project(tmp_path / "app", REVS)
    head = [tool("alembic"), "upgrade", "head"]
    for url, argv in (("sqlite:///x.db", head), ("mysql+pymysql://root@127.0.0.1/x", head),
                      (pg_url, [tool("alembic"), "upgrade", "b2"]), ("", head)):
        assert early.quick(argv, Settings(dry_run=True), {"DATABASE_URL": url}, project) is None, (url, argv)
    # A URL libpq does not take: no print is started, and the runner starts its own.
    odd = early.quick(head, Settings(dry_run=True), {"DATABASE_URL": pg_url + "?sqlalchemy_only=1"}, project)
    assert odd is not None and not odd.printing()
    odd.close()
