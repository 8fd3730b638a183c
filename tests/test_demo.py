"""`migration-guard demo`, run the way a person runs it, on the test PostgreSQL server (DATABASE_URL)."""

from __future__ import annotations

from migration_guard.demo.console import TracebackFolder, first_error_line
from tests.support.servers import admin_connection


def _demo_databases(admin_url: str) -> set[str]:
    with admin_connection(admin_url) as conn:
        return {row[0] for row in conn.exec_driver_sql(
            "SELECT datname FROM pg_database WHERE left(datname, 8) = 'mg_demo_'")}


def test_demo_tells_every_story_and_leaves_nothing_behind(pg_server_url, run_cli):
    before = _demo_databases(pg_server_url)

    proc = run_cli(["demo"], env={"DATABASE_URL": pg_server_url}, timeout=180)

    out = proc.stdout
    assert proc.returncode == 0, f"{out}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    recap = out[out.index("== Recap"):]
    assert "[ok] the hotfix: exit 0, recovered with skip_satisfied" in recap
    assert "4 of 4 accounts have a display_name" in recap
    assert "[ok] the enum another migration created: exit 0, recovered with complete_enum" in recap
    assert "labels now pending, paid, shipped, in the migration's order" in recap
    assert "4 of 4 guarded runs exited 0, 1 ran the migration" in recap and "migrated once" in recap
    assert "Every story ended as expected" in recap
    # Each story printed its run's Markdown report, and the bare contrast printed exit codes.
    assert out.count("## [RECOVERED] Migrated after recovery") == 2
    assert "ALTER TYPE order_status ADD VALUE" in out
    assert "bare-4: exit " in out
    assert "mg_demo_" in out  # it says where it ran
    assert _demo_databases(pg_server_url) <= before, "the demo left a database behind"


def test_demo_refuses_a_database_that_is_not_postgresql_in_one_line(run_cli, tmp_path):
    proc = run_cli(["demo"], env={"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"})

    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "migration-guard: error: the demo needs PostgreSQL, and DATABASE_URL is sqlite "
        "(unset DATABASE_URL to use a throwaway PostgreSQL)"]
    assert not (tmp_path / "app.db").exists()


ALEMBIC_FAILURE = """\
INFO  [alembic.runtime.migration] Running upgrade  -> 0001, create accounts
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/sqlalchemy/engine/base.py", line 1977, in _exec_single_context
    self.dialect.do_execute(
psycopg.errors.UniqueViolation: duplicate key value violates unique constraint "pg_type_typname_nsp_index"
DETAIL:  Key (typname, typnamespace)=(alembic_version, 2200) already exists.

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/venv/bin/alembic", line 8, in <module>
    sys.exit(main())
sqlalchemy.exc.IntegrityError: (psycopg.errors.UniqueViolation) duplicate key value violates unique constraint
"""


def test_first_error_line_is_the_driver_exception():
    assert first_error_line(ALEMBIC_FAILURE) == (
        'psycopg.errors.UniqueViolation: duplicate key value violates unique constraint "pg_type_typname_nsp_index"')
    assert first_error_line("FAILED: Multiple head revisions are present\n") == (
        "FAILED: Multiple head revisions are present")


def test_traceback_frames_fold_into_one_line_and_the_exceptions_stay():
    folder = TracebackFolder()
    shown = [line for raw in ALEMBIC_FAILURE.splitlines() for line in folder.feed(raw)] + folder.close()

    assert shown[1:4] == ["Traceback (most recent call last):", "  ... 2 lines of traceback frames not shown ...",
                          shown[3]]
    assert shown[3].startswith("psycopg.errors.UniqueViolation")
    assert "The above exception was the direct cause of the following exception:" in shown
    assert shown[-2:] == ["  ... 2 lines of traceback frames not shown ...",
                          "sqlalchemy.exc.IntegrityError: (psycopg.errors.UniqueViolation) duplicate key value "
                          "violates unique constraint"]
    assert not any(line.startswith('  File "') for line in shown)
