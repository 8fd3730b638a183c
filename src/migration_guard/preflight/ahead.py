"""`run`: plan before the first attempt the recoveries the prediction already proves.

`run` predicts as `check` does (static analysis), walks the findings with the same planner, and
applies, before its first attempt, the recoveries of the failures it would meet, up to the first
one it would refuse; that one is left for the run to meet, so the report shows the refusal beside
the real error. The evidence is the same catalog `run` would read after a failed attempt: on
PostgreSQL a failed migration rolls back, so the state after the failure is the state before it.
Elsewhere a failed attempt can leave earlier revisions applied, so no recovery is planned ahead.

On a database with nothing in it but the history table nothing can exist already and no rows can
break a constraint: there is nothing to plan, and the prediction (a run of the tool's offline
mode) is skipped. The report keeps `predicted` (what the prediction expected) beside `failures`
(what the run met).
"""

from __future__ import annotations

from migration_guard import faults
from migration_guard.diagnose.failure import Failure
from migration_guard.recovery.context import Context

DIALECTS = {"postgresql"}


def plan(runner, framework, engine, dialect: str, pending: list, child_plan: dict, acted_on: set) -> list | None:
    """The pending revisions after the planned recoveries; None when applying one failed (the runner
    has then finished the report)."""
    if dialect not in DIALECTS or not pending:
        return pending
    from migration_guard.preflight import analysis
    from migration_guard.preflight.outlook import walk
    from migration_guard.runner import _object

    ctx = Context(Failure("unknown"), engine, dialect, framework, pending, runner.env, runner.settings)
    if _empty(ctx.catalog, framework):
        return pending
    findings = analysis.analyse(ctx)
    outcomes = walk(ctx, findings.findings)
    report = runner.report
    report.predicted = [o.finding.failure for o in outcomes if o.reached]
    report.predictions = [o.to_dict() for o in outcomes]
    report.checked = [r.to_dict() for r in findings.revisions]
    planned = [o for o in outcomes if o.reached and o.decision is not None and o.decision.refusal is None
               and o.decision.steps]
    if planned:
        faults.point("after-diagnose")  # the prediction is this run's diagnosis
    for o in planned:
        f = o.finding.failure
        runner.progress.say(f"predicted before running: revision {f.revision} would fail ({f.kind}): {f.message}")
        ctx.failure = f
        if not runner._apply(o.decision, ctx, child_plan):
            return None
        o.action_ids.extend(step.action.id for step in o.decision.steps)
        acted_on.add((f.kind, _object(f), f.revision))
        acted_on.add((f.kind,))
    report.predictions = [o.to_dict() for o in outcomes]
    if planned:
        report.notes.append(f"{len(planned)} predicted failure(s) were recovered before the first attempt, so the "
                            "run did not have to meet them")
        return framework.pending(engine) or []
    return pending


def _empty(catalog, framework) -> bool:
    history = framework.version_table() if hasattr(framework, "version_table") else None
    tables = [t for (_, name), t in catalog.tables.items() if name not in (history, "django_migrations")]
    standalone = [t for t in catalog.types.values() if t.relation is None]
    return not tables and not standalone and not catalog.enums
