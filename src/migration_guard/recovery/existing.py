"""Shared flow of the four 'already exists' recoveries: find the statement, check it, decide.

The failing object must exist now and match what the failing statement wants; then history.resolve
tells a lost history from objects made some other way. An object the log names but the catalog
does not show is not evidence of anything: refuse.
"""

from __future__ import annotations

from migration_guard.db.shadow import open_shadow
from migration_guard.recovery.evidence import Verdict, check
from migration_guard.recovery.history import Evaluator, key, resolve
from migration_guard.recovery.steps import Decision, RunSQL, Step
from migration_guard.report.model import Action


def decide(ctx, ops: set[str], matches, what: str) -> Decision:
    kind = ctx.failure.kind
    rev, statement, effect = ctx.locate(ops, matches)
    if effect is None:
        return Decision.refuse(kind, f"the guard could not find which pending statement creates {what} "
                               "(the log has no statement and no pending revision creates it)",
                               ["check that the command migrates the database the guard locked",
                                "look for the object in a migration that is not in this project's history"])
    if rev is None:
        return Decision.refuse(kind, f"`{statement}` is not a statement of any pending revision",
                               ["check that the command runs this project's migrations"])
    with ctx.engine.connect() as conn, open_shadow(conn, ctx.dialect) as shadow:
        verdict = check(effect, ctx.catalog, shadow)
        if verdict.state == "missing":
            return Decision.refuse(kind, f"the log says {effect.subject} already exists, but the catalog "
                                   f"does not show it now ({'; '.join(verdict.facts)})", [
                                       "another migrator may have created it and rolled back; or two pending "
                                       "revisions create the same object: check the migration history"])
        if verdict.state == "differs":
            return Decision.refuse(kind, verdict.reason, [
                "decide which definition is right; the guard never alters an existing object to match",
                f"if the live one is right, change revision {rev.id} (or stamp it); if the migration is "
                "right, alter or rename the live object by hand"])
        if verdict.state == "unknown":
            return Decision.refuse(kind, f"{effect.subject} exists, but the guard cannot compare its "
                                   f"definition: {verdict.reason}", ["compare the definitions by hand"])
        evaluator = Evaluator(ctx, shadow)
        prelude: list[Step] = []
        if verdict.state == "incomplete":
            prelude.append(_complete_enum(ctx, effect, verdict))
            completed = f"type {effect.name} has the labels {effect.detail['labels']} once completed"
            evaluator.overrides[key(effect)] = Verdict("satisfied", [f"{completed}, in the migration's order"])
        return resolve(ctx, rev, statement or effect.statement, evaluator, prelude)


def _complete_enum(ctx, effect, verdict: Verdict) -> Step:
    """ALTER TYPE ... ADD VALUE for each missing label, placed next to its wanted neighbour."""
    from sqlalchemy import String

    prep = ctx.engine.dialect.identifier_preparer
    literal = String().literal_processor(ctx.engine.dialect)
    name = prep.quote(effect.name)
    qualified = f"{prep.quote_schema(effect.schema)}.{name}" if effect.schema else name
    wanted = list(effect.detail["labels"])
    have = list(ctx.catalog.enum(effect.name, effect.schema).labels)
    sql = []
    for label in verdict.missing_labels:
        i = wanted.index(label)
        after = next((x for x in reversed(wanted[:i]) if x in have), None)
        before = next((x for x in wanted[i + 1:] if x in have), None)
        where = f" AFTER {literal(after)}" if after is not None else (
            f" BEFORE {literal(before)}" if before is not None else "")
        sql.append(f"ALTER TYPE {qualified} ADD VALUE IF NOT EXISTS {literal(label)}{where}")
        if after is not None:
            have.insert(have.index(after) + 1, label)
        elif before is not None:
            have.insert(have.index(before), label)
        else:
            have.append(label)
    action = Action(id="", kind="complete_enum", target=f"type {effect.name}", failure_kind=ctx.failure.kind,
                    evidence=[*verdict.facts, f"labels added in the order the migration wants: "
                              f"{verdict.missing_labels}"], statements=[])
    return RunSQL(action, sql=sql)
