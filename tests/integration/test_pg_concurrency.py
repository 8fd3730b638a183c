"""Replicas at once: six guarded runs migrate once; six bare runs collide; an unguarded racer."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from tests.support.cli import clean_env
from tests.support.guard import execute, guard, rows, tool, version
from tests.support.projects import Rev, alembic_project

REPLICAS = 6
SLOW = [
    Rev("s1", "accounts", """
        op.create_table("accounts", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text))
        op.create_table("deploy_log", sa.Column("id", sa.Integer, primary_key=True), sa.Column("note", sa.Text))
        op.execute("SELECT pg_sleep(2)")  # keeps the replicas overlapping on a busy machine
        op.execute("INSERT INTO deploy_log (note) VALUES ('s1 ran')")
    """),
    Rev("s2", "status enum", """
        op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("state", sa.Enum("new", "paid", name="order_state")))
        op.execute("INSERT INTO deploy_log (note) VALUES ('s2 ran')")
    """),
]


def _start_all(project, argv_of, env):
    procs = [subprocess.Popen(argv_of(i), cwd=project, env=clean_env(env), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for i in range(REPLICAS)]
    return [(p.wait(timeout=300), p.stdout.read()) for p in procs]


def test_six_guarded_replicas_all_succeed_and_migrate_once(tmp_path, pg_url):
    project = alembic_project(tmp_path / "app", SLOW)
    results = _start_all(project, lambda i: [sys.executable, "-m", "migration_guard", "run", "--report-json",
                                             str(project / f"r{i}.json"), "--", tool("alembic"), "upgrade", "head"],
                         {"DATABASE_URL": pg_url})

    assert [code for code, _ in results] == [0] * REPLICAS, "\n".join(out for _, out in results)
    assert version(pg_url) == {"s2"}
    assert rows(pg_url, "SELECT note, count(*) FROM deploy_log GROUP BY note ORDER BY note") == [
        ("s1 ran", 1), ("s2 ran", 1)]
    waited = sum("nothing to do" in out for _, out in results)
    assert waited == REPLICAS - 1


def test_six_bare_replicas_collide(tmp_path, pg_url):
    """The baseline the guard fixes: the same six commands without it do not all succeed."""
    project = alembic_project(tmp_path / "app", SLOW)
    results = _start_all(project, lambda i: [tool("alembic"), "upgrade", "head"], {"DATABASE_URL": pg_url})

    failures = [out for code, out in results if code != 0]
    assert failures, "six concurrent bare alembic runs all succeeded"
    assert any("already exists" in out or "pg_type_typname_nsp_index" in out or "duplicate key" in out
               for out in failures)


def test_unguarded_racer_creating_the_same_table(tmp_path, pg_url):
    """A migrator without the guard holds CREATE TABLE open while the guarded one runs: the guard
    meets the catalog conflict, waits, reads again, and finds the table made exactly as wanted."""
    revs = [Rev("t1", "teams", """
        op.create_table("teams", sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.String(80)))
    """)]
    project = alembic_project(tmp_path / "app", revs)
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(pg_url, poolclass=NullPool)
    racer = engine.connect()
    racer.begin()
    racer.execute(text("CREATE TABLE teams (id SERIAL PRIMARY KEY, title VARCHAR(80))"))

    def commit_when_blocked():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            blocked = rows(pg_url, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                   "AND datname = current_database()")[0][0]
            if blocked:
                break
            time.sleep(0.1)
        racer.commit()
        racer.close()

    thread = threading.Thread(target=commit_when_blocked)
    thread.start()
    try:
        proc, report = guard(project, [tool("alembic"), "upgrade", "head"], {"DATABASE_URL": pg_url})
    finally:
        thread.join()
        engine.dispose()

    assert proc.returncode == 0, proc.stderr
    assert version(pg_url) == {"t1"}
    # The racer commits only once the guarded CREATE TABLE waits on it, so the order is fixed.
    assert [f["kind"] for f in report["failures"]] == ["type_catalog_conflict", "duplicate_relation"]
    assert report["failures"][0]["constraint"] == "pg_type_typname_nsp_index"
    assert [a["kind"] for a in report["actions"]] == ["wait_and_retry", "skip_satisfied"]
    assert report["status"] == "recovered"


def test_lock_timeout_exits_3_with_a_clear_line(tmp_path, pg_url):
    project = alembic_project(tmp_path / "app", SLOW)
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from migration_guard.db.lock import PG_LOCK_KEY

    engine = create_engine(pg_url, poolclass=NullPool)
    with engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PG_LOCK_KEY})
        proc, _ = guard(project, [tool("alembic"), "upgrade", "head"], {"DATABASE_URL": pg_url},
                        "--lock-timeout", "1")
    engine.dispose()

    assert proc.returncode == 3
    assert "could not take the migration lock within 1s" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not rows(pg_url, "SELECT 1 FROM pg_tables WHERE tablename = 'accounts'")
    execute(pg_url, "SELECT 1")


def test_replicas_that_waited_side_by_side_and_find_work_migrate_once(tmp_path, pg_url):
    """Waiting replicas share the lock while they wait, so that they can all see "nothing to do" at
    once. Here the one that held it let go without migrating: each waiter finds work, asks for the
    lock for itself, and only the first to get it migrates; the others then find the database at head."""
    project = alembic_project(tmp_path / "app", SLOW)
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from migration_guard.db.lock import PG_LOCK_KEY

    engine = create_engine(pg_url, poolclass=NullPool)
    with engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PG_LOCK_KEY})
        argv = [sys.executable, "-m", "migration_guard", "run", "--no-github", "--", tool("alembic"), "upgrade",
                "head"]
        procs = [subprocess.Popen(argv, cwd=project, env=clean_env({"DATABASE_URL": pg_url}), text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(3)]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            waiting = rows(pg_url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                   "AND NOT granted AND mode = 'ShareLock'")[0][0]
            if waiting == 3:
                break
            time.sleep(0.1)
        assert waiting == 3, "the replicas did not all wait for a shared hold"
        holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
    engine.dispose()
    results = [(p.wait(timeout=300), p.stdout.read()) for p in procs]

    assert [code for code, _ in results] == [0, 0, 0], "\n".join(out for _, out in results)
    assert version(pg_url) == {"s2"}
    assert rows(pg_url, "SELECT note, count(*) FROM deploy_log GROUP BY note ORDER BY note") == [
        ("s1 ran", 1), ("s2 ran", 1)]
    assert sum("nothing to do" in out for _, out in results) == 2
