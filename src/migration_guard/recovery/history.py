"""The two cases that look alike (DESIGN.md), decided from the catalog.

An object the failing revision R creates already exists. Either R was applied and its record was
lost, or the object was made some other way. The catalog tells them apart by looking past R:

- history lost: every object R creates exists as R wants it, and so do those of the next revision
  that creates anything. Record as applied, without running them, the longest run of revisions from
  R whose objects all exist (never ending on a revision with nothing to prove it), then go on.
  Re-running their data steps could duplicate or delete data.
- made some other way: R has work left, or the revisions after it have not run. Run R again with
  exactly the statements the catalog proves satisfied skipped, so its other DDL and its data steps
  still run.
- R is the last revision that creates anything, all of it exists, and R has data steps: nothing in
  the database says whether those ran. Refuse, and say what a human must decide.
- Any definition that differs: refuse, and say what differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from migration_guard.db.shadow import BaseShadow
from migration_guard.frameworks.base import Revision
from migration_guard.operations import Effect, normalize_statement
from migration_guard.recovery import implicit_commit
from migration_guard.recovery.evidence import Verdict, check
from migration_guard.recovery.steps import Decision, MarkApplied, SkipStatements, Step
from migration_guard.report.model import Action


@dataclass
class StatementEvidence:
    statement: str
    effects: list[Effect]
    verdicts: list[Verdict]  # one per checkable effect

    @property
    def state(self) -> str:
        if not self.verdicts:
            return "data"
        states = {v.state for v in self.verdicts}
        if "differs" in states:
            return "differs"
        if "unknown" in states:
            return "unknown"
        if states == {"satisfied"}:
            return "satisfied"
        return "missing" if "satisfied" not in states else "mixed"


@dataclass
class RevisionEvidence:
    revision: Revision
    statements: list[StatementEvidence] | None  # None: what the revision runs is not known

    @property
    def checkable(self) -> bool:
        return bool(self.statements) and any(s.verdicts for s in self.statements)

    @property
    def all_satisfied(self) -> bool:
        return self.checkable and all(s.state in ("satisfied", "data") for s in self.statements or ())

    @property
    def has_data(self) -> bool:
        return any(s.state == "data" for s in self.statements or ())

    def first(self, state: str) -> StatementEvidence | None:
        return next((s for s in self.statements or () if s.state == state), None)

    def facts(self) -> list[str]:
        return [fact for s in self.statements or () for v in s.verdicts for fact in v.facts]


@dataclass
class Evaluator:
    ctx: object
    shadow: BaseShadow | None
    overrides: dict = field(default_factory=dict)  # effect key -> Verdict (e.g. an enum just completed)
    _cache: dict = field(default_factory=dict)

    def revision(self, rev: Revision) -> RevisionEvidence:
        if rev.id not in self._cache:
            sql = self.ctx.sql.get(rev.id)
            statements = None if sql is None else [self.statement(s) for s in sql]
            self._cache[rev.id] = RevisionEvidence(rev, statements)
        return self._cache[rev.id]

    def statement(self, sql: str) -> StatementEvidence:
        effects = self.ctx.effects(sql)
        verdicts = [self.overrides.get(key(e)) or check(e, self.ctx.catalog, self.shadow)
                    for e in effects if e.checkable]
        return StatementEvidence(sql, effects, verdicts)


def key(effect: Effect) -> tuple:
    return (effect.op, effect.schema or "", effect.table or "", effect.name)


def resolve(ctx, rev: Revision, failing: str, evaluator: Evaluator, prelude: list[Step]) -> Decision:
    kind = ctx.failure.kind
    stamp = ctx.framework.mark_hint
    r = evaluator.revision(rev)
    if r.statements is None:
        return Decision.refuse(kind, f"the guard cannot list the statements of revision {rev.id} "
                               f"(the tool's offline --sql mode did not give them), so it cannot tell a lost "
                               "history from objects made by hand", [
                                   f"if {rev.id} was applied before and only its record is missing: "
                                   f"`{stamp(rev.id)}`",
                                   f"if the object was made by hand: run the rest of {rev.id} yourself, then "
                                   f"`{stamp(rev.id)}`"])
    differs = r.first("differs")
    if differs:
        reason = next(v.reason for v in differs.verdicts if v.state == "differs")
        return Decision.refuse(kind, reason, [
            "decide which definition is right; the guard never alters an existing object to match",
            f"if the live one is right, change revision {rev.id} (or stamp it); if the migration is "
            "right, alter or rename the live object by hand"])
    for state, why in (("unknown", "cannot be checked"), ("mixed", "is partly satisfied")):
        odd = r.first(state)
        if odd:
            detail = next((v.reason for v in odd.verdicts if v.reason), "")
            return Decision.refuse(kind, f"a statement of revision {rev.id} {why}: "
                                   f"`{_short(odd.statement)}` {detail}".strip(),
                                   ["skipping part of a statement would rewrite the migration; apply the "
                                    "remaining part by hand, then rerun"])
    later = _built_on(rev, ctx.pending)
    if r.all_satisfied:
        nxt = _next_evidenced(evaluator, later)
        if nxt is not None and nxt.statements is None:
            return Decision.refuse(kind, f"every object of {rev.id} exists, but the statements of the next "
                                   f"revision {nxt.revision.id} are unknown, so the guard cannot tell whether "
                                   "the history was lost", [f"`{stamp(rev.id)}` if it ran before"])
        if nxt is not None and nxt.all_satisfied:
            return Decision([*prelude, _mark_applied(ctx, evaluator, rev, later)])
        if nxt is None and r.has_data:
            return Decision.refuse(kind, f"every object revision {rev.id} creates already exists and no later "
                                   f"revision shows whether {rev.id} ran before; it also has data steps, which "
                                   "must not run twice nor be lost", [
                                       f"if {rev.id} ran before and only its record was lost: "
                                       f"`{stamp(rev.id)}`",
                                       "if its objects were made by hand: run its data steps by hand, then "
                                       f"`{stamp(rev.id)}`"])
    half_applied = implicit_commit.refusal(ctx, r)
    if half_applied is not None:
        return half_applied
    return Decision([*prelude, _skip(ctx, r, failing)])


def _built_on(rev: Revision, pending: list[Revision]) -> list[Revision]:
    """The pending revisions after R that depend on it. Only their objects can show that R ran: a
    Django plan interleaves apps, and another app's migration (or another Alembic branch) says
    nothing about R. A tool that names no dependencies at all is read as one line of revisions."""
    later = pending[pending.index(rev) + 1:]
    if not any(r.down for r in pending):
        return later
    ids, out = {rev.id}, []
    for r in later:
        if ids.intersection(r.down):
            ids.add(r.id)
            out.append(r)
    return out


def _next_evidenced(evaluator: Evaluator, later: list[Revision]) -> RevisionEvidence | None:
    for rev in later:
        ev = evaluator.revision(rev)
        if ev.statements is None or ev.checkable:
            return ev
    return None


def _mark_applied(ctx, evaluator: Evaluator, rev: Revision, later: list[Revision]) -> Step:
    run = [evaluator.revision(rev)]
    upto = run[0]
    evidence = [f"{rev.id}: " + "; ".join(run[0].facts())]
    tentative: list[RevisionEvidence] = []
    for nxt in later:
        ev = evaluator.revision(nxt)
        if ev.statements is None or (ev.checkable and not ev.all_satisfied):
            break
        tentative.append(ev)
        if ev.checkable:  # only a revision whose objects prove it ran may end the run
            for t in tentative:
                evidence.append(f"{t.revision.id}: " + ("; ".join(t.facts()) or "no objects of its own; "
                                                       "a later revision's objects prove it ran"))
            upto, tentative = ev, []
    ids = [e.split(":")[0] for e in evidence]
    action = Action(
        id="", kind="mark_applied", target=f"revision {upto.revision.id}" if len(ids) == 1
        else f"revisions {ids[0]}..{ids[-1]}", failure_kind=ctx.failure.kind, revision=rev.id,
        evidence=["the objects of these revisions all exist as they want, so they ran before and their "
                  "record was lost; they are recorded as applied without running them again", *evidence])
    recorded = [rev, *later[: later.index(upto.revision) + 1]] if upto.revision is not rev else [rev]
    return MarkApplied(action, upto=upto.revision, run=recorded)


def _skip(ctx, r: RevisionEvidence, failing: str) -> Step:
    satisfied = [s for s in r.statements or () if s.state == "satisfied"]
    statements = [s.statement for s in satisfied]
    if failing and normalize_statement(failing) not in {normalize_statement(s) for s in statements}:
        statements.append(failing)  # the exact text the driver saw, in case offline SQL renders it otherwise
    facts = [fact for s in satisfied for v in s.verdicts for fact in v.facts]
    left = [s for s in r.statements or () if s.state != "satisfied"]
    action = Action(
        id="", kind="skip_satisfied", target=f"revision {r.revision.id}", failure_kind=ctx.failure.kind,
        revision=r.revision.id, statements=list(statements),
        evidence=[*facts, *implicit_commit.note(ctx),
                  f"revision {r.revision.id} runs again with {len(satisfied)} satisfied statement(s) "
                  f"skipped; its {len(left)} other statement(s) (data steps included) run as written"])
    return SkipStatements(action, revision=r.revision.id, statements=statements)


def _short(sql: str, limit: int = 160) -> str:
    flat = normalize_statement(sql)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
