"""kill -9 of the guard in the middle of a dedupe: the table is as before, or fully deduped with its quarantine.

The guard is killed at moments read from PostgreSQL itself (pg_stat_activity shows what its
connection is doing): while it waits for the table lock, while it computes the surplus rows, while it
copies and deletes them, and just after the commit. Each time the table holds either every row it
had and nothing is quarantined, or exactly the surplus rows are gone and each is in the quarantine;
and a guarded run afterwards finishes the deploy with nothing lost.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.support.cli import clean_env
from tests.support.dedupe import QUARANTINE, content, counts
from tests.support.guard import bare, execute, guard, rows, tool
from tests.support.projects import Rev, alembic_project

UNIQ = "school_enroll_user_id_course_id_uniq"
ROWS, GROUPS = 300_000, 20_000  # groups of four: 60,000 surplus rows, enough to be caught mid-statement
REVS = [
    Rev("k1", "school", """
        op.create_table("school_enroll", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("user_id", sa.Integer, nullable=False),
                        sa.Column("course_id", sa.Integer, nullable=False),
                        sa.Column("note", sa.Text))
        op.create_table("school_grade", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("enroll_id", sa.Integer, sa.ForeignKey("school_enroll.id", ondelete="CASCADE"),
                                  index=True))
    """),
    Rev("k2", "enroll unique", f"""
        op.create_unique_constraint("{UNIQ}", "school_enroll", ["user_id", "course_id"])
    """),
]
# Rows 1..4*GROUPS form GROUPS groups of four (ids g, g+GROUPS, ...); the rest are unique. Grades point
# only at kept rows, so no repoint is needed, but the guard still locks school_grade.
FILL = [
    "INSERT INTO school_enroll (id, user_id, course_id, note) SELECT i, k / 10, k % 10, md5(i::text) FROM "
    f"(SELECT i, CASE WHEN i <= {4 * GROUPS} THEN (i - 1) % {GROUPS} ELSE i END AS k "
    f"FROM generate_series(1, {ROWS}) i) s",
    f"INSERT INTO school_grade (enroll_id) SELECT i FROM generate_series(1, {GROUPS}) i",
    "ANALYZE school_enroll",
]
SURPLUS = set(range(GROUPS + 1, 4 * GROUPS + 1))


class Watch:
    """An autocommit connection that polls what the guard's own sessions are doing."""

    def __init__(self, url: str):
        self.engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self.conn = self.engine.connect()

    def guard_running(self, prefix: str, waiting: bool = False) -> bool:
        return bool(self.conn.execute(text(
            "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = "
            "'migration-guard' AND state = 'active' AND query LIKE :q AND (NOT :w OR wait_event_type = 'Lock')"),
            {"q": prefix + "%", "w": waiting}).first())

    def committed(self) -> bool:
        return self.conn.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": QUARANTINE}).scalar()

    def others(self) -> int:
        return self.conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                      "AND pid <> pg_backend_pid()")).scalar()

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


def until(condition, timeout: float = 90.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


@pytest.mark.parametrize("moment", ["lock", "surplus", "copy", "committed"])
def test_kill_9_leaves_the_table_as_before_or_fully_deduped(moment, tmp_path, pg_url):
    project = alembic_project(tmp_path / "school", REVS)
    env = {"DATABASE_URL": pg_url}
    bare(project, [tool("alembic"), "upgrade", "k1"], env)
    execute(pg_url, *FILL)
    before = content(pg_url, "school_enroll")
    others = counts(pg_url, but=("school_enroll",))
    watch = Watch(pg_url)
    blocker = None
    if moment == "lock":
        # Another session writing to a referencing table: the guard must wait for it before it moves rows.
        blocker = create_engine(pg_url, poolclass=NullPool).connect()
        blocker.begin()
        blocker.execute(text("LOCK TABLE school_grade IN ROW EXCLUSIVE MODE"))
    log = open(tmp_path / "guard.log", "w")  # noqa: SIM115 - closed below, after the kill
    proc = subprocess.Popen([sys.executable, "-m", "migration_guard", "run", "--dedupe", "keep-oldest", "--",
                             tool("alembic"), "upgrade", "head"], cwd=project, env=clean_env(env),
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        condition = {
            "lock": lambda: watch.guard_running("LOCK TABLE", waiting=True),
            "surplus": lambda: watch.guard_running("CREATE TEMP TABLE mg_dedupe_surplus"),
            "copy": lambda: watch.guard_running("WITH gone AS (DELETE"),
            "committed": watch.committed,
        }[moment]
        until(lambda: condition() or proc.poll() is not None, what=moment)
        assert proc.poll() is None, (tmp_path / "guard.log").read_text()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
        if blocker is not None:
            blocker.close()
    # The killed guard's sessions end (the server rolls back what was not committed); the orphaned
    # migration child, if it had started, finishes or dies on its own.
    until(lambda: watch.others() == 0, what="the killed guard's sessions to end")
    after = content(pg_url, "school_enroll")
    quarantined = rows(pg_url, f"SELECT row_data->>'id' FROM {QUARANTINE}") if watch.committed() else []
    watch.close()

    if moment == "committed":
        assert [r[0] for r in after] == sorted(set(range(1, ROWS + 1)) - SURPLUS)
        assert {int(r[0]) for r in quarantined} == SURPLUS
    else:  # killed before the commit: nothing happened
        assert after == before
        assert quarantined == []
    assert counts(pg_url, but=("school_enroll",)) == others

    # A deploy after the kill finishes the job, and every row is still somewhere.
    proc, _ = guard(project, [tool("alembic"), "upgrade", "head"], env, "--dedupe", "keep-oldest")
    assert proc.returncode == 0, proc.stderr
    kept = {r[0] for r in content(pg_url, "school_enroll")}
    moved = {int(r[0]) for r in rows(pg_url, f"SELECT row_data->>'id' FROM {QUARANTINE} WHERE entry = 'row'")}
    assert kept | moved == set(range(1, ROWS + 1)) and not kept & moved
    assert rows(pg_url, "SELECT 1 FROM pg_constraint WHERE conname = :n", n=UNIQ)
