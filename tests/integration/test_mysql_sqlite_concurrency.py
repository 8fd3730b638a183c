"""Six replicas at once on MariaDB (GET_LOCK) and on a SQLite file (a lock file beside it): all exit 0,
one migrates, the data steps run once."""

from __future__ import annotations

import subprocess
import sys

from tests.support.cli import clean_env
from tests.support.guard import rows, tool, version
from tests.support.projects import Rev, alembic_project

REPLICAS = 6


def _revisions(pause: str) -> list[Rev]:
    return [
        Rev("s1", "accounts", f"""
            op.create_table("accounts", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text))
            op.create_table("deploy_log", sa.Column("id", sa.Integer, primary_key=True), sa.Column("note", sa.Text))
            {pause}
            op.execute("INSERT INTO deploy_log (note) VALUES ('s1 ran')")
        """),
        Rev("s2", "orders", """
            op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True), sa.Column("total", sa.Integer))
            op.create_index("ix_orders_total", "orders", ["total"])
            op.execute("INSERT INTO deploy_log (note) VALUES ('s2 ran')")
        """),
    ]


def _start_all(project, env):
    procs = [subprocess.Popen([sys.executable, "-m", "migration_guard", "run", "--report-json",
                               str(project / f"r{i}.json"), "--", tool("alembic"), "upgrade", "head"],
                              cwd=project, env=clean_env(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for i in range(REPLICAS)]
    return [(p.wait(timeout=300), p.stdout.read()) for p in procs]


def _assert_migrated_once(url, results):
    assert [code for code, _ in results] == [0] * REPLICAS, "\n".join(out for _, out in results)
    assert version(url) == {"s2"}
    assert rows(url, "SELECT note, count(*) FROM deploy_log GROUP BY note ORDER BY note") == [
        ("s1 ran", 1), ("s2 ran", 1)]
    assert sum("nothing to do" in out for _, out in results) == REPLICAS - 1


def test_six_guarded_replicas_on_mariadb_migrate_once(tmp_path, mysql_url):
    project = alembic_project(tmp_path / "app", _revisions('op.execute("SELECT SLEEP(2)")'))

    _assert_migrated_once(mysql_url, _start_all(project, {"DATABASE_URL": mysql_url}))


def test_six_guarded_replicas_on_a_sqlite_file_migrate_once(tmp_path, sqlite_url):
    project = alembic_project(tmp_path / "app", _revisions("__import__('time').sleep(2)"))

    _assert_migrated_once(sqlite_url, _start_all(project, {"DATABASE_URL": sqlite_url}))


def test_six_bare_replicas_on_mariadb_collide(tmp_path, mysql_url):
    """The baseline the guard fixes: the same six commands without it do not all succeed."""
    project = alembic_project(tmp_path / "app", _revisions('op.execute("SELECT SLEEP(2)")'))
    procs = [subprocess.Popen([tool("alembic"), "upgrade", "head"], cwd=project,
                              env=clean_env({"DATABASE_URL": mysql_url}), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for _ in range(REPLICAS)]
    results = [(p.wait(timeout=300), p.stdout.read()) for p in procs]

    failures = [out for code, out in results if code != 0]
    assert failures, "six concurrent bare alembic runs all succeeded"
    assert any("already exists" in out or "Duplicate" in out for out in failures)
