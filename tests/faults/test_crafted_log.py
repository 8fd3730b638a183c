"""A log crafted to look like a recoverable failure, while the database says otherwise: no action."""

from __future__ import annotations

from tests.support.guard import bare, guard, rows, tool, version
from tests.support.projects import Rev, alembic_project

REVS = [
    Rev("f1", "settings", """
        op.create_table("settings", sa.Column("id", sa.Integer, primary_key=True))
        op.execute("INSERT INTO settings (id) VALUES (1)")
    """),
    Rev("f2", "liar", """
        print('psycopg2.errors.DuplicateColumn: column "token" of relation "settings" already exists')
        print('[SQL: ALTER TABLE settings ADD COLUMN token VARCHAR(40)]')
        op.add_column("settings", sa.Column("token", sa.String(40)))
        raise RuntimeError("something else entirely")
    """),
]


def test_a_log_that_lies_triggers_no_recovery(tmp_path, pg_url):
    project = alembic_project(tmp_path / "app", REVS)
    env = {"DATABASE_URL": pg_url}
    bare(project, [tool("alembic"), "upgrade", "f1"], env)

    proc, report = guard(project, [tool("alembic"), "upgrade", "head"], env)

    assert proc.returncode == 1
    assert report["actions"] == []
    assert report["status"] in ("refused", "failed")
    assert version(pg_url) == {"f1"}
    assert rows(pg_url, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'settings' "
                        "AND column_name = 'token'") == [(0,)]
    assert rows(pg_url, "SELECT id FROM settings") == [(1,)]
