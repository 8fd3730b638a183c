"""Sixteen replicas deploy at once: all exit 0, the migrations run once, the waiting ones go fast."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.cli import clean_env
from tests.support.guard import rows, tool, version
from tests.support.projects import Rev, alembic_project

REPLICAS = 16
REVS = [
    Rev("l1", "tables", """
        import time
        op.create_table("items", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(50)))
        op.create_table("deploy_log", sa.Column("id", sa.Integer, primary_key=True), sa.Column("note", sa.String(50)))
        time.sleep(1)  # a migration with some real work in it keeps the replicas overlapping
        op.execute("INSERT INTO deploy_log (note) VALUES ('l1 ran')")
    """),
    Rev("l2", "index", """
        op.create_index("ix_items_name", "items", ["name"])
        op.execute("INSERT INTO deploy_log (note) VALUES ('l2 ran')")
    """),
]


@pytest.fixture(params=["pg_url", "mysql_url", "sqlite_url"])
def any_url(request):
    return request.getfixturevalue(request.param)


def test_sixteen_replicas_migrate_once(tmp_path, any_url):
    project = alembic_project(tmp_path / "app", REVS)
    began = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-m", "migration_guard", "run", "--", tool("alembic"), "upgrade",
                               "head"], cwd=project, env=clean_env({"DATABASE_URL": any_url}),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(REPLICAS)]

    def finish(proc):
        out, _ = proc.communicate(timeout=600)
        return time.monotonic() - began, proc.returncode, out

    with ThreadPoolExecutor(REPLICAS) as pool:  # each exit time taken when that replica exits
        results = list(pool.map(finish, procs))
    ends = [end for end, _, _ in results]
    outputs = [(code, out) for _, code, out in results]

    assert [code for code, _ in outputs] == [0] * REPLICAS, "\n".join(out for code, out in outputs if code)
    assert version(any_url) == {"l2"}
    assert sorted(rows(any_url, "SELECT note FROM deploy_log")) == [("l1 ran",), ("l2 ran",)]
    migrated = [out for _, out in outputs if "nothing to do" not in out]
    assert len(migrated) == 1
    spread = max(ends) - min(ends)
    print(f"{REPLICAS} replicas: exits from {min(ends):.1f}s to {max(ends):.1f}s after start (spread {spread:.1f}s)")
    assert spread < 60
