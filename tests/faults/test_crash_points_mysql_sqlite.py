"""SIGKILL the guard at every step boundary of a recovery on MariaDB and SQLite, and inside one, then run
it again: the database ends as a clean run from the same start leaves it (every table's definition and
every row), the history is at head, no data step ran twice, and the second run's report says what the
killed one left behind.

Neither server makes this easy the way PostgreSQL does: MySQL commits before every DDL statement, so a
run killed inside a revision leaves its earlier DDL in place; Python's sqlite3 commits DDL at once until a
revision's first data step, and alembic's batch mode leaves its scratch table behind when it dies.
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from migration_guard.faults import POINTS
from tests.support import servers
from tests.support.guard import bare, execute, guard, rows, tool, version
from tests.support.projects import Rev, alembic_project
from tests.support.schema import columns, indexes, state, tables

UPGRADE = [tool("alembic"), "upgrade", "head"]

# deploy_log has no key of its own: a data step that ran twice shows as a second row, and one that was
# rolled back leaves no gap in a counter that would make two correct databases look different.
HALF = [
    Rev("a1", "settings", """
        op.create_table("settings", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(50)))
        op.create_table("deploy_log", sa.Column("note", sa.String(100)))
        op.execute("INSERT INTO settings (name) VALUES ('alpha'), ('beta')")
    """),
    Rev("h2", "profile", """
        op.add_column("settings", sa.Column("locale", sa.String(10)))
        op.add_column("settings", sa.Column("timezone", sa.String(40)))
        op.create_index("ix_settings_timezone", "settings", ["timezone"])
        op.execute("INSERT INTO deploy_log (note) VALUES ('h2 ran')")
    """),
    Rev("h3", "teams", """
        op.create_table("teams", sa.Column("id", sa.Integer, primary_key=True))
    """),
]

HISTORY = [
    Rev("h1", "accounts", """
        op.create_table("accounts", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(50)))
        op.create_table("deploy_log", sa.Column("note", sa.String(100)))
        op.execute("INSERT INTO accounts (name) VALUES ('a'), ('b'), ('c')")
    """),
    Rev("h2", "email", """
        op.add_column("accounts", sa.Column("email", sa.String(200)))
        op.execute("INSERT INTO deploy_log (note) VALUES ('h2 ran')")
    """),
    Rev("h3", "teams", """
        op.create_table("teams", sa.Column("id", sa.Integer, primary_key=True))
    """),
]

BATCH = [
    Rev("a1", "settings", """
        op.create_table("settings", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(50)))
        op.create_table("deploy_log", sa.Column("note", sa.String(100)))
        op.execute("INSERT INTO settings (name) VALUES ('alpha'), ('beta')")
    """),
    Rev("n2", "name required", """
        with op.batch_alter_table("settings") as batch:
            batch.alter_column("name", existing_type=sa.String(50), nullable=False)
        op.execute("INSERT INTO deploy_log (note) VALUES ('n2 ran')")
    """),
]


# -- preparing the broken databases, and what a clean run from each leaves --------------------------
def half_applied(project, url):
    """A hotfix made settings.timezone by hand; the deploy before the guard then stopped inside h2 with
    locale already committed (both servers commit that DDL at once)."""
    env = {"DATABASE_URL": url}
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(url, "ALTER TABLE settings ADD COLUMN timezone VARCHAR(40)", "UPDATE settings SET timezone = 'UTC'",
            "INSERT INTO settings (name, timezone) VALUES ('gamma', 'CET')")
    first = bare(project, UPGRADE, env, check=False)
    assert first.returncode == 1 and "locale" in columns(url, "settings") and version(url) == {"a1"}


def batch_leftover(project, url):
    """A batch rebuild that met a NULL while copying: its empty _alembic_tmp_settings stays behind."""
    env = {"DATABASE_URL": url}
    bare(project, [tool("alembic"), "upgrade", "a1"], env)
    execute(url, "INSERT INTO settings (name) VALUES (NULL)")
    first = bare(project, UPGRADE, env, check=False)
    assert first.returncode == 1 and "_alembic_tmp_settings" in tables(url)
    execute(url, "UPDATE settings SET name = 'gamma' WHERE name IS NULL")


_clean: dict = {}


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """What an unkilled guarded run leaves, from the same broken start, on a database of its own
    (once per scenario and server for the module)."""
    with ExitStack() as stack:
        def run(name: str, revisions, prepare, server: str | None) -> dict:
            if (name, server) not in _clean:
                folder = tmp_path_factory.mktemp(f"clean-{name}")
                url = (stack.enter_context(servers.fresh_database(server)) if server
                       else f"sqlite:///{folder / 'clean.db'}")
                project = alembic_project(folder / "app", revisions)
                prepare(project, url)
                proc, _ = guard(project, UPGRADE, {"DATABASE_URL": url})
                assert proc.returncode == 0, proc.stderr
                _clean[(name, server)] = state(url)
            return _clean[(name, server)]

        yield run
        _clean.clear()


def _killed(project, url, point):
    killed, _ = guard(project, UPGRADE, {"DATABASE_URL": url, "MIGRATION_GUARD_FAULT": point})
    assert killed.returncode == -9, f"the guard was not killed at {point}:\n{killed.stderr}"
    return killed


def _left_open(report, kind):
    return [note for note in report["notes"] if "an earlier run" in note and kind in note]


# -- a half-applied revision completed by skipping what is there (skip_satisfied) --------------------
def _half_applied_killed_at(point, tmp_path, url, clean):
    project = alembic_project(tmp_path / "app", HALF)
    half_applied(project, url)
    before = rows(url, "SELECT id, name, timezone FROM settings ORDER BY id")

    _killed(project, url, point)
    # Before the rerun nothing changed; killed inside it, h2's rest may be partly in place (MySQL) or not.
    assert version(url) in ({"a1"}, {"h2"}, {"h3"}) if point == "mid-apply" else version(url) == {"a1"}
    assert rows(url, "SELECT id, name, timezone FROM settings ORDER BY id") == before
    left_at = version(url)
    index_left = left_at == {"a1"} and "ix_settings_timezone" in indexes(url, "settings")
    teams_left = left_at == {"h2"} and "teams" in tables(url)

    proc, report = guard(project, UPGRADE, {"DATABASE_URL": url})

    assert proc.returncode == 0, proc.stderr
    assert version(url) == {"h3"}
    assert state(url) == clean
    assert rows(url, "SELECT id, name, timezone FROM settings ORDER BY id") == before
    assert rows(url, "SELECT note FROM deploy_log") == [("h2 ran",)]  # never twice
    assert "ix_settings_timezone" in indexes(url, "settings")
    if report["status"] == "recovered":
        # The second run's evidence is the database as the killed run left it: locale and timezone, and
        # the index too when the kill came after the dead rerun had made it (MySQL commits it at once).
        # The dead rerun may also have got through h2 and made h3's table before the kill reached it (each
        # DDL statement commits at once on MySQL, and under pysqlite's autocommit DDL on SQLite): then
        # h3's table is what is found in place.
        [action] = report["actions"]
        assert action["kind"] == "skip_satisfied"
        expected = 1 if teams_left else 2 + index_left
        assert len(action["statements"]) == expected, (left_at, action["statements"])
    else:  # the dead rerun got through h2 (and h3's table was not made yet) before the kill reached it
        assert point == "mid-apply" and report["status"] == "succeeded" and not teams_left


@pytest.mark.parametrize("point", POINTS)
def test_mariadb_half_applied_revision_killed_at(point, tmp_path, mysql_url, mysql_server_url, clean_run):
    clean = clean_run("half", HALF, half_applied, mysql_server_url)
    _half_applied_killed_at(point, tmp_path, mysql_url, clean)


@pytest.mark.parametrize("point", POINTS)
def test_sqlite_half_applied_revision_killed_at(point, tmp_path, sqlite_url, clean_run):
    clean = clean_run("half", HALF, half_applied, None)
    _half_applied_killed_at(point, tmp_path, sqlite_url, clean)


# -- lost history recorded without running its revisions again (mark_applied) -----------------------
def _history_lost_killed_at(point, tmp_path, url):
    project = alembic_project(tmp_path / "app", HISTORY)
    bare(project, UPGRADE, {"DATABASE_URL": url})
    clean = state(url)  # what a run that never lost its history leaves, the history table included
    execute(url, "UPDATE alembic_version SET version_num = 'h1'")

    _killed(project, url, point)
    assert version(url) in ({"h1"}, {"h3"})  # the stamp is one transaction: before it or after it

    proc, report = guard(project, UPGRADE, {"DATABASE_URL": url})

    assert proc.returncode == 0, proc.stderr
    assert version(url) == {"h3"}
    assert state(url) == clean
    assert rows(url, "SELECT name FROM accounts ORDER BY id") == [("a",), ("b",), ("c",)]
    assert rows(url, "SELECT note FROM deploy_log") == [("h2 ran",)]  # never twice
    left = _left_open(report, "mark_applied")
    if point in ("before-apply", "after-apply"):  # the stamp commits in a child: the guard cannot say whether
        assert left and "could record whether it took effect" in left[0], report["notes"]
    elif point == "before-rerun":
        assert left and "had applied it" in left[0], report["notes"]
    else:
        assert not left, report["notes"]


# Recording revisions is one `alembic stamp` transaction in a child process: there is no inside of it
# for the guard to be killed in.
@pytest.mark.parametrize("point", [p for p in POINTS if p != "mid-apply"])
def test_mariadb_history_lost_killed_at(point, tmp_path, mysql_url):
    _history_lost_killed_at(point, tmp_path, mysql_url)


@pytest.mark.parametrize("point", [p for p in POINTS if p != "mid-apply"])
def test_sqlite_history_lost_killed_at(point, tmp_path, sqlite_url):
    _history_lost_killed_at(point, tmp_path, sqlite_url)


# -- the scratch table of a dead batch rebuild dropped when empty (drop_empty_leftover) --------------
@pytest.mark.parametrize("point", POINTS)
def test_sqlite_batch_leftover_killed_at(point, tmp_path, sqlite_url, clean_run):
    clean = clean_run("batch", BATCH, batch_leftover, None)
    project = alembic_project(tmp_path / "app", BATCH)
    batch_leftover(project, sqlite_url)
    before = rows(sqlite_url, "SELECT id, name FROM settings ORDER BY id")

    _killed(project, sqlite_url, point)
    assert version(sqlite_url) == {"a1"}
    assert rows(sqlite_url, "SELECT id, name FROM settings ORDER BY id") == before

    proc, report = guard(project, UPGRADE, {"DATABASE_URL": sqlite_url})

    assert proc.returncode == 0, proc.stderr
    assert version(sqlite_url) == {"n2"}
    assert state(sqlite_url) == clean
    assert "_alembic_tmp_settings" not in tables(sqlite_url)
    assert rows(sqlite_url, "SELECT id, name FROM settings ORDER BY id") == before
    assert rows(sqlite_url, "SELECT note FROM deploy_log") == [("n2 ran",)]
    left = _left_open(report, "drop_empty_leftover")
    if point in ("after-apply", "before-rerun"):  # committed, with its journal row: nothing left to drop
        assert report["actions"] == [] and report["status"] == "succeeded"
        assert left and "had applied it" in left[0], report["notes"]
        return
    assert [a["kind"] for a in report["actions"]] == ["drop_empty_leftover"]  # the dead run's drop never committed
    if point in ("before-apply", "mid-apply"):
        assert left and "rolled back" in left[0], report["notes"]
    else:
        assert not left, report["notes"]
