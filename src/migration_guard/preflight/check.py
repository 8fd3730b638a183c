"""`migration-guard check` (and `run --dry-run`): predict, say what `run` would do, change nothing.

Fills the runner's report: `predicted` (the failures a run would meet, in order), `predictions`
(each predicted failure with what `run` would do, including those a refusal keeps it from
reaching), `checked` (how each pending revision was checked: rehearsed, analysed, not analysed),
the actions `run` would take (never applied) and its refusals.
"""

from __future__ import annotations

from migration_guard.diagnose.failure import Failure
from migration_guard.preflight import predict
from migration_guard.preflight.outlook import walk
from migration_guard.recovery.context import Context


def dry_run(runner, framework, engine, dialect: str, pending: list) -> None:
    say, report = runner.progress.say, runner.report
    ctx = Context(Failure("unknown"), engine, dialect, framework, pending, runner.env, runner.settings)
    early = getattr(runner, "early", None)
    if early is not None:
        from migration_guard.preflight import analysis

        early.give(ctx, runner.report.lock_wait_s, meanwhile=lambda: analysis.prefetch(ctx))
    findings = predict(ctx, rehearse=runner.settings.rehearse, say=say)
    outcomes = walk(ctx, findings.findings)
    report.checked = [r.to_dict() for r in findings.revisions]
    report.notes.extend(findings.notes)
    for r in findings.revisions:
        say(f"check: {r.revision} {r.description}: {r.how}{' (' + r.note + ')' if r.note else ''}".rstrip())
    for o in outcomes:
        f = o.finding.failure
        where = f" ({f.location})" if f.location else ""
        if not o.reached:
            say(f"check: revision {f.revision}{where} would also fail ({f.kind}: {f.message}), "
                f"but the run would not get there: {o.why_not}")
            continue
        say(f"check: revision {f.revision}{where} would fail ({f.kind}, found by {o.finding.found_by}): {f.message}")
        for line in o.finding.evidence:
            say(f"    {line}")
        if o.decision.refusal is not None:
            report.refusals.append(o.decision.refusal)
            say(f"check: run would refuse: {o.decision.refusal.reason}")
        for step in o.decision.steps:
            step.action.id = runner._action_id()
            o.action_ids.append(step.action.id)
            report.actions.append(step.action)
            say(f"check: run would apply {step.action.kind} on {step.action.target}")
            for line in step.action.evidence:
                say(f"    {line}")
    report.predicted = [o.finding.failure for o in outcomes if o.reached]
    report.predictions = [o.to_dict() for o in outcomes]
    counts = _counts(findings)
    if report.predicted:
        runner._finish("predicted_failure", f"Check: {len(report.predicted)} failure(s) predicted in "
                                            f"{len(pending)} pending revision(s) ({counts}); nothing was changed.")
    else:
        runner._finish("clean", f"Check: {len(pending)} pending revision(s) ({counts}); no failure predicted. "
                                "Nothing was changed.")


def _counts(findings) -> str:
    hows = [r.how for r in findings.revisions]
    parts = [f"{hows.count(h)} {h}" for h in ("rehearsed", "analysed", "not analysed") if hows.count(h)]
    return ", ".join(parts) or "none checked"
