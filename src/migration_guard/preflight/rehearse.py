"""Rehearsal (`check --rehearse`, PostgreSQL): run the pending migrations for real, commit nothing.

Static analysis sees the statements the tool prints without a database. A migration that reads the
database as it runs (`if not inspector.has_table(...)`), or a data step that depends on the rows,
shows its failure only when it runs. So the migration command runs as a child with the bootstrap's
rehearsal mode (bootstrap/_mg_rehearse.py): every transaction it opens is armed so it can never
commit, sessions default to read-only, and the server enforces short limits:

    lock_timeout                          REHEARSAL_LOCK_TIMEOUT_S: never queue behind production
    statement_timeout                     REHEARSAL_STATEMENT_TIMEOUT_S per statement
    idle_in_transaction_session_timeout   the same, for a migration that stalls between statements

and the guard ends the child's sessions after `--rehearse-timeout` seconds in all, which bounds how
long the locks its DDL takes are held (until the rollback at the end).

Where the rehearsal cannot go on (a revision with CREATE INDEX CONCURRENTLY or an autocommit block,
a lock it could not get in time, a migration that commits on its own), it says so and the revision
and those after it are analysed only. A failure it meets is diagnosed as `run` would diagnose it,
planned as `run` would plan it, and, when `run` would only skip satisfied statements, rehearsed
again with them skipped, so the failures after it are met too.
"""

from __future__ import annotations

import io
import json
import threading

from migration_guard.db.lock import end_sessions
from migration_guard.diagnose import diagnose_text, primary
from migration_guard.diagnose.failure import Failure
from migration_guard.diagnose.structured import from_driver
from migration_guard.operations import normalize_statement
from migration_guard.preflight import source
from migration_guard.preflight.model import Finding, Findings, RevisionCheck
from migration_guard.recovery import plan
from migration_guard.recovery.steps import SkipStatements
from migration_guard.runtime import child

REHEARSAL_LOCK_TIMEOUT_S = 2
REHEARSAL_STATEMENT_TIMEOUT_S = 10
MARK = "migration-guard rehearsal"
# SQLSTATEs that end a rehearsal without saying anything about the migration itself.
_LIMITS = {
    "55P03": "a lock was not granted within the rehearsal's lock timeout (the table is busy)",
    "57014": "a statement ran longer than the rehearsal's statement timeout",
    "57P01": "the rehearsal reached its time limit and its sessions were ended",
    "25001": "a statement cannot run inside a transaction block",
    "55P04": "the revision uses an enum label added earlier in the rehearsal, which PostgreSQL allows only "
             "after a commit",
    "25006": "the migration writes through a connection the rehearsal does not manage (read-only there)",
    "25P03": "the migration stalled between statements longer than the rehearsal allows",
}


def rehearse(ctx, findings: Findings, say=None) -> Findings:
    say = say or (lambda _line: None)
    if ctx.dialect != "postgresql":
        findings.notes.append(f"--rehearse runs on PostgreSQL only; {ctx.dialect} revisions are analysed only")
        return findings
    argv = migrate_argv(ctx.framework)
    if argv is None:
        findings.notes.append(f"--rehearse does not support {ctx.framework.name} yet; revisions are analysed only")
        return findings
    stops = _not_in_a_transaction(ctx)
    skip: dict[str, list[str]] = {}
    met: list[Finding] = []
    for number in range(1, ctx.settings.max_attempts + 1):
        say(f"rehearsal {number}: running the migrations in a transaction that is always rolled back")
        outcome = _once(ctx, argv, stops, skip, say)
        if outcome.failure is None:
            break
        met.append(Finding(outcome.failure, found_by="rehearsal"))
        ctx.failure = outcome.failure
        decision = plan.decide(ctx)
        steps = decision.steps
        if decision.refusal is not None or not steps or not all(isinstance(s, SkipStatements) for s in steps):
            outcome.why = ("run would refuse here, so the run stops" if decision.refusal is not None else
                           f"run would recover with {' then '.join(s.action.kind for s in steps)}, which the "
                           "rehearsal cannot apply")
            break
        for step in steps:
            skip.setdefault(step.revision, []).extend(step.statements)
    return _merge(ctx, findings, met, outcome)


class _Outcome:
    def __init__(self):
        self.ok: list[str] = []  # revisions that ran to their end
        self.failure: Failure | None = None
        self.until: str | None = None  # the revision the rehearsal stopped at (not rehearsed past it)
        self.why = ""
        self.output = ""


def _once(ctx, argv, stops: dict, skip: dict, say) -> _Outcome:
    out = _Outcome()
    events: list[dict] = []
    backends: list[int] = []

    def on_event(event: dict) -> None:
        events.append(event)
        if event.get("e") == "backend":
            backends.append(int(event.get("pid") or 0))
        elif event.get("e") == "end":
            say(f"rehearsal: {event.get('revision')} ... ok")
        elif event.get("e") == "fail":
            say(f"rehearsal: {event.get('revision')} ... failed ({event.get('error', '').rsplit('.', 1)[-1]})")

    env = dict(ctx.env)
    env["MIGRATION_GUARD_REHEARSE"] = "1"
    env["MIGRATION_GUARD_REHEARSE_STOP"] = json.dumps(stops)
    limits = (f"-c default_transaction_read_only=on -c lock_timeout={REHEARSAL_LOCK_TIMEOUT_S * 1000} "
              f"-c statement_timeout={REHEARSAL_STATEMENT_TIMEOUT_S * 1000} "
              f"-c idle_in_transaction_session_timeout={REHEARSAL_STATEMENT_TIMEOUT_S * 1000}")
    env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} {limits}".strip()
    timed_out = threading.Event()

    def deadline() -> None:
        timed_out.set()
        end_sessions(ctx.engine, backends)

    timer = threading.Timer(ctx.settings.rehearse_timeout, deadline)
    timer.daemon = True
    timer.start()
    try:
        result = child.run(argv, ctx.framework.cwd, env, {"skip": skip} if skip else None, [],
                           on_event, echo=io.StringIO(), grace=5.0)
    finally:
        timer.cancel()
    out.output = result.output
    out.ok = [e["revision"] for e in events if e.get("e") == "end"]
    failed = next((e for e in events if e.get("e") == "fail"), None)
    stop = next((e for e in events if e.get("e") == "rehearse_stop"), None)
    if result.exit_code == 0:
        return out
    if stop is not None or failed is None or timed_out.is_set() or _limit(failed):
        out.until = (stop or failed or {}).get("revision") or _next(ctx, out.ok)
        out.why = (stop or {}).get("reason") or (_limit(failed) if failed else None) or (
            "the rehearsal reached its time limit" if timed_out.is_set() else
            f"the command failed outside a revision: {_last_line(result.output)}")
        say(f"rehearsal: stops at {out.until or 'the start'}: {out.why}")
        return out
    out.failure = _diagnose(ctx, result.output, failed)
    return out


def _limit(event: dict) -> str | None:
    if MARK in (event.get("message") or ""):
        return "the migration commits on its own, through the driver"
    return _LIMITS.get(event.get("sqlstate") or "")


def _diagnose(ctx, output: str, event: dict) -> Failure:
    """The failure as `run` would read it from the same output and the same hook event."""
    failure = primary(diagnose_text(output)) or Failure("unknown", message=_last_line(output))
    if failure.kind == "unknown":
        failure = from_driver(event, ctx.dialect) or failure
    failure.revision = event.get("revision") or failure.revision
    failure.statement = event.get("statement") or failure.statement
    failure.sqlstate = failure.sqlstate or event.get("sqlstate")
    failure.dialect = failure.dialect or ctx.dialect
    source.locate(failure, ctx.pending)
    return failure


def _merge(ctx, findings: Findings, met: list[Finding], outcome: _Outcome) -> Findings:
    """Rehearsed revisions take the rehearsal's word; the others keep the analysis's."""
    order = [r.id for r in ctx.pending]
    last = outcome.failure.revision if outcome.failure is not None else outcome.until
    end = order.index(last) if last in order else len(order)
    rehearsed = set(order[: end + 1]) if outcome.failure is not None else set(order[:end])
    merged: list[Finding] = []
    for finding in met:
        twin = next((f for f in findings.findings if _same(f.failure, finding.failure)), None)
        if twin is not None:
            twin.found_by = "analysis and rehearsal"
        merged.append(twin or finding)
    after = _position(ctx, outcome.failure) if outcome.failure is not None else None
    for f in findings.findings:
        if any(m is f for m in merged):
            continue
        if f.failure.revision == last and outcome.failure is not None and \
                (after is None or (_position(ctx, f.failure) or -1) > after):
            merged.append(f)  # past the statement the rehearsal stopped at: not rehearsed
        elif f.failure.revision in rehearsed:
            findings.notes.append(f"the analysis predicted {f.failure.kind} in revision {f.failure.revision}, "
                                  "but the rehearsal ran that statement without it failing")
        else:
            merged.append(f)
    checks = []
    for rev in ctx.pending:
        check = findings.revision(rev.id) or RevisionCheck(rev.id, rev.description, "analysed")
        if rev.id in rehearsed:
            check.how, check.note = "rehearsed", ""
        elif rev.id == outcome.until and outcome.why:
            check.note = f"not rehearsed: {outcome.why}" + (f"; {check.note}" if check.note else "")
        checks.append(check)
    findings.revisions, findings.findings = checks, merged
    if outcome.why and (outcome.until or last):
        findings.notes.append(f"rehearsal stopped at revision {outcome.until or last}: {outcome.why}; the "
                              "revisions after it are analysed only")
    return findings


def _position(ctx, failure: Failure) -> int | None:
    wanted = normalize_statement(failure.statement or "")
    statements = [normalize_statement(s) for s in ctx.sql.get(failure.revision or "") or ()]
    return statements.index(wanted) if wanted in statements else None


def _same(a: Failure, b: Failure) -> bool:
    return a.kind == b.kind and a.revision == b.revision and (
        normalize_statement(a.statement or "") == normalize_statement(b.statement or "")
        or (a.table, a.column, a.object_name) == (b.table, b.column, b.object_name))


def _not_in_a_transaction(ctx) -> dict[str, str]:
    """Revisions with a statement PostgreSQL refuses inside a transaction block, read by its parser."""
    from migration_guard.operations import postgresql as pg

    stops = {}
    for rev in ctx.pending:
        for statement in ctx.sql.get(rev.id) or ():
            for node in pg.parse(statement):
                name = type(node).__name__
                if getattr(node, "concurrent", False) or name in ("VacuumStmt", "CreatedbStmt", "AlterSystemStmt"):
                    stops[rev.id] = (f"revision {rev.id} runs `{normalize_statement(statement)[:120]}`, which "
                                     "cannot run inside a transaction")
                    break
            if rev.id in stops:
                break
    return stops


def migrate_argv(framework) -> list[str] | None:
    """The tool's own upgrade command, without whatever else the deploy command runs after it."""
    sql_argv = getattr(framework, "sql_argv", None)
    target = getattr(framework, "target", None)
    if sql_argv is None or not target:
        return None
    return [token for token in sql_argv(None, target) if token != "--sql"]


def _next(ctx, ok: list[str]) -> str | None:
    return next((r.id for r in ctx.pending if r.id not in ok), None)


def _last_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"

