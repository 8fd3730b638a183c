"""The three stories, each on a fresh database: prepare it the way production was, run the deploy with
and without the guard, then read the outcome back from the database. Nothing here assumes an outcome:
what is printed, and whether the story counts as a success, comes from exit codes, reports and queries.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from migration_guard.demo import console
from migration_guard.demo.console import quoted, say, step
from migration_guard.demo.procs import Children
from migration_guard.demo.project import ENUM_LABELS, ENUM_NAME, HEAD, REVISIONS
from migration_guard.demo.server import DemoServer

REPLICAS = 4


@dataclass
class Stage:
    server: DemoServer
    children: Children
    project: Path


@dataclass
class Outcome:
    ok: bool
    line: str  # one line for the recap


@dataclass
class GuardedRun:
    code: int
    report: dict
    markdown: str

    @property
    def kinds(self) -> list[str]:
        return [a.get("kind", "?") for a in self.report.get("actions", [])]

    def describe(self) -> str:
        status = self.report.get("status", "no report")
        return f"exit {self.code}, {status}" + (f" with {', '.join(self.kinds)}" if self.kinds else "")


def guarded(stage: Stage, name: str, *, show: bool = True) -> list[str]:
    """The argv of one guarded deploy writing its reports to reports/NAME.*; shows the command."""
    argv = stage.children.guard("--report-json", f"reports/{name}.json", "--report-md", f"reports/{name}.md")
    if show:
        step(f"$ {stage.children.shown(argv)}")
    return argv


def result_of(stage: Stage, name: str, code: int) -> GuardedRun:
    json_path, md_path = stage.project / "reports" / f"{name}.json", stage.project / "reports" / f"{name}.md"
    report = json.loads(json_path.read_text(encoding="utf-8")) if json_path.is_file() else {}
    markdown = md_path.read_text(encoding="utf-8") if md_path.is_file() else ""
    return GuardedRun(code, report, markdown)


def versions(stage: Stage, url: str) -> list[str]:
    if not stage.server.rows(url, "SELECT to_regclass('alembic_version') IS NOT NULL")[0][0]:
        return []
    return sorted(row[0] for row in stage.server.rows(url, "SELECT version_num FROM alembic_version"))


def without_guard(stage: Stage, url: str) -> None:
    """The deploy as it runs today. It fails in one transaction, so it leaves the database as it was."""
    argv = stage.children.bare()
    code, output = stage.children.quiet(argv, url)
    outcome = "succeeded" if code == 0 else console.first_error_line(output)
    step(f"without the guard: $ {stage.children.shown(argv)}  ->  exit {code}: {outcome}")


def show_report(run: GuardedRun, name: str) -> None:
    """The report's head: what failed, what the guard did and on what evidence. The per-attempt and
    per-revision tables and the log tail that follow are in the file."""
    step(f"the Markdown report (reports/{name}.md; in CI, the job summary):")
    head, cut, rest = run.markdown.partition("### Attempts")
    quoted(head.rstrip() or "(no report was written)")
    if cut:
        quoted(f"[{len((cut + rest).splitlines())} more lines: attempts, revisions, log tail]")


def hotfix(stage: Stage) -> Outcome:
    say("Revision 0002 adds accounts.display_name and backfills it from the e-mail address. Before the")
    say("deploy, a hotfix added that column by hand, and the hotfixed app has since filled it for a new account.")
    url = stage.server.fresh_database("hotfix")
    step(f"$ {stage.children.shown(stage.children.bare('0001'))}   (production before the deploy)")
    code, output = stage.children.quiet(stage.children.bare("0001"), url)
    if code != 0:
        quoted(console.first_error_line(output))
        return Outcome(False, f"could not prepare the database: `alembic upgrade 0001` exited {code}")
    hotfix_sql = ["ALTER TABLE accounts ADD COLUMN display_name VARCHAR(120)",
                  "INSERT INTO accounts (email, display_name) VALUES ('dana@example.com', 'Dana S.')"]
    step("the hotfix, by hand: " + "; ".join(hotfix_sql))
    stage.server.execute(url, hotfix_sql)
    without_guard(stage, url)

    run = result_of(stage, "hotfix", stage.children.stream(guarded(stage, "hotfix"), url)[0])

    accounts = stage.server.rows(url, "SELECT id, email, display_name FROM accounts ORDER BY id")
    step("accounts after the deploy (0002's backfill filled the old rows; the hotfix's value is kept):")
    quoted(console.table(("id", "email", "display_name"), accounts))
    show_report(run, "hotfix")

    at = versions(stage, url)
    filled = sum(1 for row in accounts if row[2])
    backfill_ran = stage.server.rows(url, "SELECT count(*) FROM deploy_log WHERE revision = '0002'")[0][0]
    ok = run.code == 0 and at == [HEAD] and filled == len(accounts) and backfill_ran == 1
    ran = {0: "the backfill did not run", 1: "the backfill ran"}.get(backfill_ran, f"the backfill ran {backfill_ran}x")
    return Outcome(ok, f"{run.describe()}; {ran}: {filled} of {len(accounts)} accounts have a display_name; "
                       f"database at {', '.join(at) or 'base'}")


def enum(stage: Stage) -> Outcome:
    say(f"Revision 0003 creates the enum type {ENUM_NAME} {ENUM_LABELS} for orders.status. Another")
    say("migration already created that type on this database, with two of its three labels.")
    url = stage.server.fresh_database("enum")
    present = [label for label in ENUM_LABELS if label != "paid"]
    create_type = f"CREATE TYPE {ENUM_NAME} AS ENUM ({', '.join(repr(label) for label in present)})"
    step(f"the other migration: {create_type}")
    stage.server.execute(url, [create_type])
    without_guard(stage, url)

    run = result_of(stage, "enum", stage.children.stream(guarded(stage, "enum"), url)[0])

    labels = [row[0] for row in stage.server.rows(
        url, "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
             f"WHERE t.typname = '{ENUM_NAME}' ORDER BY e.enumsortorder")]
    step(f"{ENUM_NAME} after the deploy: {', '.join(labels)}")
    has_orders = stage.server.rows(url, "SELECT to_regclass('orders') IS NOT NULL")[0][0]
    orders = stage.server.rows(url, "SELECT id, status::text FROM orders ORDER BY id") if has_orders else []
    step("orders after the deploy (0003's data step used the label that was missing):")
    quoted(console.table(("id", "status"), orders))
    show_report(run, "enum")

    at = versions(stage, url)
    ok = run.code == 0 and at == [HEAD] and tuple(labels) == ENUM_LABELS and len(orders) == 3
    order = "in the migration's order" if tuple(labels) == ENUM_LABELS else f"not {', '.join(ENUM_LABELS)}"
    return Outcome(ok, f"{run.describe()}; labels now {', '.join(labels)}, {order}; "
                       f"database at {', '.join(at) or 'base'}")


def replicas(stage: Stage) -> Outcome:
    say(f"{REPLICAS} replicas of the app start together, and each runs the deploy's migration step on the same")
    say("empty database. Every revision writes one row into deploy_log, so a revision that ran twice would show.")
    url = stage.server.fresh_database("replicas")
    names = [f"replica-{i}" for i in range(1, REPLICAS + 1)]
    argvs = [guarded(stage, name, show=False) for name in names]
    step(f"$ {stage.children.shown(argvs[0]).replace('replica-1', 'replica-N')}   (x{REPLICAS}, at once)")
    codes = [code for code, _ in stage.children.stream_all(argvs, url, [f"{n}: " for n in names])]
    runs = [result_of(stage, name, code) for name, code in zip(names, codes, strict=True)]

    step("each replica's report:")
    quoted(console.table(("replica", "exit", "status", "waited for the lock", "summary"), [
        (name, run.code, run.report.get("status", "no report"), f"{run.report.get('lock_wait_s', 0):.1f} s",
         run.report.get("summary", "")) for name, run in zip(names, runs, strict=True)]))
    log = dict(stage.server.rows(url, "SELECT revision, count(*) FROM deploy_log GROUP BY revision"))
    step("deploy_log: " + ", ".join(f"{rev} ran {log.get(rev, 0)}x" for rev in REVISIONS))
    at = versions(stage, url)
    once = all(log.get(rev) == 1 for rev in REVISIONS) and len(log) == len(REVISIONS)
    all_zero = all(run.code == 0 for run in runs)
    ran = sum(1 for run in runs if run.report.get("attempts"))  # the others found nothing to do
    guarded_line = (f"{sum(run.code == 0 for run in runs)} of {REPLICAS} guarded runs exited 0, {ran} ran the "
                    f"migration and {REPLICAS - ran} found nothing to do after the lock, "
                    + ("migrated once" if once else f"NOT migrated once (deploy_log: {log})")
                    + f"; database at {', '.join(at) or 'base'}")

    bare_line = contrast(stage)
    ok = all_zero and once and at == [HEAD]
    return Outcome(ok, f"{guarded_line}; {bare_line}")


def contrast(stage: Stage) -> str:
    """The same replicas without the guard, on another fresh database: what deploys meet today."""
    url = stage.server.fresh_database("bare")
    argv = stage.children.bare()
    step(f"for contrast, without the guard on another empty database: $ {stage.children.shown(argv)}   "
         f"(x{REPLICAS}, at once)")
    results = stage.children.quiet_all([argv] * REPLICAS, url)
    quoted([f"bare-{i}: exit {code}" + ("" if code == 0 else f": {console.first_error_line(output)}")
            for i, (code, output) in enumerate(results, 1)])
    failed = sum(code != 0 for code, _ in results)
    if failed:
        return f"without the guard, {failed} of {REPLICAS} bare runs failed"
    return f"without the guard, all {REPLICAS} bare runs happened to succeed this time (the race depends on timing)"


STORIES: tuple[tuple[str, Callable[[Stage], Outcome]], ...] = (
    ("the hotfix", hotfix),
    ("the enum another migration created", enum),
    (f"{REPLICAS} replicas at once", replicas),
)
