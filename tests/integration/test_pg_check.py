"""`migration-guard check` on PostgreSQL: it predicts each failure a run would meet and changes nothing.

Each test prepares a real database so that the real migrations will break on it (tests/support/
scenarios.py), runs the real `check`, and reads the outcome from the report and the database:
the exit code, the predicted kind, table and column, and a fingerprint of the catalog and of every
row taken before and after (tests/support/fingerprint.py).
"""

from __future__ import annotations

import json

import pytest

from migration_guard.preflight.model import STATEMENT_TIMEOUT_S
from tests.support.cli import run_cli
from tests.support.fingerprint import LockWatch, fingerprint
from tests.support.guard import execute, guard, rows, tool
from tests.support.projects import Rev, alembic_project
from tests.support.scenarios import ALL, BY_NAME, CLEAN_TWIN, INSPECTS, Scenario

FAILING = [s for s in ALL if s.first is not None and not s.runtime_only]
KINDS = sorted({s.first[0] for s in FAILING})


def check(project, argv, env, *options):
    report_path = project / "check.json"
    proc = run_cli(["check", *options, "--report-json", report_path, "--", *argv], env=env, cwd=project)
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    return proc, report


def _named(scenario: Scenario) -> str:
    return scenario.name


@pytest.mark.parametrize("scenario", FAILING, ids=_named)
def test_check_predicts_the_failure_and_changes_nothing(scenario, tmp_path, pg_url):
    project, env, argv = scenario.build(tmp_path / "app", pg_url)
    before = fingerprint(pg_url)

    with LockWatch(pg_url) as locks:
        proc, report = check(project, argv, env)

    assert proc.returncode == 1, proc.stderr
    assert report["status"] == "predicted_failure"
    kind, table, column = scenario.first
    first = report["predicted"][0]
    assert first["kind"] == kind
    assert table is None or first["table"] == table
    assert column is None or first["column"] == column
    assert first["revision"] and first["statement"]
    assert fingerprint(pg_url) == before
    assert locks.advisory_seen, "the lock watch never saw the guard's own lock: it is not watching the check"
    assert locks.longest < STATEMENT_TIMEOUT_S, sorted(locks.held.items(), key=lambda kv: -kv[1])[:3]
    assert report["attempts"] == []
    prediction = report["predictions"][0]
    assert prediction["reached"] and prediction["found_by"] == "analysis"
    # What run would do about it: a recovery planned (never applied), or a refusal with its reason.
    if prediction["run_would"] == "refuse":
        assert report["refusals"] and prediction["refusal"] == report["refusals"][0]["reason"]
    else:
        assert prediction["actions"] and not any(a["applied"] for a in report["actions"])


@pytest.mark.parametrize("kind", KINDS)
def test_a_database_that_will_not_break_is_clean(kind, tmp_path, pg_url):
    scenario = BY_NAME[CLEAN_TWIN[kind]]
    project, env, argv = scenario.build(tmp_path / "app", pg_url)
    before = fingerprint(pg_url)

    proc, report = check(project, argv, env)

    assert proc.returncode == 0, proc.stderr
    assert report["status"] == "clean"
    assert report["predicted"] == [] and report["refusals"] == [] and report["actions"] == []
    assert {r["how"] for r in report["checked"]} == {"analysed"}
    assert fingerprint(pg_url) == before


def test_duplicate_rows_are_counted(tmp_path, pg_url):
    project, env, argv = BY_NAME["duplicate_rows_unique_index"].build(tmp_path / "app", pg_url)
    # With the scenario's rows: a@x.org 4 times, c@x.org 3 times, d@ and e@ twice; NULLs never collide.
    execute(pg_url, "INSERT INTO accounts (email) VALUES ('d@x.org'), ('d@x.org'), ('a@x.org'), ('a@x.org'), "
                    "('e@x.org'), ('e@x.org'), (NULL), (NULL)")

    proc, report = check(project, argv, env)

    assert proc.returncode == 1
    prediction = report["predictions"][0]
    assert prediction["counts"] == {"groups": 4, "rows": 11, "surplus": 7}
    assert report["predicted"][0]["key"] == "(email)=(a@x.org)"  # the most repeated
    assert report["predicted"][0]["location"].endswith("k2_duplicate_rows_unique_index.py:15")


def test_only_rehearsal_sees_a_migration_that_reads_the_database(tmp_path, pg_url):
    project, env, argv = INSPECTS.build(tmp_path / "app", pg_url)
    before = fingerprint(pg_url)

    static, static_report = check(project, argv, env)
    rehearsed, report = check(project, argv, env, "--rehearse")

    assert static.returncode == 0, static.stderr
    assert static_report["status"] == "clean"
    assert [(r["revision"], r["how"]) for r in static_report["checked"]] == [("r2", "not analysed")]
    assert rehearsed.returncode == 1, rehearsed.stderr
    assert report["status"] == "predicted_failure"
    first = report["predicted"][0]
    assert (first["kind"], first["object_name"], first["revision"]) == ("duplicate_relation", "orders_archive", "r2")
    assert report["predictions"][0]["found_by"] == "rehearsal"
    assert [(r["revision"], r["how"]) for r in report["checked"]] == [("r2", "rehearsed")]
    assert fingerprint(pg_url) == before


def test_rehearsal_covers_what_it_can_and_says_where_it_stopped(tmp_path, pg_url):
    """A revision that cannot run in a transaction (CREATE INDEX CONCURRENTLY) ends the rehearsal;
    it and the revisions after it are analysed only, and the analysis still finds their failure."""

    revs = [
        Rev("c1", "items", """
            op.create_table("items", sa.Column("id", sa.Integer, primary_key=True), sa.Column("sku", sa.Text))
        """),
        Rev("c2", "sku index", """
            with op.get_context().autocommit_block():
                op.create_index("ix_items_sku", "items", ["sku"], postgresql_concurrently=True)
        """),
        Rev("c3", "price", """
            op.add_column("items", sa.Column("price", sa.Integer))
        """),
    ]
    project = alembic_project(tmp_path / "app", revs)
    env = {"DATABASE_URL": pg_url}
    execute(pg_url, "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)",
            "INSERT INTO alembic_version VALUES ('c1')",
            "CREATE TABLE items (id serial PRIMARY KEY, sku text, price integer)")
    before = fingerprint(pg_url)

    proc, report = check(project, [tool("alembic"), "upgrade", "head"], env, "--rehearse")

    assert proc.returncode == 1, proc.stderr
    checked = {r["revision"]: r for r in report["checked"]}
    assert checked["c2"]["how"] == "analysed" and "cannot run inside a transaction" in checked["c2"]["note"]
    assert checked["c3"]["how"] == "analysed"
    first = report["predicted"][0]
    assert (first["kind"], first["column"], first["revision"]) == ("duplicate_column", "price", "c3")
    assert report["predictions"][0]["found_by"] == "analysis"
    assert fingerprint(pg_url) == before


COMMITTERS = {
    "commit_statement": 'op.execute("CREATE TABLE leak (id int)")\nop.execute("COMMIT")',
    "driver_commit": 'op.execute("CREATE TABLE leak (id int)")\nop.get_bind().connection.dbapi_connection.commit()',
    "autocommit_block": 'with op.get_context().autocommit_block():\n    op.execute("CREATE TABLE leak (id int)")',
    "autocommit_engine": (
        'import os\n'
        'engine = sa.create_engine(os.environ["DATABASE_URL"], isolation_level="AUTOCOMMIT")\n'
        'with engine.connect() as c:\n    c.execute(sa.text("CREATE TABLE leak (id int)"))'),
    "own_driver_connection": (
        'import os, psycopg\n'
        'with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as c:\n'
        '    c.execute("CREATE TABLE leak (id int)")'),
    "own_driver_transaction": (
        'import os, psycopg\n'
        'with psycopg.connect(os.environ["DATABASE_URL"]) as c:\n'
        '    c.execute("CREATE TABLE leak (id int)")\n    c.commit()'),
}


@pytest.mark.parametrize("how", sorted(COMMITTERS))
def test_a_rehearsal_never_commits(how, tmp_path, pg_url):
    """Migrations that try every way to commit: the catalog and the rows are the same afterwards."""

    revs = [
        Rev("n1", "notes", """
            op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True), sa.Column("body", sa.Text))
            op.execute("INSERT INTO notes (body) VALUES ('first')")
        """),
        Rev("n2", f"tries to commit: {how}", COMMITTERS[how]),
        Rev("n3", "after", """
            op.execute("INSERT INTO notes (body) VALUES ('later')")
        """),
    ]
    project = alembic_project(tmp_path / "app", revs)
    before = fingerprint(pg_url)

    proc, report = check(project, [tool("alembic"), "upgrade", "head"], {"DATABASE_URL": pg_url}, "--rehearse")

    assert fingerprint(pg_url) == before
    assert not rows(pg_url, "SELECT 1 FROM pg_class WHERE relname IN ('leak', 'notes', 'alembic_version')")
    assert proc.returncode == 0, proc.stderr  # not a failure of the migration: a limit of the rehearsal
    checked = {r["revision"]: r for r in report["checked"]}
    assert checked["n1"]["how"] == "rehearsed"
    assert checked["n2"]["how"] != "rehearsed" and checked["n2"]["note"].startswith("not rehearsed")


@pytest.mark.timeout(1200)  # every scenario three times over (check, check --rehearse, run): minutes on a busy machine
def test_check_predicts_what_run_then_meets(tmp_path, pg_server_url):
    """Across every scenario: `check` (with --rehearse) predicts exactly the failures a reactive `run`
    meets, in order; static analysis alone does too, except where only running the migration shows."""
    from tests.support import servers

    mismatches = []
    for scenario in ALL:
        with servers.fresh_database(pg_server_url) as url:
            project, env, argv = scenario.build(tmp_path / scenario.name, url)
            _, static = check(project, argv, env)
            _, rehearsed = check(project, argv, env, "--rehearse")
            _, run = guard(project, argv, env, "--no-preflight")
        met = [_essence(f) for f in run["failures"]]
        for label, report in (("check --rehearse", rehearsed), ("check", static)):
            if label == "check" and scenario is INSPECTS:
                continue  # the one scenario only a rehearsal can see (asserted above)
            predicted = [_essence(f) for f in report["predicted"]]
            if not _agree(predicted, met):
                mismatches.append(f"{scenario.name}: {label} predicted {predicted}, run met {met}")
        if scenario.run_status and run["status"] != scenario.run_status:
            mismatches.append(f"{scenario.name}: run ended {run['status']}, expected {scenario.run_status}")
    assert not mismatches, "\n".join(mismatches)


def _essence(f: dict) -> tuple:
    return (f["kind"], f.get("revision"), f.get("table"), f.get("column"), f.get("object_name"))


def _agree(predicted: list[tuple], met: list[tuple]) -> bool:
    """Same kinds and revisions in the same order; names agree wherever both sides read one."""
    if len(predicted) != len(met):
        return False
    for p, m in zip(predicted, met, strict=True):
        if p[:2] != m[:2]:
            return False
        if any(a is not None and b is not None and a != b for a, b in zip(p[2:], m[2:], strict=True)):
            return False
    return True
